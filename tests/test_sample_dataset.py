"""The generated shapes dataset: layout, determinism, learnable captions, CLI."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from desktop_captioner.cli import main
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.errors import Cancelled, DatasetError
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.core.sample_dataset import (
    COLOURS,
    PLACES,
    SHAPES,
    TEMPLATES,
    make_sample_dataset,
)


@pytest.fixture(scope="module")
def hundred(tmp_path_factory) -> Path:
    return make_sample_dataset(tmp_path_factory.mktemp("sample") / "shapes", images=100, seed=7)


def test_layout_and_inspect_finds_no_problems(hundred, capsys):
    assert (hundred / "Flicker8k_Dataset" / "scene_00000.jpg").is_file()
    dataset = load_dataset(hundred)
    summary = dataset.summary()
    assert (summary["layout"], summary["images"], summary["captions"]) == ("flickr8k", 100, 500)
    assert summary["splits"] == {"train": 80, "val": 10, "test": 10}
    assert summary["problems"] == [] and summary["orphan_images"] == summary["missing_images"] == 0
    assert all(len(texts) == 5 and len(set(texts)) == 5 for texts in dataset.captions.values())
    with Image.open(dataset.image_path("scene_00042.jpg")) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (64, 64), "RGB")
    assert main(["inspect", str(hundred)]) == 0
    assert "No problems found." in capsys.readouterr().out


def test_every_word_is_frequent_and_every_content_word_is_used(hundred):
    words = Counter(word for texts in load_dataset(hundred).captions.values()
                    for text in texts for word in text.split())
    assert min(words.values()) >= 5
    content = set(COLOURS) | set(SHAPES) | {phrase.split()[-1] for _, phrase in PLACES.values()}
    assert content <= set(words)
    assert len(words) < 40


def _nearest_colour(pixel: tuple[int, int, int]) -> str:
    palette = {**COLOURS, "background": (240, 240, 240)}
    return min(palette, key=lambda name: sum((a - b) ** 2 for a, b in zip(pixel, palette[name])))


def _described(caption: str) -> dict[str, tuple[str, str]]:
    """place -> (colour, shape), parsed back from a first-template caption."""
    by_phrase = {phrase: place for place, (_, phrase) in PLACES.items()}
    described = {}
    for part in caption.removeprefix("a ").split(" and a "):
        colour, shape, *place_words = part.split()
        described[by_phrase[" ".join(place_words)]] = (colour, shape)
    return described


def test_captions_say_what_the_picture_shows(hundred):
    """The colour at each named place is the named colour, and unnamed places are empty."""
    dataset = load_dataset(hundred)
    shape_counts = Counter()
    for name, texts in dataset.captions.items():
        described = _described(texts[0])
        assert 1 <= len(described) <= 2
        with Image.open(dataset.image_path(name)) as image:
            rgb = image.convert("RGB")
            for place, ((fx, fy), _) in PLACES.items():
                seen = _nearest_colour(rgb.getpixel((int(fx * 64), int(fy * 64))))
                assert seen == described.get(place, ("background",))[0], (name, place, texts[0])
        shape_counts.update(shape for _, shape in described.values())
    assert set(shape_counts) == set(SHAPES)


def test_phrasing_varies_only_by_template(hundred):
    """The same content words in the same order in all five captions: only phrasing differs."""
    content = set(COLOURS) | set(SHAPES) | {"left", "right", "top", "bottom", "centre"}
    for texts in load_dataset(hundred).captions.values():
        assert len({tuple(w for w in t.split() if w in content) for t in texts}) == 1
    assert len(TEMPLATES) == 5


def test_same_seed_gives_identical_files_and_other_seeds_differ(tmp_path):
    first = make_sample_dataset(tmp_path / "a", images=12, seed=3)
    second = make_sample_dataset(tmp_path / "b", images=12, seed=3)
    other = make_sample_dataset(tmp_path / "c", images=12, seed=4)
    for name in ["Flickr8k.token.txt", "Flickr_8k.trainImages.txt", "Flickr_8k.devImages.txt",
                 "Flickr_8k.testImages.txt", "Flicker8k_Dataset/scene_00005.jpg"]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    token_file = "Flickr8k.token.txt"
    assert (first / token_file).read_bytes() != (other / token_file).read_bytes()


def test_size_and_progress(tmp_path):
    reports = []
    root = make_sample_dataset(tmp_path / "s", images=4, size=32, progress=reports.append)
    with Image.open(root / "Flicker8k_Dataset" / "scene_00003.jpg") as image:
        assert image.size == (32, 32)
    assert [(p.done, p.total) for p in reports] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_cancel_stops_before_the_text_files_are_written(tmp_path):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        make_sample_dataset(tmp_path / "s", images=5, cancel=token)
    assert not (tmp_path / "s" / "Flickr8k.token.txt").exists()


def test_refuses_a_folder_that_already_holds_a_dataset(tmp_path):
    make_sample_dataset(tmp_path, images=2)
    before = (tmp_path / "Flickr8k.token.txt").read_bytes()
    with pytest.raises(DatasetError, match="already holds a dataset"):
        make_sample_dataset(tmp_path, images=3, seed=1)
    assert (tmp_path / "Flickr8k.token.txt").read_bytes() == before
    with pytest.raises(ValueError):
        make_sample_dataset(tmp_path / "tiny", size=8)


def test_cli_prints_path_and_summary(tmp_path, capsys):
    assert main(["sample-dataset", str(tmp_path / "cli"), "--images", "20", "--seed", "2",
                 "--size", "48"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [str((tmp_path / "cli").resolve()),
                   "20 images, 100 captions; train 16, val 2, test 2"]
    with pytest.raises(SystemExit) as info:
        main(["sample-dataset", str(tmp_path / "bad"), "--images", "0"])
    assert info.value.code == 2


def test_sample_dataset_module_does_not_import_tensorflow():
    code = ("import sys, desktop_captioner.core.sample_dataset, desktop_captioner.cli.sample_cmd; "
            "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    repo = Path(__file__).parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=repo).returncode == 0
