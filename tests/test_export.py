"""CSV / JSON / sidecar exporters: exact header, spreadsheet-safe cells, sidecars kept."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from desktop_captioner.core.export import (
    CSV_COLUMNS,
    export_target,
    write_csv,
    write_export,
    write_json,
)
from desktop_captioner.core.results import CaptionResult


def _ok(path: Path, caption: str) -> CaptionResult:
    return CaptionResult(path=path, caption=caption, score=-1.5, status="ok")


def test_csv_header_is_exact_and_rows_round_trip(tmp_path):
    results = [_ok(tmp_path / "a b.jpg", 'a dog, "running" on grass'),
               CaptionResult.failure(tmp_path / "bad.png", "bad.png is not a readable image.")]
    out = write_csv(results, tmp_path / "out.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"path,filename,caption,status,error,source,score\r\n")
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["caption"] == 'a dog, "running" on grass'
    assert rows[0]["filename"] == "a b.jpg" and rows[0]["status"] == "ok"
    assert rows[1]["status"] == "error" and rows[1]["error"] == "bad.png is not a readable image."


def test_csv_cells_that_look_like_formulas_are_made_inert(tmp_path):
    nasty = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
    results = [_ok(tmp_path / f"{i}.jpg", text) for i, text in enumerate(nasty)]
    results.append(_ok(tmp_path / "=evil.jpg", "plain caption"))
    out = write_csv(results, tmp_path / "out.csv")
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # a caption is one line with no control characters (issue 18): the tab and CR are gone
    assert [row["caption"] for row in rows[:6]] == ["'" + text for text in nasty[:4]] + ["x", "x"]
    assert rows[6]["filename"] == "'=evil.jpg" and rows[6]["caption"] == "plain caption"


def test_json_has_the_same_records(tmp_path):
    results = [_ok(tmp_path / "é.jpg", "=a caption"),
               CaptionResult.failure(tmp_path / "x.png", "boom")]
    records = json.loads(write_json(results, tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [tuple(r) for r in records] == [CSV_COLUMNS, CSV_COLUMNS]
    assert records[0]["filename"] == "é.jpg" and records[0]["caption"] == "=a caption"
    assert records[1] == {"path": str(tmp_path / "x.png"), "filename": "x.png", "caption": "",
                          "status": "error", "error": "boom", "source": "", "score": ""}


def test_scores_are_numbers_a_spreadsheet_can_sum(tmp_path):
    """Only text cells are made inert: a negative score stays a number, not "'-1.5000"."""
    out = write_csv([_ok(tmp_path / "a.jpg", "a cat")], tmp_path / "out.csv")
    with out.open(newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["score"], row["source"]) == ("-1.5000", "model")


def test_the_export_target_keeps_a_known_extension_and_adds_the_chosen_one(tmp_path):
    assert export_target(str(tmp_path / "a.csv"), "JSON files (*.json)") == tmp_path / "a.csv"
    assert export_target(str(tmp_path / "a.Json")) == tmp_path / "a.Json"
    assert export_target(str(tmp_path / "a"), "JSON files (*.json)") == tmp_path / "a.json"
    assert export_target(str(tmp_path / "a"), "CSV files (*.csv)") == tmp_path / "a.csv"
    assert export_target(str(tmp_path / "a.jsonl")) == tmp_path / "a.jsonl"
    assert export_target(str(tmp_path / "a"), "JSON Lines files (*.jsonl)") == tmp_path / "a.jsonl"
    assert export_target(str(tmp_path / "a.txt")) == tmp_path / "a.txt.csv"


def test_write_export_picks_the_format_by_the_extension(tmp_path):
    results = [_ok(tmp_path / "a.jpg", "a dog")]
    as_json = write_export(results, tmp_path / "out.JSON")
    assert json.loads(as_json.read_text(encoding="utf-8"))[0]["caption"] == "a dog"
    as_lines = write_export(results, tmp_path / "out.jsonl")
    assert json.loads(as_lines.read_text(encoding="utf-8").splitlines()[0])["caption"] == "a dog"
    as_csv = write_export(results, tmp_path / "out.txt")
    assert as_csv.read_text(encoding="utf-8").startswith("path,filename,caption,")
