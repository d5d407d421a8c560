"""Dataset loading on small hand-made folders: layouts, each real-world quirk, splits, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.dataset import load_dataset, seeded_split
from desktop_captioner.core.errors import DatasetError


def make_dataset(root: Path, captions: bytes | str, images: list[str],
                 images_dir: str = "Flicker8k_Dataset",
                 captions_name: str = "Flickr8k.token.txt") -> Path:
    """A dataset folder with empty stand-in image files (loading only checks existence)."""
    (root / images_dir).mkdir(parents=True)
    for name in images:
        (root / images_dir / name).write_bytes(b"")
    data = captions.encode("utf-8") if isinstance(captions, str) else captions
    (root / captions_name).parent.mkdir(parents=True, exist_ok=True)
    (root / captions_name).write_bytes(data)
    return root


def token_lines(names: list[str], per_image: int = 2) -> str:
    return "".join(f"{name}#{i}\tcaption {i} of {name}\n"
                   for name in names for i in range(per_image))


def messages(dataset) -> list[str]:
    return [problem.message for problem in dataset.problems]


# --- layouts -----------------------------------------------------------------------------------

def test_original_layout_with_text_folder(tmp_path):
    make_dataset(tmp_path, token_lines(["a.jpg", "b.jpg"]), ["a.jpg", "b.jpg"],
                 captions_name="Flickr8k_text/Flickr8k.token.txt")
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "flickr8k"
    assert dataset.captions == {"a.jpg": ["caption 0 of a.jpg", "caption 1 of a.jpg"],
                                "b.jpg": ["caption 0 of b.jpg", "caption 1 of b.jpg"]}
    assert dataset.image_path("a.jpg") == tmp_path.resolve() / "Flicker8k_Dataset" / "a.jpg"
    assert dataset.problems == []


@pytest.mark.parametrize("images_dir", ["Flickr8k_Dataset", "Images", "images"])
def test_original_layout_accepts_common_image_folder_names(tmp_path, images_dir):
    make_dataset(tmp_path, token_lines(["a.jpg"]), ["a.jpg"], images_dir=images_dir)
    assert load_dataset(tmp_path).images_dir.name == images_dir


def test_an_images_folder_given_elsewhere_replaces_the_one_beside_the_captions(tmp_path):
    make_dataset(tmp_path / "text", token_lines(["a.jpg", "b.jpg"]), ["a.jpg"])
    make_dataset(tmp_path / "photos", "", ["a.jpg", "b.jpg"], images_dir="",
                 captions_name="unused.txt")
    dataset = load_dataset(tmp_path / "text", images=tmp_path / "photos")
    assert dataset.images_dir == (tmp_path / "photos").resolve()
    assert sorted(dataset.captions) == ["a.jpg", "b.jpg"] and dataset.missing_images == 0


def test_kaggle_layout_with_quoted_and_unquoted_commas(tmp_path):
    csv_text = ("image,caption\n"
                'a.jpg,"A dog , a ball and ""fun"" ."\n'
                "a.jpg,A dog , unquoted , with commas .\n"
                "b.jpg,A cat .\n")
    make_dataset(tmp_path, csv_text, ["a.jpg", "b.jpg"], images_dir="Images",
                 captions_name="captions.txt")
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "kaggle"
    assert dataset.captions == {"a.jpg": ['A dog , a ball and "fun" .',
                                          "A dog , unquoted , with commas ."],
                                "b.jpg": ["A cat ."]}
    assert dataset.problems == []


def test_kaggle_quoted_captions_over_several_lines_are_joined(tmp_path):
    csv_text = ("image,caption\n"
                'a.jpg,"A dog runs\nacross the grass\n, fast ."\n'
                "b.jpg,A 5\" toy .\n"  # an inch mark, not a quote: nothing to join
                'b.jpg,"A cat never closed its quote .\n'
                "b.jpg,A cat sleeps .\n")
    make_dataset(tmp_path, csv_text, ["a.jpg", "b.jpg"], images_dir="Images",
                 captions_name="captions.txt")
    dataset = load_dataset(tmp_path)
    assert dataset.captions == {"a.jpg": ["A dog runs across the grass , fast ."],
                                "b.jpg": ['A 5" toy .', "A cat never closed its quote .",
                                          "A cat sleeps ."]}
    assert [(p.line, p.message) for p in dataset.problems] == [
        (2, "the quoted caption runs over lines 2-4; they were joined"),
        (6, "the caption's opening quote is never closed; the line was read as it stands")]


def test_kaggle_without_header_reads_first_line_and_reports(tmp_path):
    make_dataset(tmp_path, "a.jpg,A cat .\n", ["a.jpg"], images_dir="Images",
                 captions_name="captions.txt")
    dataset = load_dataset(tmp_path)
    assert dataset.captions == {"a.jpg": ["A cat ."]}
    assert [(p.line, "header" in p.message) for p in dataset.problems] == [(1, True)]


def test_only_image_extensions_count_as_images(tmp_path):
    make_dataset(tmp_path, token_lines(["a.jpg", "b.PNG"]),
                 ["a.jpg", "b.PNG", "notes.txt", "Thumbs.db", "c.webp"])
    (tmp_path / "Flicker8k_Dataset" / "sub.jpg").mkdir()
    dataset = load_dataset(tmp_path)
    assert sorted(dataset.captions) == ["a.jpg", "b.PNG"]
    assert dataset.orphan_images == 1  # c.webp; the folder named sub.jpg is not an image


# --- quirks: handled and reported, never fatal -------------------------------------------------

def test_phantom_name_with_extra_dot_is_not_folded_into_the_real_image(tmp_path):
    text = ("x_1.jpg#0\treal one\n" + "".join(f"x_1.jpg.1#{i}\tphantom {i}\n" for i in range(5)))
    dataset = load_dataset(make_dataset(tmp_path, text, ["x_1.jpg"]))
    assert dataset.captions == {"x_1.jpg": ["real one"]}
    assert dataset.missing_images == 1
    [problem] = dataset.problems
    assert problem.line == 2 and problem.file.endswith("Flickr8k.token.txt")
    assert "5 captions" in problem.message and "x_1.jpg.1" in problem.message


def test_missing_images_counts_distinct_names(tmp_path):
    text = token_lines(["a.jpg", "gone1.jpg", "gone2.jpg"], per_image=3)
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert dataset.missing_images == 2
    assert dataset.summary()["captions"] == 3


def test_images_without_captions_are_counted_and_reported(tmp_path):
    dataset = load_dataset(make_dataset(tmp_path, token_lines(["a.jpg"]),
                                        ["a.jpg", "b.jpg", "c.jpg"]))
    assert dataset.orphan_images == 2
    assert list(dataset.captions) == ["a.jpg"]
    [problem] = dataset.problems
    assert problem.file.endswith("Flicker8k_Dataset") and "2 images" in problem.message


def test_spaces_instead_of_tab(tmp_path):
    text = "a.jpg#0\tA dog runs .\na.jpg#1    A dog  jumps .\n"
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert dataset.captions == {"a.jpg": ["A dog runs .", "A dog  jumps ."]}
    assert [(p.line, "spaces instead of a tab" in p.message)
            for p in dataset.problems] == [(2, True)]


def test_crlf_and_byte_order_mark(tmp_path):
    text = "\ufeffa.jpg#0\tA dog .\r\na.jpg#1\tA cat .\r\n"
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert dataset.captions == {"a.jpg": ["A dog .", "A cat ."]}
    found = messages(dataset)
    assert any("byte-order mark" in m for m in found) and any("CRLF" in m for m in found)


def test_blank_lines_are_skipped_and_reported(tmp_path):
    text = "a.jpg#0\tA dog .\n\n   \na.jpg#1\tA cat .\n"
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert dataset.captions == {"a.jpg": ["A dog .", "A cat ."]}
    assert [p.line for p in dataset.problems if "blank" in p.message] == [2, 3]


def test_bytes_that_are_not_utf8_are_replaced_and_reported_with_the_line(tmp_path):
    text = "a.jpg#0\tA caf\u00e9 .\n".encode() + b"a.jpg#1\tA caf\xe9 .\n" + b"a.jpg#2\tOK .\n"
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert dataset.captions == {"a.jpg": ["A caf\u00e9 .", "A caf\ufffd .", "OK ."]}
    [problem] = dataset.problems
    assert problem.line == 2 and problem.file.endswith("Flickr8k.token.txt")
    assert "UTF-8" in problem.message


def test_duplicate_lines_keep_one_but_equal_captions_of_two_annotators_stay(tmp_path):
    text = ("a.jpg#0\tA dog .\n"
            "a.jpg#0\tA dog .\n"      # the same line again: a duplicate
            "a.jpg#1\tA dog .\n")     # another annotator wrote the same words: kept
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert dataset.captions == {"a.jpg": ["A dog .", "A dog ."]}
    assert [(p.line, "repeats" in p.message) for p in dataset.problems] == [(2, True)]


def test_long_runs_of_one_quirk_are_folded(tmp_path):
    text = "".join(f"a.jpg#{i} caption {i}\n" for i in range(10))
    dataset = load_dataset(make_dataset(tmp_path, text, ["a.jpg"]))
    assert len(dataset.captions["a.jpg"]) == 10
    assert [p.line for p in dataset.problems] == [1, 2, 3, None]
    assert dataset.problems[-1].message.startswith("7 more lines like this")


# --- splits ------------------------------------------------------------------------------------

def write_splits(root: Path, train: list[str], dev: list[str], test: list[str],
                 folder: str = "") -> None:
    for name, ids in [("train", train), ("dev", dev), ("test", test)]:
        path = root / folder / f"Flickr_8k.{name}Images.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{i}\n" for i in ids))


def test_official_splits_drop_unusable_ids_and_leave_unlisted_images_out(tmp_path):
    names = [f"{i}.jpg" for i in range(6)]
    make_dataset(tmp_path, token_lines(names + ["gone.jpg"]), names)
    write_splits(tmp_path, ["2.jpg", "0.jpg", "gone.jpg", "nowhere.jpg"], ["3.jpg"],
                 ["4.jpg", "0.jpg"], folder="Flickr8k_text")
    dataset = load_dataset(tmp_path)
    assert dataset.splits == {"train": ["0.jpg", "2.jpg"], "val": ["3.jpg"], "test": ["4.jpg"]}
    by_file = {(Path(p.file).name, p.line): p.message for p in dataset.problems}
    assert "2 listed images" in by_file[("Flickr_8k.trainImages.txt", 3)]
    assert "0.jpg" in by_file[("Flickr_8k.testImages.txt", 2)]
    assert dataset.summary()["splits"] == {"train": 2, "val": 1, "test": 1}


def test_incomplete_official_splits_fall_back_to_the_seeded_split(tmp_path):
    names = [f"{i}.jpg" for i in range(20)]
    make_dataset(tmp_path, token_lines(names), names)
    (tmp_path / "Flickr_8k.trainImages.txt").write_text("0.jpg\n")
    dataset = load_dataset(tmp_path, seed=3)
    assert dataset.splits == seeded_split(names, seed=3)
    assert any("Flickr_8k.devImages.txt" in m for m in messages(dataset))


def test_seeded_split_is_by_image_80_10_10_and_deterministic():
    names = [f"{i:03d}.jpg" for i in range(100)]
    split = seeded_split(reversed(names), seed=1)
    assert {k: len(v) for k, v in split.items()} == {"train": 80, "val": 10, "test": 10}
    assert sorted(split["train"] + split["val"] + split["test"]) == names
    assert all(part == sorted(part) for part in split.values())
    assert split == seeded_split(names, seed=1)
    assert split != seeded_split(names, seed=2)


def test_kaggle_layout_uses_the_seeded_split(tmp_path):
    names = [f"{i}.jpg" for i in range(30)]
    csv_text = "image,caption\n" + "".join(f"{n},A thing .\n" for n in names)
    make_dataset(tmp_path, csv_text, names, images_dir="Images", captions_name="captions.txt")
    # Only the original layout has split files.
    write_splits(tmp_path, names[:10], names[10:20], names[20:])
    assert load_dataset(tmp_path, seed=5).splits == seeded_split(names, seed=5)


# --- unusable folders ----------------------------------------------------------------------------

@pytest.mark.parametrize("build, expected", [
    (lambda root: (root / "Images").mkdir(), "no captions file"),
    (lambda root: (root / "captions.txt").write_text("image,caption\na.jpg,x\n"),
     "no images folder"),
    (lambda root: make_dataset(root, token_lines(["a.jpg"]), []), "no image files"),
    (lambda root: make_dataset(root, "\n\n", ["a.jpg"]), "no captions"),
    (lambda root: make_dataset(root, token_lines(["b.jpg"]), ["a.jpg"]), "None of the images"),
])
def test_unusable_folders_raise_one_line_dataset_errors(tmp_path, capsys, build, expected):
    build(tmp_path)
    with pytest.raises(DatasetError, match=expected) as info:
        load_dataset(tmp_path)
    assert "\n" not in str(info.value)
    assert main(["inspect", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_a_file_instead_of_a_folder_is_refused(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(tmp_path / "file.txt")


def test_dataset_modules_do_not_import_tensorflow():
    code = ("import sys, desktop_captioner.core.dataset, desktop_captioner.cli.inspect_cmd; "
            "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    repo = Path(__file__).parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=repo).returncode == 0
