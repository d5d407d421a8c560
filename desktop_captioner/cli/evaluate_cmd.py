"""``desktop-captioner evaluate MODEL DATASET``: BLEU-1..4 of a model on a dataset split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desktop_captioner.cli.caption_cmd import add_precision_argument, positive_int
from desktop_captioner.cli.inspect_cmd import DATASET_HELP, IMAGES_HELP
from desktop_captioner.cli.terminal import TerminalProgress

BLEU_KEYS = ("bleu1", "bleu2", "bleu3", "bleu4")


def bleu_table(metrics: dict[str, Any]) -> str:
    """A small aligned table of BLEU-1..4, the way papers report them."""
    header = "  ".join(f"{'BLEU-' + key[-1]:>7}" for key in BLEU_KEYS)
    values = "  ".join(f"{metrics[key]:7.4f}" for key in BLEU_KEYS)
    return f"{header}\n{values}"


def run(args: argparse.Namespace) -> int:
    from desktop_captioner.core.modelfile import read_manifest

    read_manifest(args.model)  # a bad model file fails before TensorFlow starts
    from desktop_captioner.core.model_evaluation import evaluate_model

    progress = TerminalProgress()
    try:
        report = evaluate_model(args.model, args.dataset, split=args.split,
                                beam_width=args.beam_width, weights=args.weights,
                                precision=args.precision, progress=progress,
                                images=args.images)
    finally:
        progress.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.model} on the {report['split']} split of {args.dataset}: "
              f"{report['images']} images, {report['failed']} unreadable")
        print(bleu_table(report))
    return 1 if report["failed"] else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="BLEU-1..4 of a model on a dataset split")
    parser.add_argument("model", type=Path, metavar="MODEL", help="a trained .dcmodel file")
    parser.add_argument("dataset", type=Path, metavar="DATASET", help=DATASET_HELP)
    parser.add_argument("--images", type=Path, metavar="DIR", help=IMAGES_HELP)
    parser.add_argument("--split", choices=("train", "val", "test"), default="test",
                        help="which images to score (default: test, never seen in training)")
    parser.add_argument("--beam-width", type=positive_int, default=3, metavar="K",
                        help="captions the beam search keeps in play (default: 3; 1 is greedy)")
    parser.add_argument("--weights", type=Path, help="VGG16 notop weights file (.h5)")
    add_precision_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)
