"""Precision calibration: features from one number format made to match the other's.

A bfloat16 VGG16 is a slightly different network from the float32 one: weights and activations
keep 8 bits of mantissa. Per feature dimension the difference has two parts: a part that is the
same for every image (a bias, as in post-training quantisation; Nagel et al. 2019 correct it
the same way) and a part that varies from image to image. Measured with the stand-in weights on
400 scenes at 224 px, in units of each dimension's between-image spread, the bias is as large as
the varying part (median 0.048 against 0.049). The decoder standardises every dimension, so an
uncorrected bias shifts every caption's starting state the same way.

At training time a few training images are encoded in both precisions and each dimension's mean
and standard deviation in each precision are stored in the model file. Captioning in the other
precision maps every dimension affinely onto the statistics of the precision the decoder was
trained with. On those 400 scenes it raised identical bf16/float32 captions from 94.5% to 97.5%
(``benchmarks/bench_precision.py``); what is left is the per-image part, which no fixed map can
remove.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from desktop_captioner.core.precision import PRECISIONS

#: Training images encoded in both precisions. The statistics settle by a few dozen images
#: (16-128 gave the same benefit within one image in 80); more only lengthens training.
CALIBRATION_IMAGES = 64
#: Between the two formats a dimension's spread differs by a few percent (0.89-1.15 measured);
#: a ratio outside this range comes from a dimension that is almost always zero, not rounding.
_SCALE_LIMITS = (0.5, 2.0)


@dataclass(frozen=True)
class PrecisionCalibration:
    """Per-dimension mean and standard deviation of the same images' features in each precision."""

    mean: Mapping[str, np.ndarray]
    std: Mapping[str, np.ndarray]
    images: int

    @classmethod
    def from_features(cls, features: Mapping[str, np.ndarray]) -> "PrecisionCalibration":
        """``features[precision]`` holds the same images, in the same order, for each precision."""
        if set(features) != set(PRECISIONS):
            raise ValueError(f"Calibration needs features in {', '.join(PRECISIONS)}, "
                             f"got {', '.join(sorted(features)) or 'none'}.")
        shapes = {np.shape(rows) for rows in features.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] < 2:
            raise ValueError(f"Calibration needs two or more images with equally shaped "
                             f"features in each precision, got shapes {sorted(shapes)}.")
        rows = {p: np.asarray(features[p], dtype=np.float64) for p in PRECISIONS}
        return cls(mean={p: rows[p].mean(axis=0).astype(np.float32) for p in PRECISIONS},
                   std={p: rows[p].std(axis=0).astype(np.float32) for p in PRECISIONS},
                   images=len(rows[PRECISIONS[0]]))

    def adapt(self, features: np.ndarray, source: str, target: str) -> np.ndarray:
        """``features`` computed in ``source`` precision, as ``target`` would have made them."""
        if source == target:
            return features
        source_std, target_std = self.std[source], self.std[target]
        scale = np.divide(target_std, source_std, out=np.ones_like(source_std),
                          where=source_std > 0)
        scale = np.clip(scale, *_SCALE_LIMITS)
        mapped = (np.asarray(features, np.float32) - self.mean[source]) * scale + self.mean[target]
        return mapped.astype(np.float32)

    def to_bytes(self) -> bytes:
        """An ``.npz`` of plain float arrays (read back without pickle)."""
        buffer = io.BytesIO()
        np.savez(buffer, images=np.array(self.images),
                 **{f"{p}_mean": self.mean[p] for p in PRECISIONS},
                 **{f"{p}_std": self.std[p] for p in PRECISIONS})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "PrecisionCalibration":
        """Inverse of ``to_bytes``; ValueError names what is missing or malformed."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                mean = {p: arrays[f"{p}_mean"].astype(np.float32) for p in PRECISIONS}
                std = {p: arrays[f"{p}_std"].astype(np.float32) for p in PRECISIONS}
                images = int(arrays["images"])
        except (KeyError, OSError, ValueError, EOFError) as exc:
            raise ValueError(f"the precision calibration cannot be read ({exc})") from exc
        shapes = {a.shape for a in (*mean.values(), *std.values())}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"the precision calibration has mismatched shapes {sorted(shapes)}")
        return cls(mean=mean, std=std, images=images)
