"""``caption`` never loses a caption: rows stream to disk, ``--resume`` finishes an interrupted
run exactly as one uninterrupted run would have, and sidecars never collide.

Uses the session's trained 64-px model (``trained_model``); the kill test runs the real entry
point, ``python -m desktop_captioner``, as a subprocess and stops it with SIGKILL mid-run.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.export_reader import read_export
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.streaming_export import CSV, json_format, write_whole_export

REPO = Path(__file__).resolve().parents[1]
BATCH = 2
KILL_IMAGES = 80  # 40 batches: the run is far from done when its second batch is on disk


def _photos(trained_run, folder: Path, count: int) -> list[Path]:
    """``count`` 64-px held-out scenes copied into ``folder`` (names sort in input order)."""
    dataset = load_dataset(trained_run.dataset)
    scenes = dataset.splits["test"]
    folder.mkdir(parents=True, exist_ok=True)
    photos = [folder / f"photo_{i:03d}.jpg" for i in range(count)]
    for i, photo in enumerate(photos):
        shutil.copy(dataset.image_path(scenes[i % len(scenes)]), photo)
    return photos


def _command(trained_run, trained_model, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "desktop_captioner", "caption", *arguments,
            "--model", str(trained_model), "--weights", str(trained_run.weights),
            "--precision", "float32", "--batch-size", str(BATCH)]


def _rows_on_disk(path: Path) -> int:
    """Complete CSV lines after the header, without parsing a file that is being appended to."""
    return max(path.read_bytes().count(b"\r\n") - 1, 0) if path.exists() else 0


def _start_and_stop(command: list[str], out: Path, rows: int, sig: int) -> subprocess.Popen:
    """Run ``command`` until ``out`` holds at least ``rows`` rows, then send it ``sig``."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300  # a hang guard, not a timing assertion
    while _rows_on_disk(out) < rows and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if process.poll() is not None:
        _, err = process.communicate()
        pytest.fail(f"the run ended before it could be interrupted (exit {process.returncode}); "
                    f"give it more images. {err[-1500:]}")
    process.send_signal(sig)
    process.wait(timeout=120)
    return process


def _key(result: CaptionResult) -> tuple:
    return result.path, result.caption, result.status, result.source, result.error


