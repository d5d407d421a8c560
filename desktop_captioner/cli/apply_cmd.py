"""``desktop-captioner apply CAPTIONS.csv``: put the captions of an export into the photos.

The typical use: caption a folder to CSV, correct the captions in a spreadsheet, then apply the
corrected CSV. Rows with status "error" or an empty caption are skipped and counted; a photo that
no longer exists, or that refuses the caption, is an error line (exit 1). A file that is not this
app's export is refused before anything is written (exit 2). No TensorFlow is loaded.

Relative paths in the CSV are taken from the current folder, else from the CSV's own folder.
``--sidecars`` writes the text sidecars too, replacing existing ones: the CSV is the corrected text.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from desktop_captioner.cli.caption_cmd import add_sidecar_ext_argument
from desktop_captioner.cli.metadata_output import add_metadata_argument, write_metadata_for
from desktop_captioner.core.export_reader import read_export
from desktop_captioner.core.metadata_modes import MODE_EMBED, MODE_XMP
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecar_writer import SidecarWriter
from desktop_captioner.core.sidecars import SidecarNames

EXIT_OK, EXIT_PARTIAL = 0, 1


@dataclass
class _Plan:
    """The CSV's rows sorted into captions to apply and rows skipped or failed, with reasons."""

    to_apply: list[CaptionResult] = field(default_factory=list)
    error_rows: int = 0
    empty_captions: int = 0
    failures: list[str] = field(default_factory=list)


def plan(rows: list[CaptionResult], csv_folder: Path) -> _Plan:
    """Sort the rows; each photo that exists gets the caption, trimmed, with its found path."""
    result = _Plan()
    for row in rows:
        if not row.ok:
            result.error_rows += 1
        elif not row.caption.strip():
            result.empty_captions += 1
        else:
            path = _locate(row.path, csv_folder)
            if path is None:
                result.failures.append(f"{row.path} does not exist.")
            else:
                result.to_apply.append(CaptionResult(
                    path=path, caption=row.caption.strip(), score=row.score, status=row.status,
                    source=row.source))
    return result


def _locate(path: Path, csv_folder: Path) -> Path | None:
    candidates = [path] if path.is_absolute() else [path, csv_folder / path]
    return next((p for p in candidates if p.is_file()), None)


def run(args: argparse.Namespace) -> int:
    read = read_export(args.captions)  # a foreign file raises ExportFormatError: exit 2
    work = plan(read.results, args.captions.resolve().parent)
    for message in [*read.problems, *work.failures]:
        print(f"desktop-captioner: {message}", file=sys.stderr)
    counts = write_metadata_for(work.to_apply, args.metadata)
    sidecar_failures = []
    if args.sidecars:
        writer = SidecarWriter(SidecarNames(args.sidecar_ext), overwrite=True)  # the CSV is newer
        sidecar_failures = writer.write(work.to_apply)
        for message in sidecar_failures:
            print(f"desktop-captioner: {message}", file=sys.stderr)
    failed = len(read.problems) + len(work.failures) + counts.failed + len(sidecar_failures)
    where = "photos" if args.metadata == MODE_EMBED else "XMP sidecars"
    print(f"Applied {counts.written} captions to {where}"
          f"{' and text sidecars' if args.sidecars else ''}; {failed} failed; skipped "
          f"{work.error_rows} error rows and {work.empty_captions} empty captions.",
          file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "apply", help="write the captions of an exported (and corrected) CSV into the photos")
    parser.add_argument("captions", type=Path, metavar="CAPTIONS.csv",
                        help="a CSV (or JSON/JSONL) this app exported")
    add_metadata_argument(parser, default=MODE_XMP)
    parser.add_argument("--sidecars", action="store_true",
                        help="also write each caption to a text sidecar, replacing existing ones")
    add_sidecar_ext_argument(parser, "extension of the text sidecars (default .txt)")
    parser.set_defaults(func=run)
