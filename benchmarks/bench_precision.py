"""bfloat16 vs float32 with a trained model at 224 px: does bf16 change anything that matters?

A model is trained with the app's own pipeline (``train_model``, precision "auto" as users get
it) on a generated dataset of shape scenes at 224 px. Scenes it never saw (its held-out ones
and 200 more drawn with another seed) are then captioned by two Captioners, float32 and
bfloat16, exactly as users get them: the one not in the trained precision maps its features by
the model's precision calibration and re-makes near ties from trained-precision features
(``core/calibration.py``). Two baselines come from the same features without those steps: raw
other-precision features, and mapped features without the near-tie re-check.
Targets: mean feature cosine >= 0.999; identical captions on >= 95% of the unseen scenes.
Also printed: what the re-check costs (share of images encoded twice), the encoders' speeds
(what bf16 buys), whether captions were right before and after (content words against the
scene's own caption), and bf16's error per feature dimension relative to how much that
dimension varies between images (what the decoder's per-dimension standardisation sees).
"""

from __future__ import annotations

import os
import shutil
import time

import benchkit
import numpy as np

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
    images, extra = (120, 60) if args.quick else (400, 200)
    benchkit.print_header(f"bf16 vs float32 quality, {images} scenes at {SIZE} px", args.quick)
    home = benchkit.work_dir("precision_home")
    shutil.rmtree(home)  # a fresh feature cache and model every run
    os.environ["DESKTOP_CAPTIONER_HOME"] = str(home)

    from desktop_captioner.core.captioner import Captioner
    from desktop_captioner.core.dataset import load_dataset
    from desktop_captioner.core.decoder import StepDecoder
    from desktop_captioner.core.pipeline import train_model
    from desktop_captioner.core.sample_dataset import make_sample_dataset
    from desktop_captioner.core.search import captions_from_features
    from desktop_captioner.core.training import TrainingConfig

    weights = benchkit.fake_weights()
    dataset_dir = benchkit.WORK_DIR / f"scenes_{images}_{SIZE}"
    if not dataset_dir.exists():
        make_sample_dataset(dataset_dir, images=images, size=SIZE)
    extra_dir = benchkit.WORK_DIR / f"scenes_{extra}_{SIZE}_seed1"
    if not extra_dir.exists():
        make_sample_dataset(extra_dir, images=extra, size=SIZE, seed=1)
    with benchkit.stopwatch() as training:
        model_path = train_model(dataset_dir, home / "scenes.dcmodel", weights=weights,
                                 config=TrainingConfig(epochs=10, batch_size=32, min_count=1),
                                 image_size=SIZE, precision="auto")
    dataset, more = load_dataset(dataset_dir), load_dataset(extra_dir)
    scenes = [(dataset, name) for split in ("val", "test") for name in dataset.splits[split]]
    scenes += [(more, name) for name in sorted(more.captions)]
    paths = [source.image_path(name) for source, name in scenes]
    truth = [content_words(source.captions[name][0]) for source, name in scenes]

    captioners = {p: Captioner.load(model_path, weights=weights, precision=p)
                  for p in ("float32", "bfloat16")}
    model = captioners["float32"].model
    trained = model.encoder_config.precision
    other = "float32" if trained == "bfloat16" else "bfloat16"
    captions = {p: [r.caption for r in c.caption(paths, batch_size=16)]
                for p, c in captioners.items()}
    rechecked = captioners[other].rechecked

    fp32, fp32_ips = encode(weights, "float32", paths)
    bf16, bf16_ips = encode(weights, "bfloat16", paths)
    by_precision = {"float32": fp32, "bfloat16": bf16}
    steps = StepDecoder(model.decoder)
    baselines = {name: [text for text, _ in captions_from_features(steps, model.vocab, f)]
                 for name, f in (("raw", by_precision[other]), ("mapped", model.calibration.adapt(
                     by_precision[other], other, trained)))}
    cosine = (fp32 * bf16).sum(axis=1) / (
        np.linalg.norm(fp32, axis=1) * np.linalg.norm(bf16, axis=1))

    def identical(theirs: list[str]) -> float:
        return float(np.mean([a == b for a, b in zip(captions[trained], theirs)]))

    right = {p: np.array([content_words(c) == t for c, t in zip(captions[p], truth)])
             for p in captions}
    spread = fp32.std(axis=0)
    live = spread > 0
    error_vs_spread = np.abs(bf16 - fp32).mean(axis=0)[live] / spread[live]

    print(f"   model trained with {trained} features in {training[0]:.0f} s, BLEU-4 "
          f"{model.manifest['metrics'].get('bleu4', float('nan')):.3f} on its "
          f"{model.manifest['metrics'].get('split')} split; tie tolerance "
          f"{model.calibration.tie_tolerance:.4f}; {len(paths)} unseen scenes, "
          f"{len(set(captions[trained]))} distinct captions")
    for a, b in [(a, b) for a, b in zip(captions[trained], captions[other]) if a != b][:3]:
        print(f"   differs: {trained} {a!r} / {other} {b!r}")
    benchkit.print_table(
        ["measure", "value", "target", "verdict"],
        [["mean feature cosine bf16 vs fp32", f"{cosine.mean():.5f}", f">= {COSINE_TARGET}",
          benchkit.verdict(cosine.mean(), COSINE_TARGET)],
         ["min feature cosine", f"{cosine.min():.5f}", "", ""],
         [f"identical captions, {len(paths)} unseen scenes (Captioners)",
          f"{identical(captions[other]):.1%}", f">= {SAME_TARGET:.0%}",
          benchkit.verdict(identical(captions[other]), SAME_TARGET)],
         [f"images the {other} Captioner encoded again in {trained} (near ties)",
          f"{rechecked} ({rechecked / len(paths):.1%})", "", ""],
         ["baselines: raw / mapped without the re-check",
          f"{identical(baselines['raw']):.1%} / {identical(baselines['mapped']):.1%}", "", ""],
         ["content words right, float32 / bfloat16",
          f"{right['float32'].mean():.1%} / {right['bfloat16'].mean():.1%}", "", ""],
         ["right in one precision only",
          f"{int((right['float32'] != right['bfloat16']).sum())} images", "", ""],
         ["bf16 error / between-image std per dim", f"median {np.median(error_vs_spread):.3f}, "
          f"max {error_vs_spread.max():.3f}", "", ""],
         ["encoder img/s float32 / bfloat16", f"{fp32_ips:.2f} / {bf16_ips:.2f}",
          "", f"bf16 {bf16_ips / fp32_ips:.2f}x"]])


if __name__ == "__main__":
    main()
