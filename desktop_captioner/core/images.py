"""The one image loader: every photo the app touches (training, captioning, thumbnails) comes here.

Photos from users' folders are messy: rotated by EXIF, palette or 16-bit or CMYK, animated,
half-downloaded, misnamed, or hostile (decompression bombs). Loading them in one place means one
set of rules and one error type (``ImageLoadError``, one plain sentence naming the file), so a bad
file never aborts a whole batch with a Pillow traceback. No TensorFlow here: the GUI thread uses it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop_captioner.core.errors import ImageLoadError

log = logging.getLogger(__name__)

# 120 megapixels: above any consumer camera (100 MP medium format included), far below what
# would exhaust memory. Checked from the header, before a single pixel is decoded.
MAX_IMAGE_PIXELS = 120_000_000

MIN_ENCODER_SIZE = 32

# VGG16 "caffe" preprocessing: ImageNet channel means in BGR order, no scaling.
VGG16_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)

_WHITE = (255, 255, 255)
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_TRANSPARENT_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


def load_image(path: str | os.PathLike) -> Image.Image:
    """Full-size RGB pixels, upright as the camera meant them; raises ``ImageLoadError``."""
    return _decode(Path(path), draft_size=None)


def load_thumbnail(path: str | os.PathLike, max_side: int) -> Image.Image:
    """An upright RGB image no larger than ``max_side`` on either side, decoded at reduced size
    when the format allows (JPEG), so a grid of thumbnails of 20 MP photos stays quick."""
    image = _decode(Path(path), draft_size=(max_side, max_side))
    image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return image


def image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """Upright (width, height) read from the header only, or None when the file is unreadable:
    for details shown next to a photo, where a damaged file is already reported elsewhere."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            rotated = image.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS
    except Exception:  # noqa: BLE001 - any unreadable header just means "size unknown"
        return None
    return (height, width) if rotated else (width, height)


def load_for_encoder(path: str | os.PathLike, size: int = 224) -> np.ndarray:
    """``(size, size, 3)`` float32 pixels ready for VGG16 (squashed, not cropped, like Keras'
    ``load_img(target_size=...)``, so nothing at the edges of a photo is lost)."""
    if size < MIN_ENCODER_SIZE:
        raise ValueError(f"encoder image size must be at least {MIN_ENCODER_SIZE}, not {size}")
    image = _decode(Path(path), draft_size=(size, size))
    image = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return preprocess_vgg16(np.asarray(image))


def preprocess_vgg16(rgb: np.ndarray) -> np.ndarray:
    """Keras' VGG16 ``preprocess_input`` in NumPy (RGB to BGR, minus the ImageNet means).

    Reimplemented so loading never imports TensorFlow, and as a copy because Keras' version
    overwrites float input in place.
    """
    rgb = np.asarray(rgb)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"expected RGB pixels with 3 channels last, got shape {rgb.shape}")
    return rgb[..., ::-1].astype(np.float32) - VGG16_MEAN_BGR


def _decode(path: Path, draft_size: tuple[int, int] | None) -> Image.Image:
    """Open, check, decode (at reduced size if allowed), orient and convert one file to RGB."""
    _check_path(path)
    try:
        with Image.open(path) as image:
            _refuse_bombs(path, image)
            if draft_size is not None:
                # JPEG only: decode at 1/2, 1/4 or 1/8 scale while still >= draft_size.
                image.draft(None, draft_size)
            image.load()
            _make_upright(path, image)
            return _to_rgb(image)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{path}: the image is too large to open safely ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            f"{path}: the file is not an image this app can read "
            "(unknown format, or not a picture at all)") from exc
    except PermissionError as exc:
        raise ImageLoadError(f"{path}: the file cannot be read (permission denied)") from exc
    except MemoryError as exc:
        raise ImageLoadError(f"{path}: the image is too large to fit in memory") from exc
    except (OSError, EOFError) as exc:
        if isinstance(exc, EOFError) or "truncated" in str(exc):
            raise ImageLoadError(
                f"{path}: the file is truncated "
                "(it may still be downloading or was cut short)") from exc
        raise _damaged(path, exc) from exc
    except Exception as exc:  # Pillow plugins raise many types on corrupt data
        raise _damaged(path, exc) from exc


def _check_path(path: Path) -> None:
    """Name the common non-image cases plainly before Pillow turns them into cryptic errors."""
    if path.is_symlink() and not path.exists():
        raise ImageLoadError(f"{path}: the file is a link to something that no longer exists")
    if not path.exists():
        raise ImageLoadError(f"{path}: the file does not exist")
    if path.is_dir():
        raise ImageLoadError(f"{path}: this is a folder, not an image file")
    try:
        empty = path.stat().st_size == 0
    except OSError as exc:
        raise ImageLoadError(f"{path}: the file cannot be read ({exc.strerror})") from exc
    if empty:
        raise ImageLoadError(f"{path}: the file is empty (0 bytes)")


def _refuse_bombs(path: Path, image: Image.Image) -> None:
    """Turn Pillow's decompression-bomb *warning* into a refusal, using the header only.

    Pillow raises only above twice its ``MAX_IMAGE_PIXELS`` and merely warns in between; our
    limit never exceeds Pillow's, so whatever it warned about is refused here.
    """
    limit = min(MAX_IMAGE_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_IMAGE_PIXELS)
    pixels = image.width * image.height
    if pixels > limit:
        raise ImageLoadError(
            f"{path}: the image is too large to open safely ({image.width}x{image.height} = "
            f"{pixels / 1e6:.1f} megapixels, the limit is {limit / 1e6:.1f})")


def _make_upright(path: Path, image: Image.Image) -> None:
    """Apply the EXIF orientation in place; a damaged EXIF block costs the rotation, never the
    photo (one bad PNG must not stop a batch)."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as exc:  # noqa: BLE001 - EXIF parsing raises SyntaxError, OSError, ...
        log.warning("%s: ignoring unreadable EXIF orientation (%s)", path, exc)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode to 8-bit RGB: transparency over white, 16-bit scaled down rather than clipped."""
    if image.mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image, dtype=np.float64) / 257.0
        return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in _TRANSPARENT_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _damaged(path: Path, exc: BaseException) -> ImageLoadError:
    log.debug("%s: decoding failed", path, exc_info=exc)
    return ImageLoadError(f"{path}: the file is damaged and cannot be decoded ({exc})")
