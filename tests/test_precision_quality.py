"""bfloat16 changes nothing that matters, shown with trained models.

bf16 is only worth having if users cannot tell: the features must stay within cosine 0.999 of
float32 and the trained decoder should give the same caption whichever format encoded the image
(the issue asks for >= 95% identical). The decoder was trained on one format; a Captioner in
the other maps its features by the precision calibration stored in the model file and re-makes
the captions the decoder was nearly undecided about from features in the trained format
(``core/calibration.py``). The caption test runs at 224 px, VGG16's own size and the app's
default (at the suite's 64 px the last conv grid is 2x2, so the per-image noise is averaged over
4 cells instead of 49), with a model trained as the benchmark's (400 scenes, bf16 features) on
280 scenes it never saw. Each step must also earn its place against the step before it.

How much the re-check buys depends on how sure the model is: a weaker model (300 scenes, 8
epochs, float32) goes from 91.2% identical to 95.8%, re-encoding 20% of the images
(``benchmarks/README.md``). The model file must also record which precision made its training
features, and the feature cache must keep the two apart, or a cache filled in one would feed
the other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_captioner.core.captioner import Captioner
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.decoder import StepDecoder
from desktop_captioner.core.encoder import Encoder, EncoderConfig
from desktop_captioner.core.modelfile import load_model_file, read_manifest
from desktop_captioner.core.pipeline import train_model
from desktop_captioner.core.precision import PRECISIONS, cpu_supports_bf16
from desktop_captioner.core.sample_dataset import make_sample_dataset
from desktop_captioner.core.search import captions_from_features
from desktop_captioner.core.training import TrainingConfig

SIZE = 64  # the trained_model fixture's image size
FULL_SIZE = 224  # VGG16's own input size, the app's default
ISSUE_TARGET = 0.95  # identical bf16 / float32 captions the issue asks for

# Training the 224-px bf16 model takes about a minute where the CPU computes bf16 natively and
# over ten where TensorFlow emulates it (AVX2 only). The check then belongs to the benchmark,
# which runs on every CPU: ``python benchmarks/bench_precision.py``.
needs_native_bf16 = pytest.mark.skipif(
    not cpu_supports_bf16(),
    reason="bf16 is emulated on this CPU (no AVX512-BF16/AMX): the 224-px bf16 model takes "
           "10+ min to train; run benchmarks/bench_precision.py for the same check")


@pytest.fixture(scope="module")
def held_out(trained_run) -> list:
    """The scenes the model never trained on (validation and test splits)."""
    dataset = load_dataset(trained_run.dataset)
    return [dataset.image_path(name) for split in ("val", "test") for name in dataset.splits[split]]


def _features(weights, precision: str, paths) -> np.ndarray:
    encoder = Encoder(weights, EncoderConfig(image_size=SIZE, precision=precision))
    results = list(encoder.extract(paths, batch_size=32))
    assert all(result.ok for result in results)
    return np.stack([result.features for result in results])


def test_bf16_features_are_within_cosine_0999_of_float32(trained_run, held_out):
    fp32 = _features(trained_run.weights, "float32", held_out)
    bf16 = _features(trained_run.weights, "bfloat16", held_out)
    cosine = (fp32 * bf16).sum(axis=1) / (
        np.linalg.norm(fp32, axis=1) * np.linalg.norm(bf16, axis=1))
    assert not np.array_equal(fp32, bf16), "bf16 did not run: the comparison would prove nothing"
    assert cosine.mean() >= 0.999 and cosine.min() >= 0.99


@pytest.fixture(scope="module")
def full_size_run(tmp_path_factory, weights_file) -> tuple[Path, list[Path]]:
    """A model trained at 224 px on bf16 features (what "auto" gives on a bf16 CPU, fixed here
    so every machine trains the same model), and 280 scenes it never saw (its own held-out 80
    and 200 more drawn with another seed)."""
    root = tmp_path_factory.mktemp("precision_224")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DESKTOP_CAPTIONER_HOME", str(root / "home"))
        dataset_dir = make_sample_dataset(root / "scenes", images=400, size=FULL_SIZE)
        model = train_model(dataset_dir, root / "scenes.dcmodel", weights=weights_file,
                            config=TrainingConfig(epochs=10, batch_size=32, min_count=1),
                            image_size=FULL_SIZE, precision="bfloat16")
    dataset = load_dataset(dataset_dir)
    unseen = [dataset.image_path(name) for split in ("val", "test")
              for name in dataset.splits[split]]
    extra = load_dataset(make_sample_dataset(root / "unseen", images=200, seed=1,
                                             size=FULL_SIZE))
    return model, unseen + [extra.image_path(name) for name in sorted(extra.captions)]


@needs_native_bf16
def test_bf16_and_float32_captioners_agree_on_unseen_scenes(full_size_run, weights_file):
    model, unseen = full_size_run
    captioners = {precision: Captioner.load(model, weights=weights_file, precision=precision)
                  for precision in PRECISIONS}
    assert [c.precision for c in captioners.values()] == list(PRECISIONS)
    trained, other = "bfloat16", "float32"
    captions = {precision: [r.caption for r in captioner.caption(unseen, batch_size=32)]
                for precision, captioner in captioners.items()}
    rechecked = captioners[other].rechecked

    # The baselines, from the same other-precision features: as they come, and mapped but
    # without the near-tie re-check.
    mapping = captioners[other].model.calibration
    raw = np.stack([r.features for r in captioners[other].encoder.extract(unseen, 32)])
    steps = StepDecoder(captioners[other].model.decoder)
    vocab = captioners[other].model.vocab
    baselines = {name: [text for text, _ in captions_from_features(steps, vocab, features)]
                 for name, features in (("raw", raw),
                                        ("mapped", mapping.adapt(raw, other, trained)))}

    def identical(theirs: list[str]) -> float:
        return sum(a == b for a, b in zip(captions[trained], theirs)) / len(unseen)

    assert len(set(captions[trained])) > 50, "too few distinct captions to compare"
    differing = [(a, b) for a, b in zip(captions[trained], captions[other]) if a != b]
    assert identical(captions[other]) >= ISSUE_TARGET, (
        f"{identical(captions[other]):.1%} identical: {differing}")
    assert 0 < rechecked <= 0.25 * len(unseen), f"{rechecked} of {len(unseen)} re-checked"
    assert identical(captions[other]) >= identical(baselines["mapped"]) + 0.015, (
        "the near-tie re-check no longer makes a clear difference")
    assert identical(baselines["mapped"]) >= identical(baselines["raw"]) + 0.02, (
        "the precision calibration no longer makes a clear difference")


def test_model_file_records_the_precision_and_the_cache_is_keyed_by_it(trained_run):
    encoder = read_manifest(trained_run.model)["encoder"]
    assert encoder["precision"] in PRECISIONS  # concrete: "auto" would mean different features
    assert load_model_file(trained_run.model).encoder_config.precision == encoder["precision"]
    keys = {precision: EncoderConfig(image_size=SIZE, precision=precision).key(
        encoder["weights_md5"]) for precision in PRECISIONS}
    assert keys["float32"] != keys["bfloat16"]
    cached = [folder.name for folder in (trained_run.home / "cache" / "features").iterdir()]
    assert cached == [keys[encoder["precision"]]]
