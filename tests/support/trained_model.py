"""Train one small caption model per test session, through the real ``train`` command.

Training is the slow part of the suite, so it runs once: a generated dataset of 64-px shape
scenes, the seeded random VGG16 weights, and a few epochs. The model it writes is shared by the
CLI, Captioner and GUI tests (``trained_run`` / ``trained_model`` fixtures in ``conftest.py``).
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLE_IMAGES = 300
IMAGE_SIZE = 64
EPOCHS = 8
BATCH_SIZE = 32
# float32, not "auto": the same features (and BLEU) on CPUs with and without native bf16.


@dataclass(frozen=True)
class TrainedRun:
    """What one ``desktop-captioner train`` run left behind."""

    model: Path
    dataset: Path
    weights: Path
    home: Path  # the app folder the run used (its cache holds features and checkpoints)
    exit_code: int
    stdout: str
    stderr: str


def train_sample_model(root: Path, weights: Path) -> TrainedRun:
    """Generate the sample dataset under ``root`` and train on it with its own app folder."""
    from desktop_captioner.cli import main
    from desktop_captioner.core.sample_dataset import make_sample_dataset

    home = root / "home"
    model = root / "models" / "shapes.dcmodel"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DESKTOP_CAPTIONER_HOME", str(home))
        patch.delenv("DESKTOP_CAPTIONER_WEIGHTS", raising=False)
        dataset = make_sample_dataset(root / "dataset", images=SAMPLE_IMAGES, size=IMAGE_SIZE)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["train", str(dataset), "--out", str(model), "--weights", str(weights),
                         "--image-size", str(IMAGE_SIZE), "--epochs", str(EPOCHS),
                         "--batch-size", str(BATCH_SIZE), "--min-count", "1",
                         "--precision", "float32"])
    return TrainedRun(model, dataset, weights, home, code, out.getvalue(), err.getvalue())
