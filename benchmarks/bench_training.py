"""Training seconds per epoch and peak memory at Flickr8k scale: ``fit_decoder`` vs the seed.

Both sides train on the real Flickr8k training captions (official train split, ~30k captions)
with synthetic image features, each in its own Python process so its peak RSS is its own:
- ours: ``fit_decoder`` with the default ``TrainingConfig`` for one epoch (validation on the dev
  split included in the epoch time), vocabulary of words seen >= 5 times, 512-d features;
- seed: the tutorial's prefix-pair training (one sample per caption prefix, one-hot targets,
  one photo per step from a Python generator, 4096-d features, its vocabulary of every word),
  timed on a fixed number of photos after a warm-up and EXTRAPOLATED to the whole epoch.
Targets: ours >= 10x faster per epoch, ours peak RSS <= 3 GB.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import benchkit
import numpy as np

SPEED_TARGET, RSS_TARGET_MB = 10.0, 3 * 1024
QUICK_TRAIN_IMAGES, QUICK_VAL_IMAGES = 1500, 250
SEED_STEPS, QUICK_SEED_STEPS, SEED_WARMUP_STEPS = 300, 40, 5


def _subset(captions: dict, count: int | None) -> dict:
    return dict(sorted(captions.items())[:count]) if count else captions


def train_ours(quick: bool) -> dict:
    from our_captioner import flickr8k_training_data

    from desktop_captioner.core.training import TrainingConfig, fit_decoder

    full_train = benchkit.flickr8k_captions("train")
    train_caps = _subset(full_train, QUICK_TRAIN_IMAGES if quick else None)
    val_caps = _subset(benchkit.flickr8k_captions("dev"), QUICK_VAL_IMAGES if quick else None)
    config = TrainingConfig(epochs=1)
    vocab, train, val = flickr8k_training_data(train_caps, train_caps, val_caps, config)
    with tempfile.TemporaryDirectory() as checkpoints, benchkit.stopwatch() as wall:
        fit = fit_decoder(train, val, vocab, config, checkpoint_dir=Path(checkpoints))
    scale = len(full_train) / len(train_caps)
    return {"epoch_s": fit.history[0]["seconds"] * scale, "wall_s": wall[0] * scale,
            "captions": len(train), "vocab": vocab.size, "extrapolated": scale != 1,
            "rss_mb": benchkit.peak_rss_mb()}


def train_seed(quick: bool) -> dict:
    import keras
    import seed_style

    descriptions = {name: [seed_style.clean(c) for c in texts]
                    for name, texts in sorted(benchkit.flickr8k_captions("train").items())}
    tokenizer = seed_style.SeedTokenizer([t for texts in descriptions.values() for t in texts])
    rng = np.random.default_rng(0)
    photos = {name: np.abs(rng.normal(0, 1, seed_style.SEED_FEATURE_DIM)).astype(np.float32)
              for name in descriptions}
    model = seed_style.merge_model(tokenizer.vocab_size)
    steps = QUICK_SEED_STEPS if quick else SEED_STEPS
    step_ends: list[float] = []

    class StepClock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step_ends.append(time.perf_counter())

    model.fit(seed_style.data_generator(descriptions, photos, tokenizer,
                                        seed_style.SEED_MAX_LENGTH),
              epochs=1, steps_per_epoch=SEED_WARMUP_STEPS + steps, verbose=0,
              callbacks=[StepClock()])
    per_photo = (step_ends[-1] - step_ends[SEED_WARMUP_STEPS - 1]) / steps
    return {"epoch_s": per_photo * len(descriptions), "timed_photos": steps,
            "photos": len(descriptions), "vocab": tokenizer.vocab_size,
            "samples": seed_style.prefix_samples(descriptions, tokenizer),
            "rss_mb": benchkit.peak_rss_mb()}


def main() -> None:
    args = benchkit.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument(
        "--side", choices=("ours", "seed"), help="run one side here (used by the parent run)"))
    if args.side:
        benchkit.report_to_parent((train_ours if args.side == "ours" else train_seed)(args.quick))
        return
    benchkit.print_header("Training at Flickr8k scale: fit_decoder vs the seed", args.quick)
    flags = ["--quick"] if args.quick else []
    ours = benchkit.run_child(Path(__file__), ["--side", "ours", *flags])
    seed = benchkit.run_child(Path(__file__), ["--side", "seed", *flags])
    ratio = seed["epoch_s"] / ours["epoch_s"]
    subset = " (extrapolated from a subset)" if ours["extrapolated"] else ""
    print(f"   ours: {ours['captions']} captions, vocabulary {ours['vocab']}, whole fit_decoder "
          f"call {ours['wall_s']:.0f} s{subset}")
    print(f"   seed: {seed['samples']} prefix samples over {seed['photos']} photos, vocabulary "
          f"{seed['vocab']}; timed {seed['timed_photos']} photos, EXTRAPOLATED to the epoch")
    benchkit.print_table(
        ["what", "s/epoch", "speed-up", "target", "peak RSS MB", "target", "verdict"],
        [["seed prefix-pair training", seed["epoch_s"], 1.0, "", seed["rss_mb"], "", ""],
         ["our fit_decoder", ours["epoch_s"], ratio, f">= {SPEED_TARGET:g}x", ours["rss_mb"],
          f"<= {RSS_TARGET_MB}",
          "met" if ratio >= SPEED_TARGET and ours["rss_mb"] <= RSS_TARGET_MB else "MISSED"]])


if __name__ == "__main__":
    main()
