"""The Captioner: one loaded model file plus one VGG16 encoder, captioning paths batch by batch.

The encoder and decoder are built once per Captioner (in the thread that will use them, since
TensorFlow objects are not thread-safe); ``caption`` then streams results in input order while
the encoder's helper threads decode the next batch's images. An unreadable image yields its own
error result and never stops the others.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from desktop_captioner.core.decoder import StepDecoder
from desktop_captioner.core.encoder import Encoder, FeatureResult
from desktop_captioner.core.errors import WeightsError
from desktop_captioner.core.modelfile import LoadedModel, load_model_file
from desktop_captioner.core.precision import resolve_precision
from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter
from desktop_captioner.core.results import STATUS_OK, CaptionResult
from desktop_captioner.core.search import Hypothesis, caption_text, search_captions
from desktop_captioner.core.weights import resolve_weights

log = logging.getLogger(__name__)


def _default_precision(model: LoadedModel) -> str:
    """The fastest format this CPU has when the model's calibration covers it, else the
    precision the model was trained with (models from before int8 have no int8 statistics)."""
    trained = model.encoder_config.precision
    if model.calibration is None:
        return trained
    fastest = resolve_precision("auto")
    if not model.calibration.covers(fastest):
        log.info("%s has no %s calibration; captioning in %s, as trained", model.path.name,
                 fastest, trained)
        return trained
    return fastest


class Captioner:
    """Captions images with one model file; build with ``Captioner.load``."""

    def __init__(self, model: LoadedModel, encoder: Encoder) -> None:
        self.model = model
        self.encoder = encoder
        self._steps = StepDecoder(model.decoder)
        trained = model.encoder_config.precision
        if encoder.config.precision != trained and self._calibration is None:
            missing = ("precision calibration" if model.calibration is None
                       else f"{encoder.config.precision} precision calibration")
            log.warning("%s has no %s; captioning it in %s rather than the %s it was trained "
                        "with may change some captions", model.path.name, missing,
                        encoder.config.precision, trained)
        self.model_info: dict = model.manifest
        self.vocab_size: int = model.vocab.size
        self.name: str = model.path.stem
        self.rechecked = 0  # captions re-made from trained-precision features (near ties)
        self._trained_encoder: Encoder | None = None  # built on the first near tie

    @property
    def _calibration(self):
        """The model's calibration when it can map this encoder's features onto the trained
        precision's (files from before int8 have no int8 statistics), else None."""
        calibration = self.model.calibration
        trained = self.model.encoder_config.precision
        if calibration is None or not (calibration.covers(self.precision)
                                       and calibration.covers(trained)):
            return None
        return calibration

    @property
    def precision(self) -> str:
        """The encoder's concrete number format ("float32", "bfloat16" or "int8")."""
        return self.encoder.config.precision

    @classmethod
    def load(cls, model_file: str | Path, weights: str | Path | None = None,
             precision: str | None = None, download_weights: bool = False,
             progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> "Captioner":
        """Validate the model file, find the VGG16 weights, build encoder and decoder once.

        ``precision`` ("float32" | "bfloat16" | "int8" | "auto") is the encoder's number format.
        The default is "auto" (the fastest format this CPU has, ``core/precision.py``) for models
        whose precision calibration covers it: the calibration maps features from other formats
        onto the one the decoder was trained with (``core/calibration.py``), and the few captions
        the decoder was nearly undecided about are re-made from features in the trained
        precision. Otherwise the model keeps the precision it was trained with unless asked.
        ``progress`` also hears about the one-off int8 model build.
        Weights other than the ones the model was trained with would give it features it has
        never seen, so they are refused rather than allowed to produce nonsense.
        """
        model = load_model_file(model_file)
        if cancel is not None:
            cancel.raise_if_cancelled()
        weights_path = resolve_weights(weights, download=download_weights, progress=progress,
                                       cancel=cancel)
        if precision is None:
            precision = _default_precision(model)
        encoder = Encoder(weights_path, replace(model.encoder_config, precision=precision),
                          progress=progress)
        if model.weights_md5 and encoder.weights_md5 != model.weights_md5:
            raise WeightsError(
                f"{weights_path} is not the VGG16 weights file {model.path.name} was trained with "
                f"(md5 {encoder.weights_md5}, expected {model.weights_md5}).")
        log.info("captioner ready: %s with %s", model.path, encoder.config)
        return cls(model, encoder)

    def caption(self, paths: Iterable[str | Path], batch_size: int = 16, beam_width: int = 3,
                progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> Iterator[CaptionResult]:
        """Yield one ``CaptionResult`` per path, in input order, a batch at a time.

        Cancellation is checked between batches: everything yielded before it is complete.
        """
        paths = [Path(p) for p in paths]
        meter = RateMeter("caption", len(paths))
        if progress is not None:
            progress(meter.progress(0))
        done = 0
        batch: list[FeatureResult] = []
        for item in self.encoder.extract(paths, batch_size, cancel=cancel):
            batch.append(item)
            if len(batch) == batch_size or done + len(batch) == len(paths):
                yield from self._decode(batch, beam_width)
                done += len(batch)
                batch = []
                if progress is not None:
                    progress(meter.progress(done))

    def _as_trained(self, features: np.ndarray) -> np.ndarray:
        """Features as the precision the decoder was trained with would have made them."""
        if self._calibration is None:
            return features
        return self._calibration.adapt(features, self.precision,
                                       self.model.encoder_config.precision)

    def _recheck_near_ties(self, items: Sequence[FeatureResult], hypotheses: list[Hypothesis],
                           beam_width: int) -> list[Hypothesis]:
        """Re-make, from features in the precision the decoder was trained with, the captions
        whose lead over the next-best one is within the calibration's tie tolerance: there the
        other precision's rounding could have decided the caption (``core/calibration.py``)."""
        calibration = self._calibration
        trained = self.model.encoder_config.precision
        if calibration is None or self.precision == trained:
            return hypotheses
        tolerance = calibration.tolerance(self.precision, trained)
        near = [i for i, hyp in enumerate(hypotheses) if hyp.margin < tolerance]
        if not near:
            return hypotheses
        if self._trained_encoder is None:
            self._trained_encoder = Encoder(self.encoder.weights_path,
                                            replace(self.encoder.config, precision=trained))
        exact = [(i, result) for i, result in zip(near, self._trained_encoder.extract(
            [items[i].path for i in near], batch_size=len(near))) if result.ok]
        if exact:
            redone = search_captions(self._steps, self.model.vocab,
                                     np.stack([result.features for _, result in exact]),
                                     beam_width)
            for (i, _), hypothesis in zip(exact, redone):
                hypotheses[i] = hypothesis
        self.rechecked += len(exact)
        log.debug("%d of %d captions re-made from %s features", len(exact), len(items), trained)
        return hypotheses

    def _decode(self, batch: Sequence[FeatureResult], beam_width: int) -> list[CaptionResult]:
        readable = [item for item in batch if item.ok]
        hypotheses = []
        if readable:
            features = self._as_trained(np.stack([item.features for item in readable]))
            found = search_captions(self._steps, self.model.vocab, features, beam_width)
            hypotheses = self._recheck_near_ties(readable, found, beam_width)
        captions = iter(hypotheses)
        results = []
        for item in batch:
            if item.ok:
                hypothesis = next(captions)
                results.append(CaptionResult(item.path, caption_text(self.model.vocab, hypothesis),
                                             hypothesis.score, STATUS_OK))
            else:
                results.append(CaptionResult.failure(item.path, item.error or "unreadable image"))
        return results
