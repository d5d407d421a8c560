"""Save / Discard / Cancel before an action that would drop captions not exported yet.

Quit, close, Clear List and Restore Last Session ask it. "Unsaved" means changed since last
exported (``ImageListModel.unsaved_count``): a model caption, an edit, an imported caption edited.
Save runs the window's export-for-the-guard callable; when that is cancelled or fails, so is the
action, because the captions are still not safe anywhere.
"""

from __future__ import annotations

from enum import Enum
from typing import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_captioner.gui.models.image_list_model import ImageListModel


class Decision(Enum):
    PROCEED = "proceed"  # nothing unsaved, or it was saved just now
    DISCARD = "discard"  # the user chose to lose the unsaved captions
    CANCEL = "cancel"  # leave everything as it is


class UnsavedGuard:
    """``confirm(action)`` asks only when there are unsaved captions."""

    def __init__(self, parent: QWidget, model: ImageListModel, save: Callable[[], bool],
                 save_target: Callable[[], str]) -> None:
        self.parent, self.model = parent, model
        self.save, self.save_target = save, save_target

    def confirm(self, action: str, discard_effect: str) -> Decision:
        """``action`` completes "... before <action>?", e.g. "quitting"; ``discard_effect`` says
        what Discard then does, in one sentence."""
        count = self.model.unsaved_count()
        if not count:
            return Decision.PROCEED
        buttons = QMessageBox.StandardButton
        target = self.save_target()
        where = f" to {target}" if target else ""
        answer = QMessageBox.question(
            self.parent, "Unsaved captions",
            f"{count:,} caption{'s have' if count != 1 else ' has'} not been exported. "
            f"Save {'them' if count != 1 else 'it'}{where} before {action}?\n\n"
            f"Discard {discard_effect}",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return Decision.PROCEED if self.save() else Decision.CANCEL
        if answer == buttons.Discard:
            return Decision.DISCARD
        return Decision.CANCEL
