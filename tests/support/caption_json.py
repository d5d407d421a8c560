"""Small Karpathy and COCO 2017 caption files for the dataset tests (empty stand-in images)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def karpathy_entry(filename: str, split: str = "train", captions=("a dog runs .",),
                   filepath: str | None = None) -> dict:
    """One ``images`` entry the way Karpathy's files write it (tokens included)."""
    entry = {"filename": filename, "split": split, "imgid": 0,
             "sentences": [{"raw": text, "tokens": text.split(), "sentid": 0}
                           for text in captions]}
    if filepath is not None:
        entry["filepath"] = filepath
    return entry


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def stand_in_images(folder: Path, names) -> None:
    """Empty files named like images: loading only checks that they exist."""
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")


def write_coco(root: Path, folder: str, files: dict[int, str],
               annotations: list[tuple[int, str]]) -> Path:
    """``root/annotations/captions_<folder>.json`` with ``files`` (id -> file name)."""
    return write_json(root / "annotations" / f"captions_{folder}.json", {
        "info": {"year": 2017}, "licenses": [],
        "images": [{"id": image_id, "file_name": name, "height": 64, "width": 64}
                   for image_id, name in files.items()],
        "annotations": [{"id": number, "image_id": image_id, "caption": caption}
                        for number, (image_id, caption) in enumerate(annotations)]})


def karpathy_from_sample(sample: Path, out: Path) -> Path:
    """The generated sample dataset (``make_sample_dataset``) as ``out/dataset_flickr8k.json``
    with its images copied to ``out/images``, its official splits kept."""
    from desktop_captioner.core.dataset import load_dataset

    dataset = load_dataset(sample)
    shutil.copytree(dataset.images_dir, out / "images")
    split_of = {name: split for split, names in dataset.splits.items() for name in names}
    return write_json(out / "dataset_flickr8k.json", {"dataset": "flickr8k", "images": [
        karpathy_entry(name, split_of[name], texts) for name, texts in dataset.captions.items()]})
