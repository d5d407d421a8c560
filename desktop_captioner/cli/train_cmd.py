"""``desktop-captioner train DATASET --out MODEL``: train a caption model headlessly.

Progress goes to stderr (step messages, image counts, then epoch/loss/rate/ETA lines); the
BLEU table and the model path go to stdout at the end. The defaults are the settings that give a
good Flickr8k model; the tests shrink them for the generated sample dataset.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

from desktop_captioner.cli.caption_cmd import add_ray_arguments, positive_int, ray_actors
from desktop_captioner.cli.evaluate_cmd import bleu_table
from desktop_captioner.cli.inspect_cmd import DATASET_HELP, IMAGES_HELP
from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.devices import DEFAULT_DEVICES, parse_devices
from desktop_captioner.core.modelfile import (
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    MODEL_SUFFIX,
    read_manifest,
)
from desktop_captioner.core.precision import PRECISIONS
from desktop_captioner.core.progress import Progress, format_eta


class TrainingReporter:
    """Turns pipeline reports into terminal lines: bars for counts, a line per epoch."""

    def __init__(self, stream=None, batch_interval: float = 2.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.bar = TerminalProgress(self.stream)
        self.batch_interval = batch_interval
        self._last_batch_line = 0.0

    def __call__(self, report) -> None:
        if isinstance(report, Progress):
            self.bar(report)
            return
        phase = report.phase
        if not hasattr(report, "epoch"):  # a pipeline StepEvent
            if report.message:
                self._line(f"{phase:<10} {report.message}")
        elif phase == "train":
            now = time.monotonic()
            if now - self._last_batch_line >= self.batch_interval:
                self._last_batch_line = now
                self._line(f"train      epoch {report.epoch}/{report.epochs} batch "
                           f"{report.batch}/{report.batches} loss {report.loss:.4f} "
                           f"{report.captions_per_s:,.0f} captions/s ETA {format_eta(report.eta)}")
        elif phase == "epoch_end":
            self._line(f"epoch {report.epoch}/{report.epochs}: loss {report.loss:.4f}, "
                       f"val loss {report.val_loss:.4f} (best {report.best_val_loss:.4f}), "
                       f"ETA {format_eta(report.eta)}")
            if report.message:
                self._line(report.message)
        elif phase != "validate" and report.message:
            self._line(f"{phase:<10} {report.message}")

    def _line(self, text: str) -> None:
        self.bar.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.bar.close()


def run(args: argparse.Namespace) -> int:
    from desktop_captioner.core.pipeline import train_model
    from desktop_captioner.core.training import TrainingConfig

    config = TrainingConfig(epochs=args.epochs, batch_size=args.batch_size,
                            min_count=args.min_count, seed=args.seed)
    reporter = TrainingReporter()
    try:
        with _extractor(args) as extractor:
            out = train_model(args.dataset, args.out, weights=args.weights, config=config,
                              image_size=args.image_size, precision=args.precision,
                              on_event=reporter, resume=args.resume, images=args.images,
                              devices=args.devices, extractor=extractor)
    finally:
        reporter.close()
    metrics = read_manifest(out)["metrics"]
    print(f"Evaluated on {metrics['images']} {metrics['split']} images "
          f"(beam width {metrics['beam_width']}):")
    print(bleu_table(metrics))
    print(f"Model saved to {out}")
    return 0


@contextlib.contextmanager
def _extractor(args: argparse.Namespace) -> Iterator[Callable | None]:
    """With ``--ray``: connected to the cluster, a factory of ``ClusterExtractor``s, so the
    dataset's images are encoded there (into this machine's feature cache); else None."""
    if not args.ray:
        yield None
        return
    from desktop_captioner.core.cluster import cluster_session
    from desktop_captioner.core.cluster_encoding import ClusterExtractor

    with cluster_session(args.ray) as ray:
        actors = ray_actors(args, ray)
        yield lambda encoder: ClusterExtractor(encoder, actors)


def _image_size(text: str) -> int:
    value = int(text)
    if not MIN_IMAGE_SIZE <= value <= MAX_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be from {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} pixels, not {value}")
    return value


def _devices(text: str) -> str:
    try:
        return parse_devices(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a caption model on a dataset folder")
    parser.add_argument("dataset", type=Path, metavar="DATASET", help=DATASET_HELP)
    parser.add_argument("--images", type=Path, metavar="DIR", help=IMAGES_HELP)
    parser.add_argument("--out", type=Path, required=True, metavar="MODEL",
                        help=f"the model file to write (conventionally *{MODEL_SUFFIX})")
    parser.add_argument("--weights", type=Path, help="VGG16 notop weights file (.h5)")
    parser.add_argument("--image-size", type=_image_size, default=224, metavar="PX",
                        help="encoder input size in pixels (default 224, VGG16's own)")
    parser.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                        help="encoder number format (auto: bfloat16 where the CPU has it, "
                             "else int8 where measured faster than float32)")
    parser.add_argument("--epochs", type=positive_int, default=30, metavar="N",
                        help="most epochs to train; stops early when validation stops improving")
    parser.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                        help="captions per training step (default: 64)")
    parser.add_argument("--min-count", type=positive_int, default=5, metavar="N",
                        help="words seen fewer times in the training captions become unknown")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random seed for the initial weights, the caption order and the "
                             "split of a dataset without an official one (default: 0)")
    parser.add_argument("--devices", type=_devices, default=DEFAULT_DEVICES,
                        metavar="one|all|cpu|N",
                        help="what trains the decoder: one device (default, as TensorFlow "
                             "chooses), all = every GPU of this machine with MirroredStrategy "
                             "(the CPU when there is none), cpu, or the first N GPUs; "
                             "--batch-size stays the total over all devices")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run of the same settings from its checkpoint")
    add_ray_arguments(parser, "encode")
    parser.set_defaults(func=run)
