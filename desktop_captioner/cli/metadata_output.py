"""``--metadata xmp|embed`` for the CLI: write captions into XMP sidecars or the photos, with one
stderr line per file that failed and counts for the summary line.

A failed metadata write does not undo the caption: the CSV row stays "ok" (the caption is right,
only its copy in the photo's metadata is missing), but the file is named on stderr, counted, and
the command exits 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Iterable

from desktop_captioner.core.metadata_modes import METADATA_MODES, MODE_EMBED
from desktop_captioner.core.results import CaptionResult


@dataclass
class MetadataCounts:
    """How many captions reached the metadata, and how many files refused them."""

    written: int = 0
    failed: int = 0

    def summary(self, mode: str) -> str:
        where = "photos" if mode == MODE_EMBED else "XMP sidecars"
        return f"Metadata: {self.written} captions written to {where}, {self.failed} failed."


def write_metadata_for(results: Iterable[CaptionResult], mode: str) -> MetadataCounts:
    """Write each successful, non-empty caption with ``write_caption_metadata``."""
    from desktop_captioner.core.metadata import MetadataError, write_caption_metadata  # exiv2

    counts = MetadataCounts()
    for result in results:
        caption = result.caption.strip()
        if not result.ok or not caption:
            continue
        try:
            write_caption_metadata(result.path, caption, mode)
        except MetadataError as exc:
            print(f"desktop-captioner: {exc}", file=sys.stderr)
            counts.failed += 1
        else:
            counts.written += 1
    return counts


def add_metadata_argument(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument(
        "--metadata", choices=METADATA_MODES, default=default,
        help="write each caption where photo software looks: 'xmp' to a photo.jpg.xmp "
             "sidecar (the photo is not touched), 'embed' into the photo's XMP, IPTC and EXIF "
             "(JPEG, PNG, TIFF, WebP)" + (f"; default {default}" if default else ""))
