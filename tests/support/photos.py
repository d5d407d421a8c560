"""Small generated photos and an ExifTool reader for the metadata tests."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None, reason="exiftool is not installed: the independent read-back is skipped")

PIL_FORMATS = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".webp": "WEBP", ".gif": "GIF",
               ".bmp": "BMP"}


def make_photo(path: Path, seed: int = 0, exif: Image.Exif | None = None) -> Path:
    """A 64-px noisy RGB photo in the format of ``path``'s extension (lossless where possible)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    options = {"exif": exif} if exif is not None else {}
    if path.suffix == ".webp":
        options["lossless"] = True
    Image.fromarray(pixels).save(path, PIL_FORMATS[path.suffix], **options)
    return path


def exif_with_description(text: str) -> Image.Exif:
    exif = Image.Exif()
    exif[270] = text
    return exif


def pixels(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.convert("RGB").tobytes()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exiftool_tags(path: Path) -> dict[str, object]:
    """``exiftool -j -G1 -a`` of one file, IPTC read as UTF-8."""
    out = subprocess.run([EXIFTOOL, "-j", "-G1", "-a", "-charset", "iptc=utf8", str(path)],
                         check=True, capture_output=True).stdout
    return json.loads(out.decode("utf-8"))[0]


def exiftool_set(path: Path, *assignments: str) -> None:
    """Write tags with ExifTool (to prepare photos that carry other metadata)."""
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-charset", "iptc=utf8",
                    *assignments, str(path)], check=True, capture_output=True)
