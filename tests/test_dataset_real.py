"""The real Flickr8k text files, with empty stand-in images, through ``inspect``.

Every clone tests an excerpt of the real files shipped in ``tests/data/flickr8k_text`` (66 images
with their original lines: 40 train, 10 dev, 10 test, 6 in no split, the 5 lines of the phantom
``2258277193_586949ec62.jpg.1``, and the matching Kaggle ``captions.txt`` rows, quoted ones
included). Where the full files sit in ``../shared/flickr8k_text`` they are tested as well.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_captioner.cli import main

PHANTOM = "2258277193_586949ec62.jpg.1"
EXCERPT = Path(__file__).parent / "data" / "flickr8k_text"
FULL = Path(__file__).resolve().parents[2] / "shared" / "flickr8k_text"


@dataclass(frozen=True)
class TextFiles:
    folder: Path
    images: int
    splits: dict[str, int]


SOURCES = {
    "excerpt": TextFiles(EXCERPT, images=66, splits={"train": 40, "val": 10, "test": 10}),
    "full": TextFiles(FULL, images=8091, splits={"train": 6000, "val": 1000, "test": 1000}),
}


@pytest.fixture(scope="module", params=sorted(SOURCES))
def text_files(request) -> TextFiles:
    source = SOURCES[request.param]
    if not source.folder.is_dir():
        pytest.skip(f"the full Flickr8k text is not at {source.folder} (the excerpt is tested)")
    return source


@pytest.fixture(scope="module")
def real_image_names(text_files) -> list[str]:
    names = {line.split("\t", 1)[0].rpartition("#")[0]
             for line in (text_files.folder / "Flickr8k.token.txt").read_text().splitlines()}
    names.discard(PHANTOM)
    assert len(names) == text_files.images
    return sorted(names)


def stand_in_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"")


def inspect_json(root: Path, capsys) -> dict:
    assert main(["inspect", str(root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_original_layout(tmp_path, capsys, text_files, real_image_names):
    stand_in_images(tmp_path / "Flicker8k_Dataset", real_image_names)
    shutil.copytree(text_files.folder, tmp_path / "Flickr8k_text",
                    ignore=shutil.ignore_patterns("captions.txt"))
    summary = inspect_json(tmp_path, capsys)
    images, splits = text_files.images, text_files.splits
    assert {k: v for k, v in summary.items() if k != "problems"} == {
        "layout": "flickr8k", "root": str(tmp_path.resolve()), "images": images,
        "captions": 5 * images, "missing_images": 1, "orphan_images": 0, "splits": splits}
    [problem] = summary["problems"]
    assert problem["file"].endswith("Flickr8k.token.txt") and PHANTOM in problem["message"]

    assert main(["inspect", str(tmp_path)]) == 0
    human = capsys.readouterr().out
    assert str(images) in human and str(5 * images) in human
    assert f"train {splits['train']}, val {splits['val']}, test {splits['test']}" in human


def test_kaggle_layout(tmp_path, capsys, text_files, real_image_names):
    stand_in_images(tmp_path / "Images", real_image_names)
    shutil.copy(text_files.folder / "captions.txt", tmp_path / "captions.txt")
    summary = inspect_json(tmp_path, capsys)
    images = text_files.images
    assert summary["layout"] == "kaggle"
    assert (summary["images"], summary["captions"]) == (images, 5 * images)
    assert (summary["missing_images"], summary["orphan_images"], summary["problems"]) == (0, 0, [])
    assert sum(summary["splits"].values()) == images
    assert summary["splits"]["val"] == summary["splits"]["test"] == images // 10


def test_the_excerpt_keeps_the_real_files_quirks():
    """The excerpt is only worth shipping while it holds what makes the real files hard."""
    token = (EXCERPT / "Flickr8k.token.txt").read_text()
    assert token.count(f"{PHANTOM}#") == 5 and "\t" in token
    kaggle = (EXCERPT / "captions.txt").read_text().splitlines()
    assert kaggle[0] == "image,caption" and sum('"' in line for line in kaggle) >= 10
    in_splits = {line for split in ("train", "dev", "test")
                 for line in (EXCERPT / f"Flickr_8k.{split}Images.txt").read_text().split()}
    named = {line.split("\t", 1)[0].rpartition("#")[0] for line in token.splitlines()}
    assert len(named - in_splits - {PHANTOM}) == 6  # images the official splits leave out
