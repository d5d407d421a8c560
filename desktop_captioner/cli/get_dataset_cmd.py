"""``desktop-captioner get-dataset flickr8k DIR``: download and unpack a training dataset.

Progress bars and step lines go to stderr; the folder to train on goes to stdout at the end.
Exit 0 when the folder is ready (also when it already was), 2 on any failure (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.flickr8k_download import FLICKR8K_URL, FLICKR8K_URL_ENV, get_flickr8k
from desktop_captioner.core.progress import Progress

DATASETS = ("flickr8k",)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "get-dataset", help="download and unpack a training dataset (Flickr8k)",
        description=f"Download the two Flickr8k archives ({FLICKR8K_URL}/Flickr8k_Dataset.zip, "
                    f"about 1 GB, and Flickr8k_text.zip, about 3 MB) into DIR, check every "
                    f"member's CRC and unpack them there. An interrupted download resumes; "
                    f"a folder that has the dataset already is left alone. {FLICKR8K_URL_ENV} "
                    f"names another folder URL holding the same two files.")
    parser.add_argument("dataset", choices=DATASETS, help="which dataset")
    parser.add_argument("folder", type=Path, metavar="DIR",
                        help="where to put it (created if missing); train on it afterwards")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bar = TerminalProgress()

    def say(text: str) -> None:
        bar.close()
        print(text, file=sys.stderr, flush=True)

    try:
        folder = get_flickr8k(args.folder, progress=lambda p: bar(_in_megabytes(p)),
                              message=say)
    finally:
        bar.close()
    print(folder)
    return 0


def _in_megabytes(p: Progress) -> Progress:
    """A gigabyte in bytes makes an unreadable counter; megabytes read well on one line."""
    return Progress(f"{p.phase} MB", p.done // 1_000_000, p.total // 1_000_000,
                    p.rate / 1_000_000, p.eta)
