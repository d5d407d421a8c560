"""bfloat16 vs float32 with a trained model at 224 px: does bf16 change anything that matters?

A model is trained with the app's own pipeline (``train_model``, precision "auto" as users get
it) on a generated dataset of shape scenes at 224 px. Every image is then encoded by two fresh
encoders, float32 and bfloat16, and captioned by the trained decoder from its own precision's features and from the other's,
mapped by the model's precision calibration (``core/calibration.py``); the uncalibrated
comparison is printed as the baseline.
Targets: mean feature cosine >= 0.999; identical captions on >= 95% of the held-out images.
The encoders' speeds are printed too: that is what bf16 buys. Two diagnostics explain misses:
captions compared on their content words only (the scenes' five phrasings are equally likely,
so the opening words are near-ties), and bf16's error per feature dimension relative to how much
that dimension varies between images (what the decoder's per-dimension standardisation sees).
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np

import benchkit

SIZE = 224
COSINE_TARGET, SAME_TARGET = 0.999, 0.95
TEMPLATE_WORDS = frozenset({"a", "an", "there", "is", "the", "picture", "shows", "image", "of"})


def content_words(caption: str) -> list[str]:
    """Colours, shapes and places: what a scene caption says, without its phrasing."""
    return [word for word in caption.split() if word not in TEMPLATE_WORDS]


def encode(weights, precision: str, paths) -> tuple[np.ndarray, float]:
    """(features, img/s) from a fresh encoder (one untimed warm-up batch first)."""
    from desktop_captioner.core.encoder import Encoder, EncoderConfig

    encoder = Encoder(weights, EncoderConfig(image_size=SIZE, precision=precision))
    list(encoder.extract(paths[:16]))
    start = time.perf_counter()
    results = list(encoder.extract(paths, batch_size=16))
    seconds = time.perf_counter() - start
    return np.stack([r.features for r in results]), len(paths) / seconds


def main() -> None:
    args = benchkit.parse_args(__doc__.splitlines()[0])
    images = 120 if args.quick else 400
    benchkit.print_header(f"bf16 vs float32 quality, {images} scenes at {SIZE} px", args.quick)
    home = benchkit.work_dir("precision_home")
    shutil.rmtree(home)  # a fresh feature cache and model every run
    os.environ["DESKTOP_CAPTIONER_HOME"] = str(home)

    from desktop_captioner.core.captioner import captions_from_features
    from desktop_captioner.core.dataset import load_dataset
    from desktop_captioner.core.decoder import StepDecoder
    from desktop_captioner.core.modelfile import load_model_file
    from desktop_captioner.core.pipeline import train_model
    from desktop_captioner.core.sample_dataset import make_sample_dataset
    from desktop_captioner.core.training import TrainingConfig

    weights = benchkit.fake_weights()
    dataset_dir = benchkit.WORK_DIR / f"scenes_{images}_{SIZE}"
    if not dataset_dir.exists():
        make_sample_dataset(dataset_dir, images=images, size=SIZE)
    with benchkit.stopwatch() as training:
        model_path = train_model(dataset_dir, home / "scenes.dcmodel", weights=weights,
                                 config=TrainingConfig(epochs=10, batch_size=32, min_count=1),
                                 image_size=SIZE, precision="auto")
    model = load_model_file(model_path)
    dataset = load_dataset(dataset_dir)
    names = sorted(dataset.captions)
    held_out = set(dataset.splits["val"]) | set(dataset.splits["test"])
    paths = [dataset.image_path(name) for name in names]

    fp32, fp32_ips = encode(weights, "float32", paths)
    bf16, bf16_ips = encode(weights, "bfloat16", paths)
    cosine = (fp32 * bf16).sum(axis=1) / (
        np.linalg.norm(fp32, axis=1) * np.linalg.norm(bf16, axis=1))
    steps = StepDecoder(model.decoder)
    trained = model.encoder_config.precision
    other = "float32" if trained == "bfloat16" else "bfloat16"
    by_precision = {"float32": fp32, "bfloat16": bf16}
    as_trained = model.calibration.adapt(by_precision[other], other, trained)
    captions = {precision: [text for text, _ in captions_from_features(steps, model.vocab, f)]
                for precision, f in (*by_precision.items(), ("calibrated", as_trained))}
    same = np.array([a == b for a, b in zip(captions[trained], captions["calibrated"])])
    same_raw = np.array([a == b for a, b in zip(captions["float32"], captions["bfloat16"])])
    is_held_out = np.array([name in held_out for name in names])
    same_held_out = same[is_held_out].mean()
    same_content = np.mean([content_words(a) == content_words(b) for a, b, held in zip(
        captions[trained], captions["calibrated"], is_held_out) if held])
    spread = fp32.std(axis=0)
    live = spread > 0
    error_vs_spread = np.abs(bf16 - fp32).mean(axis=0)[live] / spread[live]

    print(f"   model trained with {model.encoder_config.precision} features in "
          f"{training[0]:.0f} s, BLEU-4 {model.manifest['metrics'].get('bleu4', float('nan')):.3f} "
          f"on {model.manifest['metrics'].get('split')}; {is_held_out.sum()} held-out images, "
          f"{len(set(captions['float32']))} distinct captions")
    for a, b in [(a, b) for a, b in zip(captions[trained], captions["calibrated"]) if a != b][:3]:
        print(f"   differs: {trained} {a!r} / calibrated {other} {b!r}")
    benchkit.print_table(
        ["measure", "value", "target", "verdict"],
        [["mean feature cosine bf16 vs fp32", f"{cosine.mean():.5f}", f">= {COSINE_TARGET}",
          benchkit.verdict(cosine.mean(), COSINE_TARGET)],
         ["min feature cosine", f"{cosine.min():.5f}", "", ""],
         ["identical captions, held-out (calibrated)", f"{same_held_out:.1%}",
          f">= {SAME_TARGET:.0%}", benchkit.verdict(same_held_out, SAME_TARGET)],
         ["identical captions, all images (calibrated)", f"{same.mean():.1%}", "", ""],
         ["baseline: identical captions without calibration, held-out / all",
          f"{same_raw[is_held_out].mean():.1%} / {same_raw.mean():.1%}", "", ""],
         ["same content words, held-out", f"{same_content:.1%}", "", ""],
         ["bf16 error / between-image std per dim", f"median {np.median(error_vs_spread):.3f}, "
          f"max {error_vs_spread.max():.3f}", "", ""],
         ["encoder img/s float32 / bfloat16", f"{fp32_ips:.2f} / {bf16_ips:.2f}",
          "", f"bf16 {bf16_ips / fp32_ips:.2f}x"]])


if __name__ == "__main__":
    main()
