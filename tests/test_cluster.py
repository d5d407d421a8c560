"""``--ray`` on one machine: a local Ray instance (two CPUs, two actors) must give exactly the
local run's captions, features and outputs.

One Ray instance serves the whole module and is shut down at its end; each test starts one actor
pool (TensorFlow is loaded once per actor, which is most of the time these tests take).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.feature_store import SHARD_SUFFIX

ray = pytest.importorskip("ray", reason="Ray is the optional [cluster] extra")

ACTORS = "2"
CAPTIONED = 100  # dataset scenes captioned both ways, besides the broken files


@pytest.fixture(scope="module")
def local_ray():
    """A two-CPU Ray instance on this machine, for the module; its processes end with it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def photos(trained_run, tmp_path) -> list[Path]:
    """``CAPTIONED`` dataset scenes and three broken files, in a folder of their own."""
    dataset = load_dataset(trained_run.dataset)
    folder = tmp_path / "photos"
    folder.mkdir()
    images = [dataset.image_path(name) for name in sorted(dataset.captions)[:CAPTIONED]]
    for image in images:
        shutil.copy(image, folder / image.name)
    (folder / "truncated.jpg").write_bytes(images[0].read_bytes()[:300])
    (folder / "notes.jpg").write_text("a text file with a photo's name")
    return [*(folder / image.name for image in images), folder / "truncated.jpg",
            folder / "notes.jpg"]


def _caption(trained_run, trained_model, photos, out: Path, *extra: str) -> int:
    return main(["caption", *map(str, photos), str(photos[0].parent / "gone.jpg"),
                 "--model", str(trained_model), "--weights", str(trained_run.weights),
                 "--csv", str(out), "--precision", "bfloat16", "--batch-size", "8", *extra])


def _messages(stderr: str) -> list[str]:
    """The lines of ``stderr`` that are not progress lines (rates and ETAs differ by run)."""
    return [line for line in re.split(r"[\r\n]+", stderr)
            if line.strip() and not line.startswith("caption    [")]


def test_ray_captions_equal_the_local_run(local_ray, trained_run, trained_model, photos,
                                          tmp_path, capsys):
    """bfloat16 against a float32-trained model: calibration and near-tie re-checks run in the
    actors exactly as in a local run; broken files and a missing one are the same error rows."""
    local_csv, ray_csv = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert _caption(trained_run, trained_model, photos, local_csv) == 1
    local_err = capsys.readouterr().err
    assert _caption(trained_run, trained_model, photos, ray_csv,
                    "--ray", "auto", "--ray-actors", ACTORS) == 1
    ray_err = capsys.readouterr().err

    assert ray_csv.read_bytes() == local_csv.read_bytes()
    with ray_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["status"] for row in rows] == ["ok"] * CAPTIONED + ["error"] * 3
    assert [row["filename"] for row in rows[-3:]] == ["truncated.jpg", "notes.jpg", "gone.jpg"]
    summary = f"Captioned {CAPTIONED} of {CAPTIONED + 3} images; 3 failed"
    assert summary in local_err and summary in ray_err
    # --resume carries on from a cut-short file to the same bytes.
    rows_text = ray_csv.read_bytes().split(b"\r\n")
    ray_csv.write_bytes(b"\r\n".join(rows_text[:51]) + b"\r\n")
    assert _caption(trained_run, trained_model, photos, ray_csv, "--resume",
                    "--ray", "auto", "--ray-actors", ACTORS) == 1
    assert "50 images already captioned" in capsys.readouterr().err
    assert ray_csv.read_bytes() == local_csv.read_bytes()

    # The same terminal output but for the rates: Ray's own logs and progress bars stay out.
    assert _messages(ray_err.replace(str(ray_csv), str(local_csv))) == _messages(local_err)
    assert "caption    [" in ray_err and " 0/102 " in ray_err  # the local run's count


def test_ray_features_equal_local_ones(local_ray, trained_run, photos, tmp_path,
                                       monkeypatch):
    """float32 both ways, the same batches: bit-identical features; unreadable and missing
    images give the local error messages, worded with the path as given (relative here)."""
    from desktop_captioner.core.cluster import cluster_session
    from desktop_captioner.core.cluster_encoding import ClusterExtractor
    from desktop_captioner.core.encoder import Encoder, EncoderConfig

    monkeypatch.chdir(photos[0].parent)
    paths = [Path(path.name) for path in photos[:13]] + [
        Path("truncated.jpg"), Path("notes.jpg"), Path("gone.jpg")]
    encoder = Encoder(trained_run.weights, EncoderConfig(image_size=64, precision="float32"))
    local = list(encoder.extract(paths, batch_size=4))
    reports = []
    with cluster_session("auto"):
        remote = list(ClusterExtractor(encoder, actors=2)(paths, batch_size=4,
                                                           progress=reports.append))

    assert [item.path for item in remote] == paths
    assert [item.error for item in remote] == [item.error for item in local]
    assert sum(not item.ok for item in remote) == 3 and remote[-1].error.startswith("gone.jpg:")
    for mine, theirs in zip(local, remote):
        if mine.ok:
            assert theirs.features.dtype == np.float32
            assert np.array_equal(mine.features, theirs.features)
    assert [report.done for report in reports] == [0, 4, 8, 12, 16]


def test_a_node_that_cannot_load_the_model_fails_the_run_in_one_sentence(local_ray,
                                                                         trained_run, photos):
    from desktop_captioner.core.cluster import ClusterError, cluster_session
    from desktop_captioner.core.cluster_captioning import caption_on_cluster

    with cluster_session("auto"), pytest.raises(ClusterError) as failure:
        list(caption_on_cluster(photos[:2], model_file=photos[0].parent / "missing.dcmodel",
                                weights_file=trained_run.weights, precision=None, batch_size=2,
                                beam_width=1, actors=1))
    assert str(failure.value) == (f"The Ray cluster could not finish the work: "
                                  f"{photos[0].parent / 'missing.dcmodel'} does not exist or "
                                  f"is not a file.")


def test_train_on_ray_fills_the_cache_then_trains_here(local_ray, weights_file, tmp_path,
                                                       app_home, capsys):
    from desktop_captioner.core import modelfile
    from desktop_captioner.core.sample_dataset import make_sample_dataset

    dataset = make_sample_dataset(tmp_path / "dataset", images=40, size=64)
    out = tmp_path / "shapes.dcmodel"
    code = main(["train", str(dataset), "--out", str(out), "--weights", str(weights_file),
                 "--image-size", "64", "--epochs", "1", "--min-count", "1",
                 "--precision", "float32", "--ray", "auto", "--ray-actors", ACTORS])
    assert code == 0, capsys.readouterr().err[-2000:]
    assert modelfile.read_manifest(out)["provenance"]["splits"]["train"] > 0
    assert list((app_home / "cache" / "features").glob(f"*/*{SHARD_SUFFIX}"))
