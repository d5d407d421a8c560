"""The filter above the list: text and quick filters, the count, the actions' scope, and rows
selected through the filter reaching the right images."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from desktop_captioner.gui.models.caption_filter_model import QuickFilter
from desktop_captioner.gui.models.image_list_model import (
    DONE,
    EDITED,
    ERROR,
    HAS_CAPTION,
    NEW,
    ImageItem,
)
from tests.gui.conftest import select_rows, statuses, wait_for_model, write_photo

ROWS = [  # name, caption, status
    ("beach.jpg", "", NEW),
    ("dog.jpg", "a dog runs on the Beach", DONE),
    ("broken.jpg", "", ERROR),
    ("cat.jpg", "my cat asleep", EDITED),
    ("harbour.jpg", "boats in a harbour", HAS_CAPTION),
    ("street.jpg", "", NEW),
]


@pytest.fixture
def window(make_window, tmp_path):
    """A window whose list holds one row of each kind (put in directly, without captioning)."""
    window = make_window()
    items = []
    for name, caption, status in ROWS:
        path = write_photo(tmp_path / "pics" / name)
        items.append(ImageItem(path, caption=caption, status=status,
                               error="cannot read" if status == ERROR else ""))
    window.model.add_items(items)
    return window


def shown(window) -> list[str]:
    proxy = window.filter_model
    return [proxy.index(row, 1).data() for row in range(proxy.rowCount())]


def test_ctrl_f_focuses_the_box_and_typing_filters_by_name_or_caption(window):
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filter_bar.text.hasFocus()
    QTest.keyClicks(window.filter_bar.text, "BEACH")
    assert shown(window) == ["beach.jpg", "dog.jpg"]  # a name, and a caption ignoring case
    window.filter_bar.text.setText("harbour boats")  # every word, anywhere in name or caption
    assert shown(window) == ["harbour.jpg"]
    window.filter_bar.text.clear()
    assert len(shown(window)) == len(ROWS)
    assert window.filter_bar.count.text() == "6 images"


@pytest.mark.parametrize("quick, expected", [
    (QuickFilter.NO_CAPTION, ["beach.jpg", "broken.jpg", "street.jpg"]),
    (QuickFilter.ERRORS, ["broken.jpg"]),
    (QuickFilter.EDITED, ["cat.jpg"]),
    (QuickFilter.IMPORTED, ["harbour.jpg"]),
    (QuickFilter.ALL, [name for name, _, _ in ROWS]),
])
def test_each_quick_filter(window, quick, expected):
    window.filter_bar.quick_buttons[QuickFilter.ERRORS].click()  # so that ALL is a change too
    window.filter_bar.quick_buttons[quick].click()
    assert shown(window) == expected
    active = quick is not QuickFilter.ALL
    count = f"{len(expected)} of 6 shown" if active else "6 images"
    assert window.filter_bar.count.text() == count


def test_text_and_quick_filter_combine_and_the_count_follows_new_rows(window, tmp_path):
    window.filter_bar.quick_buttons[QuickFilter.NO_CAPTION].click()
    window.filter_bar.text.setText("st")
    assert shown(window) == ["street.jpg"]
    assert window.filter_bar.count.text() == "1 of 6 shown"
    window.model.add_paths([write_photo(tmp_path / "pics" / "stone.jpg")])
    assert shown(window) == ["street.jpg", "stone.jpg"]  # a new row is filtered as it arrives
    QTest.qWait(10)  # the count is rewritten once per burst of inserts
    assert window.filter_bar.count.text() == "2 of 7 shown"


def test_caption_all_becomes_caption_visible_and_captions_only_those(qtbot, window):
    wait_for_model(qtbot, window)
    assert window.caption_all_action.text() == "Caption &All"
    window.filter_bar.text.setText("b")  # beach, dog (caption), broken, harbour (caption)
    assert window.caption_all_action.text() == "Caption &Visible (2)"  # beach, broken
    assert "2 visible" in window.caption_all_action.statusTip()

    window.caption_all_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)

    assert statuses(window) == {"beach.jpg": DONE, "dog.jpg": DONE, "broken.jpg": DONE,
                                "cat.jpg": EDITED, "harbour.jpg": HAS_CAPTION,
                                "street.jpg": NEW}  # hidden: left alone
    assert window.model.item(1).caption == "a dog runs on the Beach"  # had one: not replaced
    assert window.caption_all_action.text() == "Caption &Visible (0)"
    window.undo_action.trigger()  # the retried error comes back: the count follows
    assert statuses(window)["broken.jpg"] == ERROR
    assert window.caption_all_action.text() == "Caption &Visible (1)"
    window.filter_bar.text.clear()
    assert window.caption_all_action.text() == "Caption &All"


def test_export_visible_writes_only_the_visible_rows(window, tmp_path, monkeypatch):
    target = tmp_path / "visible.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.filter_bar.quick_buttons[QuickFilter.EDITED].click()
    assert window.export_action.text() == "&Export Visible…"
    window.export_action.trigger()
    with target.open(newline="", encoding="utf-8") as handle:
        names = [row["filename"] for row in csv.DictReader(handle)]
    assert names == ["cat.jpg"]

    assert window.sidecars_action.text() == "Write Caption &Sidecars of Visible Images…"
    window.sidecars_action.trigger()
    assert sorted(p.name for p in (tmp_path / "pics").glob("*.txt")) == ["cat.txt"]


def test_selected_rows_map_through_the_filter(qtbot, window, tmp_path, monkeypatch):
    window.filter_bar.quick_buttons[QuickFilter.NO_CAPTION].click()  # beach, broken, street
    window.view.selectRow(1)  # the second row on screen is broken.jpg, row 2 of the list
    assert window.view.selected_rows() == [2]
    assert window.preview.current_item().path.name == "broken.jpg"

    target = tmp_path / "selected.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.export_selected_action.trigger()
    with target.open(newline="", encoding="utf-8") as handle:
        assert [row["filename"] for row in csv.DictReader(handle)] == ["broken.jpg"]

    wait_for_model(qtbot, window)
    window.view.selectRow(2)  # street.jpg, row 5 of the list
    window.caption_selected_action.trigger()
    qtbot.waitUntil(lambda: not window.captioning.busy)
    assert statuses(window)["street.jpg"] == DONE and statuses(window)["beach.jpg"] == NEW

    select_rows(window, 2)  # broken.jpg, given as a list row
    window.remove_action.trigger()
    assert "broken.jpg" not in statuses(window) and len(statuses(window)) == 5
    assert shown(window) == ["beach.jpg", "street.jpg"]
