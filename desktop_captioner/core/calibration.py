"""Precision calibration: features from one number format made to match the other's.

A bfloat16 VGG16 is a slightly different network from the float32 one: weights and activations
keep 8 bits of mantissa. Per feature dimension the difference has two parts: a part that is the
same for every image (a bias, as in post-training quantisation; Nagel et al. 2019 correct it
the same way) and a part that varies from image to image, and the bias is as large as the
varying part (``benchmarks/bench_precision.py``). The decoder standardises every dimension, so
an uncorrected bias shifts every caption's starting state the same way.

At training time a few training images are encoded in every precision and each dimension's mean
and standard deviation in each precision are stored in the model file. Captioning in the other
precision maps every dimension affinely onto the statistics of the precision the decoder was
trained with (its effect on identical bf16/float32 captions is in ``benchmarks/README.md``);
what is left is the per-image part, which no fixed map can remove.

That part only changes a caption where the decoder was nearly undecided, so it is handled where
it matters: training also captions the calibration images from both precisions' features and
stores how much the winning caption's score moves between them (``tie_tolerance``). A caption
made from the other precision's features whose lead over the next-best caption is smaller than
that is re-made from the trained precision's features (``Captioner``). That costs a second
encoding of the few undecided images and leaves the rest at the faster format's speed.

int8 (``core/int8_encoder.py``) is calibrated the same way when the training machine can run it:
its statistics are stored beside the other two, with its own tie tolerance (its rounding is
coarser, so its scores move more). Files from before int8 have none; they caption in int8
unmapped (with a warning) when asked to, and "auto" keeps them off int8.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from desktop_captioner.core.precision import PRECISIONS

#: Every model file with a calibration has these; int8 statistics are added where training had
#: the int8 runtime (files from before int8 have none and caption in int8 without a mapping).
REQUIRED_PRECISIONS = ("float32", "bfloat16")

#: Training images encoded in both precisions. The statistics settle by a few dozen images
#: (16-128 gave the same benefit within one image in 80); more only lengthens training.
CALIBRATION_IMAGES = 64
#: The tie tolerance is twice this quantile of the calibration images' score shifts: a lead
#: is lost when the best caption's score and the runner-up's move towards each other, each by
#: up to a shift. Measured on two 224-px models (280 and 260 unseen scenes), re-checking below
#: it left 2.5% and 4.2% of captions differing instead of 5.7% and 8.8%, for a second encoding
#: of 7.5% and 20% of the images (the less sure the model, the more).
TIE_QUANTILE = 95
#: Between the two formats a dimension's spread differs by a few percent (0.89-1.15 measured);
#: a ratio outside this range comes from a dimension that is almost always zero, not rounding.
_SCALE_LIMITS = (0.5, 2.0)


@dataclass(frozen=True)
class PrecisionCalibration:
    """Per-dimension mean and standard deviation of the same images' features in each precision
    it covers (always float32 and bfloat16; int8 in files trained since int8 exists)."""

    mean: Mapping[str, np.ndarray]
    std: Mapping[str, np.ndarray]
    images: int
    #: Score lead below which a caption from mapped features is re-made from trained-precision
    #: ones, between float32 and bfloat16; 0 (files from before it) never re-makes one.
    tie_tolerance: float = 0.0
    #: The same where int8 is the mapped or the trained precision: int8 rounds more coarsely,
    #: so its scores move more and its tolerance is kept apart, not to re-check bf16 needlessly.
    int8_tie_tolerance: float = 0.0

    def tolerance(self, source: str, target: str) -> float:
        """The tie tolerance for features mapped from ``source`` onto ``target``."""
        return self.int8_tie_tolerance if "int8" in (source, target) else self.tie_tolerance

    @classmethod
    def from_features(cls, features: Mapping[str, np.ndarray]) -> "PrecisionCalibration":
        """``features[precision]`` holds the same images, in the same order, for each precision."""
        if not set(REQUIRED_PRECISIONS) <= set(features) <= set(PRECISIONS):
            raise ValueError(f"Calibration needs features in {', '.join(REQUIRED_PRECISIONS)} "
                             f"(and optionally int8), "
                             f"got {', '.join(sorted(features)) or 'none'}.")
        shapes = {np.shape(rows) for rows in features.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] < 2:
            raise ValueError(f"Calibration needs two or more images with equally shaped "
                             f"features in each precision, got shapes {sorted(shapes)}.")
        rows = {p: np.asarray(found, dtype=np.float64) for p, found in features.items()}
        return cls(mean={p: found.mean(axis=0).astype(np.float32) for p, found in rows.items()},
                   std={p: found.std(axis=0).astype(np.float32) for p, found in rows.items()},
                   images=len(rows["float32"]))

    def covers(self, precision: str) -> bool:
        """Whether features in ``precision`` can be mapped (it has statistics for it)."""
        return precision in self.mean

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
        np.savez(buffer, images=np.array(self.images), tie_tolerance=np.array(self.tie_tolerance),
                 int8_tie_tolerance=np.array(self.int8_tie_tolerance),
                 **{f"{p}_mean": self.mean[p] for p in self.mean},
                 **{f"{p}_std": self.std[p] for p in self.mean})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "PrecisionCalibration":
        """Inverse of ``to_bytes``; ValueError names what is missing or malformed."""
        try:
            _check_arrays_fit(data)
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                stored = [p for p in PRECISIONS
                          if p in REQUIRED_PRECISIONS or f"{p}_mean" in arrays.files]
                mean = {p: arrays[f"{p}_mean"].astype(np.float32) for p in stored}
                std = {p: arrays[f"{p}_std"].astype(np.float32) for p in stored}
                images = int(arrays["images"])
                tie_tolerance, int8_tie_tolerance = (
                    float(arrays[name]) if name in arrays.files else 0.0
                    for name in ("tie_tolerance", "int8_tie_tolerance"))
        except (KeyError, OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile,
                zlib.error) as exc:
            raise ValueError(f"the precision calibration cannot be read ({exc})") from exc
        shapes = {a.shape for a in (*mean.values(), *std.values())}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"the precision calibration has mismatched shapes {sorted(shapes)}")
        arrays_ok = all(np.isfinite(a).all() for a in (*mean.values(), *std.values()))
        if not arrays_ok or any((a < 0).any() for a in std.values()) or images < 2:
            raise ValueError("the precision calibration holds values no images can give")
        for value in (tie_tolerance, int8_tie_tolerance):
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"the precision calibration's tie tolerance {value} is not "
                                 f"a non-negative number")
        return cls(mean=mean, std=std, images=images, tie_tolerance=tie_tolerance,
                   int8_tie_tolerance=int8_tie_tolerance)


def _check_arrays_fit(data: bytes) -> None:
    """Refuse an ``.npz`` before NumPy allocates from it: ``to_bytes`` stores its arrays
    uncompressed, so every array must be stored plainly and declare no more bytes than it has
    (a header may otherwise declare a shape of terabytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as npz:
        for info in npz.infolist():
            if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x41:
                raise ValueError(f"{info.filename} is compressed or encrypted")
            if info.file_size > len(data):
                raise ValueError(f"{info.filename} is larger than the calibration")
            with npz.open(info) as member:
                version = np.lib.format.read_magic(member)
                header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, _, dtype = header(member)
            declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if dtype.hasobject or declared > info.file_size:
                raise ValueError(f"{info.filename} declares more data than it holds")


def tie_tolerance(trained_scores: np.ndarray, mapped_scores: np.ndarray) -> float:
    """The lead below which a caption from mapped features may differ from the trained
    precision's, from how far the winning caption's score moves when the same images are
    captioned from the other precision's mapped features (``TIE_QUANTILE``)."""
    shifts = np.abs(np.asarray(trained_scores, np.float64) - np.asarray(mapped_scores, np.float64))
    return 2.0 * float(np.percentile(shifts, TIE_QUANTILE)) if len(shifts) else 0.0
