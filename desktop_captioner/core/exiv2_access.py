"""The one gate to exiv2 (python-exiv2): a process-wide lock, exiv2's complaints collected per
call, and the caption fields read and written in one place.

Why a lock: libexiv2 keeps process-wide state (the XMP toolkit's namespace registry, which
decoding an unknown namespace writes to), so two threads parsing at once can corrupt it. The GUI
reads captions on its folder-walk thread while another thread may embed one, so every exiv2 call
runs under ``EXIV2_LOCK``. python-exiv2 releases the GIL inside open/read/write, so other Python
threads (the GUI's event loop) keep running meanwhile.

Why collect messages: exiv2 does not raise for a damaged XMP packet or an EXIF entry that runs off
its block; it logs (python-exiv2 forwards that to the ``exiv2`` logger) and carries on with what it
could read. A writer must know, or it would save the damaged block's remains over the original.

Text encodings follow the Metadata Working Group: XMP is Unicode; IPTC is UTF-8 marked by
``Iptc.Envelope.CharacterSet = ESC % G`` (without the marker we still accept valid UTF-8, else
Latin-1); EXIF ImageDescription is stored as UTF-8 (read back as UTF-8, else Latin-1).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from pathlib import Path
from typing import Iterator

import exiv2

EXIV2_LOCK = threading.Lock()

XMP_DESCRIPTION = "Xmp.dc.description"
XMP_ALT_TEXT = "Xmp.iptc.AltTextAccessibility"
IPTC_CAPTION = "Iptc.Application2.Caption"
IPTC_CHARSET = "Iptc.Envelope.CharacterSet"
EXIF_DESCRIPTION = "Exif.Image.ImageDescription"
IPTC_UTF8 = "\x1b%G"
IPTC_CAPTION_MAX_BYTES = 2000  # the IIM limit for Caption-Abstract
XMP_SIDECAR_MIME = "application/rdf+xml"

_WRITABLE = (exiv2.AccessMode.Write, exiv2.AccessMode.ReadWrite)
_DAMAGE_HINTS = ("decode XMP",)  # warnings that mean a block was dropped, not merely odd


class _Complaints(logging.Handler):
    """Keeps, for the thread inside ``exiv2_call``, exiv2's messages that report damage."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        messages = getattr(self.local, "messages", None)
        if messages is None:
            return
        text = record.getMessage().strip()
        if record.levelno >= logging.ERROR or any(hint in text for hint in _DAMAGE_HINTS):
            messages.append(text)


_complaints = _Complaints()
_exiv2_logger = logging.getLogger("exiv2")
_exiv2_logger.addHandler(_complaints)
if _exiv2_logger.level == logging.NOTSET:
    _exiv2_logger.setLevel(logging.WARNING)  # damage reports must reach the handler


@contextlib.contextmanager
def exiv2_call() -> Iterator[list[str]]:
    """Hold ``EXIV2_LOCK``; yields the list that fills with exiv2's damage reports meanwhile."""
    with EXIV2_LOCK:
        _complaints.local.messages = messages = []
        try:
            yield messages
        finally:
            _complaints.local.messages = None


def open_bytes(data: bytes) -> exiv2.Image:
    """An exiv2 image over ``data`` in memory, metadata read (call inside ``exiv2_call``).

    Working on bytes keeps exiv2 away from file names (it cannot open every non-ASCII path on
    Windows) and from the user's file: writes land in memory, and we decide where they go."""
    image = exiv2.ImageFactory.open(data)
    image.readMetadata()
    return image


def open_for_reading(path: Path) -> exiv2.Image:
    """An exiv2 image of ``path``, metadata read, reading only the parts exiv2 needs (call
    inside ``exiv2_call``). A name exiv2 cannot be given (not in the Windows ANSI code page, or
    not UTF-8 elsewhere) is read as bytes instead."""
    if not _name_passable(path):
        return open_bytes(path.read_bytes())
    image = exiv2.ImageFactory.open(str(path))
    image.readMetadata()
    return image


def _name_passable(path: Path) -> bool:
    encoding = "mbcs" if sys.platform == "win32" else "utf-8"
    try:
        str(path).encode(encoding, errors="strict")
    except UnicodeEncodeError:
        return False
    return True


def image_bytes(image: exiv2.Image) -> bytes:
    """The whole file as exiv2 holds it in memory (after ``writeMetadata``)."""
    return bytes(image.io().data())


