"""Hostile and broken model files and checkpoints (issue 18, classes 1 and 2).

Every case is a real file made here from the session's trained model with one thing wrong and
every checksum recomputed, so only that one thing can be what is refused. Each must be refused
with exit 2 and one line naming the file: never an internal error, never unbounded work. The
size cases also check that the oversized part was never opened (a counter on ``ZipFile.open``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core import model_schema, modelfile
from desktop_captioner.core.errors import ModelFileError

MANIFEST, WEIGHTS = modelfile.MANIFEST_MEMBER, modelfile.WEIGHTS_MEMBER
VOCABULARY, CALIBRATION = modelfile.VOCABULARY_MEMBER, modelfile.CALIBRATION_MEMBER


def _members(model: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(model) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(out: Path, members: dict[str, bytes], manifest_text: str | None = None,
           compression: dict[str, int] | None = None) -> Path:
    """``members`` zipped with the manifest's checksums recomputed (or ``manifest_text`` as is)."""
    manifest = json.loads(members[MANIFEST])
    manifest["members"] = {name: hashlib.sha256(members[name]).hexdigest()
                           for name in manifest["members"] if name in members}
    text = manifest_text if manifest_text is not None else json.dumps(manifest)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, text)
        for name, data in members.items():
            if name != MANIFEST:
                archive.writestr(name, data, compress_type=(compression or {}).get(
                    name, zipfile.ZIP_DEFLATED))
    return out


def _json_member(name: str, change: Callable[[dict], None]) -> Callable[[Path, Path], Path]:
    """A copy of the model whose JSON member ``name`` went through ``change``."""
    def make(model: Path, out: Path) -> Path:
        members = _members(model)
        value = json.loads(members[name])
        change(value)
        members[name] = json.dumps(value).encode()
        return _write(out, members)
    return make


def _manifest(change: Callable[[dict], None]) -> Callable[[Path, Path], Path]:
    return _json_member(MANIFEST, change)


def _manifest_text(edit: Callable[[str], str]) -> Callable[[Path, Path], Path]:
    """A manifest edited as text (for JSON that ``json.dumps`` would not write)."""
    def make(model: Path, out: Path) -> Path:
        members = _members(model)
        manifest = json.loads(members[MANIFEST])
        manifest["members"] = {name: hashlib.sha256(members[name]).hexdigest()
                               for name in manifest["members"]}
        return _write(out, members, manifest_text=edit(json.dumps(manifest)))
    return make


def _vocabulary(change: Callable[[dict], None]) -> Callable[[Path, Path], Path]:
    return _json_member(VOCABULARY, change)


def _member(name: str, data: Callable[[bytes], bytes]) -> Callable[[Path, Path], Path]:
    def make(model: Path, out: Path) -> Path:
        members = _members(model)
        members[name] = data(members[name])
        return _write(out, members)
    return make


def _patched_headers(name: str, flags: int = 0, method: int | None = None,
                     size: int | None = None) -> Callable[[Path, Path], Path]:
    """The model with ``name``'s zip headers claiming other flags, method or inflated size."""
    def make(model: Path, out: Path) -> Path:
        data = bytearray(model.read_bytes())
        encoded = name.encode()
        with zipfile.ZipFile(model) as archive:
            local = archive.getinfo(name).header_offset
        central = data.find(b"PK\x01\x02")
        while data[central + 46:central + 46 + len(encoded)] != encoded:
            central = data.find(b"PK\x01\x02", central + 4)
        for flags_at, method_at, size_at in ((local + 6, local + 8, local + 22),
                                             (central + 8, central + 10, central + 24)):
            struct.pack_into("<H", data, flags_at, struct.unpack_from("<H", data, flags_at)[0]
                             | flags)
            if method is not None:
                struct.pack_into("<H", data, method_at, method)
            if size is not None:
                struct.pack_into("<I", data, size_at, size)
        out.write_bytes(bytes(data))
        return out
    return make


def _then(first: Callable[[Path, Path], Path],
          second: Callable[[Path, Path], Path]) -> Callable[[Path, Path], Path]:
    return lambda model, out: second(first(model, out.with_name("step.dcmodel")), out)


def _padded(data: bytes) -> bytes:
    """Valid JSON that inflates past the vocabulary's limit (whitespace compresses to nothing)."""
    return data + b" " * (model_schema.MEMBER_LIMITS[VOCABULARY] + model_schema.MIB)


def _truncated_array(calibration: bytes) -> bytes:
    """The calibration with its float32 mean cut short after its header."""
    with zipfile.ZipFile(io.BytesIO(calibration)) as npz:
        arrays = {name: npz.read(name) for name in npz.namelist()}
    arrays["float32_mean.npy"] = arrays["float32_mean.npy"][:200]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as npz:
        for name, data in arrays.items():
            npz.writestr(name, data)
    return buffer.getvalue()


