"""``train`` end to end on a Karpathy split file: the generated scenes, written as
``dataset_flickr8k.json`` with their images elsewhere (``--images``), at 32 px for one epoch,
then ``evaluate`` on the same file."""

from __future__ import annotations

import json

from desktop_captioner.cli import main
from desktop_captioner.core import modelfile
from desktop_captioner.core.dataset import load_dataset
from desktop_captioner.core.sample_dataset import make_sample_dataset
from tests.support.caption_json import karpathy_from_sample


def test_train_on_a_karpathy_file_with_images_elsewhere(tmp_path, weights_file, capsys):
    sample = make_sample_dataset(tmp_path / "sample", images=30, size=32)
    json_path = karpathy_from_sample(sample, tmp_path / "karpathy")
    photos = (tmp_path / "karpathy" / "images").rename(tmp_path / "photos")
    expected = load_dataset(sample).splits
    model = tmp_path / "scenes.dcmodel"
    code = main(["train", str(json_path), "--images", str(photos), "--out", str(model),
                 "--weights", str(weights_file), "--image-size", "32", "--epochs", "1",
                 "--batch-size", "16", "--min-count", "1", "--precision", "float32"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert "karpathy layout: 30 captioned images" in captured.err
    assert "BLEU-4" in captured.out and str(model) in captured.out
    manifest = modelfile.read_manifest(model)
    assert manifest["provenance"]["layout"] == "karpathy"
    assert manifest["provenance"]["dataset_root"] == str(json_path.parent.resolve())
    assert manifest["provenance"]["splits"] == {split: len(names)
                                                for split, names in expected.items()}
    assert manifest["metrics"]["split"] == "test"
    assert manifest["metrics"]["images"] == len(expected["test"])

    assert main(["evaluate", str(model), str(json_path), "--images", str(photos),
                 "--weights", str(weights_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["split"], report["images"], report["failed"]) == (
        "test", len(expected["test"]), 0)
