"""Write a caption where photo software looks: an XMP sidecar (default) or the photo itself.

Fields: XMP ``dc:description`` and ``Iptc4xmpCore:AltTextAccessibility`` (x-default), IPTC
``Caption-Abstract`` (UTF-8, CharacterSet marked) and EXIF ``ImageDescription`` (UTF-8, as the
MWG says), each where the format can hold it (WebP has no IPTC; a sidecar is XMP only).

- ``xmp``: ``photo.jpg`` -> ``photo.jpg.xmp`` (digiKam's and darktable's name), merged into an
  existing sidecar; the photo is never opened for writing.
- ``embed``: exiv2 rewrites files in place (not atomic), so it works on the photo's bytes in
  memory instead; the result is read back, then saved through ``atomic`` over the photo, unless
  the photo changed meanwhile. Pixels and all other metadata are left as exiv2 found them.

Every failure is a ``MetadataError`` naming the file; the original is then untouched.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import exiv2

from desktop_captioner.core import exiv2_access as ex
from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.errors import CaptionerError, os_error_reason
from desktop_captioner.core.metadata_modes import METADATA_MODES, MODE_XMP
from desktop_captioner.core.text import clean_caption

XMP_SIDECAR_SUFFIX = ".xmp"


class MetadataError(CaptionerError):
    """A caption that could not be written to a photo or its sidecar (one sentence, the file)."""


@dataclass(frozen=True)
class _Stamp:
    """Size and modification time: a file whose stamp changed was written by someone else."""

    size: int
    mtime_ns: int


def xmp_sidecar_path(image: Path) -> Path:
    """``photo.jpg`` -> ``photo.jpg.xmp``."""
    image = Path(image)
    return image.with_name(image.name + XMP_SIDECAR_SUFFIX)


def write_caption_metadata(image: Path, caption: str, mode: str) -> Path:
    """Write ``caption`` into ``image``'s XMP sidecar or, in ``embed`` mode, into the photo.

    The caption is written as one clean line (``text.clean_caption``). Returns the file
    written. Raises ``MetadataError`` for any problem with the files and ``ValueError`` for a
    mode not in ``METADATA_MODES`` or an empty caption (a caller's bug)."""
    if mode not in METADATA_MODES:
        raise ValueError(f"metadata mode {mode!r} is not one of {', '.join(METADATA_MODES)}")
    caption = ex.xml_safe(clean_caption(caption))
    if not caption.strip():
        raise ValueError("an empty caption is not written to metadata")
    image = Path(image)
    if not image.is_file():
        raise MetadataError(f"{image} does not exist.")
    if mode == MODE_XMP:
        return _write_sidecar(image, caption)
    return _embed(image, caption)


def _write_sidecar(image: Path, caption: str) -> Path:
    sidecar = xmp_sidecar_path(image)
    _require_writable_folder(sidecar)
    stamp = None
    existing = b""
    if sidecar.exists():
        _require_writable_file(sidecar, "XMP sidecar")
        stamp = _stamp(sidecar)
        existing = _read(sidecar, "XMP sidecar")
    packet = _sidecar_packet(sidecar, existing, caption)
    _save(sidecar, packet, stamp, "XMP sidecar")
    return sidecar


def _sidecar_packet(sidecar: Path, existing: bytes, caption: str) -> bytes:
    """exiv2's XMP sidecar text: ``existing``'s properties plus the caption fields."""
    with ex.exiv2_call() as complaints:
        fresh = exiv2.ImageFactory.create(exiv2.ImageType.xmp)
        if existing:
            try:
                old = ex.open_bytes(existing)
            except exiv2.Exiv2Error:
                old = None
            if old is None or old.mimeType() != ex.XMP_SIDECAR_MIME or complaints:
                raise MetadataError(f"{sidecar} is not an XMP sidecar exiv2 can read (not XMP "
                                    f"XML, or damaged); it was left as it is.")
            fresh.setXmpData(old.xmpData())
        ex.set_caption_fields(fresh, caption)
        fresh.writeMetadata()
        packet = ex.image_bytes(fresh)
        if not ex.holds_caption(ex.open_bytes(packet), caption):
            raise MetadataError(f"{sidecar}: the caption did not read back after writing; the "
                                f"sidecar was left as it was.")
        return packet


def _embed(image: Path, caption: str) -> Path:
    real = image.resolve()  # a symbolic link stays one: the file it points to gets the caption
    _require_writable_file(real, "photo")
    _require_writable_folder(real)
    stamp = _stamp(real)
    updated = _embedded_copy(image, _read(real, "photo"), caption)
    _save(real, updated, stamp, "photo")
    return image


def _embedded_copy(image: Path, original: bytes, caption: str) -> bytes:
    """The photo's bytes with the caption fields set, checked by reading them back."""
    with ex.exiv2_call() as complaints:
        try:
            photo = ex.open_bytes(original)
        except exiv2.Exiv2Error as exc:
            raise MetadataError(f"{image} cannot be read by exiv2 ({_reason(exc)}); the caption "
                                f"was not embedded.") from None
        if complaints:
            raise MetadataError(f"{image} has damaged metadata ({complaints[0].rstrip('.')}); "
                                f"the caption was not embedded, to keep the rest intact.")
        if not ex.can_write(photo, exiv2.MetadataId.Xmp):
            raise MetadataError(f"{image} cannot hold embedded captions (exiv2 cannot write "
                                f"{photo.mimeType()} files); use XMP sidecars.")
        if ex.can_write(photo, exiv2.MetadataId.Iptc) and ex.has_legacy_iptc_text(photo):
            raise MetadataError(f"{image} has IPTC text in an older character set that marking "
                                f"it UTF-8 would garble; the caption was not embedded (use XMP "
                                f"sidecars).")
        ex.set_caption_fields(photo, caption)
        try:
            photo.writeMetadata()
            updated = ex.image_bytes(photo)
            check = ex.open_bytes(updated)
        except exiv2.Exiv2Error as exc:
            raise MetadataError(f"{image}: exiv2 could not write its metadata "
                                f"({_reason(exc)}); the photo was left as it is.") from None
        if complaints or not ex.holds_caption(check, caption):
            raise MetadataError(f"{image}: the caption did not read back after writing; the "
                                f"photo was left as it is.")
        return updated


def _save(target: Path, data: bytes, stamp: _Stamp | None, what: str) -> None:
    """Write ``data`` over ``target`` atomically (it keeps its permissions), unless ``target``
    changed since ``stamp`` (``None``: it did not exist, and must still not)."""
    try:
        with atomic_write(target, "wb") as handle:
            handle.write(data)
            if _current_stamp(target) != stamp:
                raise MetadataError(f"{target} changed on disk while its caption was being "
                                    f"written; it was left as the other program wrote it.")
    except OSError as exc:
        raise MetadataError(f"The {what} {target} could not be written: "
                            f"{os_error_reason(exc)}.") from None


def _current_stamp(path: Path) -> _Stamp | None:
    try:
        return _stamp(path)
    except FileNotFoundError:
        return None


def _stamp(path: Path) -> _Stamp:
    info = path.stat()
    return _Stamp(size=info.st_size, mtime_ns=info.st_mtime_ns)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"The {what} {path} cannot be read: {exc.strerror or exc}.") from None


def _require_writable_file(path: Path, what: str) -> None:
    """Refuse a file marked read-only. Checked from the mode bits as well as ``os.access``
    because an administrator (root) may write anything: read-only is the owner's wish."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise MetadataError(f"The {what} {path} cannot be read: {exc.strerror or exc}.") from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise MetadataError(f"The {what} {path} is read-only; its caption was not written.")


def _require_writable_folder(path: Path) -> None:
    """The folder must take a new file (temp + rename), by its mode bits and ``os.access``."""
    folder = path.parent
    try:
        info = folder.stat()
    except OSError as exc:
        raise MetadataError(f"The folder of {path} cannot be used: "
                            f"{exc.strerror or exc}.") from None
    if not stat.S_ISDIR(info.st_mode):
        raise MetadataError(f"{folder} is not a folder, so {path.name} cannot be written there.")
    writable = info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if not writable or not os.access(folder, os.W_OK | os.X_OK):
        raise MetadataError(f"The folder {folder} is read-only; the caption of {path.name} "
                            f"was not written.")


def _reason(exc: exiv2.Exiv2Error) -> str:
    """exiv2's message without its error code."""
    message = exc.args[-1] if exc.args and isinstance(exc.args[-1], str) else str(exc)
    return message.rstrip(".")
