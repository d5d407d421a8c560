"""Readers for the JSON caption files of Karpathy's splits and of COCO 2017.

Karpathy's ``dataset_flickr8k.json``, ``dataset_flickr30k.json`` and ``dataset_coco.json`` list
``{"images": [{"filename", "filepath"?, "split", "sentences": [{"raw", "tokens"}]}]}``;
``restval`` counts as train. COCO's ``annotations/captions_train2017.json`` and
``captions_val2017.json`` list ``images[{id, file_name}]`` and ``annotations[{image_id,
caption}]``; train2017 is the train split and val2017 is cut in half: its image file names,
sorted, are shuffled with ``random.Random(COCO_VAL_SPLIT_SEED)`` (2017, whatever ``--seed`` says,
so every run and every user tests on the same images), the first half (rounded down) is val and
the rest test: 2,500 val and 2,500 test images of the full val2017.

A file that is not JSON or not the expected shape raises ``DatasetError``; a single bad entry is
skipped and recorded as a ``Problem`` named by its JSON position (``images[12].sentences[3]``).
Image names are kept only when they stay inside the images folder: absolute paths and ``..`` are
reported and skipped, so nothing outside the dataset is ever looked at.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

from desktop_captioner.core.dataset_readers import ProblemLog
from desktop_captioner.core.errors import DatasetError, describe_os_error

KARPATHY_SPLITS = {"train": "train", "restval": "train", "val": "val", "test": "test"}
COCO_FILES = {"train2017": "captions_train2017.json", "val2017": "captions_val2017.json"}
COCO_ANNOTATIONS_DIR = "annotations"
COCO_VAL_SPLIT_SEED = 2017


@dataclass(frozen=True)
class JsonImage:
    """One captioned image of a JSON caption file."""

    name: str  # path below the images folder, "/"-separated: "x.jpg" or "train2014/x.jpg"
    file: Path  # the caption file that lists it
    position: str  # where that file lists it: "images[12]"
    split: str  # "train" | "val" | "test"
    captions: tuple[str, ...]


def read_karpathy(path: Path, log: ProblemLog) -> list[JsonImage]:
    """The images of a Karpathy split file that have a safe name, a known split and a caption."""
    entries = _images_list(path, _load_json(path), "Karpathy caption file")
    images: list[JsonImage] = []
    first_seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        position = f"images[{index}]"
        if not isinstance(entry, dict):
            log.add(path, None, "the entry is not an object, skipped", position)
            continue
        name = _karpathy_name(path, entry, position, log)
        if name is None:
            continue
        split = entry.get("split")
        if not isinstance(split, str) or split not in KARPATHY_SPLITS:
            log.add(path, None, 'its "split" is not train, val, test or restval; the image is '
                                "left out", position)
            continue
        if name in first_seen:
            log.add(path, None, f"{name} is listed again (first at {first_seen[name]}); "
                                "skipped", position)
            continue
        captions = _sentences(path, entry.get("sentences"), position, log)
        if not captions:
            continue
        first_seen[name] = position
        images.append(JsonImage(name, path, position, KARPATHY_SPLITS[split], tuple(captions)))
    return images


def read_coco(files: dict[str, Path], log: ProblemLog) -> list[JsonImage]:
    """The images of COCO's caption files, by folder (``train2017`` / ``val2017``), that have a
    safe name and a caption; val2017 is split into val and test as the module docstring says."""
    images: list[JsonImage] = []
    for folder, path in files.items():
        found = _coco_file(path, folder, log)
        if folder == "val2017":
            found = _halved(found)
        images += found
    return images


def safe_relative_name(parts: list[str]) -> str | None:
    """``parts`` joined with "/" when each is a plain name (no separator, not "." or "..", no
    drive), so the result cannot leave the folder it is looked up in; otherwise None."""
    for part in parts:
        if (not part or part in (".", "..") or any(c in part for c in "/\\\0")
                or (len(part) >= 2 and part[1] == ":" and part[0].isalpha())):
            return None
    return "/".join(parts)


def _load_json(path: Path):
    """The parsed file, with each sentence that has a "raw" text cut down to it as it is parsed.

    Dropping the tokens at once halves the peak memory of a COCO-sized Karpathy file and speeds
    the parse up (``benchmarks/bench_dataset_load.py``).
    """
    try:
        with path.open("rb") as handle:
            return json.load(handle, object_hook=_slim_sentence)
    except OSError as exc:
        raise DatasetError(describe_os_error(path, exc, "read")) from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text, so it is not a caption JSON file.") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg}).") from None
    except RecursionError:
        raise DatasetError(f"{path} is nested too deeply to be a caption JSON file.") from None


def _slim_sentence(obj: dict) -> dict:
    raw = obj.get("raw")
    return {"raw": raw} if isinstance(raw, str) and raw.strip() else obj


def _images_list(path: Path, data, kind: str) -> list:
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DatasetError(f'{path} is not a {kind}: it has no top-level "images" list.')
    return data["images"]


def _karpathy_name(path: Path, entry: dict, position: str, log: ProblemLog) -> str | None:
    filename, filepath = entry.get("filename"), entry.get("filepath")
    if not isinstance(filename, str) or not filename.strip():
        log.add(path, None, 'no "filename", skipped', position)
        return None
    if filepath is not None and not isinstance(filepath, str):
        log.add(path, None, 'its "filepath" is not text, skipped', position)
        return None
    parts = filepath.rstrip("/").split("/") if filepath else []
    name = safe_relative_name([*parts, filename])
    if name is None:
        shown = f"{filepath}/{filename}" if filepath else filename
        log.add(path, None, f"{shown} is not a name inside the images folder, skipped", position)
    return name


def _sentences(path: Path, sentences, position: str, log: ProblemLog) -> list[str]:
    if not isinstance(sentences, list):
        log.add(path, None, 'no "sentences" list; the image is left out', position)
        return []
    captions = []
    for number, sentence in enumerate(sentences):
        where = f"{position}.sentences[{number}]"
        raw = sentence.get("raw") if isinstance(sentence, dict) else None
        if isinstance(raw, str) and raw.strip():
            captions.append(raw.strip())
            continue
        tokens = sentence.get("tokens") if isinstance(sentence, dict) else None
        if isinstance(tokens, list) and tokens and all(isinstance(t, str) for t in tokens):
            captions.append(" ".join(tokens))
            log.add(path, None, 'no "raw" text; its "tokens" were joined instead', where)
        else:
            log.add(path, None, 'no "raw" text, skipped', where)
    if not captions:
        log.add(path, None, "the image has no caption and is left out", position)
    return captions


def _coco_file(path: Path, folder: str, log: ProblemLog) -> list[JsonImage]:
    """One COCO caption file's images under ``folder``, captions in annotation order."""
    data = _load_json(path)
    entries = _images_list(path, data, "COCO caption file")
    annotations = data.get("annotations")
    if not isinstance(annotations, list):
        raise DatasetError(f'{path} is not a COCO caption file: it has no top-level '
                           '"annotations" list.')
    named: dict[int, tuple[str, str]] = {}  # image id -> (name, position)
    unsafe: set[int] = set()  # ids of images already reported; their captions go silently
    for index, entry in enumerate(entries):
        position = f"images[{index}]"
        image_id = entry.get("id") if isinstance(entry, dict) else None
        file_name = entry.get("file_name") if isinstance(entry, dict) else None
        if not isinstance(image_id, int) or not isinstance(file_name, str):
            log.add(path, None, 'the entry has no integer "id" and "file_name", skipped',
                    position)
            continue
        name = safe_relative_name([folder, file_name])
        if name is None:
            log.add(path, None, f"{file_name} is not a name inside {folder}/, skipped", position)
            unsafe.add(image_id)
        elif image_id in named:
            log.add(path, None, f"image id {image_id} is listed again (first at "
                                f"{named[image_id][1]}); skipped", position)
        else:
            named[image_id] = (name, position)
    captions: dict[int, list[str]] = {}
    for index, annotation in enumerate(annotations):
        position = f"annotations[{index}]"
        if not isinstance(annotation, dict):
            log.add(path, None, "the entry is not an object, skipped", position)
            continue
        caption, image_id = annotation.get("caption"), annotation.get("image_id")
        if not isinstance(caption, str) or not caption.strip():
            log.add(path, None, 'no "caption" text, skipped', position)
        elif isinstance(image_id, int) and image_id in named:
            captions.setdefault(image_id, []).append(caption.strip())
        elif not (isinstance(image_id, int) and image_id in unsafe):
            log.add(path, None, f"its image_id {image_id!r} is not in the images list, skipped",
                    position)
    images = []
    for image_id, (name, position) in named.items():
        if image_id in captions:
            images.append(JsonImage(name, path, position,
                                    "train" if folder == "train2017" else "val",
                                    tuple(captions[image_id])))
        else:
            log.add(path, None, "the image has no caption and is left out", position)
    return images


def _halved(images: list[JsonImage]) -> list[JsonImage]:
    """val2017 cut into val and test by the fixed, seeded rule of the module docstring."""
    names = sorted(image.name for image in images)
    random.Random(COCO_VAL_SPLIT_SEED).shuffle(names)
    test = set(names[len(names) // 2:])
    return [replace(image, split="test" if image.name in test else "val") for image in images]