def _nested(depth: int) -> Callable[[str], str]:
    return lambda text: text.replace('"provenance": {', '"provenance": {"deep": '
                                     + "[" * depth + "]" * depth + ", ", 1)


def _words(count: int) -> list[str]:
    return [f"w{index}" for index in range(count)]


CASES = {
    # class 1: settings of the wrong type or an absurd value
    "string vocab size": (_manifest(lambda m: m["decoder"].update(vocab_size="29")),
                          "vocab size is '29'"),
    "boolean vocab size": (_manifest(lambda m: m["decoder"].update(vocab_size=True)),
                           "vocab size"),
    "dropout 1.5": (_manifest(lambda m: m["decoder"].update(dropout=1.5)), "dropout is 1.5"),
    "dropout NaN": (_manifest_text(lambda t: t.replace('"dropout": 0.3', '"dropout": NaN', 1)),
                    "dropout is nan"),
    "negative dimension": (_manifest(lambda m: m["decoder"].update(embedding_dim=-1)),
                           "embedding dim is -1"),
    "10^30 dimension": (_manifest(lambda m: m["decoder"].update(hidden_dim=10 ** 30)),
                        "hidden dim is 1000000"),
    "5000-digit integer": (_manifest_text(lambda t: t.replace('"vocab_size": 29',
                                                              '"vocab_size": ' + "9" * 5000, 1)),
                           "manifest.json is not valid JSON"),
    "JSON nested 100000 deep": (_manifest_text(_nested(100_000)), "nests too deeply"),
    "JSON nested 100 deep": (_manifest_text(_nested(100)), "nests deeper than 32"),
    "encoder precision a number": (_manifest(lambda m: m["encoder"].update(precision=16)),
                                   "precision is 16"),
    "metrics BLEU as text": (_manifest(lambda m: m["metrics"].update(bleu4="great")),
                             "bleu4 is 'great'"),
    "parts not a map of digests": (_manifest_text(
        lambda t: t.replace('"members": {', '"members": {"x.bin": 5, ', 1)), "sha256 digests"),
    # class 1: parts that do not fit each other
    "fewer words than the decoder": (_vocabulary(lambda v: v.update(words=v["words"][:-3])),
                                     "words but its decoder has"),
    "negative maximum length": (_vocabulary(lambda v: v.update(max_length=-1)),
                                "max length is -1"),
    "words that are not strings": (_vocabulary(lambda v: v.update(
        words=[*v["words"][:-1], 7])), "holds 7, which is not a caption word"),
    "a word with a newline": (_vocabulary(lambda v: v.update(
        words=[*v["words"][:-1], "dog\nforged"])), "which is not a caption word"),
    "a word listed twice": (_vocabulary(lambda v: v.update(
        words=[*v["words"][:-1], v["words"][0]])), "lists a word twice"),
    "truncated calibration": (_member(CALIBRATION, lambda data: data[: len(data) // 2]),
                              "precision calibration cannot be read"),
    "truncated calibration array": (_member(CALIBRATION, _truncated_array),
                                    "declares more data than it holds"),
    "encrypted part": (_patched_headers(VOCABULARY, flags=0x1), "vocabulary.json is encrypted"),
    "unsupported compression": (_patched_headers(VOCABULARY, method=9), "compression method 9"),
    # class 2: unbounded work asked for by a small file
    "no END and 10^9 words a caption": (_vocabulary(lambda v: v.update(max_length=10 ** 9)),
                                        "max length is 1000000000"),
    "3 million words for a 29-word decoder": (_vocabulary(lambda v: v.update(
        words=_words(3_000_000))), "vocabulary.json inflates to"),
    "200,001 words": (_vocabulary(lambda v: v.update(words=_words(200_001))),
                      "200,001 words; this version reads at most 200,000"),
    "weights declared 1.5 GB": (_patched_headers(WEIGHTS, size=1_500_000_000),
                                "decoder.weights.h5 inflates to 1,500,000,000 bytes"),
    "vocabulary inflating past its limit": (_member(VOCABULARY, _padded), "inflates to"),
    "zip directory understating a part": (_then(_member(VOCABULARY, _padded),
                                                _patched_headers(VOCABULARY, size=1000)),
                                          "vocabulary.json fails its checksum"),
    "decoder larger than its weights": (_manifest(lambda m: m["decoder"].update(
        hidden_dim=8192)), "weights do not fit its decoder settings"),
}
NEVER_OPENED = {
    "3 million words for a 29-word decoder": VOCABULARY,
    "weights declared 1.5 GB": WEIGHTS,
    "vocabulary inflating past its limit": VOCABULARY,
    "decoder larger than its weights": WEIGHTS,
}


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Names of zip members opened (inflated) while the test runs."""
    names: list[str] = []
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        names.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    return names


def _assert_refused_by_cli(argv: list[str], named: Path, words: str, capsys) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert str(named) in lines[0] and words in lines[0], lines[0]
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_model_file_is_refused_in_one_line(case, trained_model, tmp_path, capsys,
                                                     opened):
    make, words = CASES[case]
    bad = make(trained_model, tmp_path / "bad.dcmodel")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    opened.clear()  # count from here: making the file read every part
    _assert_refused_by_cli(["caption", str(photo), "--model", str(bad)], bad, words, capsys)
    with pytest.raises(ModelFileError) as refused:
        modelfile.load_model_file(bad)
    assert str(bad) in str(refused.value) and "\n" not in str(refused.value)
    if case in NEVER_OPENED:
        assert NEVER_OPENED[case] not in opened and MANIFEST in opened


def test_the_untouched_model_passes_the_same_checks(trained_model, tmp_path):
    """The rewriting the cases use changes nothing by itself."""
    copy = _write(tmp_path / "copy.dcmodel", _members(trained_model))
    assert modelfile.read_manifest(copy)["decoder"]["vocab_size"] == 29
    assert model_schema.decoder_weight_bytes(modelfile.read_manifest(copy)["decoder"]) <= \
        zipfile.ZipFile(copy).getinfo(WEIGHTS).file_size


@pytest.mark.parametrize("locked_part", ["file", "folder"])
def test_a_model_file_the_user_cannot_read(locked_part, trained_model, tmp_path, capsys,
                                           monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    locked = folder / "locked.dcmodel"
    locked.write_bytes(trained_model.read_bytes())
    (locked if locked_part == "file" else folder).chmod(0)
    if os.geteuid() == 0:  # root reads through file modes: make it fail as it would for a user
        def denied(path) -> PermissionError:
            return PermissionError(13, "Permission denied", os.fspath(path))

        if locked_part == "file":
            real_open = io.open

            def refusing_open(file, *args, **kwargs):
                if os.fspath(file) == str(locked):
                    raise denied(file)
                return real_open(file, *args, **kwargs)

            monkeypatch.setattr(io, "open", refusing_open)
        else:
            real_stat = os.stat

            def refusing_stat(path, *args, **kwargs):
                if os.fspath(path).startswith(f"{folder}{os.sep}"):
                    raise denied(path)
                return real_stat(path, *args, **kwargs)

            monkeypatch.setattr(os, "stat", refusing_stat)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    try:
        _assert_refused_by_cli(["caption", str(photo), "--model", str(locked)], locked,
                               "cannot be read (permission denied)", capsys)
    finally:
        folder.chmod(0o755)


def test_a_truncated_training_checkpoint_is_refused_on_resume(tmp_path, weights_file, capsys,
                                                              monkeypatch):
    from desktop_captioner.core import pipeline
    from desktop_captioner.core.paths import cache_dir
    from desktop_captioner.core.progress import CancelToken
    from desktop_captioner.core.sample_dataset import make_sample_dataset
    from desktop_captioner.core.training import CHECKPOINT_NAME

    real_fit = pipeline.fit_decoder

    def cancelled_after_one_epoch(*args, on_event=None, cancel=None, **kwargs):
        token = CancelToken()

        def event(report):
            on_event(report)
            if report.phase == "epoch_end":
                token.cancel()
        return real_fit(*args, on_event=event, cancel=token, **kwargs)

    dataset = make_sample_dataset(tmp_path / "dataset", images=20, size=64)
    argv = ["train", str(dataset), "--out", str(tmp_path / "m.dcmodel"),
            "--weights", str(weights_file), "--image-size", "64", "--epochs", "3",
            "--batch-size", "8", "--min-count", "1", "--precision", "float32"]
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "fit_decoder", cancelled_after_one_epoch)
        assert main(argv) != 0
    capsys.readouterr()
    [checkpoint] = (cache_dir() / "checkpoints").glob(f"*/{CHECKPOINT_NAME}")
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) * 2 // 3])
    assert main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    errors = [line for line in err.splitlines() if line.startswith("desktop-captioner:")]
    assert len(errors) == 1 and errors == err.strip().splitlines()[-1:]  # after the progress
    assert str(checkpoint) in errors[0] and "is damaged" in errors[0]
    assert not (tmp_path / "m.dcmodel").exists()
