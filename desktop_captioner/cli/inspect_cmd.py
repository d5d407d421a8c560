"""``desktop-captioner inspect DATASET_DIR [--json]``: what a dataset folder holds and what is odd.

Unusable folders raise ``DatasetError`` (exit 2 via ``cli.main``); a usable folder exits 0 even
with problems, because every problem listed has already been worked around.
"""

from __future__ import annotations

import argparse
import json
import os

from desktop_captioner.core.dataset import Dataset, load_dataset


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="check a Flickr8k or Kaggle-style dataset folder",
        description="Check a Flickr8k (original or Kaggle) dataset folder: counts, splits and "
                    "problems found in its files.")
    parser.add_argument("dataset_dir", metavar="DATASET_DIR", help="the dataset folder")
    parser.add_argument("--json", action="store_true",
                        help="print the summary as one JSON object on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.dataset_dir)
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
        f"{'Flickr8k (original)' if dataset.layout == 'flickr8k' else 'Kaggle'} layout "
        f"at {dataset.root}",
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
