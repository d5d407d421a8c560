"""Reading exports back: every column round-trips, foreign files are refused, bad rows skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_captioner.core.export import write_csv, write_json
from desktop_captioner.core.export_reader import ExportFormatError, read_export
from desktop_captioner.core.results import CaptionResult


def _results(folder: Path) -> list[CaptionResult]:
    return [
        CaptionResult(folder / "a b.jpg", 'a dog, "running" on grass', -1.25, "ok"),
        CaptionResult(folder / "é.png", "=SUM(A1) Café au lait — 東京", -0.5, "ok",
                      source="edited"),
        CaptionResult(folder / "c.jpg", "kept", None, "ok", source="imported"),
        CaptionResult.failure(folder / "bad.png", "bad.png is not a readable image."),
    ]


@pytest.mark.parametrize("name, write", [("out.csv", write_csv), ("out.json", write_json)])
def test_exports_read_back_exactly(tmp_path, name, write):
    results = _results(tmp_path)
    read = read_export(write(results, tmp_path / name))
    assert read.problems == []
    assert read.results == results


def test_json_lines_are_read_and_a_broken_line_is_skipped(tmp_path):
    records = [json.loads(json.dumps(r)) for r in json.loads(
        write_json(_results(tmp_path), tmp_path / "x.json").read_text(encoding="utf-8"))]
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    target = tmp_path / "out.jsonl"
    target.write_text("\n".join(lines[:2] + ['{"path": "cut'] + lines[2:]) + "\n", encoding="utf-8")
    read = read_export(target)
    assert [r.path.name for r in read.results] == ["a b.jpg", "é.png", "c.jpg", "bad.png"]
    assert len(read.problems) == 1 and "out.jsonl line 3" in read.problems[0]


def test_a_csv_from_elsewhere_is_refused_naming_it(tmp_path):
    foreign = tmp_path / "budget.csv"
    foreign.write_text("name,amount\nrent,1000\n", encoding="utf-8")
    with pytest.raises(ExportFormatError, match="budget.csv is not a captions CSV this app wrote"):
        read_export(foreign)


def test_an_old_five_column_csv_still_reads(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("path,filename,caption,status,error\r\n/x/a.jpg,a.jpg,a cat,ok,\r\n",
                   encoding="utf-8")
    [result] = read_export(old).results
    assert (result.caption, result.source, result.score) == ("a cat", "model", None)


def test_damaged_rows_are_reported_and_skipped(tmp_path):
    target = tmp_path / "edited.csv"
    target.write_text("path,filename,caption,status,error,source,score\r\n"
                      "/x/a.jpg,a.jpg,a cat,ok,,model,-1.0\r\n"
                      "/x/b.jpg,b.jpg,a dog,maybe,,model,\r\n"
                      "/x/c.jpg,c.jpg,too,many,cells,here,1,2\r\n"
                      "/x/d.jpg,d.jpg,a bird,ok,,model,high\r\n", encoding="utf-8")
    read = read_export(target)
    assert [r.path.name for r in read.results] == ["a.jpg"]
    assert len(read.problems) == 3
    assert "line 3" in read.problems[0] and "'maybe'" in read.problems[0]
    assert "line 4" in read.problems[1] and "line 5" in read.problems[2]


def test_missing_and_non_utf8_files_are_refused(tmp_path):
    with pytest.raises(ExportFormatError, match="does not exist"):
        read_export(tmp_path / "nothing.csv")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(ExportFormatError, match="not UTF-8"):
        read_export(binary)
