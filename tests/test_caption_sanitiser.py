"""Issue 18, class 4: a caption is one line without control characters wherever it is produced
or written, so a hostile vocabulary cannot forge ``filename<TAB>caption`` lines, CSV rows or
sidecar lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core import modelfile
from desktop_captioner.core.export import csv_text, jsonl_text
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.text import clean_caption
from tests.support.fake_captioner import install_fake_captioner
from tests.support.model_files import rewritten_model
from tests.support.photos import make_photo

FORGING = "a dog\nforged.jpg\tfake caption\r\n\x1b[2Jwiped\x00\x85x\u2028y\x7f"
CLEANED = "a dog forged.jpg fake caption [2Jwiped x y"


@pytest.mark.parametrize("raw, clean", [
    (FORGING, CLEANED),
    ("plain words", "plain words"),
    ("  tabs\t\tand\n\nbreaks  ", "tabs and breaks"),
    ("bell\x07 and C1\x9b stripped", "bell and C1 stripped"),
    ("é, 日本, emoji 🙂 kept", "é, 日本, emoji 🙂 kept"),
    ("\n\t\r", ""),
])
def test_clean_caption(raw, clean):
    assert clean_caption(raw) == clean


@pytest.fixture
def model(monkeypatch, tmp_path) -> Path:
    return install_fake_captioner(monkeypatch, tmp_path, caption=FORGING)


def test_stdout_gets_one_line_per_image(album, model, capsys):
    assert main(["caption", str(album), "--model", str(model)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"a.jpg\t{CLEANED}", f"b.png\t{CLEANED}"]


def test_a_file_name_with_a_line_break_cannot_forge_stdout_lines(tmp_path, model, capsys):
    make_photo(tmp_path / "two\nforged.jpg\tlines.jpg")
    assert main(["caption", str(tmp_path / "two\nforged.jpg\tlines.jpg"),
                 "--model", str(model)]) == 0
    assert capsys.readouterr().out == f"two\\x0aforged.jpg\\x09lines.jpg\t{CLEANED}\n"


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl"])
def test_exports_hold_the_clean_caption(name, album, model, tmp_path):
    target = tmp_path / name
    assert main(["caption", str(album), "--model", str(model),
                 "--csv" if name.endswith(".csv") else "--json", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    if name.endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert len(text.splitlines()) == 3  # header + one physical line per row
    elif name.endswith(".jsonl"):
        rows = [json.loads(line) for line in text.splitlines()]
    else:
        rows = json.loads(text)
    assert [row["caption"] for row in rows] == [CLEANED, CLEANED]


def test_sidecars_and_xmp_hold_one_clean_line(album, model, capsys):
    from desktop_captioner.core.existing_captions import read_existing_caption
    from desktop_captioner.core.sidecars import SidecarNames

    assert main(["caption", str(album), "--model", str(model), "--sidecars",
                 "--metadata", "xmp"]) == 0
    assert (album / "a.txt").read_text(encoding="utf-8") == CLEANED + "\n"
    (album / "a.txt").unlink()  # so the XMP sidecar is the caption found next
    found = read_existing_caption(album / "a.jpg", SidecarNames())
    assert found is not None and found.origin == "XMP sidecar" and found.caption == CLEANED


def test_apply_writes_a_multi_line_csv_caption_as_one_line(album, tmp_path, capsys):
    captions = tmp_path / "captions.csv"
    captions.write_text(csv_text([CaptionResult(album / "a.jpg", FORGING, None, "ok")]),
                        encoding="utf-8")
    assert main(["apply", str(captions), "--sidecars"]) == 0
    assert (album / "a.txt").read_text(encoding="utf-8") == CLEANED + "\n"


def test_the_writers_clean_whatever_reaches_them(tmp_path):
    """The GUI exports a caption a person typed, which never passed the Captioner."""
    result = CaptionResult(tmp_path / "a.jpg", FORGING, None, "ok", source="edited")
    assert json.loads(jsonl_text([result]))["caption"] == CLEANED
    assert len(csv_text([result]).splitlines()) == 2


def test_the_captioner_cleans_a_vocabulary_word_with_a_newline():
    from desktop_captioner.core.search import Hypothesis, caption_text
    from desktop_captioner.core.vocabulary import Vocabulary

    vocab = Vocabulary(["a", "dog\nforged.jpg\tfake", "runs"])
    ids = [vocab.id_of(word) for word in vocab.words]
    assert caption_text(vocab, Hypothesis(ids, -1.0, -1.0)) == "a dog forged.jpg fake runs"


def _with_hostile_words(model: Path, out: Path) -> Path:
    """A copy of ``model`` whose every vocabulary word carries a newline and a tab (the
    manifest's checksums are updated, so only the words themselves are hostile)."""
    def hostile(members: dict[str, bytes]) -> None:
        vocabulary = json.loads(members[modelfile.VOCABULARY_MEMBER])
        vocabulary["words"] = [f"{word}\nforged.jpg\t{word}" for word in vocabulary["words"]]
        members[modelfile.VOCABULARY_MEMBER] = json.dumps(vocabulary).encode()

    return rewritten_model(model, out, hostile)


def test_a_model_with_newlines_in_its_words_cannot_forge_stdout_lines(
        trained_model, weights_file, album, tmp_path, capsys):
    """The model file is refused before it captions anything (its words must be caption
    words, ``core/model_schema``); the Captioner's own cleaning is the test above."""
    hostile = _with_hostile_words(trained_model, tmp_path / "hostile.dcmodel")
    assert main(["caption", str(album), "--model", str(hostile), "--weights",
                 str(weights_file), "--beam-width", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no line at all, forged or not
    [line] = err.splitlines()
    assert str(hostile) in line and "not a caption word" in line
