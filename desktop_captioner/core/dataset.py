"""Caption datasets on disk: the original Flickr8k layout and the Kaggle copy, as one ``Dataset``.

Loading only checks which image files exist; it never decodes them, so inspecting the 8,091
Flickr8k images takes well under a second and can run on the GUI thread. Quirks of real-world
copies are collected as problems rather than raised: only a folder that cannot be used at all
(no captions file, no images, nothing captioned on disk) raises ``DatasetError``.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop_captioner.core.dataset_readers import (CaptionLine, Problem, ProblemLog,
                                                    read_kaggle_captions, read_text_lines,
                                                    read_token_file)
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


@dataclass
class Dataset:
    """A usable dataset: captions of the images that exist, their splits, and what was odd."""

    layout: str  # "flickr8k" | "kaggle"
    root: Path
    images_dir: Path
    captions: dict[str, list[str]]  # image file name -> its captions (only images on disk)
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


def load_dataset(root: str | Path, seed: int = 0) -> Dataset:
    """Detect the layout of ``root`` and load it; ``seed`` drives the split when no official one."""
    try:
        root = Path(root).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python 3.11)
        raise DatasetError(f"{root} cannot be opened: {exc}.") from None
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder.")
    layout, captions_file = _find_captions_file(root)
    images_dir = _find_images_dir(root)
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
        _report_missing(captions_file, images_dir, missing, all_captions, first_lines, log)
    captions = {name: all_captions[name] for name in sorted(all_captions) if name in on_disk}
    if not captions:
        raise DatasetError(f"None of the images captioned in {captions_file} "
                           f"is in {images_dir}.")
    orphans = sorted(on_disk - captions.keys())
    if orphans:
        log.add(images_dir, None, f"{_plural(len(orphans), 'image')} on disk "
                                  f"{'has' if len(orphans) == 1 else 'have'} no caption "
                                  f"and will not be used, e.g. {orphans[0]}")

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
    token_file = _find_text_file(root, TOKEN_FILE_NAME)
    if token_file is not None:
        return "flickr8k", token_file
    if (root / KAGGLE_CAPTIONS_NAME).is_file():
        return "kaggle", root / KAGGLE_CAPTIONS_NAME
    raise DatasetError(f"{root} has no captions file ({TOKEN_FILE_NAME} in the folder or in "
                       f"{TEXT_DIR_NAME}/, or a Kaggle-style {KAGGLE_CAPTIONS_NAME}).")


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
                    captions: dict[str, list[str]], first_lines: dict[str, int],
                    log: ProblemLog) -> None:
    count = sum(len(captions[name]) for name in missing)
    log.add(captions_file, first_lines[missing[0]],
            f"{_plural(count, 'caption')} name {_plural(len(missing), 'image')} that "
            f"{'is' if len(missing) == 1 else 'are'} not in {images_dir.name}/ and will not be "
            f"used, e.g. {missing[0]}")


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
