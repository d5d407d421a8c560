"""One warning box for a list of per-file problems: the first few sentences, then a count."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

MAX_PROBLEMS_SHOWN = 15


def show_problems(parent: QWidget | None, title: str, problems: Sequence[str]) -> None:
    """Warn with up to ``MAX_PROBLEMS_SHOWN`` sentences and "…and N more." for the rest."""
    shown = list(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - len(shown)
    QMessageBox.warning(parent, title, "\n".join(shown) + (f"\n…and {more} more." if more else ""))
