"""The VGG16 image encoder: pixels in, 512-d features (or the conv grid) out.

One Keras model is built per ``Encoder`` in the thread that creates it; that thread must also be
the one that calls it, because TensorFlow is not thread-safe (the GUI's worker thread owns it).
Decoding runs in helper threads so the next batch is ready when the model finishes this one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from desktop_captioner.core.errors import ImageLoadError
from desktop_captioner.core.images import load_for_encoder
from desktop_captioner.core.int8_encoder import (
    Int8Runner,
    Int8Unavailable,
    interpreter_class,
    load_or_build,
)
from desktop_captioner.core.model_schema import (
    FEATURE_DIM,
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    SUPPORTED_FEATURES,
)
from desktop_captioner.core.precision import AUTO, PRECISIONS, resolve_precision
from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter
from desktop_captioner.core.settings_record import SettingsRecord
from desktop_captioner.core.tf_runtime import keras, tf
from desktop_captioner.core.weights import validate_weights_file, weights_md5

log = logging.getLogger(__name__)

# Decoding is Pillow work that releases the GIL; a few threads keep up with the model on any CPU.
_DECODE_THREADS = 4


@dataclass(frozen=True)
class EncoderConfig(SettingsRecord):
    """What produced a feature vector: the decoder must be fed features made the same way."""

    image_size: int = 224
    precision: str = "float32"  # "float32" | "bfloat16" | "int8"; "auto" only until resolved()
    features: str = "avg"  # 512-d global average of the last conv block

    def __post_init__(self) -> None:
        if not isinstance(self.image_size, int) or not (
                MIN_IMAGE_SIZE <= self.image_size <= MAX_IMAGE_SIZE):
            raise ValueError(f"Image size must be a whole number from {MIN_IMAGE_SIZE} to "
                             f"{MAX_IMAGE_SIZE}, not {self.image_size!r}.")
        if self.precision not in (*PRECISIONS, AUTO):
            raise ValueError(f"Unknown precision {self.precision!r}; "
                             f"expected one of {', '.join(PRECISIONS)}, auto.")
        if self.features not in SUPPORTED_FEATURES:
            raise ValueError(f"Unknown feature kind {self.features!r}; expected 'avg'.")

    def resolved(self) -> "EncoderConfig":
        """This config with "auto" precision replaced by what this machine will actually run."""
        return replace(self, precision=resolve_precision(self.precision))

    def key(self, weights_md5: str) -> str:
        """A short stable hash of everything that changes the features, for cache and model files.

        "auto" is refused because the same config would mean different features on other machines.
        """
        if self.precision == AUTO:
            raise ValueError("Resolve the precision before asking for an encoder key.")
        payload = json.dumps({**self.to_dict(), "weights_md5": weights_md5}, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class FeatureResult:
    """One image's outcome: features, or a one-sentence reason it could not be read."""

    path: Path
    features: np.ndarray | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _set_compute_precision(model: keras.Model, precision: str) -> None:
    """Give every layer of *this* model the policy, leaving Keras' global policy untouched.

    ``keras.applications.VGG16`` takes no dtype argument (its layers read the global policy), and
    setting that process-wide would silently change the decoder too. Layers read the policy when
    called, so setting it after construction works; ``mixed_bfloat16`` keeps the variables float32.
    """
    if precision == "bfloat16":
        for layer in model.layers:
            layer.dtype_policy = "mixed_bfloat16"


