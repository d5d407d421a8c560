"""``desktop-captioner caption PATH... --model MODEL``: caption files and folders headlessly.

Every file named on the command line gets a row (a non-image named explicitly is an error row,
because the user asked for it); folders are walked recursively and only images get rows, the rest
are counted as skipped. A folder is walked whatever its name (``holiday.jpg/`` too), and one
holding no image gets an error row of its own, so no argument goes unanswered. Results go to
CSV/JSON/sidecars, written batch by batch as captioning goes (so an interrupted run keeps every
finished row and ``--resume`` carries on from them), or as ``filename<TAB>caption`` lines to
stdout when no export is asked for. Progress and the summary go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator, Sequence

from desktop_captioner.cli.caption_outputs import CaptionOutputs
from desktop_captioner.cli.metadata_output import add_metadata_argument
from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.errors import CaptionerError
from desktop_captioner.core.image_types import is_image_path
from desktop_captioner.core.ordered_batches import ordered_batches
from desktop_captioner.core.precision import PRECISIONS
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.resume import ResumeState, read_resume
from desktop_captioner.core.sidecar_writer import SidecarWriter
from desktop_captioner.core.sidecars import DEFAULT_SIDECAR_EXT, SidecarNames, normalise_sidecar_ext
from desktop_captioner.core.streaming_export import (
    CSV,
    StreamingExport,
    check_export_target,
    json_format,
)
from desktop_captioner.core.text import name_text

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 130


class ResumeError(CaptionerError):
    """``--resume`` asked for where there is nothing to resume into."""


@dataclass
class _Work:
    """What the command line asks for: rows in order, of which some are already errors."""

    rows: list[Path | CaptionResult] = field(default_factory=list)
    skipped_non_images: int = 0
    skipped_captioned: int = 0

    def skip(self, already_captioned: Callable[[Path], bool]) -> None:
        """Drop the images ``already_captioned`` says need no caption (``--skip-captioned``)."""
        rows = [row for row in self.rows
                if not (isinstance(row, Path) and already_captioned(row))]
        self.skipped_captioned += len(self.rows) - len(rows)
        self.rows = rows


def collect(arguments: list[str]) -> _Work:
    """Expand the command line into rows, in the order given (folders sorted, recursively)."""
    work = _Work()
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            images = 0
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if is_image_path(child):
                    work.rows.append(child)
                    images += 1
                else:
                    work.skipped_non_images += 1
            if not images:
                work.rows.append(CaptionResult.failure(
                    path, f"{name_text(path)} is a folder with no image files in it."))
        elif not path.exists():
            work.rows.append(CaptionResult.failure(path, f"{name_text(path)} does not exist."))
        elif not is_image_path(path):
            work.rows.append(CaptionResult.failure(
                path, f"{name_text(path)} is not an image file this app reads (by its "
                      f"extension)."))
        else:
            work.rows.append(path)
    return work


def _export_targets(args: argparse.Namespace) -> list[tuple[Path, str]]:
    """(path, format) of each export asked for; ``--json x.jsonl`` writes JSON Lines."""
    targets = []
    if args.csv:
        targets.append((args.csv, CSV))
    if args.json:
        targets.append((args.json, json_format(args.json)))
    return targets


def _read_resume(targets: list[tuple[Path, str]], work: _Work) -> ResumeState:
    """The rows an interrupted run left in the first export target (none for a fresh start)."""
    if not targets:
        raise ResumeError("--resume carries on an interrupted --csv or --json export; "
                          "name the file with --csv or --json.")
    target = targets[0][0]
    if not target.exists():
        print(f"desktop-captioner: {target} does not exist yet; starting from the beginning.",
              file=sys.stderr)
        return ResumeState()
    inputs = [row if isinstance(row, Path) else row.path for row in work.rows]
    state = read_resume(target, inputs)
    for problem in state.problems:
        log.warning("resume: %s", problem)
    note = f"Resuming {target}: {len(state.done)} images already captioned"
    if state.others:
        note += f"; {len(state.others)} rows for images not in this run kept at the end"
    if state.retried:
        note += f"; {state.retried} error rows tried again"
    if state.problems:
        note += f"; {len(state.problems)} unreadable rows skipped (details in the log)"
    print(note + ".", file=sys.stderr)
    return state


def _caption_batches(args: argparse.Namespace, rows: Sequence[Path | CaptionResult],
                     progress: TerminalProgress) -> Iterator[list[CaptionResult]]:
    """The rows as results, in order, a Captioner batch at a time."""
    paths = [row for row in rows if isinstance(row, Path)]
    return ordered_batches(rows, _captioned(args, paths, progress), args.batch_size)


def _captioned(args: argparse.Namespace, paths: Sequence[Path],
               progress: TerminalProgress) -> Iterator[CaptionResult]:
    """One result per path, in order, from this machine's Captioner or from the Ray cluster
    (the model is only loaded when there is something to caption)."""
    if not paths:
        return
    if args.ray:
        yield from _captioned_on_cluster(args, paths, progress)
        return
    from desktop_captioner.core.captioner import Captioner

    captioner = Captioner.load(args.model, weights=args.weights, download_weights=True,
                               precision=args.precision, progress=progress)
    yield from captioner.caption(paths, batch_size=args.batch_size,
                                 beam_width=args.beam_width, progress=progress)


def _captioned_on_cluster(args: argparse.Namespace, paths: Sequence[Path],
                          progress: TerminalProgress) -> Iterator[CaptionResult]:
    """``_captioned`` on the Ray cluster at ``--ray``: the weights are found (or downloaded)
    here, and every actor opens them, the model file and the photos by path."""
    from desktop_captioner.core.cluster import cluster_session
    from desktop_captioner.core.cluster_captioning import caption_on_cluster
    from desktop_captioner.core.weights import resolve_weights

    with cluster_session(args.ray) as ray:
        weights = resolve_weights(args.weights, download=True, progress=progress)
        yield from caption_on_cluster(paths, model_file=args.model, weights_file=weights,
                                      precision=args.precision, batch_size=args.batch_size,
                                      beam_width=args.beam_width, actors=ray_actors(args, ray),
                                      progress=progress)


def _in_input_order(rows: Sequence[Path | CaptionResult], resume: ResumeState,
                    new: Sequence[CaptionResult]) -> list[CaptionResult]:
    """What one uninterrupted run would have written: the kept and new rows in input order,
    then the kept rows for images outside this run's input."""
    fresh = iter(new)
    return [resume.kept_row(row) or next(fresh) for row in rows] + resume.others


