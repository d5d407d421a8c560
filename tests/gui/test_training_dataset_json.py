"""The training dialog picks Karpathy and COCO 2017 dataset folders like Flickr8k ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_captioner.gui.training import TrainingDialog
from tests.support.caption_json import karpathy_entry, stand_in_images, write_coco, write_json


def karpathy_folder(root: Path) -> Path:
    names = {"a.jpg": "train", "b.jpg": "restval", "c.jpg": "val", "d.jpg": "test"}
    write_json(root / "dataset_flickr8k.json", {"images": [
        karpathy_entry(name, split, ["a dog runs .", "a dog ."]) for name, split in names.items()]})
    (root / "images").mkdir()
    stand_in_images(root / "images", names)
    return root


def coco_folder(root: Path) -> Path:
    write_coco(root, "train2017", {1: "1.jpg", 2: "2.jpg"}, [(1, "a dog ."), (1, "a dog runs ."),
                                                             (2, "a cat .")])
    write_coco(root, "val2017", {3: "3.jpg", 4: "4.jpg"}, [(3, "a bird ."), (4, "a fish .")])
    stand_in_images(root, ["train2017/1.jpg", "train2017/2.jpg", "val2017/3.jpg",
                           "val2017/4.jpg"])
    return root


@pytest.mark.parametrize("make, layout, captions, splits", [
    (karpathy_folder, "Karpathy split file", "8", "2 train · 1 val · 1 test"),
    (coco_folder, "COCO 2017", "5", "2 train · 1 val · 1 test"),
])
def test_choosing_a_json_dataset_folder_shows_its_summary_and_enables_start(
        qtbot, tmp_path, monkeypatch, make, layout, captions, splits):
    folder = make(tmp_path / "set")
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory",
                        lambda *args, **kwargs: str(folder))
    dialog = TrainingDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.dataset_panel.inspected, timeout=10_000) as inspected:
        dialog.browse_button.click()
    assert inspected.args[0].root == folder.resolve()
    values = dialog.dataset_panel._values
    assert values["layout"].text().startswith(layout)
    assert (values["images"].text(), values["captions"].text()) == ("4", captions)
    assert values["splits"].text() == splits
    assert "Ready" in dialog.dataset_panel.headline.text()
    assert dialog.start_button.isEnabled()
    dialog.dataset_panel.wait()
