"""``desktop-captioner weights [--weights FILE] [--download]``: which VGG16 weights file is used.

Answers the first question of anyone whose captioning fails for want of weights: which file
would be used, where it came from, and whether it is the official one; or, when there is none,
what was looked at. ``--download`` fetches the official file into the app cache when none is
found. Exit 0 with a usable file, 2 otherwise (via ``cli.main``).
"""

from __future__ import annotations

import argparse
import os

from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.errors import WeightsError
from desktop_captioner.core.progress import Progress
from desktop_captioner.core.weights import (
    WEIGHTS_ENV,
    WEIGHTS_MD5,
    WEIGHTS_URL,
    WeightsLocation,
    cache_weights_path,
    download_weights,
    find_weights,
    validate_weights_file,
    weights_md5,
)

SOURCE_DESCRIPTIONS = {
    "explicit": "given with --weights",
    "env": f"named by {WEIGHTS_ENV}",
    "bundled": "shipped with the app",
    "cache": "the app's cache folder",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "weights", help="show which VGG16 weights file is used, or download it",
        description="Show which VGG16 'notop' weights file would be used and where it was "
                    "found; with --download, fetch the official file into the app cache if "
                    "none is found.")
    parser.add_argument("--weights", metavar="FILE", help="use this weights file")
    parser.add_argument("--download", action="store_true",
                        help=f"download the official file ({WEIGHTS_URL}) if none is found")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    location = find_weights(args.weights)
    if location is None and args.download:
        bar = TerminalProgress()
        try:
            path = download_weights(progress=lambda p: bar(_in_kilobytes(p)))
        finally:
            bar.close()
        location = WeightsLocation(path, "cache")
    if location is None:
        raise WeightsError(
            f"No VGG16 weights file was found ({WEIGHTS_ENV} is not set, none is shipped with "
            f"the app, and {cache_weights_path()} does not exist); run 'desktop-captioner "
            f"weights --download', or save {WEIGHTS_URL} as that file, or pass --weights FILE.")
    validate_weights_file(location.path)
    print(format_location(location))
    return 0


def format_location(location: WeightsLocation) -> str:
    md5 = weights_md5(location.path)
    official = "the official Keras file" if md5 == WEIGHTS_MD5 else "not the official Keras file"
    return "\n".join([
        f"VGG16 weights: {location.path}",
        f"  source: {location.source} ({SOURCE_DESCRIPTIONS[location.source]})",
        f"  size:   {os.path.getsize(location.path):,} bytes",
        f"  md5:    {md5} ({official})",
    ])


def _in_kilobytes(p: Progress) -> Progress:
    """58 million bytes make an unreadable counter; kilobytes read well on one line."""
    return Progress("download kB", p.done // 1000, p.total // 1000, p.rate / 1000, p.eta)
