"""COCO 2017's own caption files (``annotations/captions_{train,val}2017.json``)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.dataset_json import COCO_VAL_SPLIT_SEED
from desktop_captioner.core.errors import DatasetError
from tests.support.caption_json import stand_in_images, write_coco

VAL_NAMES = [f"{i:012d}.jpg" for i in range(100, 111)]  # 11 images: 5 val, 6 test


def coco(root: Path, train: dict[int, str] | None = None, val: dict[int, str] | None = None,
         extra_annotations=(), on_disk=None) -> Path:
    """A COCO 2017 folder: two captions per listed image, and their stand-in images."""
    train = {1: "000000000001.jpg", 2: "000000000002.jpg"} if train is None else train
    val = dict(enumerate(VAL_NAMES, start=100)) if val is None else val
    for folder, files in (("train2017", train), ("val2017", val)):
        if files:
            annotations = [(i, f"caption {n} of {i}") for i in files for n in range(2)]
            if folder == "train2017":
                annotations += list(extra_annotations)
            write_coco(root, folder, files, annotations)
    if on_disk is None:
        on_disk = ([f"train2017/{n}" for n in train.values()]
                   + [f"val2017/{n}" for n in val.values()])
    (root / "train2017").mkdir(parents=True, exist_ok=True)
    stand_in_images(root, on_disk)
    return root


def expected_val_half() -> tuple[list[str], list[str]]:
    """The documented rule: sorted names, shuffled with the fixed seed, first half val."""
    names = sorted(f"val2017/{name}" for name in VAL_NAMES)
    random.Random(COCO_VAL_SPLIT_SEED).shuffle(names)
    return sorted(names[:len(names) // 2]), sorted(names[len(names) // 2:])


def messages(dataset) -> list[str]:
    return [problem.message for problem in dataset.problems]


def test_train2017_trains_and_val2017_is_halved_into_val_and_test(tmp_path):
    dataset = load_dataset(coco(tmp_path))
    assert dataset.layout == "coco" and dataset.images_dir == tmp_path.resolve()
    assert dataset.splits["train"] == ["train2017/000000000001.jpg", "train2017/000000000002.jpg"]
    assert (dataset.splits["val"], dataset.splits["test"]) == expected_val_half()
    assert (len(dataset.splits["val"]), len(dataset.splits["test"])) == (5, 6)
    assert dataset.captions["train2017/000000000001.jpg"] == ["caption 0 of 1", "caption 1 of 1"]
    assert dataset.image_path("val2017/000000000100.jpg") == (
        tmp_path / "val2017" / "000000000100.jpg").resolve()
    assert dataset.problems == []


def test_the_val_half_does_not_depend_on_the_seed_or_on_what_is_on_disk(tmp_path):
    root = coco(tmp_path, on_disk=["train2017/000000000001.jpg"] +
                [f"val2017/{name}" for name in VAL_NAMES[:8]])
    val, test = expected_val_half()
    dataset = load_dataset(root, seed=7)
    assert dataset.splits["val"] == [name for name in val if name in dataset.captions]
    assert dataset.splits["test"] == [name for name in test if name in dataset.captions]
    assert dataset.missing_images == 4


@pytest.mark.parametrize("given", ["annotations/captions_val2017.json",
                                   "annotations/captions_train2017.json"])
def test_either_caption_file_names_the_whole_dataset(tmp_path, given):
    coco(tmp_path)
    assert load_dataset(tmp_path / given).summary() == load_dataset(tmp_path).summary()


def test_images_in_an_images_subfolder_or_given_elsewhere(tmp_path):
    coco(tmp_path / "set" / "images")
    (tmp_path / "set" / "images" / "annotations").rename(tmp_path / "set" / "annotations")
    assert load_dataset(tmp_path / "set").images_dir == (tmp_path / "set" / "images").resolve()
    moved = tmp_path / "elsewhere"
    (tmp_path / "set" / "images").rename(moved)
    with pytest.raises(DatasetError, match="--images"):
        load_dataset(tmp_path / "set")
    assert len(load_dataset(tmp_path / "set", images=moved).captions) == 13


def test_a_missing_caption_file_leaves_its_split_empty_and_says_so(tmp_path):
    dataset = load_dataset(coco(tmp_path, train={}))
    assert dataset.splits["train"] == [] and len(dataset.splits["val"]) == 5
    [problem] = dataset.problems
    assert problem.file.endswith("captions_train2017.json") and "train2017/" in problem.message


def test_bad_entries_are_named_by_their_position_and_skipped(tmp_path):
    train = {1: "000000000001.jpg", 2: "../../outside.jpg", 3: "000000000003.jpg"}
    root = coco(tmp_path, train=train, extra_annotations=[(99, "an unknown image"),
                                                          (1, "  ")],
                on_disk=["train2017/000000000001.jpg", "train2017/000000000003.jpg"] +
                [f"val2017/{name}" for name in VAL_NAMES])
    path = root / "annotations" / "captions_train2017.json"
    data = json.loads(path.read_text())
    data["images"] += [{"id": 1, "file_name": "again.jpg"}, {"file_name": "no_id.jpg"}, 7,
                       {"id": 4, "file_name": "000000000004.jpg"}]
    data["annotations"] += [{"image_id": [1], "caption": "an unhashable id"}, "x"]
    path.write_text(json.dumps(data))
    (tmp_path / "outside.jpg").write_bytes(b"")
    dataset = load_dataset(root)
    assert dataset.splits["train"] == ["train2017/000000000001.jpg", "train2017/000000000003.jpg"]
    assert [m for m in messages(dataset) if not m.startswith("annotations")] == [
        "images[1]: ../../outside.jpg is not a name inside train2017/, skipped",
        "images[3]: image id 1 is listed again (first at images[0]); skipped",
        'images[4]: the entry has no integer "id" and "file_name", skipped',
        'images[5]: the entry has no integer "id" and "file_name", skipped',
        "images[6]: the image has no caption and is left out",
    ]
    assert [m for m in messages(dataset) if m.startswith("annotations")] == [
        "annotations[6]: its image_id 99 is not in the images list, skipped",
        'annotations[7]: no "caption" text, skipped',
        "annotations[8]: its image_id [1] is not in the images list, skipped",
        "annotations[9]: the entry is not an object, skipped",
    ]


@pytest.mark.parametrize("content, expected", [
    ('{"images": [], "annotations": ', "is not valid JSON (line 1, column 31"),
    ('{"annotations": []}', 'has no top-level "images" list'),
    ('{"images": [], "annotations": {}}', 'has no top-level "annotations" list'),
    ('"images"', 'has no top-level "images" list'),
])
def test_bad_files_raise_one_line_naming_the_file(tmp_path, capsys, content, expected):
    root = coco(tmp_path)
    path = root / "annotations" / "captions_val2017.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=re.escape(expected)) as info:
        load_dataset(root)
    assert "\n" not in str(info.value) and str(path.resolve()) in str(info.value)
    assert main(["inspect", str(root)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_inspect_reports_the_coco_layout(tmp_path, capsys):
    root = coco(tmp_path, on_disk=["train2017/000000000001.jpg", "train2017/stray.jpg"] +
                [f"val2017/{name}" for name in VAL_NAMES])
    assert main(["inspect", str(root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in summary.items() if k != "problems"} == {
        "layout": "coco", "root": str(tmp_path.resolve()), "images": 12, "captions": 24,
        "missing_images": 1, "orphan_images": 1, "splits": {"train": 1, "val": 5, "test": 6}}
    assert [problem["message"] for problem in summary["problems"]] == [
        f"images[1]: 2 captions name 1 image that is not in {tmp_path.name}/ and will not be "
        "used, e.g. train2017/000000000002.jpg",
        "1 image on disk has no caption and will not be used, e.g. train2017/stray.jpg"]
    assert main(["inspect", str(root)]) == 0
    assert capsys.readouterr().out.startswith("COCO 2017 layout at")
