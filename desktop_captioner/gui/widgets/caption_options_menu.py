"""Caption → Precision and Caption → Beam Width: the two captioning choices a user may want to
change, as radio-item submenus (the CLI's ``--precision`` and ``--beam-width``)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from desktop_captioner.core.precision import cpu_supports_bf16

AUTOMATIC = ""  # the Captioner's own choice; the settings file stores it as ""
BEAM_WIDTHS = (1, 3, 5)


def precision_choices() -> list[tuple[str, str, str]]:
    """(setting value, menu text, tooltip) for each precision item."""
    native = cpu_supports_bf16()
    return [
        (AUTOMATIC, "&Automatic",
         "bfloat16 where this CPU computes it natively and the model is calibrated for it, "
         "otherwise the precision it was trained with"),
        ("float32", "&float32", "Full precision: the reference, about half bfloat16's speed"),
        ("bfloat16", "&bfloat16",
         "About twice as fast; captions match float32 on the large majority of photos"
         if native else "This CPU has no native bfloat16, so it would run slower than float32"),
        ("int8", "&int8",
         "A quantised VGG16, faster than float32 on most CPUs without native bfloat16; built "
         "once per weights file (a minute or so), captions match on the large majority"),
    ]


def beam_width_text(width: int) -> str:
    return "&1 (greedy, fastest)" if width == 1 else f"&{width}"


class _RadioMenu(QMenu):
    """A submenu of mutually exclusive checkable items, one per value."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.setToolTipsVisible(True)

    def add_choice(self, value, text: str, tooltip: str = "") -> QAction:
        action = self.addAction(text)
        action.setCheckable(True)
        action.setData(value)
        action.setToolTip(tooltip)
        self.group.addAction(action)
        return action

    def check(self, value) -> None:
        for action in self.group.actions():
            action.setChecked(action.data() == value)

    def checked_value(self):
        action = self.group.checkedAction()
        return None if action is None else action.data()


class PrecisionMenu(_RadioMenu):
    """Emits ``chosen`` with "" (automatic), "float32", "bfloat16" or "int8" when picked."""

    chosen = Signal(str)

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__("&Precision", parent)
        for value, text, tooltip in precision_choices():
            self.add_choice(value, text, tooltip)
        self.check(current)
        self.group.triggered.connect(lambda action: self.chosen.emit(action.data()))


class BeamWidthMenu(_RadioMenu):
    """Emits ``chosen`` with the beam width picked; a width set in the settings file that is not
    one of the usual ones gets its own item, so the menu always shows what is in use."""

    chosen = Signal(int)

    def __init__(self, current: int, parent: QWidget | None = None) -> None:
        super().__init__("&Beam Width", parent)
        for width in sorted({*BEAM_WIDTHS, current}):
            self.add_choice(width, beam_width_text(width),
                            "How many candidate captions are kept at each word: wider is slower "
                            "and sometimes better")
        self.check(current)
        self.group.triggered.connect(lambda action: self.chosen.emit(int(action.data())))