class Encoder:
    """VGG16 without its classifier, built once and reused for every batch."""

    def __init__(self, weights_path: str | Path, config: EncoderConfig = EncoderConfig(),
                 progress: ProgressCallback | None = None) -> None:
        """``progress`` hears about the one-off int8 conversion, when one is needed."""
        self.weights_path = Path(weights_path)
        validate_weights_file(self.weights_path)
        self.config = config.resolved()
        self.weights_md5 = weights_md5(self.weights_path)
        size = self.config.image_size
        self._model: keras.Model | None = None
        self._int8: Int8Runner | None = None
        if self.config.precision == "int8":
            self._int8 = self._int8_runner(progress)
        if self._int8 is None:
            self._model = self._keras_model()
            _set_compute_precision(self._model, self.config.precision)
        self.feature_dim: int = FEATURE_DIM
        # A fixed signature with a free batch axis: one trace serves every batch size.
        self._grid_fn = tf.function(
            self._grid, input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
        log.info("VGG16 encoder ready: %s, weights %s", self.config, self.weights_path)

    def _keras_model(self) -> keras.Model:
        size = self.config.image_size
        return keras.applications.VGG16(include_top=False, weights=str(self.weights_path),
                                        input_shape=(size, size, 3))

    def _int8_runner(self, progress: ProgressCallback | None) -> Int8Runner | None:
        """The quantised model's runner, or None (and float32 from now on) where the int8
        runtime is missing or cannot run it here: one log line, never a crash."""
        try:
            interpreter_class()  # a missing runtime is found before a minute of conversion
            model = load_or_build(self.weights_md5, self.config.image_size, self._keras_model,
                                  progress)
            return Int8Runner(model)
        except Int8Unavailable as exc:
            log.warning("int8 is not available here, encoding in float32 instead: %s", exc)
        self.config = replace(self.config, precision="float32")
        return None

    @property
    def key(self) -> str:
        """The cache/model-file key of this encoder (config + weights checksum)."""
        return self.config.key(self.weights_md5)

    def _grid(self, batch: tf.Tensor) -> tf.Tensor:
        return tf.cast(self._model(batch, training=False), tf.float32)

    def _check_batch(self, batch: np.ndarray) -> np.ndarray:
        size = self.config.image_size
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != (size, size, 3):
            raise ValueError(f"Expected a batch shaped (N, {size}, {size}, 3), got {batch.shape}.")
        return batch

    def encode_grid(self, batch: np.ndarray) -> np.ndarray:
        """(N, s, s, 3) VGG16-preprocessed pixels -> (N, h, w, 512) float32 last-block grid."""
        if self._int8 is not None:
            return self._int8.grid(self._check_batch(batch))
        return self._grid_fn(self._check_batch(batch)).numpy()

    def encode_arrays(self, batch: np.ndarray) -> np.ndarray:
        """(N, s, s, 3) VGG16-preprocessed pixels -> (N, 512) float32 spatial averages.

        The average is taken in float32 from the grid, so bf16 or int8 rounding is not
        compounded by a low-precision sum over 49 cells.
        """
        return self.encode_grid(batch).mean(axis=(1, 2), dtype=np.float32)

    def extract(self, paths: Iterable[str | Path], batch_size: int = 16,
                progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> Iterator[FeatureResult]:
        """Yield one ``FeatureResult`` per path, in input order, batch by batch.

        While the model runs batch *i*, helper threads decode batch *i + 1*. Cancellation is
        checked before each batch, so everything yielded so far is complete and can be kept.
        An unreadable image yields an error result; it never stops the others.
        """
        if batch_size < 1:
            raise ValueError(f"Batch size must be at least 1, not {batch_size}.")
        all_paths = [Path(p) for p in paths]
        batches = [all_paths[i:i + batch_size] for i in range(0, len(all_paths), batch_size)]
        meter = RateMeter("features", len(all_paths))
        if progress:
            progress(meter.progress(0))
        if not batches:
            return
        pool = ThreadPoolExecutor(max_workers=_DECODE_THREADS, thread_name_prefix="decode")
        try:
            pending = self._submit_decoding(pool, batches[0])
            done = 0
            for index, batch_paths in enumerate(batches):
                if cancel:
                    cancel.raise_if_cancelled()
                decoding, pending = pending, None
                if index + 1 < len(batches):
                    pending = self._submit_decoding(pool, batches[index + 1])
                yield from self._encode_decoded(batch_paths, decoding)
                done += len(batch_paths)
                if progress:
                    progress(meter.progress(done))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit_decoding(self, pool: ThreadPoolExecutor,
                         batch_paths: Sequence[Path]) -> list[Future]:
        size = self.config.image_size
        return [pool.submit(load_for_encoder, path, size) for path in batch_paths]

    def _encode_decoded(self, batch_paths: Sequence[Path],
                        decoding: Sequence[Future]) -> list[FeatureResult]:
        arrays: list[np.ndarray] = []
        errors: dict[int, str] = {}
        for i, future in enumerate(decoding):
            try:
                arrays.append(future.result())
            except ImageLoadError as exc:
                errors[i] = str(exc)
        features = iter(self.encode_arrays(np.stack(arrays)) if arrays else ())
        return [FeatureResult(path, None, errors[i]) if i in errors
                else FeatureResult(path, next(features))
                for i, path in enumerate(batch_paths)]
