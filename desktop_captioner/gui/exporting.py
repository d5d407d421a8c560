"""Export and sidecar actions: ask where, write through the core exporters, say what happened."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_captioner.core.errors import CaptionerError
from desktop_captioner.core.export import has_sidecar, write_csv, write_json, write_sidecars
from desktop_captioner.core.results import CaptionResult

log = logging.getLogger(__name__)

EXPORT_FILTERS = "CSV files (*.csv);;JSON files (*.json)"


def export_target(chosen: str, selected_filter: str = "") -> Path:
    """The file to write: ``.json`` means JSON; anything else gets CSV (adding ``.csv`` when the
    name has no extension, or the JSON filter was picked without typing one)."""
    path = Path(chosen)
    if path.suffix.lower() in (".csv", ".json"):
        return path
    return path.with_name(path.name + (".json" if "json" in selected_filter.lower() else ".csv"))


def write_export(results: Sequence[CaptionResult], target: Path) -> Path:
    if target.suffix.lower() == ".json":
        return write_json(results, target)
    return write_csv(results, target)


def ask_and_export(parent: QWidget, results: Sequence[CaptionResult], start_dir: str) -> Path | None:
    """Save dialog, then write; returns the written path (None when cancelled or failed)."""
    suggested = str(Path(start_dir or Path.home()) / "captions.csv")
    chosen, selected_filter = QFileDialog.getSaveFileName(parent, "Export Captions", suggested,
                                                          EXPORT_FILTERS)
    if not chosen:
        return None
    target = export_target(chosen, selected_filter)
    try:
        return write_export(results, target)
    except (CaptionerError, OSError) as exc:
        log.warning("export to %s failed: %s", target, exc)
        QMessageBox.warning(parent, "Export failed", f"{target} could not be written: {exc}.")
        return None


def ask_and_write_sidecars(parent: QWidget, results: Sequence[CaptionResult]) -> str | None:
    """Write ``photo.txt`` next to each captioned photo, asking before replacing existing ones;
    returns a status-bar sentence (None when cancelled)."""
    captioned = [r for r in results if r.ok]
    existing = sum(1 for r in captioned if has_sidecar(r.path))
    overwrite = False
    if existing:
        answer = QMessageBox.question(
            parent, "Replace caption files?",
            f"{existing} of {len(captioned)} images already have a .txt caption file. Replace them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Cancel:
            return None
        overwrite = answer == QMessageBox.StandardButton.Yes
    try:
        counts = write_sidecars(captioned, overwrite=overwrite)
    except (CaptionerError, OSError) as exc:
        log.warning("writing sidecars failed: %s", exc)
        QMessageBox.warning(parent, "Caption files not written", f"Writing caption files failed: {exc}.")
        return None
    message = f"Wrote {counts.written} caption files next to the images"
    if counts.kept:
        message += f"; kept {counts.kept} existing ones"
    return message + "."
