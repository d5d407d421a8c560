"""Run as a script: train one tiny decoder on one device and again on two logical CPUs.

TensorFlow fixes its logical devices when it initialises, so the CPU is split in two here, in a
fresh process, before anything else touches TensorFlow; ``tests/test_devices.py`` runs this and
reads the JSON line it prints: per run the replica count, the loss history and greedy BLEU on
the held-out images, and the history of a two-replica run cut after 5 epochs and resumed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

import numpy as np  # noqa: E402

from desktop_captioner.core.decoder import StepDecoder  # noqa: E402
from desktop_captioner.core.devices import device_plan  # noqa: E402
from desktop_captioner.core.evaluation import evaluate_decoder  # noqa: E402
from desktop_captioner.core.training import TrainingConfig, encode_captions, fit_decoder  # noqa: E402
from desktop_captioner.core.vocabulary import Vocabulary  # noqa: E402

SUBJECTS = ("a dog", "a red car", "two children", "a man on a bike")
PLACES = ("in the grass", "on the road", "in the water", "near a wall")


def tiny_data(seed: int = 0):
    """Learnable data: an image's class (its feature vector's direction) picks its words."""
    rng = np.random.default_rng(seed)
    names = [f"img{i}.jpg" for i in range(60)]
    kinds = {name: i % len(SUBJECTS) for i, name in enumerate(names)}
    centres = rng.normal(size=(len(SUBJECTS), 512)).astype(np.float32)
    features = {name: centres[kinds[name]] + 0.3 * rng.normal(size=512).astype(np.float32)
                for name in names}
    captions = {name: [f"{SUBJECTS[kinds[name]]} {PLACES[(kinds[name] + j) % 4]}"
                       for j in range(3)] for name in names}
    captions[names[0]].append("a dog")  # an odd caption count: the last batch splits unevenly
    vocab = Vocabulary.build([c for name in names[:48] for c in captions[name]], min_count=1)
    held_out = names[48:]
    return (encode_captions(vocab, captions, names[:48], features),
            encode_captions(vocab, captions, held_out, features), vocab,
            np.stack([features[name] for name in held_out]),
            [captions[name] for name in held_out])


def main(out_dir: Path) -> None:
    train, val, vocab, val_features, val_captions = tiny_data()
    config = TrainingConfig(epochs=10, patience=10, batch_size=16, embedding_dim=16,
                            hidden_dim=32, dropout=0.3, learning_rate=1e-2, min_count=1, seed=0)
    runs = {}
    for choice in ("one", "all"):
        plan = device_plan(choice)
        seen = set()  # the replica count in force while batches train

        def on_event(event, seen=seen):
            if event.phase == "train":
                seen.add(tf.distribute.get_strategy().num_replicas_in_sync)
        fit = fit_decoder(train, val, vocab, config, checkpoint_dir=out_dir / choice,
                          strategy=plan.strategy, on_event=on_event)
        runs[choice] = {"replicas": plan.strategy.num_replicas_in_sync,
                        "replicas_while_training": sorted(seen),
                        "description": plan.description,
                        "history": fit.history, "best_val_loss": fit.best_val_loss,
                        "bleu": evaluate_decoder(StepDecoder(fit.model), val_features,
                                                 val_captions, vocab, beam_width=1)}
    # Cut after 5 epochs, then resumed with a new plan (as a second run in one process would).
    fit_decoder(train, val, vocab, replace(config, epochs=5), checkpoint_dir=out_dir / "cut",
                strategy=device_plan("all").strategy)
    resumed = fit_decoder(train, val, vocab, config, checkpoint_dir=out_dir / "cut",
                          strategy=device_plan("all").strategy, resume=True)
    runs["all_resumed"] = {"history": resumed.history}
    print(json.dumps(runs))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(folder))
