"""VGG16 features on a Ray cluster, for the training feature cache.

``ClusterExtractor(encoder, actors)`` is a drop-in for ``encoder.extract``: the same signature,
the same ``FeatureResult``s in the same order, made by actors that each build the same encoder
(config and weights file, by path) once and encode one local batch per call. The actors write
nothing: the driver receives the features and writes the cache, so only the images and the
weights file need shared storage, not the cache folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from desktop_captioner.core.cluster import ClusterError, as_given, map_path_batches
from desktop_captioner.core.encoder import Encoder, FeatureResult
from desktop_captioner.core.model_schema import FEATURE_DIM
from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter


class EncodeActor:
    """One Ray actor's VGG16; called with ``{"path": [...]}``, one local batch per call."""

    def __init__(self, weights_file: str, config: dict) -> None:
        from desktop_captioner.core.encoder import EncoderConfig

        wanted = EncoderConfig.from_dict(config)
        self.encoder = Encoder(weights_file, wanted)
        if self.encoder.config != wanted:  # e.g. int8 asked, no LiteRT on this node
            raise ClusterError(f"A Ray node cannot encode as asked ({wanted}); it would make "
                               f"{self.encoder.config} features instead.")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        paths = [Path(path) for path in batch["path"]]
        try:
            results = list(self.encoder.extract(paths, batch_size=len(paths)))
        except Exception as exc:  # noqa: BLE001 - one failing batch fails its rows, not the run
            reason = f"encoding failed on the cluster ({exc.__class__.__name__}: {exc})"
            results = [FeatureResult(path, None, reason) for path in paths]
        return {
            "path": batch["path"],
            "features": np.stack([result.features if result.ok
                                  else np.zeros(FEATURE_DIM, np.float32) for result in results]),
            "error": np.array([result.error or "" for result in results], dtype=object),
        }


class ClusterExtractor:
    """``encoder.extract`` on the cluster (call it as that method is called)."""

    def __init__(self, encoder: Encoder, actors: int) -> None:
        self.weights_file = str(encoder.weights_path.absolute())
        self.config = encoder.config.to_dict()  # resolved: every node makes the cache's features
        self.actors = actors

    def __call__(self, paths: Iterable[str | Path], batch_size: int = 16,
                 progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> Iterator[FeatureResult]:
        if batch_size < 1:
            raise ValueError(f"Batch size must be at least 1, not {batch_size}.")
        paths = [Path(path) for path in paths]
        meter = RateMeter("features", len(paths))
        if progress is not None:
            progress(meter.progress(0))
        done = 0
        batches = map_path_batches(paths, EncodeActor,
                                   {"weights_file": self.weights_file, "config": self.config},
                                   batch_size=batch_size, actors=self.actors)
        for batch in batches:
            if cancel is not None:
                cancel.raise_if_cancelled()
            given = paths[done:done + len(batch["path"])]
            for i, path in enumerate(given):
                error = str(batch["error"][i])
                yield (FeatureResult(path, None, as_given(error, str(batch["path"][i]), path))
                       if error else FeatureResult(path, np.asarray(batch["features"][i],
                                                                    np.float32)))
            done += len(given)
            if progress is not None:
                progress(meter.progress(done))
