"""--devices: parsing, the strategy per choice, and two replicas training the same model.

TensorFlow fixes its logical devices when it initialises, so the two-replica run happens in a
fresh process (``tests/support/two_cpu_training.py``) that splits the CPU in two first.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.devices import device_plan, parse_devices
from desktop_captioner.core.errors import CaptionerError

ROOT = Path(__file__).resolve().parents[1]
RELATIVE_LOSS_TOLERANCE = 0.10  # final validation loss of 1 vs 2 replicas; it falls ~10x here


@pytest.mark.parametrize("text, expected", [("one", "one"), ("ALL", "all"), (" cpu ", "cpu"),
                                            ("2", "2"), ("02", "2")])
def test_parse_devices_normalises(text, expected):
    assert parse_devices(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "gpu", "", "1.5"])
def test_parse_devices_refuses_anything_else(text):
    with pytest.raises(ValueError, match="one, all, cpu"):
        parse_devices(text)


def test_train_refuses_a_bad_devices_value_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(tmp_path), "--out", str(tmp_path / "m.dcmodel"), "--devices", "gpu"])
    assert exit_info.value.code == 2
    assert "--devices: devices must be one of one, all, cpu" in capsys.readouterr().err


def test_plans_on_a_machine_with_one_cpu_and_no_gpu():
    from desktop_captioner.core.tf_runtime import tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    one, cpu, every = device_plan("one"), device_plan("cpu"), device_plan("all")
    assert one.strategy is tf.distribute.get_strategy() and one.replicas == 1
    assert isinstance(cpu.strategy, tf.distribute.OneDeviceStrategy)
    assert every.replicas == 1 and every.description == "No GPU found: training on the CPU."
    with pytest.raises(CaptionerError, match="2 GPUs was asked for, but this machine has 0"):
        device_plan("2")


def test_train_devices_all_on_a_cpu_only_machine_says_so_once(tmp_path, weights_file, capsys):
    from desktop_captioner.core.sample_dataset import make_sample_dataset
    from desktop_captioner.core.tf_runtime import tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    dataset = make_sample_dataset(tmp_path / "scenes", images=12, size=32)
    common = ["train", str(dataset), "--weights", str(weights_file), "--image-size", "32",
              "--epochs", "1", "--batch-size", "8", "--min-count", "1", "--precision", "float32"]
    assert main([*common, "--out", str(tmp_path / "m.dcmodel"), "--devices", "2"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("desktop-captioner: error: Training on 2 GPUs was asked for, but "
                           "this machine has 0; use --devices all or a smaller number.")
    assert main([*common, "--out", str(tmp_path / "m.dcmodel"), "--devices", "all"]) == 0
    err = capsys.readouterr().err
    assert err.count("No GPU found: training on the CPU.") == 1


@pytest.fixture(scope="module")
def runs():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "-1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, str(ROOT / "tests/support/two_cpu_training.py")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mirrored_strategy_really_runs_two_replicas(runs):
    assert runs["one"]["replicas"] == 1
    assert runs["all"]["replicas"] == 2
    assert runs["one"]["replicas_while_training"] == [1]
    assert runs["all"]["replicas_while_training"] == [2]
    assert "2 CPU devices with MirroredStrategy" in runs["all"]["description"]


def test_two_replicas_train_the_same_model_within_noise(runs):
    """Same data, seed and global batch size: the losses follow each other (only Dropout's
    draws differ), with no NaN (keras#21172) and Dropout training fine (keras#20611)."""
    for run in runs.values():
        losses = [value for epoch in run["history"] for value in (epoch["loss"],
                                                                  epoch["val_loss"])]
        assert all(math.isfinite(value) for value in losses)
        assert run["history"][-1]["val_loss"] < run["history"][0]["val_loss"] / 5  # it learnt
    one, two = runs["one"]["best_val_loss"], runs["all"]["best_val_loss"]
    assert abs(one - two) <= RELATIVE_LOSS_TOLERANCE * max(one, two)
    for first, second in zip(runs["one"]["history"], runs["all"]["history"]):
        assert abs(first["loss"] - second["loss"]) <= RELATIVE_LOSS_TOLERANCE * first["loss"]
    assert runs["one"]["bleu"]["bleu4"] == pytest.approx(runs["all"]["bleu"]["bleu4"], abs=0.05)


def test_a_two_replica_run_resumes_exactly(runs):
    """Resuming under MirroredStrategy continues where the checkpoint left off: the same
    losses as the uninterrupted two-replica run (a second MirroredStrategy in the process
    used to fail here with a collective shape mismatch)."""
    straight, resumed = runs["all"]["history"], runs["all_resumed"]["history"]
    assert [epoch["epoch"] for epoch in resumed] == list(range(1, 11))
    for first, second in zip(straight, resumed):
        assert first["val_loss"] == pytest.approx(second["val_loss"], abs=1e-4)
