"""What ``--resume`` keeps from an earlier export, and how rows are merged back in input order."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_captioner.core.export import write_csv, write_jsonl
from desktop_captioner.core.export_reader import ExportFormatError
from desktop_captioner.core.ordered_batches import ordered_batches
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.resume import read_resume


def _ok(path: Path, caption: str = "a caption") -> CaptionResult:
    return CaptionResult(path, caption, -1.5, "ok")


def test_captions_are_kept_errors_retried_and_other_images_kept_aside(tmp_path):
    a, b, c, gone = (tmp_path / n for n in ("a.jpg", "b.jpg", "c.jpg", "gone.jpg"))
    target = write_csv([_ok(a), CaptionResult.failure(b, "b.jpg is busy."), _ok(gone, "old")],
                       tmp_path / "out.csv")
    state = read_resume(target, [a, b, c])
    assert state.done == {a: _ok(a)}
    assert state.retried == 1 and state.problems == []
    assert state.others == [_ok(gone, "old")] and state.kept == 2


@pytest.mark.parametrize("name, write", [("out.csv", write_csv), ("out.jsonl", write_jsonl)])
def test_a_last_line_cut_inside_a_write_is_captioned_again(tmp_path, name, write):
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    target = write([_ok(a), _ok(b)], tmp_path / name)
    whole = target.read_bytes()
    target.write_bytes(whole[:-1])  # the score cell is complete, the line end is not
    state = read_resume(target, [a, b])
    assert list(state.done) == [a] and state.retried == 1

    target.write_bytes(whole)
    assert list(read_resume(target, [a, b]).done) == [a, b]


def test_a_foreign_file_is_refused_naming_it(tmp_path):
    target = tmp_path / "other.csv"
    target.write_text("name,amount\nrent,100\n", encoding="utf-8")
    with pytest.raises(ExportFormatError) as refused:
        read_resume(target, [tmp_path / "a.jpg"])
    assert str(target) in str(refused.value)


def test_ordered_batches_merge_decided_rows_in_input_order_a_batch_at_a_time(tmp_path):
    paths = [tmp_path / f"{i}.jpg" for i in range(5)]
    missing = CaptionResult.failure(tmp_path / "missing.jpg", "missing.jpg does not exist.")
    rows = [missing, paths[0], paths[1], paths[2], missing, paths[3], paths[4], missing]
    pulled = []

    def captioned():
        for path in paths:
            pulled.append(path)
            yield _ok(path, path.stem)

    batches = ordered_batches(rows, captioned(), batch_size=2)
    first = next(batches)
    assert first == [missing, _ok(paths[0], "0"), _ok(paths[1], "1")]
    assert pulled == paths[:2]  # the next batch is not started before this one is handed out
    rest = list(batches)
    assert rest == [[_ok(paths[2], "2"), missing, _ok(paths[3], "3")],
                    [_ok(paths[4], "4"), missing]]


def test_ordered_batches_without_anything_to_caption(tmp_path):
    missing = CaptionResult.failure(tmp_path / "x.jpg", "x.jpg does not exist.")
    assert list(ordered_batches([missing], iter(()), batch_size=4)) == [[missing]]
    assert list(ordered_batches([], iter(()), batch_size=4)) == []


@pytest.mark.parametrize("name, data", [("notes.jsonl", 'not json\n{"path": 1}\n'),
                                        ("numbers.json", "[1, 2]\n")])
def test_a_json_file_with_no_caption_row_is_refused(tmp_path, name, data):
    target = tmp_path / name
    target.write_text(data, encoding="utf-8")
    with pytest.raises(ExportFormatError) as refused:
        read_resume(target, [tmp_path / "a.jpg"])
    assert str(target) in str(refused.value)
