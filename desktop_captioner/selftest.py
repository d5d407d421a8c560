"""``desktop-captioner --self-test``: one quick pass through every code path a bundle can break.

A PyInstaller build fails in ways no unit test sees: a Qt platform plugin left out, a Pillow codec
missing, a TensorFlow library not collected. The self-test touches each of them — Qt (window,
icon, image plugins), the weights lookup, the VGG16 encoder, training or loading a model,
captioning JPEG and PNG files, CSV export, an XMP sidecar through exiv2 — and names the step
that failed, so the one line it prints says what to fix.

It never downloads (a self-test must be offline and fast) and never touches the user's own app
folders: after finding the weights it roots the app folders in a temporary directory, so no
window settings, feature cache or model of the user's is written.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import inspect
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from desktop_captioner.core import bundled, paths
from desktop_captioner.core.errors import CaptionerError
from desktop_captioner.frozen import print_to_terminal

log = logging.getLogger(__name__)

SAMPLE_SIZE = 96  # px of the generated photos to caption
TRAIN_IMAGE_SIZE = 64  # px the encoder sees when the self-test trains its own model
TRAIN_IMAGES = 40  # generated scenes to train on (80/10/10 split: 4 validation images)


class StepFailed(Exception):
    """A self-test step failed; ``step`` names it for the summary line."""

    def __init__(self, step: str, cause: BaseException) -> None:
        expected = isinstance(cause, CaptionerError)  # its message is already a plain sentence
        super().__init__(str(cause) if expected else f"{cause.__class__.__name__}: {cause}")
        self.step = step


@dataclass
class SelfTestReport:
    """What each finished step found, in order, for the one-line summary."""

    parts: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def summary(self) -> str:
        elapsed = time.perf_counter() - self.started
        return f"self-test ok: {', '.join(self.parts)} — {elapsed:.1f} s"


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Run a step; any exception becomes ``StepFailed`` naming it."""
    try:
        yield
    except StepFailed:
        raise
    except Exception as exc:  # the point is to report whatever broke
        raise StepFailed(name, exc) from exc


def check_qt() -> str:
    """Create the application, show and close the main window, and decode images with Qt."""
    from PySide6.QtGui import QImageReader
    from PySide6.QtWidgets import QApplication

    from desktop_captioner.gui.app import ICON_RESOURCE, app_icon, create_application
    from desktop_captioner.gui.main_window import MainWindow

    app = create_application([sys.argv[0]])
    formats = {bytes(f).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"jpeg", "png"} - formats
    if missing:
        raise RuntimeError(f"Qt cannot read {', '.join(sorted(missing))} images "
                           "(image-format plugins missing)")
    if app_icon().isNull():
        raise RuntimeError(f"the app icon resources/{ICON_RESOURCE} is missing or unreadable")
    window = MainWindow()
    window.show()
    QApplication.processEvents()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    return f"qt({app.platformName()})"


def find_self_test_weights(explicit: Path | None):
    """The weights the app would use, without ever downloading them."""
    from desktop_captioner.core.errors import WeightsError
    from desktop_captioner.core.weights import find_weights, validate_weights_file

    location = find_weights(explicit)
    if location is None:
        raise WeightsError("No VGG16 weights file was found (the self-test never downloads); "
                           "pass --weights FILE or run 'desktop-captioner weights download'.")
    validate_weights_file(location.path)
    return location


def make_samples(folder: Path) -> list[Path]:
    """Three generated photos: two JPEGs and a PNG with transparency (two codecs, two modes)."""
    from PIL import Image

    from desktop_captioner.core.dataset import IMAGES_DIR_NAMES
    from desktop_captioner.core.sample_dataset import make_sample_dataset

    images = sorted((make_sample_dataset(folder / "samples", images=3, seed=7, size=SAMPLE_SIZE)
                     / IMAGES_DIR_NAMES[0]).glob("*.jpg"))
    png = images[-1].with_suffix(".png")
    with Image.open(images[-1]) as photo:
        photo.convert("RGBA").save(png)
    images[-1].unlink()
    return [*images[:-1], png]


def check_encoder(weights: Path, samples: Sequence[Path]) -> str:
    """Build VGG16 at a small size and encode the samples (Pillow decoding + TensorFlow)."""
    from desktop_captioner.core.encoder import Encoder, EncoderConfig

    try:
        inspect.getsource(Encoder)
    except OSError as exc:
        raise RuntimeError("the app's .py sources are missing, so TensorFlow's AutoGraph would "
                           "run its compiled functions unconverted") from exc
    encoder = Encoder(weights, EncoderConfig(image_size=TRAIN_IMAGE_SIZE, precision="auto"))
    results = list(encoder.extract(samples, batch_size=len(samples)))
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(failed[0].error)
    return f"encoder({encoder.config.precision}, {TRAIN_IMAGE_SIZE}px)"


