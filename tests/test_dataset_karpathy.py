"""Karpathy's split files (``dataset_*.json``): layouts, images folders, bad entries, bad files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.errors import DatasetError
from tests.support.caption_json import karpathy_entry, stand_in_images, write_json


def karpathy(root: Path, entries: list[dict], name: str = "dataset_flickr8k.json",
             images_dir: str | None = "Flicker8k_Dataset", on_disk=None) -> Path:
    """A Karpathy file in ``root`` and the stand-in images of its entries (or ``on_disk``)."""
    path = write_json(root / name, {"dataset": "flickr8k", "images": entries})
    if images_dir is not None:
        (root / images_dir).mkdir(parents=True, exist_ok=True)
        names = on_disk if on_disk is not None else [
            f"{e['filepath']}/{e['filename']}" if "filepath" in e else e["filename"]
            for e in entries if isinstance(e, dict)]
        stand_in_images(root / images_dir, names)
    return path


FOUR = [karpathy_entry("a.jpg", "train", ["A dog runs .", "A dog ."]),
        karpathy_entry("b.jpg", "restval", ["A cat ."]),
        karpathy_entry("c.jpg", "val", ["A bird ."]),
        karpathy_entry("d.jpg", "test", ["A fish ."])]


def positions(dataset) -> list[str]:
    return [problem.message for problem in dataset.problems]


# --- layouts -----------------------------------------------------------------------------------

def test_a_folder_with_one_karpathy_file_and_its_images(tmp_path):
    karpathy(tmp_path, FOUR)
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "karpathy" and dataset.root == tmp_path.resolve()
    assert dataset.captions == {"a.jpg": ["A dog runs .", "A dog ."], "b.jpg": ["A cat ."],
                                "c.jpg": ["A bird ."], "d.jpg": ["A fish ."]}
    assert dataset.splits == {"train": ["a.jpg", "b.jpg"], "val": ["c.jpg"], "test": ["d.jpg"]}
    assert dataset.image_path("a.jpg") == tmp_path.resolve() / "Flicker8k_Dataset" / "a.jpg"
    assert dataset.problems == [] and dataset.missing_images == dataset.orphan_images == 0


def test_the_json_file_itself_names_the_same_dataset(tmp_path):
    path = karpathy(tmp_path, FOUR)
    assert load_dataset(path).summary() == load_dataset(tmp_path).summary()


@pytest.mark.parametrize("images_dir", ["", "images", "Flickr8k_Dataset", "flickr30k-images"])
def test_images_are_found_beside_the_json(tmp_path, images_dir):
    karpathy(tmp_path, FOUR, images_dir=images_dir)
    assert load_dataset(tmp_path).images_dir == (tmp_path / images_dir).resolve()


def test_coco_entries_are_found_below_their_filepath(tmp_path):
    entries = [karpathy_entry("t.jpg", "train", filepath="train2014"),
               karpathy_entry("v.jpg", "restval", filepath="val2014"),
               karpathy_entry("w.jpg", "val", filepath="val2014"),
               karpathy_entry("x.jpg", "test", filepath="val2014/")]  # a trailing slash is fine
    karpathy(tmp_path / "coco", entries, name="dataset_coco.json", images_dir="",
             on_disk=["train2014/t.jpg", "val2014/v.jpg", "val2014/w.jpg", "val2014/x.jpg",
                      "val2014/extra.jpg"])
    dataset = load_dataset(tmp_path / "coco")
    assert dataset.splits == {"train": ["train2014/t.jpg", "val2014/v.jpg"],
                              "val": ["val2014/w.jpg"], "test": ["val2014/x.jpg"]}
    expected = (tmp_path / "coco" / "val2014" / "v.jpg").resolve()
    assert dataset.image_path("val2014/v.jpg") == expected
    assert dataset.orphan_images == 1 and "val2014/extra.jpg" in positions(dataset)[0]


def test_an_images_folder_given_elsewhere(tmp_path, capsys):
    path = karpathy(tmp_path / "text", FOUR, images_dir=None)
    stand_in_images(tmp_path / "photos", ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    with pytest.raises(DatasetError, match="--images"):
        load_dataset(path)
    dataset = load_dataset(path, images=tmp_path / "photos")
    assert dataset.images_dir == (tmp_path / "photos").resolve() and len(dataset.captions) == 4
    assert main(["inspect", str(path), "--images", str(tmp_path / "photos"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["layout"], summary["images"], summary["splits"]) == (
        "karpathy", 4, {"train": 2, "val": 1, "test": 1})


def test_the_flickr8k_files_win_over_a_karpathy_file_in_the_same_folder(tmp_path):
    karpathy(tmp_path, FOUR)
    (tmp_path / "Flickr8k.token.txt").write_text("a.jpg#0\tA dog .\n")
    assert load_dataset(tmp_path).layout == "flickr8k"
    assert load_dataset(tmp_path / "dataset_flickr8k.json").layout == "karpathy"


def test_several_karpathy_files_in_a_folder_ask_for_one(tmp_path):
    karpathy(tmp_path, FOUR)
    karpathy(tmp_path, FOUR, name="dataset_flickr30k.json")
    with pytest.raises(DatasetError, match="dataset_flickr30k.json.*give the one"):
        load_dataset(tmp_path)
    assert load_dataset(tmp_path / "dataset_flickr30k.json").layout == "karpathy"


# --- bad entries: reported by position and skipped ---------------------------------------------

def test_bad_entries_are_named_by_their_position_and_skipped(tmp_path):
    entries = [
        karpathy_entry("a.jpg", "train", ["A dog ."]),
        "not an object",
        {"split": "train", "sentences": [{"raw": "x"}]},
        karpathy_entry("b.jpg", "dev"),
        karpathy_entry("a.jpg", "test", ["A dog again ."]),
        {"filename": "c.jpg", "split": "val"},
        {"filename": "d.jpg", "split": "val", "sentences": [
            {"raw": "A cow .", "tokens": ["a", "cow"]}, {"tokens": ["a", "red", "cow"]},
            {"raw": "  "}, "a bare string", {}]},
        {"filename": "e.jpg", "split": "test", "sentences": []},
        karpathy_entry("f.jpg", "test", ["A fox ."]),
    ]
    karpathy(tmp_path, entries, on_disk=["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"])
    dataset = load_dataset(tmp_path)
    assert dataset.captions == {"a.jpg": ["A dog ."], "d.jpg": ["A cow .", "a red cow"],
                                "f.jpg": ["A fox ."]}
    assert dataset.splits == {"train": ["a.jpg"], "val": ["d.jpg"], "test": ["f.jpg"]}
    assert positions(dataset) == [
        "images[1]: the entry is not an object, skipped",
        'images[2]: no "filename", skipped',
        'images[3]: its "split" is not train, val, test or restval; the image is left out',
        "images[4]: a.jpg is listed again (first at images[0]); skipped",
        'images[5]: no "sentences" list; the image is left out',
        'images[6].sentences[1]: no "raw" text; its "tokens" were joined instead',
        'images[6].sentences[2]: no "raw" text, skipped',
        'images[6].sentences[3]: no "raw" text, skipped',
        'images[6].sentences[4]: no "raw" text, skipped',
        "images[7]: the image has no caption and is left out",
        "3 images on disk have no caption and will not be used, e.g. b.jpg",
    ]
    assert {problem.file for problem in dataset.problems[:-1]} == {
        str(tmp_path.resolve() / "dataset_flickr8k.json")}
    assert all(problem.line is None for problem in dataset.problems)


def test_missing_images_are_counted_and_reported_at_their_first_entry(tmp_path):
    entries = [karpathy_entry("a.jpg", "train"), karpathy_entry("gone1.jpg", "val", ["x", "y"]),
               karpathy_entry("gone2.jpg", "test")]
    karpathy(tmp_path, entries, on_disk=["a.jpg"])
    dataset = load_dataset(tmp_path)
    assert dataset.missing_images == 2 and list(dataset.captions) == ["a.jpg"]
    assert positions(dataset) == ["images[1]: 3 captions name 2 images that are not in "
                                  "Flicker8k_Dataset/ and will not be used, e.g. gone1.jpg"]


def test_long_runs_of_one_bad_entry_are_folded(tmp_path):
    entries = [karpathy_entry("a.jpg")] + [{"filename": "x.jpg", "split": "train",
                                            "sentences": [{}]} for _ in range(10)]
    karpathy(tmp_path, entries, on_disk=["a.jpg"])
    found = positions(load_dataset(tmp_path))
    assert [m for m in found if "raw" in m] == [
        *(f'images[{i}].sentences[0]: no "raw" text, skipped' for i in (1, 2, 3)),
        '7 more entries like this: no "raw" text, skipped']


# --- nothing outside the dataset ---------------------------------------------------------------

@pytest.mark.parametrize("entry", [
    {"filepath": "..", "filename": "outside.jpg"},
    {"filepath": "../data", "filename": "outside.jpg"},
    {"filepath": "images/../..", "filename": "outside.jpg"},
    {"filename": "../outside.jpg"},
    {"filename": "..\\outside.jpg"},
    {"filepath": "/ABS", "filename": "outside.jpg"},
    {"filepath": "C:", "filename": "outside.jpg"},
    {"filename": "ABS/outside.jpg"},
])
def test_names_that_leave_the_dataset_are_skipped_and_nothing_outside_is_read(
        tmp_path, monkeypatch, entry):
    """``outside.jpg`` sits where each name points; a loader that followed it would find it."""
    stand_in_images(tmp_path, ["outside.jpg", "data/outside.jpg"])
    dataset_dir = tmp_path / "data" / "set"
    for key in ("filepath", "filename"):
        if key in entry:
            entry[key] = entry[key].replace("/ABS", str(tmp_path)).replace("ABS", str(tmp_path))
    bad = {**karpathy_entry("outside.jpg", "val"), **entry}
    karpathy(dataset_dir, [karpathy_entry("a.jpg"), bad], images_dir="",
             on_disk=["a.jpg"])
    listed = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": listed.append(Path(path)) or
                        real_scandir(path))
    dataset = load_dataset(dataset_dir)
    assert list(dataset.captions) == ["a.jpg"] and dataset.missing_images == 0
    assert positions(dataset) == [
        f"images[1]: {entry.get('filepath', '') + '/' if 'filepath' in entry else ''}"
        f"{entry['filename']} is not a name inside the images folder, skipped"]
    assert listed and all(path.resolve().is_relative_to(dataset_dir.resolve())
                          for path in listed)


# --- bad files: one line naming the file -------------------------------------------------------

@pytest.mark.parametrize("content, expected", [
    (b"{\"images\": [", "is not valid JSON (line 1, column 13"),
    (b"", "is not valid JSON"),
    (b'{"images": ["\xff"]}', "is not UTF-8 text"),
    (b"[1, 2]", 'has no top-level "images" list'),
    (b'{"images": {"a.jpg": 1}}', 'has no top-level "images" list'),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"images": []}', "contains no usable captions"),
])
def test_bad_files_raise_one_line_naming_the_file(tmp_path, capsys, content, expected):
    (tmp_path / "images").mkdir()
    (tmp_path / "dataset_coco.json").write_bytes(content)
    with pytest.raises(DatasetError, match=re.escape(expected)) as info:
        load_dataset(tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path.resolve() / "dataset_coco.json") in message
    assert main(["inspect", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert expected.split(" (")[0] in err and err.count("\n") == 1


def test_a_non_json_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(tmp_path / "notes.txt")


def test_an_images_option_that_is_not_a_folder_is_refused(tmp_path):
    path = karpathy(tmp_path, FOUR)
    with pytest.raises(DatasetError, match="nowhere is not a folder"):
        load_dataset(path, images=tmp_path / "nowhere")


# --- inspect -----------------------------------------------------------------------------------

def test_inspect_reports_the_karpathy_layout(tmp_path, capsys):
    karpathy(tmp_path, FOUR + ["bad"])
    assert main(["inspect", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"layout": "karpathy", "root": str(tmp_path.resolve()), "images": 4,
                       "captions": 5, "missing_images": 0, "orphan_images": 0,
                       "splits": {"train": 2, "val": 1, "test": 1},
                       "problems": [{"file": str(tmp_path.resolve() / "dataset_flickr8k.json"),
                                     "line": None,
                                     "message": "images[4]: the entry is not an object, "
                                                "skipped"}]}
    assert main(["inspect", str(tmp_path)]) == 0
    human = capsys.readouterr().out
    assert human.startswith("Karpathy split file layout at")
    assert "dataset_flickr8k.json: images[4]: the entry is not an object" in human