def test_a_run_killed_mid_way_keeps_complete_rows_and_resume_finishes_it(
        trained_run, trained_model, tmp_path):
    photos = _photos(trained_run, tmp_path / "photos", KILL_IMAGES)
    reference = tmp_path / "reference.csv"
    assert main(["caption", str(tmp_path / "photos"), "--csv", str(reference), "--model",
                 str(trained_model), "--weights", str(trained_run.weights), "--precision",
                 "float32", "--batch-size", str(BATCH)]) == 0
    expected = read_export(reference).results
    assert [r.path for r in expected] == photos and all(r.ok for r in expected)

    out = tmp_path / "out.csv"
    command = _command(trained_run, trained_model, str(tmp_path / "photos"), "--csv", str(out))
    killed = _start_and_stop(command, out, rows=2 * BATCH, sig=signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    partial = read_export(out)
    assert partial.problems == []
    assert 2 * BATCH <= len(partial.results) < KILL_IMAGES
    assert len(partial.results) % BATCH == 0  # whole batches only
    assert [_key(r) for r in partial.results] == [_key(r) for r in expected[:len(partial.results)]]

    # Ctrl+C during the resumed run: the rows stay and the message says how to go on.
    interrupted = _start_and_stop([*command, "--resume"], out,
                                  rows=len(partial.results) + 2 * BATCH, sig=signal.SIGINT)
    err = interrupted.stderr.read()
    assert interrupted.returncode == 130, err[-1500:]
    assert "--resume" in err and "Traceback" not in err
    after_ctrl_c = read_export(out)
    assert after_ctrl_c.problems == [] and len(after_ctrl_c.results) > len(partial.results)

    resumed = subprocess.run([*command, "--resume"], cwd=REPO, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"{len(after_ctrl_c.results)} images already captioned" in resumed.stderr
    final = read_export(out)
    assert final.problems == []
    assert [_key(r) for r in final.results] == [_key(r) for r in expected]
    # Batches are made up the same way in every run, so even the scores agree exactly.
    assert out.read_bytes() == reference.read_bytes()

    again = subprocess.run([*command, "--resume"], cwd=REPO, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and out.read_bytes() == reference.read_bytes()


def test_resume_retries_errors_restores_input_order_and_keeps_other_rows(
        trained_run, trained_model, tmp_path, capsys):
    photos = _photos(trained_run, tmp_path / "photos", 6)
    common = [str(tmp_path / "photos"), "--model", str(trained_model), "--weights",
              str(trained_run.weights), "--precision", "float32", "--batch-size", str(BATCH)]
    for suffix in ("csv", "jsonl", "json"):
        reference = tmp_path / f"reference.{suffix}"
        flag = "--csv" if suffix == "csv" else "--json"
        assert main(["caption", *common, flag, str(reference)]) == 0
        expected = read_export(reference).results
        elsewhere = CaptionResult(tmp_path / "elsewhere.jpg", "kept from before", -2.0, "ok",
                                  source="edited")
        earlier = [expected[3], CaptionResult.failure(photos[0], "photo_000.jpg was busy."),
                   expected[1], elsewhere]
        out = tmp_path / f"out.{suffix}"
        write_whole_export(earlier, out, CSV if suffix == "csv" else json_format(out))
        capsys.readouterr()
        assert main(["caption", *common, flag, str(out), "--resume"]) == 0
        err = capsys.readouterr().err
        assert "2 images already captioned" in err and "1 error rows tried again" in err
        final = read_export(out).results
        assert [_key(r) for r in final] == [_key(r) for r in [*expected, elsewhere]]


def test_sidecars_of_images_sharing_a_name_never_collide(trained_run, trained_model, tmp_path,
                                                         capsys):
    dataset = load_dataset(trained_run.dataset)
    scenes = dataset.splits["test"]
    folder = tmp_path / "photos"
    folder.mkdir()
    names = ["a.jpg", "a.png", "a.JPG", "b.jpg"]
    for name, scene in zip(names, scenes):
        shutil.copy(dataset.image_path(scene), folder / name)
    common = [str(folder), "--model", str(trained_model), "--weights", str(trained_run.weights),
              "--precision", "float32"]

    assert main(["caption", *common]) == 0
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    for ext in (".txt", ".caption"):
        assert main(["caption", *common, "--sidecars", "--sidecar-ext", ext]) == 0
        err = capsys.readouterr().err
        assert "Sidecars: 4 written" in err and "3 shared a name" in err and f"(a.JPG{ext})" in err
        for name in names[:3]:
            assert (folder / f"{name}{ext}").read_text(encoding="utf-8") == printed[name] + "\n"
        assert (folder / f"b{ext}").read_text(encoding="utf-8") == printed["b.jpg"] + "\n"
        assert not (folder / f"a{ext}").exists()

        out = tmp_path / f"skipped{ext}.csv"
        assert main(["caption", *common, "--sidecar-ext", ext, "--skip-captioned",
                     "--csv", str(out)]) == 0
        assert read_export(out).results == []
        assert "4 already captioned" in capsys.readouterr().err


def test_an_unwritable_target_fails_before_captioning(trained_model, tmp_path, capsys,
                                                      monkeypatch):
    from desktop_captioner.core.captioner import Captioner

    def no_captioning(*args, **kwargs):
        pytest.fail("captioning started although the export cannot be written")

    monkeypatch.setattr(Captioner, "load", no_captioning)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("a file, not a folder")
    for target in (not_a_folder / "out.csv", tmp_path / "missing" / "out.json"):
        flag = "--csv" if target.suffix == ".csv" else "--json"
        assert main(["caption", str(photo), "--model", str(trained_model), flag,
                     str(target)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and str(target) in err


def test_resume_refuses_a_file_this_app_did_not_write(trained_model, tmp_path, capsys,
                                                      monkeypatch):
    from desktop_captioner.core.captioner import Captioner

    monkeypatch.setattr(Captioner, "load", lambda *a, **k: pytest.fail("captioning started"))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    for name, data in (("budget.csv", b"name,amount\r\nrent,100\r\n"),
                       ("notes.jsonl", b'not json at all\n{"path": 1}\n'),
                       ("numbers.json", b"[1, 2]\n")):
        target = tmp_path / name
        target.write_bytes(data)
        flag = "--csv" if name.endswith(".csv") else "--json"
        code = main(["caption", str(photo), "--model", str(trained_model), flag, str(target),
                     "--resume"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and str(target) in err
        assert target.read_bytes() == data


def test_resume_without_an_earlier_file_starts_afresh_and_needs_a_target(trained_model,
                                                                        tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    out = tmp_path / "out.csv"
    assert main(["caption", str(photo), "--model", str(trained_model), "--csv", str(out),
                 "--resume"]) == 1  # the photo does not exist: its error row, no model needed
    err = capsys.readouterr().err
    assert "starting from the beginning" in err
    assert [r.path for r in read_export(out).results] == [photo]

    assert main(["caption", str(photo), "--model", str(trained_model), "--resume"]) == 2
    assert "--csv or --json" in capsys.readouterr().err
