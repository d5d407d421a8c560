"""Captioning on a Ray cluster: the local ``Captioner``, once per actor, fed the local batches.

Each actor loads the model file and the VGG16 weights once, by path (so both, and the photos,
must be on storage every node sees at the same path), then captions one batch of paths per call
with ``Captioner.caption``: the same code, the same batches, so the same rows as a local run,
unreadable images included (their error rows are made by the actor, never a failed task).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from desktop_captioner.core.cluster import as_given, map_path_batches
from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter
from desktop_captioner.core.results import CaptionResult


class CaptionActor:
    """One Ray actor's Captioner; called with ``{"path": [...]}``, one local batch per call."""

    def __init__(self, model_file: str, weights_file: str, precision: str | None,
                 beam_width: int) -> None:
        from desktop_captioner.core.captioner import Captioner

        self.captioner = Captioner.load(model_file, weights=weights_file, precision=precision)
        self.beam_width = beam_width

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        paths = [Path(path) for path in batch["path"]]
        try:
            results = list(self.captioner.caption(paths, batch_size=len(paths),
                                                  beam_width=self.beam_width))
        except Exception as exc:  # noqa: BLE001 - one failing batch fails its rows, not the run
            reason = f"captioning failed on the cluster ({exc.__class__.__name__}: {exc})"
            results = [CaptionResult.failure(path, reason) for path in paths]
        return {
            "path": batch["path"],
            "caption": np.array([result.caption for result in results], dtype=object),
            "score": np.array([math.nan if result.score is None else result.score
                               for result in results], dtype=np.float64),
            "status": np.array([result.status for result in results], dtype=object),
            "error": np.array([result.error for result in results], dtype=object),
        }


def caption_on_cluster(paths: Sequence[Path], *, model_file: Path, weights_file: Path,
                       precision: str | None, batch_size: int, beam_width: int, actors: int,
                       progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None) -> Iterator[CaptionResult]:
    """Yield one ``CaptionResult`` per path, in input order, as the cluster finishes them:
    what ``Captioner.caption`` yields for the same arguments. ``precision`` None lets each
    actor pick the model's default on its own node's CPU, as a local run does on this one."""
    meter = RateMeter("caption", len(paths))
    if progress is not None:
        progress(meter.progress(0))
    done = 0
    rows = map_path_batches(
        paths, CaptionActor,
        {"model_file": str(Path(model_file).absolute()),
         "weights_file": str(Path(weights_file).absolute()),
         "precision": precision, "beam_width": beam_width},
        batch_size=batch_size, actors=actors)
    for batch in rows:
        given = paths[done:done + len(batch["path"])]
        for i, path in enumerate(given):
            score = float(batch["score"][i])
            yield CaptionResult(path, str(batch["caption"][i]),
                                None if math.isnan(score) else score, str(batch["status"][i]),
                                as_given(str(batch["error"][i]), str(batch["path"][i]), path))
        done += len(given)
        if progress is not None:
            progress(meter.progress(done))
        if cancel is not None:
            cancel.raise_if_cancelled()
