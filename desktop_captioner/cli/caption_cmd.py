"""``desktop-captioner caption PATH... --model MODEL``: caption files and folders headlessly.

Every file named on the command line gets a row (a non-image named explicitly is an error row,
because the user asked for it); folders are walked recursively and only images get rows, the rest
are counted as skipped. Results go to CSV/JSON/sidecars, or as ``filename<TAB>caption`` lines to
stdout when no export is asked for. Progress and the summary go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from desktop_captioner.cli.metadata_output import add_metadata_argument, write_metadata_for
from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.existing_captions import read_existing_caption
from desktop_captioner.core.export import write_csv, write_json, write_sidecars
from desktop_captioner.core.images import is_image_path
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecars import SidecarNames

EXIT_OK, EXIT_PARTIAL = 0, 1


@dataclass
class _Work:
    """What the command line asks for: rows in order, of which some are already errors."""

    rows: list[Path | CaptionResult] = field(default_factory=list)
    skipped_non_images: int = 0
    skipped_captioned: int = 0

    @property
    def to_caption(self) -> list[Path]:
        return [row for row in self.rows if isinstance(row, Path)]


def _add_image(work: _Work, path: Path, sidecar_names: SidecarNames | None) -> None:
    """Add ``path``, unless ``sidecar_names`` is given (skip-captioned) and it has a caption."""
    if sidecar_names is not None and read_existing_caption(path, sidecar_names) is not None:
        work.skipped_captioned += 1
    else:
        work.rows.append(path)


def collect(arguments: list[str], skip_captioned: bool = False) -> _Work:
    """Expand the command line into rows, in the order given (folders sorted, recursively).

    ``skip_captioned`` leaves out images that already have a caption anywhere
    (``existing_captions``: a text or XMP sidecar, or the photo's own XMP, IPTC or EXIF)."""
    work = _Work()
    sidecar_names = SidecarNames() if skip_captioned else None
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if is_image_path(child):
                    _add_image(work, child, sidecar_names)
                else:
                    work.skipped_non_images += 1
        elif not path.exists():
            work.rows.append(CaptionResult.failure(path, f"{path} does not exist."))
        elif not is_image_path(path):
            work.rows.append(CaptionResult.failure(
                path, f"{path} is not an image file this app reads (by its extension)."))
        else:
            _add_image(work, path, sidecar_names)
    return work


def _caption_all(args: argparse.Namespace, work: _Work, progress: TerminalProgress,
                 print_rows: bool) -> list[CaptionResult]:
    from desktop_captioner.core.captioner import Captioner

    captioned = iter(())
    if work.to_caption:
        captioner = Captioner.load(args.model, weights=args.weights, download_weights=True,
                                   precision=args.precision, progress=progress)
        captioned = captioner.caption(work.to_caption, batch_size=args.batch_size,
                                      beam_width=args.beam_width, progress=progress)
    results = []
    for row in work.rows:
        result = next(captioned) if isinstance(row, Path) else row
        results.append(result)
        if print_rows:
            _print_row(result, progress)
    return results


def _print_row(result: CaptionResult, progress: TerminalProgress) -> None:
    progress.close()  # end a half-drawn progress line before printing a row
    if result.ok:
        print(f"{result.path.name}\t{result.caption}", flush=True)
    else:
        print(f"desktop-captioner: {result.path.name}: {result.error}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from desktop_captioner.core.modelfile import read_manifest

    read_manifest(args.model)  # a bad model file fails before anything slow starts
    work = collect(args.paths, skip_captioned=args.skip_captioned)
    progress = TerminalProgress()
    exporting = bool(args.csv or args.json or args.sidecars)
    try:
        results = _caption_all(args, work, progress, print_rows=not exporting)
    finally:
        progress.close()
    if args.csv:
        print(f"Wrote {write_csv(results, args.csv)}", file=sys.stderr)
    if args.json:
        print(f"Wrote {write_json(results, args.json)}", file=sys.stderr)
    if args.sidecars:
        counts = write_sidecars(results, overwrite=args.overwrite_sidecars)
        print(f"Sidecars: {counts.written} written, {counts.kept} existing kept.", file=sys.stderr)
    metadata_failed = 0
    if args.metadata:
        metadata = write_metadata_for(results, args.metadata)
        print(metadata.summary(args.metadata), file=sys.stderr)
        metadata_failed = metadata.failed
    failed = sum(not r.ok for r in results)
    print(f"Captioned {len(results) - failed} of {len(results)} images; {failed} failed; "
          f"skipped {work.skipped_non_images} non-image files and "
          f"{work.skipped_captioned} already captioned.", file=sys.stderr)
    return EXIT_PARTIAL if failed or metadata_failed else EXIT_OK


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """``--precision`` for commands that caption with a trained model."""
    parser.add_argument(
        "--precision", choices=("auto", "float32", "bfloat16"), default=None,
        help="encoder number format (default: auto, i.e. bfloat16 where the CPU has it, for "
             "models with a precision calibration; otherwise the model's own)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("caption", help="caption images and folders with a model")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders")
    parser.add_argument("--model", required=True, type=Path, help="a trained .dcmodel file")
    parser.add_argument("--weights", type=Path, help="VGG16 notop weights file (.h5)")
    parser.add_argument("--csv", type=Path, metavar="OUT", help="write results to this CSV file")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write results to this JSON file")
    parser.add_argument("--sidecars", action="store_true",
                        help="write each caption to a .txt file next to its image")
    parser.add_argument("--overwrite-sidecars", action="store_true",
                        help="replace existing .txt sidecars (kept by default)")
    parser.add_argument("--skip-captioned", action="store_true",
                        help="skip images that already have a caption: a .txt or XMP sidecar, "
                             "or one inside the photo (XMP, IPTC, EXIF; camera boilerplate "
                             "such as 'OLYMPUS DIGITAL CAMERA' does not count)")
    add_metadata_argument(parser, default=None)
    parser.add_argument("--beam-width", type=positive_int, default=3, metavar="K")
    parser.add_argument("--batch-size", type=positive_int, default=16, metavar="N")
    add_precision_argument(parser)
    parser.set_defaults(func=run)