def run(args: argparse.Namespace) -> int:
    from desktop_captioner.core.modelfile import read_manifest

    read_manifest(args.model)  # a bad model file fails before anything slow starts
    targets = _export_targets(args)
    for target, _ in targets:
        check_export_target(target)  # an unwritable target fails before any captioning
    names = SidecarNames(args.sidecar_ext)
    work = collect(args.paths)
    resume = _read_resume(targets, work) if args.resume else ResumeState()
    if args.skip_captioned:  # an image the resumed file lists stays in, to keep its place
        from desktop_captioner.core.existing_captions import read_existing_caption  # exiv2

        work.skip(lambda image: image not in resume.done
                  and read_existing_caption(image, names) is not None)
    kept, to_do = _split_done(work.rows, resume)

    progress = TerminalProgress()
    sidecars = SidecarWriter(names, overwrite=args.overwrite_sidecars) if args.sidecars else None
    exports = [StreamingExport(target, fmt) for target, fmt in targets]
    try:
        with CaptionOutputs(exports, sidecars, progress, args.metadata) as outputs:
            if kept:
                outputs.write_kept(kept)
            for batch in _caption_batches(args, to_do, progress):
                outputs.write(batch)
            paths = outputs.finish(_in_input_order(work.rows, resume, outputs.written[len(kept):]))
    except KeyboardInterrupt:
        progress.close()
        _report_interrupted(exports, sidecars)
        return EXIT_INTERRUPTED
    finally:
        progress.close()
    for path in paths:
        print(f"Wrote {path}", file=sys.stderr)
    if sidecars is not None:
        print(sidecars.summary(), file=sys.stderr)
        log.info("%s", sidecars.summary())
    if args.metadata:
        print(outputs.metadata.summary(args.metadata), file=sys.stderr)
    others_failed = outputs.metadata.failed + (sidecars.failed if sidecars is not None else 0)
    return _summarise(outputs.written, work, len(kept), others_failed)


def _split_done(rows: Sequence[Path | CaptionResult], resume: ResumeState
                ) -> tuple[list[CaptionResult], list[Path | CaptionResult]]:
    """(rows kept from the resumed file, written first; the rows still to do, in input order)."""
    kept = [result for result in map(resume.kept_row, rows) if result is not None]
    to_do = [row for row in rows if resume.kept_row(row) is None]
    return kept + resume.others, to_do


def _summarise(results: Sequence[CaptionResult], work: _Work, kept: int,
               outputs_failed: int) -> int:
    """Print the run's summary line; the exit code says whether any image (or its sidecar or
    metadata) failed."""
    failed = sum(not r.ok for r in results)
    earlier = f" ({kept} of them from the interrupted run)" if kept else ""
    print(f"Captioned {len(results) - failed} of {len(results)} images{earlier}; {failed} failed; "
          f"skipped {work.skipped_non_images} non-image files and "
          f"{work.skipped_captioned} already captioned.", file=sys.stderr)
    return EXIT_PARTIAL if failed or outputs_failed else EXIT_OK


