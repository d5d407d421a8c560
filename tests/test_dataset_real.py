"""The real Flickr8k text files, with empty stand-in images, through ``inspect``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop_captioner.cli import main

PHANTOM = "2258277193_586949ec62.jpg.1"


@pytest.fixture(scope="module")
def real_image_names(flickr8k_text) -> list[str]:
    names = {line.split("\t", 1)[0].rpartition("#")[0]
             for line in (flickr8k_text / "Flickr8k.token.txt").read_text().splitlines()}
    names.discard(PHANTOM)
    return sorted(names)


def stand_in_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"")


def inspect_json(root: Path, capsys) -> dict:
    assert main(["inspect", str(root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_original_layout(tmp_path, capsys, flickr8k_text, real_image_names):
    stand_in_images(tmp_path / "Flicker8k_Dataset", real_image_names)
    shutil.copytree(flickr8k_text, tmp_path / "Flickr8k_text",
                    ignore=shutil.ignore_patterns("captions.txt"))
    summary = inspect_json(tmp_path, capsys)
    assert {k: v for k, v in summary.items() if k != "problems"} == {
        "layout": "flickr8k", "root": str(tmp_path.resolve()), "images": 8091, "captions": 40455,
        "missing_images": 1, "orphan_images": 0,
        "splits": {"train": 6000, "val": 1000, "test": 1000}}
    [problem] = summary["problems"]
    assert problem["file"].endswith("Flickr8k.token.txt") and PHANTOM in problem["message"]

    assert main(["inspect", str(tmp_path)]) == 0
    human = capsys.readouterr().out
    assert "8091" in human and "40455" in human and "train 6000, val 1000, test 1000" in human


def test_kaggle_layout(tmp_path, capsys, flickr8k_text, real_image_names):
    stand_in_images(tmp_path / "Images", real_image_names)
    shutil.copy(flickr8k_text / "captions.txt", tmp_path / "captions.txt")
    summary = inspect_json(tmp_path, capsys)
    assert summary["layout"] == "kaggle"
    assert (summary["images"], summary["captions"]) == (8091, 40455)
    assert (summary["missing_images"], summary["orphan_images"], summary["problems"]) == (0, 0, [])
    assert sum(summary["splits"].values()) == 8091
    assert summary["splits"]["val"] == summary["splits"]["test"] == 809
