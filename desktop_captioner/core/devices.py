"""Which devices train the decoder: one (the default), every local GPU, the CPU, or N GPUs.

Several devices train through ``tf.distribute.MirroredStrategy``: every replica holds a copy of
the weights, each global batch is split between the replicas, and their gradients are summed
before one update, so the batch size the user chose stays the *global* batch size (each of N
devices computes ``batch_size / N`` captions per step) and the model is the same within noise
(only Dropout's random draws differ). One machine only: Keras 3 does not support
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585).

``all`` means every GPU; on a machine without one it means every CPU device TensorFlow lists,
which is a single device (so training runs as with ``one``) unless the process split its CPU
into logical devices before TensorFlow started, as the tests do to check a two-replica run.

Parsing needs no TensorFlow, so the CLI and the GUI can validate a choice without loading it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

DEFAULT_DEVICES = "one"
DEVICE_WORDS = ("one", "all", "cpu")


def parse_devices(text: str) -> str:
    """``one``, ``all``, ``cpu`` or a GPU count ``N`` ≥ 1, normalised; ValueError otherwise."""
    word = str(text).strip().lower()
    if word in DEVICE_WORDS or (word.isdigit() and int(word) >= 1):
        return str(int(word)) if word.isdigit() else word
    raise ValueError(f"devices must be one of {', '.join(DEVICE_WORDS)} or a number of GPUs, "
                     f"not {text!r}")


@dataclass(frozen=True)
class DevicePlan:
    """The strategy to build and train the model under, and a sentence saying what it uses."""

    strategy: Any  # tf.distribute.Strategy
    replicas: int
    description: str


def device_plan(choice: str = DEFAULT_DEVICES) -> DevicePlan:
    """The ``tf.distribute`` strategy for a ``parse_devices`` choice.

    ``one`` is TensorFlow's default strategy (exactly the single-device training of before);
    a GPU count larger than the machine has is a ``CaptionerError``.
    """
    from desktop_captioner.core.errors import CaptionerError
    from desktop_captioner.core.tf_runtime import tf

    choice = parse_devices(choice)
    if choice == "one":
        return DevicePlan(tf.distribute.get_strategy(), 1, "Training on one device.")
    if choice == "cpu":
        return DevicePlan(tf.distribute.OneDeviceStrategy("/cpu:0"), 1, "Training on the CPU.")
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if choice == "all":
        if gpus:
            return _mirrored(tf, gpus, "GPU")
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        if len(cpus) > 1:
            return _mirrored(tf, cpus, "CPU device")
        return DevicePlan(tf.distribute.get_strategy(), 1, "No GPU found: training on the CPU.")
    wanted = int(choice)
    if wanted > len(gpus):
        raise CaptionerError(f"Training on {wanted} GPUs was asked for, but this machine has "
                             f"{len(gpus)}; use --devices all or a smaller number.")
    return _mirrored(tf, gpus[:wanted], "GPU")


def _mirrored(tf, devices: list[str], kind: str) -> DevicePlan:
    if len(devices) == 1:
        return DevicePlan(tf.distribute.OneDeviceStrategy(devices[0]), 1,
                          f"Training on one {kind} ({devices[0]}).")
    strategy = _mirrored_strategy(tuple(devices))
    return DevicePlan(strategy, strategy.num_replicas_in_sync,
                      f"Training on {len(devices)} {kind}s with MirroredStrategy "
                      f"({', '.join(devices)}); the batch size is split between them.")


@functools.lru_cache(maxsize=None)
def _mirrored_strategy(devices: tuple[str, ...]) -> Any:
    """One ``MirroredStrategy`` per set of devices for the whole process: a second one over the
    same devices reuses its collective keys, and resuming a checkpoint under it failed here
    ("Shape mismatch in the collective instance", TF 2.21 / Keras 3.15) where the first one
    resumed exactly."""
    from desktop_captioner.core.tf_runtime import tf

    return tf.distribute.MirroredStrategy(list(devices))