def _report_interrupted(exports: Sequence[StreamingExport], sidecars: SidecarWriter | None
                        ) -> None:
    """Ctrl+C: every finished batch is already on disk; say where, and how to go on."""
    if not exports and sidecars is not None:
        print(f"desktop-captioner: interrupted; {sidecars.written} sidecars were written. Run "
              f"the same command with --skip-captioned to caption the rest.", file=sys.stderr)
    elif not exports:
        print("desktop-captioner: interrupted.", file=sys.stderr)
    elif exports[0].rows == 0:
        print(f"desktop-captioner: interrupted before the first batch finished; "
              f"{exports[0].path} was not changed.", file=sys.stderr)
    else:
        print(f"desktop-captioner: interrupted; {exports[0].rows} finished rows are in "
              f"{exports[0].path}. Run the same command with --resume to caption the rest.",
              file=sys.stderr)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _sidecar_ext(text: str) -> str:
    try:
        return normalise_sidecar_ext(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_sidecar_ext_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--sidecar-ext EXT`` for the commands that write text sidecars."""
    parser.add_argument("--sidecar-ext", type=_sidecar_ext, default=DEFAULT_SIDECAR_EXT,
                        metavar="EXT", help=help_text)


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """``--precision`` for commands that caption with a trained model."""
    parser.add_argument(
        "--precision", choices=("auto", *PRECISIONS), default=None,
        help="encoder number format (default: auto, i.e. bfloat16 where the CPU has it natively, "
             "for models with a precision calibration covering it; otherwise the model's own; "
             "int8 runs a quantised VGG16 in LiteRT, only when asked for)")


def add_ray_arguments(parser: argparse.ArgumentParser, work: str) -> None:
    """``--ray ADDRESS|auto`` and ``--ray-actors N``; ``work`` says what the cluster does
    ("caption", "encode"). Ray is only imported when ``--ray`` is given."""
    parser.add_argument("--ray", metavar="ADDRESS",
                        help=f"{work} the images on a Ray cluster: the head node's HOST:PORT, or "
                             f"'auto' for the cluster this machine belongs to (needs "
                             f"'pip install \"desktop-captioner[cluster]\"'; every node must see "
                             f"the images and the weights and model files at the same paths)")
    parser.add_argument("--ray-actors", type=positive_int, metavar="N",
                        help="Ray actors, each loading the model once (default: one per node)")


def ray_actors(args: argparse.Namespace, ray: ModuleType) -> int:
    """The actor pool size asked for with ``--ray-actors``, else one per live node."""
    from desktop_captioner.core.cluster import default_actors

    return args.ray_actors or default_actors(ray)


def register(subparsers) -> None:
    parser = subparsers.add_parser("caption", help="caption images and folders with a model")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders")
    parser.add_argument("--model", required=True, type=Path, help="a trained .dcmodel file")
    parser.add_argument("--weights", type=Path, help="VGG16 notop weights file (.h5)")
    parser.add_argument("--csv", type=Path, metavar="OUT",
                        help="write results to this CSV file, batch by batch as they finish")
    parser.add_argument("--json", type=Path, metavar="OUT",
                        help="write results to this JSON file (JSON Lines, one record a line, "
                             "when OUT ends in .jsonl)")
    parser.add_argument("--resume", action="store_true",
                        help="carry on an interrupted run of the same command: keep the rows "
                             "already in the --csv (or --json) file, caption only the rest "
                             "(error rows are tried again)")
    parser.add_argument("--sidecars", action="store_true",
                        help="write each caption to a sidecar file next to its image (a.txt; "
                             "a.jpg.txt and a.png.txt when images in a folder share a name)")
    add_sidecar_ext_argument(
        parser, "sidecar file extension (default: .txt; .caption is also common)")
    parser.add_argument("--overwrite-sidecars", action="store_true",
                        help="replace existing sidecars (kept by default)")
    parser.add_argument("--skip-captioned", action="store_true",
                        help="skip images that already have a caption: a sidecar (the name "
                             "--sidecars would write, with --sidecar-ext), an XMP sidecar, or "
                             "one inside the photo (XMP, IPTC, EXIF; camera boilerplate such as "
                             "'OLYMPUS DIGITAL CAMERA' does not count)")
    add_metadata_argument(parser, default=None)
    parser.add_argument("--beam-width", type=positive_int, default=3, metavar="K",
                        help="captions the beam search keeps in play (default: 3; 1 is "
                             "greedy and fastest)")
    parser.add_argument("--batch-size", type=positive_int, default=16, metavar="N",
                        help="images captioned together, and written out together "
                             "(default: 16)")
    add_precision_argument(parser)
    add_ray_arguments(parser, "caption")
    parser.set_defaults(func=run)
