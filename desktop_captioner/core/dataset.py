"""Caption datasets on disk as one ``Dataset``: the original Flickr8k layout, the Kaggle copy,
Karpathy's split files and COCO 2017's caption files (the last two read by ``dataset_json``).

A dataset is named by its folder, or by a Karpathy/COCO JSON file itself. A folder is read as
Flickr8k or Kaggle when it holds their captions file, else as Karpathy when it holds one
``dataset_*.json``, else as COCO when it holds ``annotations/captions_{train,val}2017.json``.
The images folder is looked for beside the captions, or given (``images=``, ``--images``).

Loading only checks which image files exist (one listing per folder); it never decodes them, so
inspecting the 8,091 Flickr8k images takes well under a second and can run on the GUI thread.
Quirks of real-world copies are collected as problems rather than raised: only a dataset that
cannot be used at all (no captions file, no images, nothing captioned on disk) raises
``DatasetError``.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop_captioner.core.dataset_json import (
    COCO_ANNOTATIONS_DIR,
    COCO_FILES,
    JsonImage,
    read_coco,
    read_karpathy,
)
from desktop_captioner.core.dataset_readers import (
    CaptionLine,
    Problem,
    ProblemLog,
    read_kaggle_captions,
    read_text_lines,
    read_token_file,
)
from desktop_captioner.core.errors import DatasetError, describe_os_error, os_error_reason
from desktop_captioner.core.image_types import is_image_path

__all__ = ["Dataset", "Problem", "load_dataset", "seeded_split", "SPLIT_NAMES",
           "IMAGES_DIR_NAMES", "TOKEN_FILE_NAME", "KAGGLE_CAPTIONS_NAME", "SPLIT_FILE_NAMES"]

# "Flicker8k_Dataset" is the real archive's spelling; the others are common renamings.
IMAGES_DIR_NAMES = ("Flicker8k_Dataset", "Flickr8k_Dataset", "Images", "images")
TEXT_DIR_NAME = "Flickr8k_text"
TOKEN_FILE_NAME = "Flickr8k.token.txt"
KAGGLE_CAPTIONS_NAME = "captions.txt"
SPLIT_NAMES = ("train", "val", "test")
SPLIT_FILE_NAMES = {"train": "Flickr_8k.trainImages.txt", "val": "Flickr_8k.devImages.txt",
                    "test": "Flickr_8k.testImages.txt"}
KARPATHY_GLOB = "dataset_*.json"
# Where the images are looked for below the dataset folder, first match wins ("" is the folder
# itself, where COCO's train2014/, val2014/, train2017/ and val2017/ usually are).
KARPATHY_IMAGES_DIR_NAMES = ("", "images", "Images", "Flicker8k_Dataset", "Flickr8k_Dataset",
                             "flickr30k-images", "flickr30k_images")
COCO_IMAGES_DIR_NAMES = ("", "images")


@dataclass
class Dataset:
    """A usable dataset: captions of the images that exist, their splits, and what was odd."""

    layout: str  # "flickr8k" | "kaggle" | "karpathy" | "coco"
    root: Path
    images_dir: Path
    # image name below images_dir ("x.jpg", "train2014/x.jpg") -> its captions (images on disk)
    captions: dict[str, list[str]]
    splits: dict[str, list[str]]  # "train" / "val" / "test" -> sorted image names
    missing_images: int  # distinct names captioned but not on disk
    orphan_images: int  # images on disk without a caption
    problems: list[Problem]

    def image_path(self, name: str) -> Path:
        return self.images_dir / name

    def summary(self) -> dict:
        """The ``inspect --json`` object (a stable, documented shape other tools may parse)."""
        return {
            "layout": self.layout,
            "root": str(self.root),
            "images": len(self.captions),
            "captions": sum(len(texts) for texts in self.captions.values()),
            "missing_images": self.missing_images,
            "orphan_images": self.orphan_images,
            "splits": {name: len(self.splits[name]) for name in SPLIT_NAMES},
            "problems": [asdict(problem) for problem in self.problems],
        }


def load_dataset(source: str | Path, seed: int = 0, images: str | Path | None = None) -> Dataset:
    """Load the dataset folder or caption JSON file ``source``; ``images`` is its images folder
    when not found beside the captions; ``seed`` drives the split when there is no official one.
    """
    path = _resolved(source)
    images_dir = None if images is None else _resolved(images)
    if images_dir is not None and not images_dir.is_dir():
        raise DatasetError(f"The images folder {images_dir} is not a folder.")
    if path.is_file() and path.suffix.lower() == ".json":
        layout, root = _json_layout_of(path)
        return _load_json_layout(layout, root, path, images_dir)
    if not path.is_dir():
        raise DatasetError(f"{path} is not a folder (nor a Karpathy or COCO caption JSON file).")
    root = path
    layout, captions_file = _find_captions_file(root)
    if layout in ("karpathy", "coco"):
        return _load_json_layout(layout, root, captions_file, images_dir)
    images_dir = images_dir or _find_images_dir(root)
    log = ProblemLog()
    on_disk = _image_names(images_dir, log)
    if not on_disk:
        raise DatasetError(f"The images folder {images_dir} contains no image files.")

    read = read_token_file if layout == "flickr8k" else read_kaggle_captions
    lines = read(captions_file, log)
    if not lines:
        raise DatasetError(f"{captions_file} contains no captions.")
    all_captions, first_lines = _group_captions(lines)

    missing = [name for name in all_captions if name not in on_disk]
    if missing:
        _report_missing(captions_file, images_dir, missing, all_captions, first_lines[missing[0]],
                        log)
    captions = {name: all_captions[name] for name in sorted(all_captions) if name in on_disk}
    if not captions:
        raise DatasetError(f"None of the images captioned in {captions_file} "
                           f"is in {images_dir}.")
    orphans = sorted(on_disk - captions.keys())
    _report_orphans(images_dir, orphans, log)

    splits = _official_splits(root, captions, log) if layout == "flickr8k" else None
    return Dataset(layout=layout, root=root, images_dir=images_dir, captions=captions,
                   splits=splits or seeded_split(captions, seed),
                   missing_images=len(missing), orphan_images=len(orphans),
                   problems=log.problems())


def seeded_split(names, seed: int = 0) -> dict[str, list[str]]:
    """Split image names 80/10/10 into train/val/test, deterministically for a given seed.

    The split is by image, so all captions of an image land in the same split and the scores on
    val/test measure pictures the model has never seen. Any dataset of 3+ images gets at least
    one validation and one test image, so training can always report a held-out score.
    """
    shuffled = sorted(names)
    random.Random(seed).shuffle(shuffled)
    held_out = max(1, len(shuffled) // 10) if len(shuffled) >= 3 else 0
    return {"val": sorted(shuffled[:held_out]),
            "test": sorted(shuffled[held_out:2 * held_out]),
            "train": sorted(shuffled[2 * held_out:])}


def _find_text_file(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / TEXT_DIR_NAME / name):
        if candidate.is_file():
            return candidate
    return None


def _find_captions_file(root: Path) -> tuple[str, Path]:
    """The layout of the folder ``root`` and its captions file (for COCO, the folder itself)."""
    token_file = _find_text_file(root, TOKEN_FILE_NAME)
    if token_file is not None:
        return "flickr8k", token_file
    if (root / KAGGLE_CAPTIONS_NAME).is_file():
        return "kaggle", root / KAGGLE_CAPTIONS_NAME
    karpathy = sorted(path for path in root.glob(KARPATHY_GLOB) if path.is_file())
    if len(karpathy) > 1:
        raise DatasetError(f"{root} holds several Karpathy caption files "
                           f"({', '.join(path.name for path in karpathy)}); give the one to use "
                           "instead of the folder.")
    if karpathy:
        return "karpathy", karpathy[0]
    if any((root / COCO_ANNOTATIONS_DIR / name).is_file() for name in COCO_FILES.values()):
        return "coco", root
    raise DatasetError(f"{root} has no captions file ({TOKEN_FILE_NAME} in the folder or in "
                       f"{TEXT_DIR_NAME}/, a Kaggle-style {KAGGLE_CAPTIONS_NAME}, a Karpathy "
                       f"{KARPATHY_GLOB} or COCO's {COCO_ANNOTATIONS_DIR}/"
                       f"{COCO_FILES['train2017']}).")


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python 3.11)
        raise DatasetError(f"{path} cannot be opened: {exc}.") from None


def _json_layout_of(path: Path) -> tuple[str, Path]:
    """A caption JSON file given by itself: COCO's files (by name) stand for their whole dataset
    folder, the parent of ``annotations/``; any other JSON is a Karpathy file."""
    if path.name in COCO_FILES.values():
        folder = path.parent
        return "coco", folder.parent if folder.name == COCO_ANNOTATIONS_DIR else folder
    return "karpathy", path.parent


def _load_json_layout(layout: str, root: Path, source: Path, images_dir: Path | None
                      ) -> Dataset:
    """A Karpathy (``source`` is its JSON) or COCO (``root`` holds ``annotations/``) dataset."""
    log = ProblemLog()
    if layout == "karpathy":
        listed = read_karpathy(source, log)
        candidates = [root / name for name in KARPATHY_IMAGES_DIR_NAMES]
    else:
        source = root / COCO_ANNOTATIONS_DIR
        files = {folder: source / name for folder, name in COCO_FILES.items()}
        for folder, path in list(files.items()):
            if not path.is_file():
                log.add(path, None, f"the file is missing, so {folder}/ is left out")
                del files[folder]
        listed = read_coco(files, log)
        candidates = [root / name for name in COCO_IMAGES_DIR_NAMES]
    if not listed:
        raise DatasetError(f"{source} contains no usable captions.")
    images_dir, on_disk = _json_images_dir(source, [images_dir] if images_dir else candidates,
                                           listed, log)
    missing = [image for image in listed if image.name not in on_disk]
    if missing:
        _report_missing(missing[0].file, images_dir, [image.name for image in missing],
                        {image.name: image.captions for image in missing}, None, log,
                        position=missing[0].position)
    captions = {image.name: list(image.captions) for image in sorted(
        (image for image in listed if image.name in on_disk), key=lambda image: image.name)}
    orphans = sorted(on_disk - captions.keys())
    _report_orphans(images_dir, orphans, log)
    splits: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    for image in listed:
        if image.name in captions:
            splits[image.split].append(image.name)
    return Dataset(layout=layout, root=root, images_dir=images_dir, captions=captions,
                   splits={name: sorted(members) for name, members in splits.items()},
                   missing_images=len(missing), orphan_images=len(orphans),
                   problems=log.problems())


def _json_images_dir(source: Path, candidates: list[Path], listed: list[JsonImage],
                     log: ProblemLog) -> tuple[Path, set[str]]:
    """The first candidate folder holding any listed image, and the image names on disk below
    it in the folders the names point into (one listing per folder, nothing else is read)."""
    folders = sorted({image.name.rpartition("/")[0] for image in listed})
    names = {image.name for image in listed}
    for candidate in candidates:
        if not candidate.is_dir():
            continue
        on_disk = set()
        for folder in folders:
            if (candidate / folder).is_dir():
                prefix = f"{folder}/" if folder else ""
                on_disk.update(prefix + name for name in _image_names(candidate / folder, log))
        if not on_disk.isdisjoint(names):
            return candidate, on_disk
    if len(candidates) == 1:
        raise DatasetError(f"None of the images captioned in {source} is in {candidates[0]}.")
    raise DatasetError(f"None of the images captioned in {source} is in {candidates[0]} or its "
                       f"{', '.join(c.name + '/' for c in candidates[1:])} folders; give the "
                       "images folder with --images.")


def _find_images_dir(root: Path) -> Path:
    for name in IMAGES_DIR_NAMES:
        if (root / name).is_dir():
            return root / name
    raise DatasetError(f"{root} has no images folder (expected one of "
                       f"{', '.join(IMAGES_DIR_NAMES)}).")


def _image_names(images_dir: Path, log: ProblemLog) -> set[str]:
    """Names of the image files directly in ``images_dir`` (existence only, nothing decoded).

    An entry that cannot be looked at (a symbolic link loop, a link into an unreadable folder)
    is a problem in ``log``, not a crash; a folder that cannot be listed is a ``DatasetError``.
    """
    names = set()
    try:
        with os.scandir(images_dir) as entries:
            for entry in entries:
                if not is_image_path(entry.name):
                    continue
                try:
                    if entry.is_file():
                        names.add(entry.name)
                except OSError as exc:
                    log.add(images_dir / entry.name, None,
                            f"cannot be read ({os_error_reason(exc)}); left out")
    except OSError as exc:
        raise DatasetError(describe_os_error(images_dir, exc, "read")) from None
    return names


def _group_captions(lines: list[CaptionLine]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Captions per image in file order, and the line where each image is first named."""
    captions: dict[str, list[str]] = {}
    first_lines: dict[str, int] = {}
    for item in lines:
        captions.setdefault(item.image, []).append(item.caption)
        first_lines.setdefault(item.image, item.line)
    return captions, first_lines


