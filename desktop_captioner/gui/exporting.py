"""Export and sidecar dialogs: ask where and how, write through ``core.export`` and
``core.sidecar_writer``, and show what went wrong."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from desktop_captioner.core.errors import CaptionerError, describe_os_error
from desktop_captioner.core.export import export_target, write_export
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecar_writer import SidecarWriter
from desktop_captioner.core.sidecars import SidecarNames, normalise_sidecar_ext
from desktop_captioner.gui.dialogs.problems import show_problems

log = logging.getLogger(__name__)

EXPORT_FILTERS = "CSV files (*.csv);;JSON files (*.json);;JSON Lines files (*.jsonl)"
SIDECAR_EXTENSIONS = (".txt", ".caption")  # caption tools' default, and the other convention


def export_to(parent: QWidget, results: Sequence[CaptionResult], target: Path) -> Path | None:
    """Write ``results`` to ``target``; a failure is shown in a dialog and returns None."""
    try:
        return write_export(results, target)
    except (CaptionerError, OSError) as exc:
        log.warning("export to %s failed: %s", target, exc)
        message = describe_os_error(target, exc) if isinstance(exc, OSError) \
            else f"{target} could not be written: {exc}."
        QMessageBox.warning(parent, "Export failed", message)
        return None


def ask_and_export(parent: QWidget, results: Sequence[CaptionResult],
                   start_dir: str) -> Path | None:
    """Save dialog, then write; returns the written path (None when cancelled or failed)."""
    suggested = str(Path(start_dir or Path.home()) / "captions.csv")
    chosen, selected_filter = QFileDialog.getSaveFileName(parent, "Export Captions", suggested,
                                                          EXPORT_FILTERS)
    if not chosen:
        return None
    return export_to(parent, results, export_target(chosen, selected_filter))


def ask_sidecar_ext(parent: QWidget, current: str) -> str | None:
    """Which extension the caption files get (the CLI's ``--sidecar-ext``); None when cancelled.
    The list offers the two common conventions and the last one used; any other can be typed."""
    choices = list(dict.fromkeys([current, *SIDECAR_EXTENSIONS]))
    chosen, ok = QInputDialog.getItem(
        parent, "Write Caption Sidecars",
        "Each caption is written to a file next to its photo, named like the photo\n"
        "with this extension (photo.jpg -> photo.txt):", choices, 0, True)
    if not ok:
        return None
    try:
        return normalise_sidecar_ext(chosen.strip())
    except ValueError as exc:
        QMessageBox.warning(parent, "Caption files not written", f"{exc}.")
        return None


@dataclass(frozen=True)
class SidecarReport:
    """What a sidecar export did: a status-bar sentence and the images whose files it wrote."""

    message: str
    written: list[Path]


def ask_and_write_sidecars(parent: QWidget, results: Sequence[CaptionResult],
                           ext: str) -> SidecarReport | None:
    """Write a caption file next to each captioned photo (``SidecarNames(ext)``), asking before
    replacing existing ones; None when cancelled. A file that cannot be written is reported and
    the others are still written."""
    captioned = [r for r in results if r.ok]
    names = SidecarNames(ext)
    existing = {r.path for r in captioned if names.path(r.path).is_file()}
    overwrite = False
    if existing:
        answer = QMessageBox.question(
            parent, "Replace caption files?",
            f"{len(existing)} of {len(captioned)} images already have a {ext} caption file. "
            "Replace them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Cancel:
            return None
        overwrite = answer == QMessageBox.StandardButton.Yes
    writer = SidecarWriter(names, overwrite=overwrite)
    errors = writer.write(captioned)
    for error in errors:
        log.warning("%s", error)
    if errors:
        show_problems(parent, "Some caption files not written", errors)
    message = f"Wrote {writer.written:,} {ext} caption files"
    if writer.kept:
        message += f"; kept {writer.kept:,} existing"
    if writer.failed:
        message += f"; {writer.failed:,} could not be written"
    if writer.full_names:
        message += (f"; {len(writer.full_names):,} named in full, as photos share a name "
                    f"({writer.full_names[0].name})")
    return SidecarReport(message + ".", writer.written_images)
