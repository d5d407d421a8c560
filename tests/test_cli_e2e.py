"""End to end through the command line: train → evaluate → caption held-out scenes → CSV.

The session's one training run (``trained_run``) is shared; everything else here is fast.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core import modelfile
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.export import CSV_COLUMNS

REPO = Path(__file__).resolve().parents[1]
HELD_OUT_BLEU4 = 0.8


def _bleu(dataset, captions_by_name: dict[str, str]) -> dict[str, float]:
    from desktop_captioner.core.evaluation import bleu_scores
    from desktop_captioner.core.vocabulary import tokenize

    names = sorted(captions_by_name)
    references = [[tokenize(text) for text in dataset.captions[name]] for name in names]
    return bleu_scores(references, [tokenize(captions_by_name[name]) for name in names])


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_train_reports_bleu_and_writes_a_complete_model(trained_run):
    assert trained_run.exit_code == 0, trained_run.stderr[-2000:]
    assert "BLEU-4" in trained_run.stdout and str(trained_run.model) in trained_run.stdout
    for phase in ("inspect", "extract", "vocabulary", "evaluate", "save"):
        assert phase in trained_run.stderr
    assert "epoch 1/" in trained_run.stderr and "loss" in trained_run.stderr
    manifest = modelfile.read_manifest(trained_run.model)
    metrics, provenance = manifest["metrics"], manifest["provenance"]
    assert metrics["bleu4"] >= HELD_OUT_BLEU4 and metrics["split"] == "test"
    assert len(metrics["examples"]) == 5 and metrics["examples"][0]["references"]
    assert provenance["layout"] == "flickr8k" and provenance["splits"]["test"] == metrics["images"]
    assert provenance["best_epoch"] >= 1 and provenance["epochs_run"] >= provenance["best_epoch"]
    assert manifest["encoder"]["image_size"] == 64 and manifest["training"]["min_count"] == 1
    checkpoints = trained_run.home / "cache" / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def test_evaluate_scores_the_held_out_split(trained_run, trained_model, capsys):
    code = main(["evaluate", str(trained_model), str(trained_run.dataset),
                 "--weights", str(trained_run.weights), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    test_names = load_dataset(trained_run.dataset).splits["test"]
    assert report["split"] == "test" and report["images"] == len(test_names)
    assert report["failed"] == 0 and report["bleu4"] >= HELD_OUT_BLEU4


def test_evaluate_in_the_other_precision_reports_the_re_checked_captions(trained_run,
                                                                         trained_model, capsys):
    from desktop_captioner.core.modelfile import read_manifest

    trained = read_manifest(trained_model)["encoder"]["precision"]
    reports = {}
    for precision in ("float32", "bfloat16"):
        main(["evaluate", str(trained_model), str(trained_run.dataset), "--weights",
              str(trained_run.weights), "--precision", precision, "--json"])
        reports[precision] = json.loads(capsys.readouterr().out)
    other = "bfloat16" if trained == "float32" else "float32"
    assert reports[trained]["precision"] == trained and reports[trained]["rechecked"] == 0
    assert reports[other]["precision"] == other
    assert 0 < reports[other]["rechecked"] < reports[other]["images"]
    assert abs(reports[other]["bleu4"] - reports[trained]["bleu4"]) < 0.02


def test_caption_entry_point_captions_held_out_scenes_to_csv(trained_run, trained_model, tmp_path):
    """The one subprocess run: ``python -m desktop_captioner`` is the real entry point."""
    dataset = load_dataset(trained_run.dataset)
    images = [dataset.image_path(name) for name in dataset.splits["test"]]
    out_csv = tmp_path / "captions.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "desktop_captioner", "caption", *map(str, images),
         "--model", str(trained_model), "--weights", str(trained_run.weights),
         "--csv", str(out_csv)],
        cwd=REPO, env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    # TensorFlow's start-up chatter goes to the log file, not to the user's terminal.
    assert "absl" not in completed.stderr and "cuda" not in completed.stderr.lower()
    assert out_csv.read_bytes().startswith(",".join(CSV_COLUMNS).encode() + b"\r\n")
    rows = _read_csv(out_csv)
    assert [row["path"] for row in rows] == [str(path) for path in images]
    assert {row["status"] for row in rows} == {"ok"}
    bleu = _bleu(dataset, {row["filename"]: row["caption"] for row in rows})
    assert bleu["bleu4"] >= HELD_OUT_BLEU4


def test_corrupt_images_fail_only_their_own_rows(trained_run, trained_model, tmp_path, capsys):
    dataset = load_dataset(trained_run.dataset)
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    good = dataset.splits["test"][:3]
    for name in good[:2]:
        shutil.copy(dataset.image_path(name), folder / name)
    shutil.copy(dataset.image_path(good[2]), folder / "nested" / good[2])
    (folder / "broken.jpg").write_bytes(dataset.image_path(good[0]).read_bytes()[:200])
    (folder / "notes.md").write_text("not a photo")
    named_non_image = tmp_path / "list.csv"
    named_non_image.write_text("a,b\n")
    out_csv = tmp_path / "out.csv"

    code = main(["caption", str(folder), str(named_non_image), str(tmp_path / "gone.jpg"),
                 "--model", str(trained_model), "--weights", str(trained_run.weights),
                 "--csv", str(out_csv), "--batch-size", "2"])
    assert code == 1
    rows = {Path(row["path"]).name: row for row in _read_csv(out_csv)}
    assert set(rows) == {*good, "broken.jpg", "list.csv", "gone.jpg"}
    assert all(rows[name]["status"] == "ok" and rows[name]["caption"] for name in good)
    for name in ("broken.jpg", "list.csv", "gone.jpg"):
        assert rows[name]["status"] == "error" and rows[name]["error"] and not rows[name]["caption"]
    assert "skipped 1 non-image" in capsys.readouterr().err


def test_stdout_rows_sidecars_and_skip_captioned(trained_run, trained_model, tmp_path, capsys):
    dataset = load_dataset(trained_run.dataset)
    folder = tmp_path / "photos"
    folder.mkdir()
    names = dataset.splits["test"][:3]
    for name in names:
        shutil.copy(dataset.image_path(name), folder / name)
    own = folder / Path(names[0]).with_suffix(".txt").name
    own.write_text("my own caption\n", encoding="utf-8")
    common = ["--model", str(trained_model), "--weights", str(trained_run.weights)]

    assert main(["caption", str(folder), *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == sorted(names)
    assert all(len(line.split("\t")) == 2 and line.split("\t")[1] for line in lines)

    assert main(["caption", str(folder), "--sidecars", *common]) == 0
    assert own.read_text(encoding="utf-8") == "my own caption\n"
    assert all((folder / Path(n).with_suffix(".txt").name).is_file() for n in names)

    out_json = tmp_path / "out.json"
    assert main(["caption", str(folder), "--skip-captioned", "--json", str(out_json), *common]) == 0
    assert json.loads(out_json.read_text(encoding="utf-8")) == []

    assert main(["caption", str(folder), "--sidecars", "--overwrite-sidecars", *common]) == 0
    assert own.read_text(encoding="utf-8") != "my own caption\n"


def _flip_weights_byte(data: bytes, model: Path) -> bytes:
    with zipfile.ZipFile(model) as archive:
        info = archive.getinfo(modelfile.WEIGHTS_MEMBER)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    flipped = bytearray(data)
    flipped[start + info.compress_size // 2] ^= 0x01
    return bytes(flipped)


def _newer_version(model: Path, out: Path) -> None:
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == modelfile.MANIFEST_MEMBER:
                data = json.dumps({**json.loads(data), "format_version": 2}).encode()
            target.writestr(name, data)


@pytest.mark.parametrize("damage, words", [
    ("truncated", "damaged"),
    ("bit-flipped", "damaged"),
    ("newer", "newer desktop-captioner (format 2)"),
    ("not a model", "not a desktop-captioner model file"),
])
def test_bad_model_files_exit_2_with_one_line(trained_model, tmp_path, capsys, damage, words):
    bad = tmp_path / "bad.dcmodel"
    data = trained_model.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "bit-flipped":
        bad.write_bytes(_flip_weights_byte(data, trained_model))
    elif damage == "newer":
        _newer_version(trained_model, bad)
    else:
        bad.write_bytes(b"\xff\xd8\xff\xe0 this is a jpeg, honest")
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"")
    for argv in (["caption", str(image), "--model", str(bad)],
                 ["evaluate", str(bad), str(tmp_path)]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.strip().splitlines()) == 1 and words in captured.err
        assert "Traceback" not in captured.err


def test_train_refuses_an_unusable_dataset_or_settings(tmp_path, weights_file, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "m.dcmodel"
    assert main(["train", str(empty), "--out", str(out), "--weights", str(weights_file)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(empty) in err and "Traceback" not in err
    with pytest.raises(SystemExit) as usage:
        main(["train", str(empty), "--out", str(out), "--image-size", "8"])
    assert usage.value.code == 2 and "image-size" in capsys.readouterr().err
    assert not out.exists()
