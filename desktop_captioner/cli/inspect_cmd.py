"""``desktop-captioner inspect DATASET [--images DIR] [--json]``: what a dataset holds and what
is odd.

DATASET is a dataset folder (Flickr8k, Kaggle, Karpathy or COCO 2017) or a Karpathy/COCO caption
JSON file; ``--images`` names the images folder when it is not beside the captions. Unusable
datasets raise ``DatasetError`` (exit 2 via ``cli.main``); a usable folder exits 0 even
with problems, because every problem listed has already been worked around.
"""

from __future__ import annotations

import argparse
import json
import os

from desktop_captioner.core.dataset import Dataset, load_dataset

LAYOUT_NAMES = {"flickr8k": "Flickr8k (original)", "kaggle": "Kaggle",
                "karpathy": "Karpathy split file", "coco": "COCO 2017"}
DATASET_HELP = ("a dataset folder (Flickr8k, Kaggle, Karpathy's dataset_*.json or COCO 2017's "
                "annotations/), or a Karpathy or COCO caption JSON file")
IMAGES_HELP = "the images folder, when it is not beside the caption files"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="check a caption dataset (Flickr8k, Kaggle, Karpathy or COCO)",
        description="Check a caption dataset (Flickr8k original or Kaggle folder, Karpathy's "
                    "split file, COCO 2017): counts, splits and problems found in its files.")
    parser.add_argument("dataset_dir", metavar="DATASET", help=DATASET_HELP)
    parser.add_argument("--images", metavar="DIR", help=IMAGES_HELP)
    parser.add_argument("--json", action="store_true",
                        help="print the summary as one JSON object on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.dataset_dir, images=args.images)
    if args.json:
        print(json.dumps(dataset.summary(), ensure_ascii=False))
    else:
        print(format_summary(dataset))
    return 0


def format_summary(dataset: Dataset) -> str:
    """A short human report; problem files are shown relative to the dataset folder."""
    summary = dataset.summary()
    splits = summary["splits"]
    lines = [
        f"{LAYOUT_NAMES[dataset.layout]} layout at {dataset.root}",
        f"  images:   {summary['images']} with {summary['captions']} captions",
        f"  missing:  {summary['missing_images']} captioned names not on disk",
        f"  orphans:  {summary['orphan_images']} images without captions",
        f"  splits:   train {splits['train']}, val {splits['val']}, test {splits['test']}",
    ]
    problems = summary["problems"]
    lines.append(f"Problems ({len(problems)}):" if problems else "No problems found.")
    for problem in problems:
        where = os.path.relpath(problem["file"], dataset.root)
        if problem["line"] is not None:
            where += f":{problem['line']}"
        lines.append(f"  {where}: {problem['message']}")
    return "\n".join(lines)