def can_write(image: exiv2.Image, family: exiv2.MetadataId) -> bool:
    return image.checkMode(family) in _WRITABLE


def _holds(image: exiv2.Image, family: exiv2.MetadataId) -> bool:
    """Whether captions go into ``family`` of this image: an XMP sidecar holds XMP only (exiv2
    would fold EXIF and IPTC set on it into its XMP), a photo whatever its format can write."""
    if image.mimeType() == XMP_SIDECAR_MIME:
        return family == exiv2.MetadataId.Xmp
    return can_write(image, family)


def set_caption_fields(image: exiv2.Image, caption: str) -> None:
    """Put ``caption`` in every caption field the image can hold (XMP always)."""
    xmp = image.xmpData()
    xmp[XMP_DESCRIPTION] = exiv2.LangAltValue({"x-default": caption})
    xmp[XMP_ALT_TEXT] = exiv2.LangAltValue({"x-default": caption})
    if _holds(image, exiv2.MetadataId.Iptc):
        iptc = image.iptcData()
        iptc[IPTC_CHARSET] = exiv2.StringValue(IPTC_UTF8)
        iptc[IPTC_CAPTION] = exiv2.StringValue(_clip_utf8(caption, IPTC_CAPTION_MAX_BYTES))
    if _holds(image, exiv2.MetadataId.Exif):
        image.exifData()[EXIF_DESCRIPTION] = exiv2.AsciiValue(caption)


def holds_caption(image: exiv2.Image, caption: str) -> bool:
    """True when every caption field ``set_caption_fields`` writes for this format reads back
    as ``caption`` (IPTC clipped as written)."""
    fields = [xmp_text(image, XMP_DESCRIPTION) == caption, xmp_text(image, XMP_ALT_TEXT) == caption]
    if _holds(image, exiv2.MetadataId.Iptc):
        fields.append(iptc_caption(image) == _clip_utf8(caption, IPTC_CAPTION_MAX_BYTES))
    if _holds(image, exiv2.MetadataId.Exif):
        fields.append(exif_description(image) == caption)
    return all(fields)


def has_legacy_iptc_text(image: exiv2.Image) -> bool:
    """True when IPTC text besides the caption is in an undeclared, non-UTF-8 character set
    (Latin-1 from older software): marking the block UTF-8 would garble that text."""
    iptc = image.iptcData()
    if IPTC_CHARSET in iptc and _raw(iptc[IPTC_CHARSET]) == IPTC_UTF8.encode("ascii"):
        return False
    for datum in iptc:
        if datum.key() != IPTC_CAPTION and datum.typeId() == exiv2.TypeId.string:
            try:
                _raw(datum).decode("utf-8")
            except UnicodeDecodeError:
                return True
    return False


def xml_safe(text: str) -> str:
    """``text`` with the control characters XML cannot hold (all but tab, LF, CR) as spaces."""
    return text.translate(_XML_INVALID)


_XML_INVALID = {code: " " for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}


def _clip_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def xmp_text(image: exiv2.Image, key: str) -> str | None:
    """The x-default (else first) alternative of a Lang Alt XMP property, or None."""
    xmp = image.xmpData()
    if key not in xmp:
        return None
    value = xmp[key].value()
    if isinstance(value, exiv2.LangAltValue):
        alternatives = dict(value.items())
        return alternatives.get("x-default") or next(iter(alternatives.values()), None)
    return xmp[key].toString()


def iptc_caption(image: exiv2.Image) -> str | None:
    iptc = image.iptcData()
    if IPTC_CAPTION not in iptc:
        return None
    utf8 = IPTC_CHARSET in iptc and _raw(iptc[IPTC_CHARSET]) == IPTC_UTF8.encode("ascii")
    return decode_text(_raw(iptc[IPTC_CAPTION]), utf8_declared=utf8)


def exif_description(image: exiv2.Image) -> str | None:
    exif = image.exifData()
    if EXIF_DESCRIPTION not in exif:
        return None
    return decode_text(_raw(exif[EXIF_DESCRIPTION]).rstrip(b"\0"), utf8_declared=False)


def _raw(datum) -> bytes:
    return bytes(datum.value().data())


def decode_text(raw: bytes, utf8_declared: bool) -> str:
    """Bytes of a legacy text field: UTF-8 when declared or valid, else Latin-1 (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8" if utf8_declared else "latin-1", errors="replace")