def _report_missing(captions_file: Path, images_dir: Path, missing: list[str],
                    captions: dict, first_line: int | None, log: ProblemLog,
                    position: str | None = None) -> None:
    count = sum(len(captions[name]) for name in missing)
    log.add(captions_file, first_line,
            f"{_plural(count, 'caption')} name {_plural(len(missing), 'image')} that "
            f"{'is' if len(missing) == 1 else 'are'} not in {images_dir.name}/ and will not be "
            f"used, e.g. {missing[0]}", position)


def _report_orphans(images_dir: Path, orphans: list[str], log: ProblemLog) -> None:
    if orphans:
        log.add(images_dir, None, f"{_plural(len(orphans), 'image')} on disk "
                                  f"{'has' if len(orphans) == 1 else 'have'} no caption "
                                  f"and will not be used, e.g. {orphans[0]}")


def _official_splits(root: Path, captions: dict[str, list[str]], log: ProblemLog
                     ) -> dict[str, list[str]] | None:
    """The official split files' images that are usable, or None when the files are not all there.

    An image listed twice keeps its first split, so no image is ever both trained and tested on.
    """
    files = {split: _find_text_file(root, SPLIT_FILE_NAMES[split]) for split in SPLIT_NAMES}
    found = [SPLIT_FILE_NAMES[split] for split in SPLIT_NAMES if files[split]]
    if not found:
        return None
    if len(found) < len(SPLIT_NAMES):
        absent = [SPLIT_FILE_NAMES[split] for split in SPLIT_NAMES if not files[split]]
        log.add(root, None, f"found {', '.join(found)} but not {', '.join(absent)}, "
                            "so a seeded 80/10/10 split was used instead")
        return None
    splits: dict[str, list[str]] = {}
    assigned: set[str] = set()
    for split in SPLIT_NAMES:
        path = files[split]
        kept, unusable, repeated = [], [], []
        for number, name in read_text_lines(path, log):
            if name not in captions:
                unusable.append((number, name))
            elif name in assigned:
                repeated.append((number, name))
            else:
                kept.append(name)
                assigned.add(name)
        if unusable:
            log.add(path, unusable[0][0], f"{_plural(len(unusable), 'listed image')} "
                                          f"{'is' if len(unusable) == 1 else 'are'} not a "
                                          f"captioned image on disk and left out of the split, "
                                          f"e.g. {unusable[0][1]}")
        if repeated:
            log.add(path, repeated[0][0], f"{_plural(len(repeated), 'listed image')} "
                                          f"{'was' if len(repeated) == 1 else 'were'} already "
                                          f"listed in a split and kept only in the first, "
                                          f"e.g. {repeated[0][1]}")
        splits[split] = sorted(kept)
    return splits


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