def train_tiny_model(weights: Path, folder: Path) -> Path:
    """Train a small decoder for one epoch on generated scenes: the training code path."""
    from desktop_captioner.core.pipeline import train_model
    from desktop_captioner.core.sample_dataset import make_sample_dataset
    from desktop_captioner.core.training import TrainingConfig

    dataset = make_sample_dataset(folder / "dataset", images=TRAIN_IMAGES, seed=0,
                                  size=TRAIN_IMAGE_SIZE)
    config = TrainingConfig(epochs=1, batch_size=32, embedding_dim=32, hidden_dim=64,
                            min_count=1, max_length=16)
    return train_model(dataset, folder / "self-test.dcmodel", weights=weights, config=config,
                       image_size=TRAIN_IMAGE_SIZE, precision="auto")


def caption_samples(model: Path, weights: Path, samples: Sequence[Path]):
    """Caption the samples; every one must come back with a caption."""
    from desktop_captioner.core.captioner import Captioner

    captioner = Captioner.load(model, weights=weights)
    results = list(captioner.caption(samples, batch_size=len(samples)))
    failed = [r for r in results if not r.ok or not r.caption.strip()]
    if len(results) != len(samples) or failed:
        detail = (failed[0].error or "an empty caption") if failed else "a missing result"
        raise RuntimeError(f"{len(failed) or 1} of {len(samples)} images failed: {detail}")
    return results


def check_csv(results, out_path: Path) -> None:
    """Write the captions as CSV and read them back unchanged."""
    from desktop_captioner.core.export import write_csv

    write_csv(results, out_path)
    with out_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if [row["caption"] for row in rows] != [r.caption for r in results]:
        raise RuntimeError(f"{out_path} does not hold the captions that were written")


XMP_CHECK_CAPTION = "self-test: Café au lait — 東京"


def check_xmp(photo: Path) -> None:
    """Write a non-ASCII caption to ``photo``'s XMP sidecar and read it back (python-exiv2 and
    its native libexiv2)."""
    from desktop_captioner.core.existing_captions import ORIGIN_XMP_SIDECAR, read_existing_caption
    from desktop_captioner.core.metadata import MODE_XMP, write_caption_metadata
    from desktop_captioner.core.sidecars import SidecarNames

    sidecar = write_caption_metadata(photo, XMP_CHECK_CAPTION, MODE_XMP)
    found = read_existing_caption(photo, SidecarNames())
    if found is None or (found.caption, found.origin) != (XMP_CHECK_CAPTION, ORIGIN_XMP_SIDECAR):
        raise RuntimeError(f"{sidecar} does not hold the caption that was written")


def run_self_test(model: Path | None = None, weights: Path | None = None,
                  train: bool = False) -> str:
    """Run every step; return the summary line or raise ``StepFailed``.

    Without ``model`` the bundled default model is used; without either, or with ``train``, a
    tiny model is trained first (CI uses ``train`` to reach the training code in a bundle that
    ships a model).
    """
    report = SelfTestReport()
    with step("weights"):
        location = find_self_test_weights(weights)
        report.parts.append(f"weights({location.source})")
    with step("model"):
        model_source = "--model" if model else "bundled"
        model = None if train else model or bundled.bundled_model()
        if model is not None:
            from desktop_captioner.core.modelfile import read_manifest

            read_manifest(model)
    with tempfile.TemporaryDirectory(prefix="desktop-captioner-self-test-") as tmp, \
            _app_home(Path(tmp) / "home"):
        work = Path(tmp)
        with step("qt"):
            report.parts.append(check_qt())
        with step("samples"):
            samples = make_samples(work)
        with step("encoder"):
            report.parts.append(check_encoder(location.path, samples))
        if model is None:
            with step("training"):
                model = train_tiny_model(location.path, work)
                model_source = "trained 1 epoch"
        report.parts.append(f"model({model_source})")
        with step("captions"):
            results = caption_samples(model, location.path, samples)
            report.parts.append(f"{len(results)} captions")
        with step("csv"):
            check_csv(results, work / "captions.csv")
            report.parts.append("csv")
        with step("xmp"):
            check_xmp(samples[0])
            report.parts.append("xmp")
    return report.summary()


@contextlib.contextmanager
def _app_home(home: Path) -> Iterator[None]:
    """Root the app folders in ``home`` for the duration, so the user's own stay untouched."""
    previous = os.environ.get(paths.HOME_ENV)
    os.environ[paths.HOME_ENV] = str(home)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(paths.HOME_ENV, None)
        else:
            os.environ[paths.HOME_ENV] = previous


def main(options: Sequence[str] = ()) -> int:
    """``--self-test [--model MODEL | --train] [--weights FILE]``: print one line, exit 0 if all
    is well."""
    parser = argparse.ArgumentParser(prog="desktop-captioner --self-test")
    model_choice = parser.add_mutually_exclusive_group()
    model_choice.add_argument("--model", type=Path,
                              help="caption with this model instead of the bundled one")
    model_choice.add_argument("--train", action="store_true",
                              help="train a tiny model even when one is available")
    parser.add_argument("--weights", type=Path, help="VGG16 notop weights file to use")
    args = parser.parse_args(list(options))
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless CI: no screen to test
    try:
        print_to_terminal(run_self_test(args.model, args.weights, args.train))
        return 0
    except StepFailed as failure:
        log.error("self-test failed at %s", failure.step, exc_info=failure.__cause__)
        print_to_terminal(f"self-test FAILED at {failure.step}: {failure}")
        return 1
