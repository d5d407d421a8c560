"""The one versioned caption-model file format (``.dcmodel``).

A zip holding ``manifest.json`` (format name and version, decoder hyper-parameters, training and
encoder configs, provenance, metrics, and the sha256 of every other member), the decoder weights
(``decoder.weights.h5`` from Keras ``save_weights``), the vocabulary (``vocabulary.json``) and,
optionally, the precision calibration (``precision_calibration.npz``, plain arrays; see
``core/calibration.py``). Files without it are still read: they caption in the precision they
were trained with.

Loading a file executes nothing from it: no pickle and no Keras model-config deserialisation. The
architecture is rebuilt from ``DecoderConfig`` by our own code and only the weights are read, so a
model file from a stranger is as safe to open as a photo. ``read_manifest`` validates everything
without importing TensorFlow (the GUI's "Model info" uses it); ``load_model_file`` imports Keras
lazily to rebuild the decoder.

Nor does a small file get to ask for unbounded work: every part's zip directory entry is checked
(size limit, no encryption, stored or deflated) before it is inflated, parts are read through a
bounded reader, and every setting is checked against ``core/model_schema.py`` (types, bounds,
and that the parts fit each other) before anything is built from it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import platform
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_captioner import __version__
from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.errors import ModelFileError, os_error_reason
from desktop_captioner.core.model_schema import (
    CALIBRATION_MEMBER,
    ENCODER,
    MANIFEST_MEMBER,
    MAX_IMAGE_SIZE,
    MEMBER_LIMITS,
    MIN_IMAGE_SIZE,
    VOCABULARY_MEMBER,
    WEIGHTS_MEMBER,
    SchemaError,
    check_depth,
    check_manifest,
    check_settings,
    check_vocabulary,
    decoder_weight_bytes,
)
from desktop_captioner.core.vocabulary import Vocabulary

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MODEL_SUFFIX", "MIN_IMAGE_SIZE", "MAX_IMAGE_SIZE",
           "MANIFEST_MEMBER", "WEIGHTS_MEMBER", "VOCABULARY_MEMBER", "CALIBRATION_MEMBER",
           "LoadedModel", "read_manifest", "load_model_file", "library_versions",
           "save_model_file"]

FORMAT_NAME = "desktop-captioner-model"
FORMAT_VERSION = 1
MODEL_SUFFIX = ".dcmodel"

REQUIRED_MEMBERS = (WEIGHTS_MEMBER, VOCABULARY_MEMBER)
REQUIRED_SECTIONS = ("members", "decoder", "training", "encoder", "provenance", "metrics")
#: How members may be stored: what ``save_model_file`` writes, and never encrypted.
_READABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ENCRYPTED_FLAGS = 0x1 | 0x40  # traditional and strong zip encryption

_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class LoadedModel:
    """A model file turned back into objects ready to caption with."""

    path: Path
    manifest: dict[str, Any]
    vocab: Any  # core.vocabulary.Vocabulary
    decoder_config: Any  # core.decoder.DecoderConfig
    encoder_config: Any  # core.encoder.EncoderConfig
    decoder: Any  # keras.Model built by core.decoder.build_decoder
    calibration: Any = None  # core.calibration.PrecisionCalibration, when the file has one

    @property
    def weights_md5(self) -> str:
        return self.manifest["encoder"].get("weights_md5", "")


@dataclass(frozen=True)
class _Verified:
    """Everything read from a model file, each part checked against ``core/model_schema.py``."""

    manifest: dict[str, Any]
    weights: bytes
    vocab: Vocabulary
    calibration: Any  # core.calibration.PrecisionCalibration or None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _damaged(path: Path, detail: str) -> ModelFileError:
    return ModelFileError(f"{path} is damaged ({detail}); copy or train the model again.")


def _not_a_model(path: Path, detail: str) -> ModelFileError:
    return ModelFileError(f"{path} is not a desktop-captioner model file ({detail}).")


def _refused(path: Path, detail: str) -> ModelFileError:
    return ModelFileError(f"{path} cannot be used: {detail}.")


def _unreadable(path: Path, exc: OSError) -> ModelFileError:
    return ModelFileError(f"{path} cannot be read ({os_error_reason(exc)}).")


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        if not path.is_file():
            raise ModelFileError(f"{path} does not exist or is not a file.")
        return zipfile.ZipFile(path)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        try:
            with path.open("rb") as handle:
                looks_like_zip = handle.read(4) == _ZIP_MAGIC
        except OSError as read_exc:
            raise _unreadable(path, read_exc) from read_exc
        if looks_like_zip:
            raise _damaged(path, "the zip archive is truncated or corrupt") from exc
        raise _not_a_model(path, "not a zip archive") from exc


def _member_info(path: Path, archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """The zip directory entry of ``name``, refused before anything is inflated when it is
    encrypted, compressed in a way we never write, or declares more bytes than its part may."""
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ModelFileError(f"{path} is missing its part {name}; the file is incomplete.") from exc
    if info.flag_bits & _ENCRYPTED_FLAGS:
        raise _refused(path, f"its part {name} is encrypted, and model files never are")
    if info.compress_type not in _READABLE_COMPRESSION:
        raise _refused(path, f"its part {name} uses zip compression method "
                             f"{info.compress_type}, which this version does not read")
    limit = MEMBER_LIMITS[name]
    if info.file_size > limit:
        raise _refused(path, f"its part {name} inflates to {info.file_size:,} bytes, more than "
                             f"the {limit:,} a model file may hold there")
    return info


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The inflated bytes of a checked member, never more than its limit even if the zip
    directory understates its size."""
    limit = MEMBER_LIMITS[info.filename]
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise _damaged(path, f"{info.filename} fails its checksum") from exc
    if len(data) > limit:
        raise _refused(path, f"its part {info.filename} inflates to more than the {limit:,} "
                             f"bytes a model file may hold there")
    return data


