"""The six training steps as a list that shows which one is running.

A first-time user sees the whole plan before it starts and can tell at a glance how far along it
is; the step keys are the ``phase`` names the core's events and progress reports carry.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

# (phase key, label, what it means for someone who has never trained a network)
STEPS: tuple[tuple[str, str, str], ...] = (
    ("inspect", "Inspect dataset", "Read the captions file and check every image is there."),
    ("extract", "Extract image features",
     "Run every image once through VGG16; the result is cached, so a second run is fast."),
    ("vocabulary", "Build vocabulary", "Collect the words the captions use often enough to learn."),
    ("train", "Train decoder", "Teach the LSTM to write the captions, one pass (epoch) at a time."),
    ("evaluate", "Evaluate on test images",
     "Caption the test images it never saw and score them against the human captions (BLEU)."),
    ("save", "Save model", "Write the model file you can caption with."),
)
STEP_KEYS = tuple(key for key, _, _ in STEPS)

_PENDING, _CURRENT, _DONE, _FAILED = "○", "▶", "✓", "✗"


# The training loop's own event phases (``core.training.TrainingEvent.phase``) are all "train";
# fetching the VGG16 weights (only when they are missing) is part of getting image features.
_PHASE_ALIASES = {"validate": "train", "epoch_end": "train", "resumed": "train",
                  "finished": "train", "download": "extract"}


def step_index(phase: str) -> int | None:
    """The step a core phase name belongs to, or None for a phase this list does not show."""
    key = _PHASE_ALIASES.get(phase, phase)
    return STEP_KEYS.index(key) if key in STEP_KEYS else None


class StepList(QListWidget):
    """Read-only list of the steps; earlier ones ticked, the current one bold and highlighted."""

    step_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for _, label, explanation in STEPS:
            item = QListWidgetItem(f"{_PENDING}  {label}")
            item.setToolTip(explanation)
            self.addItem(item)
        self._current: int | None = None
        self.setSpacing(3)
        self.setFixedWidth(self.sizeHintForColumn(0) + 48)
        self.setFixedHeight(self.count() * (self.sizeHintForRow(0) + 6) + 2 * self.frameWidth() + 4)

    @property
    def current(self) -> int | None:
        return self._current

    def reset(self) -> None:
        self._current = None
        for row in range(self.count()):
            self._paint(row, _PENDING)

    def set_current(self, index: int) -> None:
        """Mark ``index`` as running and everything before it as done."""
        if index == self._current:
            return
        self._current = index
        for row in range(self.count()):
            self._paint(row, _DONE if row < index else _CURRENT if row == index else _PENDING)
        self.step_changed.emit(index)

    def finish(self) -> None:
        self._current = None
        for row in range(self.count()):
            self._paint(row, _DONE)

    def mark_stopped(self, failed: bool) -> None:
        """Keep the ticks; mark the interrupted step ✗ on failure, ○ (to do again) on cancel."""
        if self._current is not None:
            self._paint(self._current, _FAILED if failed else _PENDING)
        self._current = None

    def _paint(self, row: int, mark: str) -> None:
        item = self.item(row)
        item.setText(f"{mark}  {STEPS[row][1]}")
        font = QFont(self.font())
        font.setBold(mark == _CURRENT)
        item.setFont(font)
        palette = self.palette()
        if mark == _CURRENT:
            item.setBackground(palette.color(QPalette.ColorRole.Highlight))
            item.setForeground(palette.color(QPalette.ColorRole.HighlightedText))
        else:
            item.setBackground(palette.color(QPalette.ColorRole.Base))
            roles = QPalette.ColorRole
            item.setForeground(palette.color(
                roles.PlaceholderText if mark == _PENDING else roles.Text))
