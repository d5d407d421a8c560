"""Zip archives checked before they are unpacked: readable, every CRC right, nothing escaping.

``check_archive`` refuses the whole archive, before anything is written, when a member name is
absolute, climbs out with ``..`` or is a symbolic link; ``verify_archive`` also reads every
member so a damaged byte anywhere is found before extraction starts; ``extract_members`` writes
the members into a folder the caller made for them (a temporary one it renames when complete,
so an interrupted extraction is redone, never half used).
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Sequence

from desktop_captioner.core.errors import ArchiveError
from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter

CHUNK_BYTES = 1024 * 1024
VERIFY_PHASE = "verify"
UNPACK_PHASE = "unpack"
# Finder's resource-fork copies and folder settings: never wanted, never extracted.
JUNK_PREFIXES = ("__MACOSX/",)
JUNK_NAMES = (".DS_Store",)
_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "has an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "climbs out of the folder with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return None


def _is_junk(info: zipfile.ZipInfo) -> bool:
    return (info.filename.startswith(JUNK_PREFIXES)
            or PurePosixPath(info.filename).name in JUNK_NAMES)


def check_archive(path: Path) -> list[zipfile.ZipInfo]:
    """The members worth extracting; ``ArchiveError`` naming ``path`` when it is no zip or any
    member (junk included) could write outside the target folder."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{path} is not a readable zip archive ({exc}).") from exc
    for info in members:
        reason = _unsafe_reason(info)
        if reason:
            raise ArchiveError(f"{path} was refused: its member {info.filename!r} {reason}; "
                               f"nothing was extracted.")
    return [info for info in members if not _is_junk(info)]


def unpacked_size(members: Sequence[zipfile.ZipInfo]) -> int:
    """Bytes the members take once extracted (the sizes the archive declares)."""
    return sum(info.file_size for info in members)


def verify_archive(path: Path, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> list[zipfile.ZipInfo]:
    """``check_archive``, then read every member through so zipfile checks its CRC-32;
    ``ArchiveError`` naming the archive and the first damaged member. Progress counts bytes."""
    members = check_archive(path)
    meter = RateMeter(VERIFY_PHASE, unpacked_size(members))
    done = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    while chunk := member.read(CHUNK_BYTES):
                        done += len(chunk)
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        if progress is not None:
                            progress(meter.progress(done))
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError) as exc:
        raise ArchiveError(f"{path} is damaged: {exc}.") from exc
    return members


def extract_members(path: Path, members: Sequence[zipfile.ZipInfo], folder: Path,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> None:
    """Write ``members`` (from ``check_archive``) into ``folder``, which must be empty and the
    caller's own: on any failure it is left for the caller to delete, never used."""
    root = folder.resolve()
    meter = RateMeter(UNPACK_PHASE, unpacked_size(members))
    done = 0
    with zipfile.ZipFile(path) as archive:
        for info in members:
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root):  # check_archive refused these already
                raise ArchiveError(f"{path} was refused: its member {info.filename!r} would "
                                   f"be written outside {folder}.")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as member, open(target, "xb") as out:
                while chunk := member.read(CHUNK_BYTES):
                    out.write(chunk)
                    done += len(chunk)
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    if progress is not None:
                        progress(meter.progress(done))
