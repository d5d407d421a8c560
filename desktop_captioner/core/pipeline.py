"""Dataset folder in, model file out: inspect, extract, vocabulary, train, evaluate, save.

Both clients (the ``train`` command and the GUI's training dialog) call ``train_model`` and
follow it through ``on_event``, which receives three kinds of report, all with a ``phase`` that
names the step: ``StepEvent`` when a step starts or has news, ``Progress`` while a step counts
through images, and the training loop's own ``TrainingEvent``s. The step phases are
``inspect``, ``extract``, ``vocabulary``, ``train``, ``evaluate`` and ``save``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from desktop_captioner.core import paths as app_paths
from desktop_captioner.core.calibration import (
    CALIBRATION_IMAGES,
    PrecisionCalibration,
    tie_tolerance,
)
from desktop_captioner.core.dataset import Dataset, load_dataset
from desktop_captioner.core.decoder import StepDecoder
from desktop_captioner.core.devices import DEFAULT_DEVICES, device_plan, parse_devices
from desktop_captioner.core.encoder import Encoder, EncoderConfig
from desktop_captioner.core.errors import DatasetError
from desktop_captioner.core.evaluation import caption_bleu, dataset_references
from desktop_captioner.core.feature_cache import Extract, cached_features
from desktop_captioner.core.modelfile import save_model_file
from desktop_captioner.core.precision import PRECISIONS
from desktop_captioner.core.progress import CancelToken, Progress, RateMeter
from desktop_captioner.core.search import captions_from_features
from desktop_captioner.core.training import TrainingConfig, encode_captions, fit_decoder
from desktop_captioner.core.vocabulary import Vocabulary
from desktop_captioner.core.weights import resolve_weights

log = logging.getLogger(__name__)

PIPELINE_STEPS = ("inspect", "extract", "vocabulary", "train", "evaluate", "save")
EXAMPLE_COUNT = 5
EVALUATION_BEAM_WIDTH = 3
FEATURE_BATCH_SIZE = 16


@dataclass(frozen=True)
class StepEvent:
    """A pipeline step started or has something to say (shown in the GUI log and terminal)."""

    phase: str
    message: str = ""


Report = Any  # StepEvent | Progress | TrainingEvent
ReportCallback = Callable[[Report], None]


def _as_phase(on_event: ReportCallback, phase: str) -> Callable[[Progress], None]:
    """Forward another module's progress under this pipeline's step name."""
    def forward(report: Progress) -> None:
        on_event(Progress(phase, report.done, report.total, report.rate, report.eta))
    return forward


def checkpoint_dir_for(out_path: Path, dataset_root: Path, config: TrainingConfig,
                       encoder_key: str) -> Path:
    """Where a run keeps its per-epoch checkpoint: the same run asked again finds it (resume).

    The epoch count is left out, so a resumed run may ask for more epochs than the first.
    """
    settings = {k: v for k, v in config.to_dict().items() if k != "epochs"}
    identity = json.dumps({"out": str(Path(out_path).resolve()), "dataset": str(dataset_root),
                           "config": settings, "encoder": encoder_key}, sort_keys=True)
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return app_paths.cache_dir() / "checkpoints" / digest


def _usable_split(dataset: Dataset, split: str, features: Mapping[str, np.ndarray]
                  ) -> list[str]:
    return [name for name in dataset.splits.get(split, []) if name in features]


def train_model(dataset_dir: str | Path, out_path: str | Path, *,
                weights: str | Path | None = None, config: TrainingConfig,
                image_size: int = 224, precision: str = "auto",
                on_event: ReportCallback | None = None, cancel: CancelToken | None = None,
                resume: bool = False, images: str | Path | None = None,
                devices: str = DEFAULT_DEVICES,
                extractor: Callable[[Encoder], Extract] | None = None) -> Path:
    """Train a decoder on ``dataset_dir`` (a folder or caption JSON file; ``images`` is its
    images folder when not beside it) and save it as the model file ``out_path``.

    Features are cached, so a second run over the same images skips VGG16; the checkpoint of
    the last finished epoch survives a cancel or crash and ``resume=True`` continues from it.
    ``devices`` (``core/devices.py``) picks the devices that train the decoder.
    ``extractor(encoder)`` gives what computes the uncached features in place of
    ``encoder.extract`` (a Ray cluster's ``ClusterExtractor``); it is handed the encoder this
    run resolved, so its features are the ones the cache and the model file are keyed by.
    """
    emit: ReportCallback = on_event or (lambda report: None)
    out_path = Path(out_path)

    # Fatal problems (unusable dataset, no weights) surface before any report is made.
    dataset = load_dataset(dataset_dir, seed=config.seed, images=images)
    for split in ("train", "val"):
        if not dataset.splits.get(split):
            raise DatasetError(f"{dataset.root} has no images in its {split} split.")
    plan = device_plan(devices)
    weights_path = resolve_weights(weights, download=True, progress=emit, cancel=cancel)
    emit(StepEvent("inspect", _dataset_message(dataset)))
    encoder = Encoder(weights_path, EncoderConfig(image_size=image_size, precision=precision),
                      progress=_as_phase(emit, "extract"))

    names = [name for split in ("train", "val", "test") for name in dataset.splits.get(split, [])]
    emit(StepEvent("extract", f"Image features of {len(names)} images "
                              f"({image_size} px, {encoder.config.precision})."))
    name_of = {dataset.image_path(name): name for name in names}
    feature_set = cached_features(encoder, list(name_of), batch_size=FEATURE_BATCH_SIZE,
                                  progress=_as_phase(emit, "extract"), cancel=cancel,
                                  extract=extractor(encoder) if extractor else None)
    features = feature_set.features.renamed(name_of)  # memory-mapped, keyed by image name
    if feature_set.errors:
        first_path, first_error = next(iter(feature_set.errors.items()))
        emit(StepEvent("extract", f"{len(feature_set.errors)} image(s) could not be read and are "
                                  f"left out, e.g. {first_error}"))
        log.warning("unreadable dataset images, first %s: %s", first_path, first_error)
    splits = {split: _usable_split(dataset, split, features) for split in ("train", "val", "test")}
    calibration_rows = _calibration_features(encoder, dataset, splits["train"], features, emit,
                                             cancel)

    emit(StepEvent("vocabulary", "Counting the words of the training captions."))
    vocab = Vocabulary.build((text for name in splits["train"] for text in dataset.captions[name]),
                             min_count=config.min_count, max_length=config.max_length)
    if not vocab.words:
        raise DatasetError(f"No word appears {config.min_count} times in the training captions "
                           f"of {dataset.root}; lower the minimum word count.")
    emit(StepEvent("vocabulary", f"{len(vocab.words)} words appear at least "
                                 f"{config.min_count} times."))
    train = encode_captions(vocab, dataset.captions, splits["train"], features)
    val = encode_captions(vocab, dataset.captions, splits["val"], features)

    checkpoint_dir = checkpoint_dir_for(out_path, dataset.root, config, encoder.key)
    if parse_devices(devices) != DEFAULT_DEVICES:
        emit(StepEvent("train", plan.description))
    emit(StepEvent("train", f"Training on {len(train)} captions, validating on {len(val)}."))
    fit = fit_decoder(train, val, vocab, config, checkpoint_dir=checkpoint_dir, on_event=emit,
                      cancel=cancel, resume=resume, strategy=plan.strategy)

    eval_split = "test" if splits["test"] else "val"
    eval_names = splits[eval_split]
    emit(StepEvent("evaluate", f"Captioning the {len(eval_names)} {eval_split} images."))
    steps = StepDecoder(fit.model)
    metrics = _evaluate_features(steps, vocab, dataset, eval_names, features, emit, cancel)
    calibration = (_calibrate(calibration_rows, encoder.config.precision, steps, vocab)
                   if calibration_rows else None)
    metrics.update(split=eval_split, val_loss=fit.best_val_loss)
    emit(StepEvent("evaluate", f"BLEU-4 on the {eval_split} images: {metrics['bleu4']:.3f}."))

    emit(StepEvent("save", f"Writing {out_path}."))
    provenance = {
        "dataset_root": str(dataset.root), "layout": dataset.layout,
        "splits": {split: len(members) for split, members in splits.items()},
        "unreadable_images": len(feature_set.errors),
        "epochs_run": fit.epochs_run, "best_epoch": fit.best_epoch,
        "stopped_early": fit.stopped_early, "history": fit.history,
    }
    save_model_file(out_path, decoder=fit.model, vocab=vocab, decoder_config=fit.decoder_config,
                    training=config.to_dict(),
                    encoder={**encoder.config.to_dict(), "weights_md5": encoder.weights_md5},
                    provenance=provenance, metrics=metrics, calibration=calibration)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    emit(StepEvent("save", f"Saved {out_path}."))
    return out_path


def _calibration_features(encoder: Encoder, dataset: Dataset, train_names: Sequence[str],
                          features: Mapping[str, np.ndarray], emit: ReportCallback,
                          cancel: CancelToken | None) -> dict[str, np.ndarray] | None:
    """A few training images' features in every precision, so the model can later caption in
    any of them (``core/calibration.py``). int8 is left out where its runtime is unavailable.
    Not cached: it is a one-off of a few seconds."""
    trained = encoder.config.precision
    paths = {dataset.image_path(name): name for name in train_names[:CALIBRATION_IMAGES]}
    rows: dict[str, dict[Path, np.ndarray]] = {
        trained: {path: features[name] for path, name in paths.items() if name in features}}
    for other in (precision for precision in PRECISIONS if precision != trained):
        emit(StepEvent("extract", f"Calibrating {other} against {trained} on {len(paths)} "
                                  f"training images."))
        other_encoder = Encoder(encoder.weights_path, replace(encoder.config, precision=other),
                                progress=_as_phase(emit, "extract"))
        if other_encoder.config.precision != other:
            continue  # int8 runtime unavailable: already logged, the model keeps bf16/float32
        rows[other] = {result.path: result.features for result in other_encoder.extract(
            list(paths), batch_size=FEATURE_BATCH_SIZE, progress=_as_phase(emit, "extract"),
            cancel=cancel) if result.ok}
    common = [path for path in rows[trained] if all(path in found for found in rows.values())]
    if len(common) < 2:
        log.warning("no precision calibration: fewer than two readable training images")
        return None
    return {precision: np.stack([found[path] for path in common])
            for precision, found in rows.items()}


def _calibrate(rows: dict[str, np.ndarray], trained: str, steps: StepDecoder,
               vocab: Vocabulary) -> PrecisionCalibration:
    """The feature map, plus the tie tolerances measured by captioning the same images from the
    trained precision's features and from each other precision's mapped ones with the trained
    decoder (one for the float32/bfloat16 pair, one for pairs with int8)."""
    calibration = PrecisionCalibration.from_features(rows)

    def scores(found: np.ndarray) -> list[float]:
        return [score for _, score in captions_from_features(steps, vocab, found,
                                                             EVALUATION_BEAM_WIDTH)]
    trained_scores = scores(rows[trained])
    shifts = {other: tie_tolerance(trained_scores,
                                   scores(calibration.adapt(found, other, trained)))
              for other, found in rows.items() if other != trained}
    with_int8 = [value for other, value in shifts.items() if "int8" in (other, trained)]
    without = [value for other, value in shifts.items() if "int8" not in (other, trained)]
    return replace(calibration, tie_tolerance=max(without, default=0.0),
                   int8_tie_tolerance=max(with_int8, default=0.0))


def _dataset_message(dataset: Dataset) -> str:
    sizes = ", ".join(f"{len(dataset.splits.get(s, []))} {s}" for s in ("train", "val", "test"))
    return (f"{dataset.layout} layout: {len(dataset.captions)} captioned images ({sizes}); "
            f"{len(dataset.problems)} problem(s) noted.")


def _evaluate_features(steps: StepDecoder, vocab: Vocabulary, dataset: Dataset,
                       names: Sequence[str], features: Mapping[str, np.ndarray],
                       emit: ReportCallback, cancel: CancelToken | None) -> dict[str, Any]:
    """BLEU-1..4 with beam search over already-extracted features, plus a few examples."""
    meter = RateMeter("evaluate", len(names))
    hypotheses: list[str] = []
    emit(meter.progress(0))
    for start in range(0, len(names), 64):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = names[start:start + 64]
        rows = np.stack([features[name] for name in chunk])
        hypotheses += [text for text, _ in
                       captions_from_features(steps, vocab, rows, EVALUATION_BEAM_WIDTH)]
        emit(meter.progress(len(hypotheses)))
    metrics: dict[str, Any] = caption_bleu(hypotheses, dataset_references(dataset, names))
    metrics["images"] = len(names)
    metrics["beam_width"] = EVALUATION_BEAM_WIDTH
    metrics["examples"] = [{"image": name, "hypothesis": text,
                            "references": list(dataset.captions[name])}
                           for name, text in zip(names[:EXAMPLE_COUNT], hypotheses)]
    return metrics
