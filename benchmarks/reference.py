"""The hardware-limit reference: a bare Keras VGG16 forward pass over arrays already in memory.

Nothing of the app is used here (not its encoder, loader or precision code beyond the CPU-flag
check), so the reference cannot inherit the app's mistakes: this is what the machine does when
it does nothing but VGG16 at the best precision it has.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image


def preload(paths, size: int = 224) -> np.ndarray:
    """Decode, squash to ``size`` and caffe-preprocess every image up front (not timed)."""
    from keras.applications.vgg16 import preprocess_input

    arrays = [np.asarray(Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR),
                         dtype=np.float32) for p in paths]
    return preprocess_input(np.stack(arrays))


def best_precision() -> str:
    from desktop_captioner.core.precision import cpu_supports_bf16

    return "bfloat16" if cpu_supports_bf16() else "float32"


def build_vgg16(weights: Path, size: int, precision: str):
    """VGG16 without top built under ``precision``'s global policy (restored afterwards)."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        return keras.applications.VGG16(include_top=False, weights=str(weights),
                                        input_shape=(size, size, 3))
    finally:
        keras.mixed_precision.set_global_policy(previous)


class BareVGG16:
    """The forward pass alone, built once so repeated timings measure only compute."""

    def __init__(self, weights: Path, size: int, precision: str) -> None:
        import tensorflow as tf

        self.precision = precision
        model = build_vgg16(weights, size, precision)
        self._forward = tf.function(lambda x: model(x, training=False),
                                    input_signature=[tf.TensorSpec([None, size, size, 3])])

    def img_per_s(self, arrays: np.ndarray, batch_size: int = 16) -> float:
        """Images per second over ``arrays`` in batches (one untimed warm-up batch first)."""
        self._forward(arrays[:batch_size]).numpy()  # trace + oneDNN primitive creation
        start = time.perf_counter()
        for i in range(0, len(arrays), batch_size):
            self._forward(arrays[i:i + batch_size]).numpy()
        return len(arrays) / (time.perf_counter() - start)
