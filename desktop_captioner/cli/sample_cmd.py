"""``desktop-captioner sample-dataset DIR``: write the generated shapes dataset and summarise it."""

from __future__ import annotations

import argparse

from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.dataset import load_dataset


def _at_least(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sample-dataset", help="write a small generated dataset of coloured shapes",
        description="Write a Flickr8k-style dataset of generated scenes (coloured shapes with "
                    "five captions each) for trying training without downloading Flickr8k.")
    parser.add_argument("dir", metavar="DIR", help="folder to create the dataset in")
    parser.add_argument("--images", type=_at_least(1), default=200, metavar="N",
                        help="number of pictures (default 200)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="random seed; the same seed writes the same dataset (default 0)")
    parser.add_argument("--size", type=_at_least(16), default=64, metavar="PX",
                        help="picture width and height in pixels (default 64)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_captioner.core.sample_dataset import make_sample_dataset  # Pillow: only here

    terminal = TerminalProgress()
    try:
        root = make_sample_dataset(args.dir, images=args.images, seed=args.seed, size=args.size,
                                   progress=terminal)
    finally:
        terminal.close()
    summary = load_dataset(root, seed=args.seed).summary()
    splits = summary["splits"]
    print(root)
    print(f"{summary['images']} images, {summary['captions']} captions; train {splits['train']}, "
          f"val {splits['val']}, test {splits['test']}")
    return 0
