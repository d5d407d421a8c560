"""Is int8 faster than float32 on this CPU? A one-time micro-benchmark, cached.

Whether LiteRT's int8 kernels beat TensorFlow's float32 ones depends on the CPU's instructions
and on how the runtime was built, so "auto" measures instead of guessing: a small stack of
VGG-style 3x3 convolutions at 64 px, float32 in Keras against its int8 conversion in LiteRT, a
few batches each (a few seconds in all). The answer is cached in the cache folder, keyed by the
CPU model and the TensorFlow and LiteRT versions, so it is measured once per machine and upgrade.
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import time
from pathlib import Path
from typing import Callable

import numpy as np

from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.paths import cache_dir

log = logging.getLogger(__name__)

_SIZE = 64
_BATCH = 8
_REPEATS = 3
#: int8 must win by this factor before "auto" picks it: a tie is not worth the rounding.
MIN_SPEEDUP = 1.1


def cache_path() -> Path:
    return cache_dir() / "int8_speed.json"


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what ``platform`` knows."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_key() -> str:
    """What the measurement depends on: CPU model and runtime versions."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "none"
    return f"{cpu_model()} | tensorflow {installed('tensorflow')} | " \
           f"ai-edge-litert {installed('ai-edge-litert')}"


def measure_speedup() -> float:
    """int8 throughput over float32 throughput on the micro-model; 0.0 when int8 cannot run."""
    from desktop_captioner.core.int8_encoder import Int8Runner, Int8Unavailable, convert_to_int8
    from desktop_captioner.core.tf_runtime import keras, tf

    layers = [keras.Input((_SIZE, _SIZE, 3))]
    for filters in (64, 128, 256):
        layers += [keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
                   keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
                   keras.layers.MaxPooling2D()]
    model = keras.Sequential(layers)
    try:
        runner = Int8Runner(convert_to_int8(model, _SIZE))
    except Int8Unavailable as exc:
        log.info("int8 speed test skipped: %s", exc)
        return 0.0
    batch = np.random.default_rng(0).normal(0, 60, (_BATCH, _SIZE, _SIZE, 3)).astype(np.float32)
    forward = tf.function(lambda x: model(x, training=False), autograph=False)
    float_time = _best_time(lambda: forward(batch).numpy())
    int8_time = _best_time(lambda: runner.grid(batch))
    return float_time / int8_time


def _best_time(run: Callable[[], object]) -> float:
    run()  # warm-up: tracing, allocation
    times = []
    for _ in range(_REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


@functools.lru_cache(maxsize=1)
def int8_is_faster() -> bool:
    """True when the cached (or, the first time, freshly measured) speed-up is >= MIN_SPEEDUP."""
    key = machine_key()
    path = cache_path()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key and isinstance(cached.get("speedup"), (int, float)):
            return cached["speedup"] >= MIN_SPEEDUP
    except (OSError, ValueError, AttributeError):
        pass
    speedup = measure_speedup()
    log.info("int8 micro-benchmark: %.2fx float32 on %s", speedup, key)
    try:
        with atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "speedup": speedup}, handle)
    except OSError as exc:
        log.warning("could not cache the int8 speed test in %s: %s", path, exc)
    return speedup >= MIN_SPEEDUP
