"""The int8 VGG16: a full-integer quantised copy of the float model, run by LiteRT.

On CPUs without native bfloat16 (most laptops and desktops) XNNPACK's int8 kernels run VGG16
markedly faster than Keras' float32 forward, with features within rounding of float32. The
quantised model keeps float input and output (the interpreter quantises at the edges), so it is a
drop-in for the float model's last-block grid; the 512-d average is taken in float32 by
``core/encoder.py`` exactly as for the other precisions.

Converting takes seconds (64 px) to about a minute (224 px), so the result is cached in the
cache folder per weights md5 and image size, written atomically, with a SHA-256 trailer checked
on every load: a damaged file is rebuilt, never run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.images import preprocess_vgg16
from desktop_captioner.core.paths import cache_dir
from desktop_captioner.core.progress import Progress, ProgressCallback
from desktop_captioner.core.sample_dataset import draw_scene, random_scene

log = logging.getLogger(__name__)

#: Images the converter runs through the float model to choose each tensor's int8 range: half
#: flat-coloured scenes, half textured noise, so both calm and busy photos stay within range.
CALIBRATION_IMAGES = 16
_TRAILER_MAGIC = b"DCINT8v1"
_TRAILER_SIZE = len(_TRAILER_MAGIC) + 32  # magic + SHA-256 of the model bytes


class Int8Unavailable(RuntimeError):
    """The int8 runtime is missing or cannot run the model here (callers fall back to float32)."""


def interpreter_class() -> Any:
    """LiteRT's ``Interpreter``; ``Int8Unavailable`` when the ``ai-edge-litert`` package is
    missing or broken on this platform (it has no wheel for Intel Macs, for instance)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except Exception as exc:  # ImportError, or a shared library that fails to load
        raise Int8Unavailable(f"the LiteRT runtime (ai-edge-litert) cannot be loaded: {exc}") \
            from exc
    return Interpreter


def runtime_version() -> str:
    """The LiteRT package version, or "" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("ai-edge-litert")
    except PackageNotFoundError:
        return ""


def cached_model_path(weights_md5: str, image_size: int) -> Path:
    """Where the quantised model for these weights and this input size is kept."""
    return cache_dir() / "int8" / f"vgg16_{weights_md5}_{image_size}px.tflite"


def calibration_images(size: int, count: int = CALIBRATION_IMAGES) -> Iterator[np.ndarray]:
    """Deterministic VGG16-preprocessed ``(1, size, size, 3)`` inputs for the converter."""
    rng = random.Random(0)
    noise = np.random.default_rng(0)
    for index in range(count):
        if index % 2 == 0:
            rgb = np.asarray(draw_scene(random_scene(rng), size, rng), np.float32)
        else:
            cells = int(noise.integers(2, 17))
            coarse = noise.uniform(0, 255, (cells, cells, 3))
            rgb = np.kron(coarse, np.ones((size // cells + 1, size // cells + 1, 1)))[:size, :size]
            rgb = np.clip(rgb + noise.normal(0, noise.uniform(5, 40), rgb.shape), 0, 255)
        yield preprocess_vgg16(rgb)[None].astype(np.float32)


def convert_to_int8(keras_model: Any, image_size: int) -> bytes:
    """The full-integer quantised ``.tflite`` of ``keras_model`` (float I/O).

    Keras 3 models go through a SavedModel export (``from_keras_model`` is unreliable with
    Keras 3). ``inference_input_type``/``inference_output_type`` stay float on purpose.
    """
    from desktop_captioner.core.tf_runtime import tf

    with tempfile.TemporaryDirectory(prefix="dc-int8-") as folder:
        keras_model.export(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([x] for x in calibration_images(image_size))
        return converter.convert()


def _with_trailer(model: bytes) -> bytes:
    return model + _TRAILER_MAGIC + hashlib.sha256(model).digest()


def read_cached_model(path: Path) -> bytes | None:
    """The model bytes when ``path`` holds an intact cached model; None when it is absent.

    ValueError when it exists but is damaged (truncated, altered or not ours)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    model, trailer = data[:-_TRAILER_SIZE], data[-_TRAILER_SIZE:]
    if (len(data) <= _TRAILER_SIZE or not trailer.startswith(_TRAILER_MAGIC)
            or hashlib.sha256(model).digest() != trailer[len(_TRAILER_MAGIC):]):
        raise ValueError("its checksum does not match")
    return model


def load_or_build(weights_md5: str, image_size: int, build_keras_model: Any,
                  progress: ProgressCallback | None = None) -> bytes:
    """The cached int8 model for these weights and size, converting (and caching) it first if
    there is none or the cached one is damaged. ``build_keras_model()`` makes the float model.
    ``Int8Unavailable`` when the conversion fails."""
    path = cached_model_path(weights_md5, image_size)
    try:
        model = read_cached_model(path)
    except (OSError, ValueError) as exc:
        log.warning("the cached int8 model %s is damaged (%s); rebuilding it", path, exc)
        model = None
    if model is not None:
        return model
    if progress:
        progress(Progress("int8 model", 0, 1))
    log.info("building the int8 VGG16 for %d px (once per weights file and size)", image_size)
    try:
        model = convert_to_int8(build_keras_model(), image_size)
    except Exception as exc:  # the converter raises many kinds; float32 still works
        raise Int8Unavailable(f"the int8 conversion failed: {exc}") from exc
    try:
        with atomic_write(path, "wb") as handle:
            handle.write(_with_trailer(model))
    except OSError as exc:  # a read-only cache costs a conversion next time, nothing else
        log.warning("could not cache the int8 model: %s", exc)
    if progress:
        progress(Progress("int8 model", 1, 1))
    return model


class Int8Runner:
    """One LiteRT interpreter over the quantised model: pixels in, float32 last-block grid out.

    The model's batch axis is resized to each batch's size (re-planned only when it changes)."""

    def __init__(self, model: bytes) -> None:
        interpreter = interpreter_class()
        try:  # XNNPACK on every core: VGG16 batches keep them all busy
            self._interpreter = interpreter(model_content=model,
                                            num_threads=os.cpu_count() or 1)
            self._interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise Int8Unavailable(f"LiteRT cannot load the int8 model: {exc}") from exc
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = int(self._interpreter.get_input_details()[0]["shape"][0])

    def grid(self, batch: np.ndarray) -> np.ndarray:
        """(N, s, s, 3) preprocessed pixels -> (N, h, w, 512) float32."""
        if len(batch) != self._batch:
            self._interpreter.resize_tensor_input(self._input, list(batch.shape))
            self._interpreter.allocate_tensors()
            self._batch = len(batch)
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch, np.float32))
        self._interpreter.invoke()
        return np.array(self._interpreter.get_tensor(self._output), dtype=np.float32)
