"""Streaming exports: an old file is replaced whole by the first batch, later batches appended,
and every prefix of the file a run can leave behind reads back without a problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_captioner.core.export import CSV_COLUMNS, write_csv, write_json
from desktop_captioner.core.export_reader import read_export
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.streaming_export import (
    CSV,
    JSON,
    JSONL,
    ExportTargetError,
    StreamingExport,
    check_export_target,
    json_format,
)


def _rows(folder: Path, count: int, start: int = 0) -> list[CaptionResult]:
    rows = [CaptionResult(folder / f"{i:03d}.jpg", f"=a dog, \"number\" {i}", -0.25 * i, "ok",
                          source="model") for i in range(start, start + count)]
    rows[-1] = CaptionResult.failure(rows[-1].path, f"{rows[-1].path.name} is broken.")
    return rows


@pytest.mark.parametrize("name, fmt", [("out.csv", CSV), ("out.jsonl", JSONL), ("out.json", JSON)])
def test_every_batch_is_readable_as_soon_as_it_is_written(tmp_path, name, fmt):
    target = tmp_path / name
    target.write_text("the previous run's file\n", encoding="utf-8")
    batches = [_rows(tmp_path, 3, 0), _rows(tmp_path, 2, 3), _rows(tmp_path, 4, 5)]
    done: list[CaptionResult] = []
    with StreamingExport(target, fmt) as export:
        for batch in batches:
            export.write(batch)
            done += batch
            read = read_export(target)
            assert read.problems == [] and read.results == _as_read_back(done, tmp_path)
        assert export.finish() == target
    assert export.rows == 9
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def _as_read_back(results: list[CaptionResult], folder: Path) -> list[CaptionResult]:
    """What the reader makes of rows written in one go (scores are kept to 4 decimals)."""
    return read_export(write_csv(results, folder / "reference.csv")).results


def test_the_streamed_files_equal_the_one_shot_exports(tmp_path):
    rows = _rows(tmp_path, 5)
    for fmt, one_shot in ((CSV, write_csv), (JSON, write_json)):
        with StreamingExport(tmp_path / f"streamed.{fmt}", fmt) as export:
            export.write(rows[:2])
            export.write(rows[2:])
            export.finish()
        expected = one_shot(rows, tmp_path / f"whole.{fmt}").read_bytes()
        assert (tmp_path / f"streamed.{fmt}").read_bytes() == expected


def test_json_lines_have_the_csv_columns_one_record_a_line(tmp_path):
    target = tmp_path / "out.jsonl"
    with StreamingExport(target, JSONL) as export:
        export.write(_rows(tmp_path, 2))
        export.write(_rows(tmp_path, 1, 2))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(tuple(json.loads(line)) == CSV_COLUMNS for line in lines)


def test_every_prefix_of_appended_batches_reads_back_complete_rows(tmp_path):
    """What ``kill -9`` between two batches leaves: each cut at a batch end is a valid file."""
    target = tmp_path / "out.csv"
    cuts = []
    with StreamingExport(target, CSV) as export:
        for start in range(0, 12, 3):
            export.write(_rows(tmp_path, 3, start))
            cuts.append(target.read_bytes())
    for number, data in enumerate(cuts, start=1):
        prefix = tmp_path / f"prefix{number}.csv"
        prefix.write_bytes(data)
        read = read_export(prefix)
        assert read.problems == [] and len(read.results) == 3 * number
        assert data.endswith(b"\r\n")


@pytest.mark.parametrize("name, fmt, expected", [
    ("out.csv", CSV, ",".join(CSV_COLUMNS) + "\r\n"), ("out.jsonl", JSONL, ""),
    ("out.json", JSON, "[]\n")])
def test_a_run_with_nothing_to_caption_still_replaces_the_file(tmp_path, name, fmt, expected):
    target = tmp_path / name
    target.write_text("old rows\n", encoding="utf-8")
    with StreamingExport(target, fmt) as export:
        export.finish()
    assert target.read_bytes().decode("utf-8") == expected
    assert read_export(target).results == []


def test_an_interrupted_run_before_its_first_batch_leaves_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    write_csv(_rows(tmp_path, 2), target)
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with StreamingExport(target, CSV):
            raise KeyboardInterrupt
    assert target.read_bytes() == before


def test_rewrite_puts_the_whole_file_in_the_given_order(tmp_path):
    target = tmp_path / "out.csv"
    rows = _rows(tmp_path, 4)
    with StreamingExport(target, CSV) as export:
        export.write(rows[2:])
        export.write(rows[:2])
        export.rewrite(rows)
    assert target.read_bytes() == write_csv(rows, tmp_path / "whole.csv").read_bytes()


def test_json_format_follows_the_name():
    assert json_format("a.jsonl") == JSONL and json_format("a.JSONL") == JSONL
    assert json_format("a.json") == JSON and json_format("a") == JSON


def test_unwritable_targets_are_refused_naming_them(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    (tmp_path / "folder.csv").mkdir()
    for target, words in ((a_file / "out.csv", "is not a folder"),
                          (tmp_path / "missing" / "out.csv", "does not exist"),
                          (tmp_path / "folder.csv", "it is a folder")):
        with pytest.raises(ExportTargetError) as refused:
            check_export_target(target)
        assert str(target) in str(refused.value) and words in str(refused.value)
    check_export_target(tmp_path / "fine.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "folder.csv"]
