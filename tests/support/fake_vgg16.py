"""Make a seeded, random-init VGG16 "notop" weights file in Keras' legacy HDF5 layout.

The real ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`` cannot be downloaded here, so the
tests (and CI's bundle build) use this stand-in. It is written exactly like the official file:
file attributes ``layer_names`` / ``backend`` / ``keras_version``, one group per layer (including
the weightless input and pooling layers) with a ``weight_names`` attribute listing
``<layer>_W_1:0`` and ``<layer>_b_1:0`` datasets. ``keras.applications.VGG16(weights=path)``
therefore reads it through the same legacy loader that reads the real file.

Run as a script to write one: ``python -m tests.support.fake_vgg16 OUT.h5 [--seed N]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np

# (layer name, input channels, output channels) for VGG16's 13 conv layers.
_BLOCKS = [(1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512)]


def vgg16_layers() -> list[tuple[str, int, int]]:
    layers, channels = [], 3
    for block, convs, width in _BLOCKS:
        for conv in range(1, convs + 1):
            layers.append((f"block{block}_conv{conv}", channels, width))
            channels = width
    return layers


def write_fake_vgg16_weights(path: str | Path, seed: int = 0) -> Path:
    """Write He-initialised VGG16 conv weights (seeded) in the official notop file's layout."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    convs = {name: (cin, cout) for name, cin, cout in vgg16_layers()}
    layer_names = ["input_1"]
    for block, n_convs, _ in _BLOCKS:
        layer_names += [f"block{block}_conv{i}" for i in range(1, n_convs + 1)]
        layer_names.append(f"block{block}_pool")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode("utf8") for n in layer_names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.0.8"
        for name in layer_names:
            group = f.create_group(name)
            if name not in convs:
                group.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            cin, cout = convs[name]
            std = np.sqrt(2.0 / (9 * cin))
            kernel = rng.normal(0.0, std, size=(3, 3, cin, cout)).astype(np.float32)
            bias = rng.normal(0.0, 0.01, size=(cout,)).astype(np.float32)
            names = [f"{name}_W_1:0".encode("utf8"), f"{name}_b_1:0".encode("utf8")]
            group.attrs["weight_names"] = np.array(names)
            group.create_dataset(names[0].decode(), data=kernel)
            group.create_dataset(names[1].decode(), data=bias)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_fake_vgg16_weights(args.out, args.seed))


if __name__ == "__main__":
    main()
