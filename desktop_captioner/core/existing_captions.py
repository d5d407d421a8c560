"""Find a caption a photo already has, where people and photo software keep them.

Order (the first non-blank one wins): the text sidecar (``a.txt`` by ``SidecarNames``), the XMP
sidecar (``a.jpg.xmp``), then inside the photo XMP ``dc:description``, IPTC ``Caption-Abstract``
and EXIF ``ImageDescription``. Text a camera writes when nobody wrote a caption ("OLYMPUS DIGITAL
CAMERA", "SONY DSC", ...) counts as no caption. The photo is opened only when no sidecar had a
caption, and exiv2 reads only its metadata blocks, so walking a 10,000-photo folder stays quick.

Safe to call from a background thread while another thread writes captions (exiv2 work runs under
``exiv2_access``'s lock), and it never raises for a damaged or unreadable file: it logs and tries
the next place, and returns ``None`` when nothing usable is found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import exiv2

from desktop_captioner.core import exiv2_access as ex
from desktop_captioner.core.metadata import xmp_sidecar_path
from desktop_captioner.core.sidecars import SidecarNames

log = logging.getLogger(__name__)

ORIGIN_XMP_SIDECAR = "XMP sidecar"
ORIGIN_XMP = "XMP dc:description"
ORIGIN_IPTC = "IPTC Caption-Abstract"
ORIGIN_EXIF = "EXIF ImageDescription"

# Written by cameras and tools, not people (compared without case or extra spaces); from the
# lists digiKam, gThumb and others ignore.
BOILERPLATE = frozenset(text.casefold() for text in (
    "OLYMPUS DIGITAL CAMERA", "SONY DSC", "DIGITAL CAMERA", "MINOLTA DIGITAL CAMERA",
    "KONICA MINOLTA DIGITAL CAMERA", "SAMSUNG DIGITAL CAMERA", "SAMSUNG",
    "KODAK DIGITAL STILL CAMERA", "EXIF_JPEG_PICTURE", "Default", "Created with GIMP",
    "LEAD Technologies Inc. V1.01", "binary comment",
))


@dataclass(frozen=True)
class ExistingCaption:
    """A caption found for a photo and, in a few words, where it was found."""

    caption: str
    origin: str  # "a.txt", "XMP sidecar", "XMP dc:description", "IPTC Caption-Abstract", ...


def read_existing_caption(image: Path, sidecar_names: SidecarNames) -> ExistingCaption | None:
    """The photo's existing caption in the module's order, or ``None``; never raises for a
    damaged or unreadable file (each such place is logged and skipped)."""
    image = Path(image)
    return (_guarded(_text_sidecar, sidecar_names.path(image))
            or _guarded(_xmp_sidecar, xmp_sidecar_path(image))
            or _guarded(_embedded, image))


def _guarded(reader: Callable[[Path], ExistingCaption | None],
             path: Path) -> ExistingCaption | None:
    """``reader(path)``, with any failure logged as that one place having no caption."""
    try:
        return reader(path)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, exiv2.Exiv2Error) as exc:
        log.warning("No caption read from %s: %s", path, exc)
    except Exception:  # a hostile file must never end a folder walk
        log.exception("No caption read from %s: unexpected failure", path)
    return None


def is_boilerplate(text: str) -> bool:
    """True for blank text and for the fixed strings cameras write in place of a caption."""
    return " ".join(text.replace("\0", " ").split()).casefold() in BOILERPLATE | {""}


def _found(text: str | None, origin: str) -> ExistingCaption | None:
    if text is None or is_boilerplate(text):
        return None
    return ExistingCaption(caption=text.strip(), origin=origin)


def _text_sidecar(path: Path) -> ExistingCaption | None:
    text = path.read_text(encoding="utf-8-sig").strip()
    return ExistingCaption(caption=text, origin=path.name) if text else None


def _xmp_sidecar(path: Path) -> ExistingCaption | None:
    data = path.read_bytes()
    with ex.exiv2_call():
        sidecar = ex.open_bytes(data)
        text = ex.xmp_text(sidecar, ex.XMP_DESCRIPTION) or ex.xmp_text(sidecar, ex.XMP_ALT_TEXT)
    return _found(text, ORIGIN_XMP_SIDECAR)


def _embedded(image: Path) -> ExistingCaption | None:
    with ex.exiv2_call():
        photo = ex.open_for_reading(image)
        return (_found(ex.xmp_text(photo, ex.XMP_DESCRIPTION), ORIGIN_XMP)
                or _found(ex.iptc_caption(photo), ORIGIN_IPTC)
                or _found(ex.exif_description(photo), ORIGIN_EXIF))
