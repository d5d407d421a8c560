"""Model-file validation: every kind of bad file is refused with one clear line, good ones load."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from desktop_captioner.core import modelfile
from desktop_captioner.core.errors import ModelFileError


class _Dictish:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


class _FakeDecoder:
    """Stands in for a Keras model: ``save_weights`` is all the writer needs."""

    def save_weights(self, path):
        Path(path).write_bytes(b"\x89HDF fake weights " * 1000)  # enough for the tiny config


def _write(path: Path, **overrides) -> Path:
    kwargs = dict(decoder=_FakeDecoder(),
                  vocab=_Dictish({"format": 1, "words": ["a", "dog"], "min_count": 1,
                                  "max_length": 16}),
                  decoder_config=_Dictish({"vocab_size": 6, "feature_dim": 512,
                                           "embedding_dim": 2, "hidden_dim": 2, "dropout": 0.0}),
                  training={"epochs": 3},
                  encoder={"image_size": 64, "precision": "float32", "features": "avg",
                           "weights_md5": "0" * 32},
                  provenance={"dataset_root": "/data"}, metrics={"bleu4": 0.5})
    kwargs.update(overrides)
    return modelfile.save_model_file(path, **kwargs)


@pytest.fixture
def good_file(tmp_path) -> Path:
    return _write(tmp_path / "good.dcmodel")


def _rewrite_manifest(src: Path, dst: Path, change) -> Path:
    with zipfile.ZipFile(src) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members[modelfile.MANIFEST_MEMBER])
    change(manifest)
    members[modelfile.MANIFEST_MEMBER] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return dst


def _refused(path: Path, *words: str) -> str:
    with pytest.raises(ModelFileError) as info:
        modelfile.read_manifest(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message
    return message


def test_good_file_manifest_has_everything(good_file):
    manifest = modelfile.read_manifest(good_file)
    assert manifest["format"] == modelfile.FORMAT_NAME and manifest["format_version"] == 1
    assert set(manifest["members"]) == {"decoder.weights.h5", "vocabulary.json"}
    assert manifest["encoder"]["image_size"] == 64 and manifest["metrics"] == {"bleu4": 0.5}
    provenance = manifest["provenance"]
    assert provenance["dataset_root"] == "/data"
    assert {"desktop_captioner", "tensorflow", "keras", "python", "created"} <= set(provenance)


def test_not_a_zip_and_not_ours_are_refused(tmp_path, good_file):
    text = tmp_path / "notes.dcmodel"
    text.write_text("hello")
    _refused(text, "not a desktop-captioner model file")
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hi")
    _refused(other_zip, "not a desktop-captioner model file")
    wrong_name = _rewrite_manifest(good_file, tmp_path / "w.dcmodel",
                                   lambda m: m.update(format="someone-else"))
    _refused(wrong_name, "not a desktop-captioner model file")
    _refused(tmp_path / "missing.dcmodel", "does not exist")


def test_truncated_and_bit_flipped_files_are_refused(tmp_path, good_file):
    data = good_file.read_bytes()
    truncated = tmp_path / "truncated.dcmodel"
    truncated.write_bytes(data[: len(data) // 2])
    _refused(truncated, "damaged")

    with zipfile.ZipFile(good_file) as archive:
        info = archive.getinfo(modelfile.WEIGHTS_MEMBER)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    flipped = bytearray(data)
    flipped[start + info.compress_size // 2] ^= 0x10
    bad = tmp_path / "flipped.dcmodel"
    bad.write_bytes(bytes(flipped))
    _refused(bad, "damaged")


def test_sha256_mismatch_and_bad_json_are_refused(tmp_path, good_file):
    tampered = _rewrite_manifest(good_file, tmp_path / "t.dcmodel",
                                 lambda m: m["members"].update({"vocabulary.json": "0" * 64}))
    _refused(tampered, "damaged", "sha256")
    with zipfile.ZipFile(tmp_path / "j.dcmodel", "w") as archive:
        archive.writestr(modelfile.MANIFEST_MEMBER, "{not json")
    _refused(tmp_path / "j.dcmodel", "damaged", "JSON")


def test_newer_format_version_is_refused(tmp_path, good_file):
    newer = _rewrite_manifest(good_file, tmp_path / "n.dcmodel",
                              lambda m: m.update(format_version=2))
    message = _refused(newer)
    assert message.endswith("was made by a newer desktop-captioner (format 2); "
                            "this version reads format 1.")


def test_missing_parts_are_refused(tmp_path, good_file):
    no_metrics = _rewrite_manifest(good_file, tmp_path / "m.dcmodel", lambda m: m.pop("metrics"))
    _refused(no_metrics, "missing", "metrics")
    with zipfile.ZipFile(good_file) as archive:
        manifest = archive.read(modelfile.MANIFEST_MEMBER)
    with zipfile.ZipFile(tmp_path / "w.dcmodel", "w") as archive:
        archive.writestr(modelfile.MANIFEST_MEMBER, manifest)
    _refused(tmp_path / "w.dcmodel", "missing", "decoder.weights.h5")


@pytest.mark.parametrize("change, word", [
    ({"features": "grid9x9"}, "features"),
    ({"precision": "int4"}, "precision"),
    ({"image_size": 8}, "image size"),
    ({"image_size": 5000}, "image size"),
])
def test_encoder_settings_we_cannot_honour_are_refused(tmp_path, good_file, change, word):
    odd = _rewrite_manifest(good_file, tmp_path / "e.dcmodel",
                            lambda m: m["encoder"].update(change))
    _refused(odd, word)


def test_failed_write_leaves_existing_file_alone(tmp_path, good_file):
    before = good_file.read_bytes()

    class _Exploding:
        def save_weights(self, path):
            raise OSError("disk full")

    with pytest.raises(OSError):
        _write(good_file, decoder=_Exploding())
    assert good_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.dcmodel"]