def _parse_json(path: Path, name: str, data: bytes) -> Any:
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError as exc:
        raise _damaged(path, f"{name} is not valid JSON: it nests too deeply") from exc
    except json.JSONDecodeError as exc:
        raise _damaged(path, f"{name} is not valid JSON: {exc.msg.lower()}") from exc
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: an integer of 4,300+ digits
        raise _damaged(path, f"{name} is not valid JSON this version can read") from exc
    try:
        check_depth(value)
    except SchemaError as exc:
        raise _refused(path, f"its {name} {exc}") from exc
    return value


def _check_header(path: Path, manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _not_a_model(path, "its manifest names another format")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _damaged(path, f"format version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was made by a newer desktop-captioner (format {version}); "
            f"this version reads format {FORMAT_VERSION}.")
    missing = [key for key in REQUIRED_SECTIONS if not isinstance(manifest.get(key), dict)]
    missing += [name for name in REQUIRED_MEMBERS if name not in manifest.get("members", {})]
    if missing:
        raise ModelFileError(f"{path} is missing parts of a model ({', '.join(missing)}).")
    try:
        check_manifest(manifest)
    except SchemaError as exc:
        raise _refused(path, str(exc)) from exc


def _read_parts(path: Path, archive: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[str, bytes]:
    """The parts the manifest lists and this version uses, each checked against its sha256.

    Every directory entry is checked before any part is inflated, and the weights part must be
    large enough for the decoder the manifest declares: a decoder is only built from weights
    that exist, so a small file cannot ask for gigabytes of layers.
    """
    names = [name for name in manifest["members"] if name in MEMBER_LIMITS]
    infos = [_member_info(path, archive, name) for name in names]
    needed = decoder_weight_bytes(manifest["decoder"])
    held = archive.getinfo(WEIGHTS_MEMBER).file_size
    if needed > held:
        raise _refused(path, f"its decoder weights do not fit its decoder settings, which "
                             f"need {needed:,} bytes of weights where its weights part holds "
                             f"{held:,}")
    parts = {}
    for info in infos:
        data = _read_member(path, archive, info)
        if _sha256(data) != manifest["members"][info.filename]:
            raise _damaged(path, f"{info.filename} does not match its recorded sha256")
        parts[info.filename] = data
    return parts


def _vocabulary(path: Path, data: bytes, decoder_vocab_size: int) -> Vocabulary:
    vocabulary = _parse_json(path, VOCABULARY_MEMBER, data)
    try:
        check_vocabulary(vocabulary, decoder_vocab_size)
    except SchemaError as exc:
        raise _refused(path, str(exc)) from exc
    return Vocabulary.from_dict(vocabulary)


def _calibration(path: Path, data: bytes, feature_dim: int) -> Any:
    from desktop_captioner.core.calibration import PrecisionCalibration

    try:
        calibration = PrecisionCalibration.from_bytes(data)
    except ValueError as exc:
        raise _damaged(path, str(exc)) from exc
    if calibration.mean["float32"].shape != (feature_dim,):
        raise _damaged(path, "its precision calibration does not fit its decoder")
    return calibration


def _read_verified(path: Path) -> _Verified:
    """Every part of ``path``, after every check that needs no TensorFlow."""
    path = Path(path)
    with _open_zip(path) as archive:
        if MANIFEST_MEMBER not in archive.namelist():
            raise _not_a_model(path, f"it has no {MANIFEST_MEMBER}")
        manifest_info = _member_info(path, archive, MANIFEST_MEMBER)
        manifest = _parse_json(path, MANIFEST_MEMBER, _read_member(path, archive, manifest_info))
        _check_header(path, manifest)
        parts = _read_parts(path, archive, manifest)
    decoder = manifest["decoder"]
    vocab = _vocabulary(path, parts[VOCABULARY_MEMBER], decoder["vocab_size"])
    calibration = (_calibration(path, parts[CALIBRATION_MEMBER], decoder["feature_dim"])
                   if CALIBRATION_MEMBER in parts else None)
    return _Verified(manifest, parts[WEIGHTS_MEMBER], vocab, calibration)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Validate ``path`` completely and return its manifest, without importing TensorFlow."""
    return _read_verified(Path(path)).manifest


def load_model_file(path: str | Path) -> LoadedModel:
    """Validate ``path`` and rebuild its decoder from ``DecoderConfig`` plus the saved weights."""
    from desktop_captioner.core.decoder import DecoderConfig, build_decoder
    from desktop_captioner.core.encoder import EncoderConfig

    path = Path(path)
    verified = _read_verified(path)
    manifest = verified.manifest
    decoder_config = DecoderConfig.from_dict(manifest["decoder"])
    encoder_config = EncoderConfig.from_dict(
        {k: v for k, v in manifest["encoder"].items() if k != "weights_md5"})
    decoder = build_decoder(decoder_config)
    with tempfile.TemporaryDirectory(prefix="dcmodel-") as tmp:
        weights_path = Path(tmp) / WEIGHTS_MEMBER
        weights_path.write_bytes(verified.weights)
        try:
            decoder.load_weights(weights_path)
        except (ValueError, KeyError, OSError) as exc:
            raise _damaged(path, "its decoder weights do not fit its decoder settings") from exc
    return LoadedModel(path=path, manifest=manifest, vocab=verified.vocab,
                       decoder_config=decoder_config, encoder_config=encoder_config,
                       decoder=decoder, calibration=verified.calibration)


def library_versions() -> dict[str, str]:
    """Versions worth recording next to a trained model (to explain differences later)."""
    import keras
    import tensorflow as tf

    return {"desktop_captioner": __version__, "tensorflow": tf.__version__,
            "keras": keras.__version__, "python": platform.python_version()}


def save_model_file(out_path: str | Path, *, decoder: Any, vocab: Any, decoder_config: Any,
                    training: dict[str, Any], encoder: dict[str, Any],
                    provenance: dict[str, Any], metrics: dict[str, Any],
                    calibration: Any = None) -> Path:
    """Write a complete model file atomically; ``encoder`` is ``EncoderConfig.to_dict()`` plus
    ``weights_md5``. The creation date and library versions are added to ``provenance``;
    ``calibration`` is a ``PrecisionCalibration`` or None."""
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="dcmodel-") as tmp:
        weights_path = Path(tmp) / WEIGHTS_MEMBER
        decoder.save_weights(weights_path)
        vocabulary = json.dumps(vocab.to_dict(), ensure_ascii=False).encode("utf-8")
        members = {WEIGHTS_MEMBER: weights_path.read_bytes(), VOCABULARY_MEMBER: vocabulary}
    if calibration is not None:
        members[CALIBRATION_MEMBER] = calibration.to_bytes()
    try:
        check_settings("encoder", encoder, ENCODER)
    except SchemaError as exc:
        raise _refused(out_path, str(exc)) from exc
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "members": {name: _sha256(data) for name, data in members.items()},
        "decoder": decoder_config.to_dict(),
        "training": training,
        "encoder": encoder,
        "provenance": {**provenance, **library_versions(),
                       "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
        "metrics": metrics,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_MEMBER, json.dumps(manifest, ensure_ascii=False, indent=2))
        for name, data in members.items():
            archive.writestr(name, data)
    with atomic_write(out_path, "wb") as handle:
        handle.write(buffer.getvalue())
    return out_path
