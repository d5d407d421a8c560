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
from desktop_captioner.core.errors import ModelFileError
from desktop_captioner.core.precision import PRECISIONS

FORMAT_NAME = "desktop-captioner-model"
FORMAT_VERSION = 1
MODEL_SUFFIX = ".dcmodel"

MANIFEST_MEMBER = "manifest.json"
WEIGHTS_MEMBER = "decoder.weights.h5"
VOCABULARY_MEMBER = "vocabulary.json"
CALIBRATION_MEMBER = "precision_calibration.npz"
REQUIRED_MEMBERS = (WEIGHTS_MEMBER, VOCABULARY_MEMBER)
REQUIRED_SECTIONS = ("members", "decoder", "training", "encoder", "provenance", "metrics")

# What this version's encoder can reproduce; a model asking for anything else would caption badly.
SUPPORTED_FEATURES = ("avg",)
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 1024

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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _damaged(path: Path, detail: str) -> ModelFileError:
    return ModelFileError(f"{path} is damaged ({detail}); copy or train the model again.")


def _not_a_model(path: Path, detail: str) -> ModelFileError:
    return ModelFileError(f"{path} is not a desktop-captioner model file ({detail}).")


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist or is not a file.")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        with path.open("rb") as handle:
            looks_like_zip = handle.read(4) == _ZIP_MAGIC
        if looks_like_zip:
            raise _damaged(path, "the zip archive is truncated or corrupt") from exc
        raise _not_a_model(path, "not a zip archive") from exc


def _read_member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError as exc:
        raise ModelFileError(f"{path} is missing its part {name}; the file is incomplete.") from exc
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise _damaged(path, f"{name} fails its checksum") from exc


def _parse_json(path: Path, name: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(path, f"{name} is not valid JSON") from exc


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


def _check_encoder(path: Path, encoder: dict[str, Any]) -> None:
    features, precision = encoder.get("features"), encoder.get("precision")
    size = encoder.get("image_size")
    if features not in SUPPORTED_FEATURES:
        raise ModelFileError(f"{path} asks for encoder features {features!r}, which this version "
                             f"cannot compute (it knows {', '.join(SUPPORTED_FEATURES)}).")
    if precision not in PRECISIONS:
        raise ModelFileError(f"{path} asks for encoder precision {precision!r}, which this version "
                             f"cannot use (it knows {', '.join(PRECISIONS)}).")
    if (not isinstance(size, int) or isinstance(size, bool)
            or not MIN_IMAGE_SIZE <= size <= MAX_IMAGE_SIZE):
        raise ModelFileError(f"{path} asks for encoder image size {size!r}, outside the "
                             f"supported {MIN_IMAGE_SIZE}-{MAX_IMAGE_SIZE} pixels.")


def _read_verified(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and every member's bytes, after every check that needs no TensorFlow."""
    path = Path(path)
    with _open_zip(path) as archive:
        if MANIFEST_MEMBER not in archive.namelist():
            raise _not_a_model(path, f"it has no {MANIFEST_MEMBER}")
        manifest = _parse_json(path, MANIFEST_MEMBER, _read_member(path, archive, MANIFEST_MEMBER))
        _check_header(path, manifest)
        members: dict[str, bytes] = {}
        for name, expected in manifest["members"].items():
            data = _read_member(path, archive, name)
            if _sha256(data) != expected:
                raise _damaged(path, f"{name} does not match its recorded sha256")
            members[name] = data
    _check_encoder(path, manifest["encoder"])
    return manifest, members


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Validate ``path`` completely and return its manifest, without importing TensorFlow."""
    return _read_verified(Path(path))[0]


def load_model_file(path: str | Path) -> LoadedModel:
    """Validate ``path`` and rebuild its decoder from ``DecoderConfig`` plus the saved weights."""
    from desktop_captioner.core.calibration import PrecisionCalibration
    from desktop_captioner.core.decoder import DecoderConfig, build_decoder
    from desktop_captioner.core.encoder import EncoderConfig
    from desktop_captioner.core.vocabulary import Vocabulary

    path = Path(path)
    manifest, members = _read_verified(path)
    try:
        vocab = Vocabulary.from_dict(
            _parse_json(path, VOCABULARY_MEMBER, members[VOCABULARY_MEMBER]))
        decoder_config = DecoderConfig.from_dict(manifest["decoder"])
        encoder_config = EncoderConfig.from_dict(
            {k: v for k, v in manifest["encoder"].items() if k != "weights_md5"})
    except (KeyError, TypeError, ValueError) as exc:
        raise _damaged(path, f"its settings cannot be read: {exc}") from exc
    calibration = None
    if CALIBRATION_MEMBER in members:
        try:
            calibration = PrecisionCalibration.from_bytes(members[CALIBRATION_MEMBER])
        except ValueError as exc:
            raise _damaged(path, str(exc)) from exc
        if calibration.mean["float32"].shape != (decoder_config.feature_dim,):
            raise _damaged(path, "its precision calibration does not fit its decoder")
    decoder = build_decoder(decoder_config)
    with tempfile.TemporaryDirectory(prefix="dcmodel-") as tmp:
        weights_path = Path(tmp) / WEIGHTS_MEMBER
        weights_path.write_bytes(members[WEIGHTS_MEMBER])
        try:
            decoder.load_weights(weights_path)
        except (ValueError, KeyError, OSError) as exc:
            raise _damaged(path, "its decoder weights do not fit its decoder settings") from exc
    return LoadedModel(path=path, manifest=manifest, vocab=vocab, decoder_config=decoder_config,
                       encoder_config=encoder_config, decoder=decoder, calibration=calibration)


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
    _check_encoder(out_path, encoder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_MEMBER, json.dumps(manifest, ensure_ascii=False, indent=2))
        for name, data in members.items():
            archive.writestr(name, data)
    with atomic_write(out_path, "wb") as handle:
        handle.write(buffer.getvalue())
    return out_path
