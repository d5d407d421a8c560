"""BLEU-1..4 of a saved model file on one split of a dataset, captioned the way users caption.

Unlike the evaluation inside training (``pipeline``), which decodes features it already has,
this goes through the ``Captioner``: the model file, the encoder in the chosen precision and the
near-tie re-check, so the score is the one the ``evaluate`` command promises for that file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from desktop_captioner.core.captioner import Captioner
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.errors import DatasetError
from desktop_captioner.core.evaluation import caption_bleu, dataset_references
from desktop_captioner.core.progress import CancelToken, Progress


def evaluate_model(model_file: str | Path, dataset_dir: str | Path, split: str = "test",
                   beam_width: int = 3, weights: str | Path | None = None,
                   precision: str | None = None,
                   progress: Callable[[Progress], None] | None = None,
                   cancel: CancelToken | None = None,
                   images: str | Path | None = None) -> dict[str, Any]:
    """BLEU-1..4 of a saved model on one split of a dataset (a folder or caption JSON file;
    ``images`` is its images folder when not beside it), plus image counts."""
    dataset = load_dataset(dataset_dir, images=images)
    names = dataset.splits.get(split, [])
    if not names:
        raise DatasetError(f"{dataset.root} has no images in its {split} split.")
    captioner = Captioner.load(model_file, weights=weights, download_weights=True,
                               precision=precision, progress=progress, cancel=cancel)
    by_path = {dataset.image_path(name): name for name in names}
    scored, hypotheses, failed = [], [], 0
    for result in captioner.caption(list(by_path), beam_width=beam_width,
                                    progress=progress, cancel=cancel):
        if result.ok:
            scored.append(by_path[result.path])
            hypotheses.append(result.caption)
        else:
            failed += 1
    if not scored:
        raise DatasetError(f"None of the {len(names)} {split} images of {dataset.root} "
                           f"could be read.")
    report: dict[str, Any] = {"model": str(model_file), "dataset": str(dataset.root),
                              "split": split, "images": len(scored), "failed": failed,
                              "beam_width": beam_width,
                              "precision": captioner.precision,
                              "rechecked": captioner.rechecked}
    report.update(caption_bleu(hypotheses, dataset_references(dataset, scored)))
    return report
