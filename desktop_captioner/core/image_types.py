"""Which files are photos, by name alone: folder scans and file dialogs need this long before any
photo is decoded, so it lives apart from the loader (``core/images.py``, Pillow and numpy)."""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def is_image_path(path: str | os.PathLike) -> bool:
    """True when the name has an image extension; no disk access, so folder scans stay fast."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS
