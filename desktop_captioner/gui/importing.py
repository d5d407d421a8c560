"""Import Captions: bring back a CSV / JSON / JSON Lines file this app exported.

Rows are matched to the list by path (made absolute, relative ones against the file's folder,
and compared as the platform compares names); photos the file names that are not in the list yet
are added, since the user asked to bring them in. Each row's caption, status and source come back
(an edited caption stays "Edited", a caption the photo already had stays "Has caption"), and the
whole import is one undo step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_captioner.core.export_reader import ExportFormatError, read_export
from desktop_captioner.core.results import SOURCE_EDITED, SOURCE_IMPORTED, CaptionResult
from desktop_captioner.gui.dialogs.problems import show_problems
from desktop_captioner.gui.models.image_list_model import (
    DONE,
    EDITED,
    ERROR,
    HAS_CAPTION,
    ImageItem,
    ImageListModel,
    ItemState,
)
from desktop_captioner.gui.models.undo_commands import ChangeItemsCommand

IMPORT_FILTERS = "Caption exports (*.csv *.json *.jsonl);;All files (*)"


def path_key(path: Path) -> str:
    """How two spellings of one photo's path are recognised as the same file."""
    return os.path.normcase(os.path.abspath(path))


def state_of(result: CaptionResult, export_file: Path) -> ItemState:
    """The list item an exported row stands for."""
    if not result.ok:
        return ItemState("", result.score, ERROR, result.error, result.source)
    if result.source == SOURCE_EDITED:
        return ItemState(result.caption, result.score, EDITED, "", SOURCE_EDITED)
    if result.source == SOURCE_IMPORTED:
        return ItemState(result.caption, result.score, HAS_CAPTION, "", SOURCE_IMPORTED,
                         export_file.name)
    return ItemState(result.caption, result.score, DONE, "", result.source)


@dataclass
class ImportPlan:
    """What importing a file does to the list: photos to add, and each photo's old/new state."""

    added: list[Path] = field(default_factory=list)
    changes: dict[Path, tuple[ItemState, ItemState]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def plan_import(model: ImageListModel, results: list[CaptionResult], export_file: Path,
                problems: list[str]) -> ImportPlan:
    plan = ImportPlan(problems=list(problems))
    in_list = {path_key(item.path): item for item in model.items()}
    new_paths: dict[str, Path] = {}
    for result in results:
        path = result.path if result.path.is_absolute() else export_file.parent / result.path
        key = path_key(path)
        item = in_list.get(key)
        if item is not None:
            target = item.path
        elif key in new_paths:
            target = new_paths[key]
        elif path.is_file():
            target = new_paths[key] = Path(os.path.abspath(path))
            plan.added.append(target)
        else:
            plan.problems.append(f"{export_file.name}: {path} does not exist; skipped.")
            continue
        if target in plan.changes:
            plan.problems.append(f"{export_file.name}: {path.name} is listed more than once; "
                                 f"the last row counts.")
            old = plan.changes[target][0]
        else:
            old = (item or ImageItem(target)).state()
        plan.changes[target] = (old, state_of(result, export_file))
    return plan


def choose_export_file(parent: QWidget, start_dir: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Import Captions", start_dir, IMPORT_FILTERS)
    return Path(name) if name else None


def import_captions(parent: QWidget, model: ImageListModel, export_file: Path) -> str | None:
    """Read ``export_file`` and apply it as one undo step; returns the status-bar sentence (None
    when the file was refused, after saying why). Skipped rows are listed in one dialog."""
    try:
        read = read_export(export_file)
    except ExportFormatError as exc:
        QMessageBox.warning(parent, "Captions not imported", str(exc))
        return None
    plan = plan_import(model, read.results, export_file, read.problems)
    if plan.changes:
        model.undo_stack.push(ChangeItemsCommand(model, f"Import captions from {export_file.name}",
                                                 plan.changes, plan.added))
    if plan.problems:
        show_problems(parent, "Some rows were not imported", plan.problems)
    message = f"Imported {len(plan.changes):,} captions from {export_file.name}"
    notes = []
    if plan.added:
        notes.append(f"{len(plan.added):,} photos added to the list")
    if plan.problems:
        notes.append(f"{len(plan.problems):,} problems, listed in a dialog")
    return message + (f" ({'; '.join(notes)})" if notes else "") + "."
