"""Issue 18, class 3 (nothing lost): names that are not valid UTF-8 reach every writer intact,
every argument gets a row, and a failed download keeps the bytes of an earlier one."""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.error
import urllib.request
from dataclasses import astuple
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.download import part_path
from desktop_captioner.core.export_reader import read_export
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.text import name_from_text, name_text
from desktop_captioner.core.weights import cache_weights_path
from tests.support.fake_captioner import FakeCaptioner, install_fake_captioner, snapshot
from tests.support.photos import make_photo

RAW_NAME = b"caf\xe9 \xff.jpg"  # Latin-1 e-acute and a stray byte: legal on Linux, not UTF-8
WRITTEN_NAME = "caf\\xe9 \\xff.jpg"  # how the exports and stdout write it


@pytest.fixture
def album(tmp_path) -> Path:
    """A folder with a plain photo and one whose name is not valid UTF-8."""
    folder = tmp_path / "album"
    folder.mkdir()
    make_photo(folder / "plain.jpg")
    make_photo(folder / os.fsdecode(RAW_NAME), seed=1)
    return folder


@pytest.fixture
def model(monkeypatch, tmp_path) -> Path:
    return install_fake_captioner(monkeypatch, tmp_path)


def _unescaped(target: Path) -> str:
    """The file's text (which must be valid UTF-8), with JSON's doubled backslashes undone."""
    text = target.read_bytes().decode("utf-8")
    return text if target.suffix == ".csv" else text.replace("\\\\", "\\")


def test_a_written_name_reads_back_to_the_same_bytes(tmp_path):
    name = tmp_path / os.fsdecode(RAW_NAME)
    assert name_text(name) == f"{tmp_path}/{WRITTEN_NAME}"
    assert name_from_text(name_text(name)) == name
    assert os.fsencode(name_from_text(name_text(name))) == bytes(tmp_path) + b"/" + RAW_NAME
    assert name_text("plain é.jpg") == "plain é.jpg"
    assert name_from_text("plain é.jpg") == Path("plain é.jpg")


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl"])
def test_exports_hold_the_name_and_read_back_to_the_file(name, album, model, tmp_path, capsys):
    target = tmp_path / name
    option = "--csv" if name.endswith(".csv") else "--json"
    assert main(["caption", str(album), "--model", str(model), option, str(target)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Captioned 2 of 2 images" in err
    assert WRITTEN_NAME in _unescaped(target)
    read = read_export(target)
    assert sorted(os.fsencode(r.path) for r in read.results) == sorted(
        os.fsencode(album / n) for n in ("plain.jpg", os.fsdecode(RAW_NAME)))
    assert all(r.path.is_file() for r in read.results)  # each row leads back to its file


def test_stdout_lines_name_the_file_and_nothing_is_lost(album, model, capsys):
    assert main(["caption", str(album), "--model", str(model)]) == 0
    out, err = capsys.readouterr()
    assert sorted(out.splitlines()) == [f"{WRITTEN_NAME}\ta photo", "plain.jpg\ta photo"]
    assert "Traceback" not in err


def test_sidecars_go_next_to_the_file_under_its_own_bytes(album, model, capsys):
    assert main(["caption", str(album), "--model", str(model), "--sidecars"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert sorted(os.listdir(bytes(album))) == sorted(
        [b"plain.jpg", b"plain.txt", RAW_NAME, RAW_NAME.replace(b".jpg", b".txt")])
    assert (album / os.fsdecode(RAW_NAME.replace(b".jpg", b".txt"))).read_text() == "a photo\n"


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_the_gui_export_writes_the_name_too(suffix, album, tmp_path):
    from desktop_captioner.core.export import write_export

    results = [CaptionResult(album / os.fsdecode(RAW_NAME), "a photo", -0.5, "ok")]
    target = write_export(results, tmp_path / f"gui{suffix}")
    assert WRITTEN_NAME in _unescaped(target)
    assert read_export(target).results == results


def test_the_gui_session_file_keeps_such_a_name(album, tmp_path):
    from desktop_captioner.core.session_file import read_session, write_session

    name = str(album / os.fsdecode(RAW_NAME))
    rows = [(str(album / "plain.jpg"), "a photo", None, "ok", "", "model", False),
            (name, "a photo", -0.5, "ok", "", "model", True)]
    write_session(rows, tmp_path / "session.json")
    assert [astuple(row) for row in read_session(tmp_path / "session.json")] == rows


def test_resume_matches_a_name_that_is_not_utf8(album, model, tmp_path, capsys):
    target = tmp_path / "out.csv"
    assert main(["caption", str(album), "--model", str(model), "--csv", str(target)]) == 0
    first = target.read_bytes()
    FakeCaptioner.seen.clear()
    assert main(["caption", str(album), "--model", str(model), "--csv", str(target),
                 "--resume"]) == 0
    assert "2 images already captioned" in capsys.readouterr().err
    assert FakeCaptioner.seen == [] and target.read_bytes() == first


def test_an_error_row_naming_such_a_file_is_written_too(tmp_path, model, capsys):
    missing = tmp_path / os.fsdecode(RAW_NAME)
    target = tmp_path / "out.csv"
    assert main(["caption", str(missing), "--model", str(model), "--csv", str(target)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    [row] = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert row["error"] == f"{tmp_path}/{WRITTEN_NAME} does not exist."
    assert read_export(target).results[0].path == missing


def test_a_folder_named_like_an_image_is_walked(tmp_path, model, capsys):
    folder = tmp_path / "x.jpg"
    folder.mkdir()
    make_photo(folder / "inside.png")
    assert main(["caption", str(folder), "--model", str(model)]) == 0
    assert capsys.readouterr().out == "inside.png\ta photo\n"


@pytest.mark.parametrize("name", ["x.jpg", "empty"])
def test_a_folder_with_no_images_gets_an_error_row(name, tmp_path, album, model, capsys):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "notes.md").write_text("no photos here")
    target = tmp_path / "out.csv"
    assert main(["caption", str(album), str(folder), "--model", str(model), "--csv",
                 str(target)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(row["path"], row["status"]) for row in rows][-1] == (str(folder), "error")
    assert rows[-1]["error"] == f"{folder} is a folder with no image files in it."
    assert len(rows) == 3


@pytest.mark.parametrize("failure", [
    urllib.error.URLError(OSError(101, "Network is unreachable")),
    urllib.error.HTTPError("http://x", 503, "Service Unavailable", {}, None),
    ConnectionResetError(104, "Connection reset by peer"),
], ids=["offline", "server error", "connection reset"])
def test_a_failed_download_keeps_the_bytes_of_an_earlier_one(failure, monkeypatch, capsys):
    kept = part_path(cache_weights_path())
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(b"\x89HDF" + bytes(5000))  # what an interrupted attempt left
    before = snapshot(kept.parent)

    def refuse(*args, **kwargs):
        raise failure

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    assert main(["weights", "--download"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "internal error" not in err and str(cache_weights_path()) in err
    assert snapshot(kept.parent) == before  # the .part is kept, byte for byte


def test_json_records_keep_their_columns_with_such_a_name(album, model, tmp_path):
    target = tmp_path / "out.json"
    assert main(["caption", str(album), "--model", str(model), "--json", str(target)]) == 0
    records = json.loads(target.read_text(encoding="utf-8"))
    assert sorted(r["filename"] for r in records) == sorted([WRITTEN_NAME, "plain.jpg"])
