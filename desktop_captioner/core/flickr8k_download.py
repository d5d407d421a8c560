"""``get-dataset flickr8k DIR``: download the two Flickr8k archives and unpack them safely.

The archives are the ones the Brownlee tutorial links, on the ``jbrownlee/Datasets`` GitHub
release. Nobody publishes checksums for them, so what can be checked is checked: each download
is complete (its byte count), every zip member's CRC-32 is right, the expected files are in
them (``Flickr8k.token.txt`` and the split lists; JPEGs), no member can land outside ``DIR``,
and the disk has room before the download and again, exactly, before the extraction.

The archives stay in ``DIR`` under their own names (deleting them frees about 1 GB); each one
unpacks into a temporary folder inside ``DIR`` that is renamed to its final name
(``Flicker8k_Dataset/`` (sic) and ``Flickr8k_text/``) only once complete, so an interrupted
extraction is redone on the next run, never half used. Downloads resume from their ``.part``
file (``core/download.py``). A folder that already has both unpacked folders is left alone.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from desktop_captioner.core.dataset import (
    IMAGES_DIR_NAMES,
    SPLIT_FILE_NAMES,
    TEXT_DIR_NAME,
    TOKEN_FILE_NAME,
    load_dataset,
)
from desktop_captioner.core.download import DownloadError, download_file, part_path
from desktop_captioner.core.errors import ArchiveError, describe_os_error
from desktop_captioner.core.progress import CancelToken, ProgressCallback
from desktop_captioner.core.safe_zip import extract_members, unpacked_size, verify_archive

FLICKR8K_URL = "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k"
# Another folder of the same two files (a mirror, or the tests' local server).
FLICKR8K_URL_ENV = "DESKTOP_CAPTIONER_FLICKR8K_URL"
UNPACKING_PREFIX = ".unpacking-"  # + the final folder name: where an archive unpacks first
IMAGE_SUFFIXES = (".jpg", ".jpeg")


@dataclass(frozen=True)
class Flickr8kArchive:
    file_name: str  # on the server and in DIR
    folder: str  # what it unpacks to inside DIR
    required: tuple[str, ...]  # file names that must be among its members
    approx_bytes: int  # for the messages only; the server's size is what is checked


ARCHIVES = (
    Flickr8kArchive("Flickr8k_text.zip", TEXT_DIR_NAME,
                    (TOKEN_FILE_NAME, *SPLIT_FILE_NAMES.values()), 3_000_000),
    Flickr8kArchive("Flickr8k_Dataset.zip", IMAGES_DIR_NAMES[0], (), 1_100_000_000),
)

MessageCallback = Callable[[str], None]


def flickr8k_base_url() -> str:
    """The folder URL the two archives are fetched from (``FLICKR8K_URL_ENV`` overrides)."""
    return (os.environ.get(FLICKR8K_URL_ENV) or FLICKR8K_URL).rstrip("/")


def is_downloaded(target: Path) -> bool:
    """Both archives are unpacked in ``target``."""
    return all((Path(target) / archive.folder).is_dir() for archive in ARCHIVES)


def get_flickr8k(target: str | Path, *, progress: ProgressCallback | None = None,
                 message: MessageCallback | None = None,
                 cancel: CancelToken | None = None) -> Path:
    """Make ``target`` a Flickr8k dataset folder and return it (absolute): download what is
    missing (resuming), verify, unpack. Raises ``ArchiveError`` (one sentence) or
    ``Cancelled``; a cancelled or failed run keeps what it downloaded for the next one and
    deletes nothing of the user's."""
    target = Path(target).expanduser().absolute()
    say = message or (lambda text: None)
    if is_downloaded(target):
        say(f"Flickr8k is already in {target}; nothing to do.")
        return target
    base = flickr8k_base_url()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for archive in ARCHIVES:  # an interrupted run's half extraction: redone below
            shutil.rmtree(_staging(target, archive), ignore_errors=True)
    except OSError as exc:
        raise ArchiveError(describe_os_error(target, exc)) from exc
    pending = [archive for archive in ARCHIVES if not (target / archive.folder).is_dir()]
    sizes = {archive: _size_to_fetch(target, archive, base) for archive in pending}
    _check_space(target, sum(sizes.values()) + sum(_expected_unpacked(target, archive, sizes)
                                                   for archive in pending),
                 "download and unpack Flickr8k")
    for archive in pending:
        downloaded_now = not (target / archive.file_name).is_file()
        zip_path = _fetch(target, archive, base, progress, say, cancel)
        try:
            members = _verified_members(archive, zip_path, progress, say, cancel)
        except ArchiveError as exc:
            if not downloaded_now:  # the user's copy, or an earlier run's: theirs to judge
                raise ArchiveError(f"{exc} Delete it to download it again.") from exc
            zip_path.unlink(missing_ok=True)  # proven bad bytes of this run: never kept
            raise ArchiveError(f"{exc} The download was deleted.") from exc
        _unpack(target, archive, zip_path, members, progress, say, cancel)
    dataset = load_dataset(target)  # what training will read: a DatasetError if unusable
    say(f"Flickr8k is ready in {target}: {len(dataset.captions):,} captioned images.")
    return target


def _url(base: str, archive: Flickr8kArchive) -> str:
    return f"{base}/{archive.file_name}"


def _size_to_fetch(target: Path, archive: Flickr8kArchive, base: str) -> int:
    """Bytes still to download for ``archive`` (0 when its zip is already in ``target``)."""
    if (target / archive.file_name).is_file():
        return 0
    total = remote_size(_url(base, archive))
    partial = part_path(target / archive.file_name)
    have = partial.stat().st_size if partial.is_file() else 0
    return max(total - have, 0) if total else archive.approx_bytes


def _expected_unpacked(target: Path, archive: Flickr8kArchive, sizes: dict) -> int:
    """Room the unpacked files will need: about the archive's size (JPEGs do not compress)."""
    zip_path = target / archive.file_name
    if zip_path.is_file():
        return zip_path.stat().st_size
    partial = part_path(zip_path)
    return sizes[archive] + (partial.stat().st_size if partial.is_file() else 0)


def remote_size(url: str, timeout: float = 30) -> int | None:
    """The size of the file at ``url`` from a one-byte ranged GET (GitHub's signed release
    links answer GET only), or None when the server does not say; ``ArchiveError`` when the
    server cannot be reached or refuses."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_range = response.headers.get("Content-Range", "")
            length = response.headers.get("Content-Length", "")
            if response.status == 206 and "/" in content_range:
                total = content_range.rsplit("/", 1)[1]
                return int(total) if total.isdigit() else None
            return int(length) if length.isdigit() else None
    except urllib.error.HTTPError as exc:
        raise ArchiveError(f"Could not download {url}: the server answered {exc.code} "
                           f"{exc.reason}.") from exc
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        raise ArchiveError(f"Could not download {url}: could not reach the server "
                           f"({reason}).") from exc
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"Could not download {url}: {exc}.") from exc


def _check_space(folder: Path, needed: int, purpose: str) -> None:
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ArchiveError(f"{folder} has {free / 1e6:,.0f} MB free, but it takes about "
                           f"{needed / 1e6:,.0f} MB to {purpose}; free some space or choose "
                           f"another folder.")


def _fetch(target: Path, archive: Flickr8kArchive, base: str,
           progress: ProgressCallback | None, say: MessageCallback,
           cancel: CancelToken | None) -> Path:
    zip_path = target / archive.file_name
    if zip_path.is_file():
        say(f"Using {zip_path}, downloaded before.")
        return zip_path
    url = _url(base, archive)
    resuming = part_path(zip_path).is_file()
    say(f"{'Resuming' if resuming else 'Downloading'} {url}")
    try:
        return download_file(url, zip_path, md5=None, size=None, progress=progress,
                             cancel=cancel)
    except DownloadError as exc:
        raise ArchiveError(f"Could not download {url} ({exc}).") from exc


def _verified_members(archive: Flickr8kArchive, zip_path: Path,
                      progress: ProgressCallback | None, say: MessageCallback,
                      cancel: CancelToken | None) -> list[zipfile.ZipInfo]:
    say(f"Checking {zip_path.name}")
    members = verify_archive(zip_path, progress, cancel)
    _check_contents(zip_path, archive, members)
    return members


def _unpack(target: Path, archive: Flickr8kArchive, zip_path: Path,
            members: Sequence[zipfile.ZipInfo], progress: ProgressCallback | None,
            say: MessageCallback, cancel: CancelToken | None) -> None:
    _check_space(target, unpacked_size(members), f"unpack {zip_path.name}")
    say(f"Unpacking {zip_path.name} into {target / archive.folder}")
    staging = _staging(target, archive)
    try:
        staging.mkdir()
        extract_members(zip_path, members, staging, progress, cancel)
        os.rename(_single_top_folder(staging), target / archive.folder)
    except OSError as exc:
        raise ArchiveError(f"Could not unpack {zip_path}: "
                           f"{describe_os_error(target, exc)}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _staging(target: Path, archive: Flickr8kArchive) -> Path:
    """The temporary folder ``archive`` unpacks into, renamed into place once complete."""
    return target / (UNPACKING_PREFIX + archive.folder)


def _check_contents(zip_path: Path, archive: Flickr8kArchive,
                    members: Sequence[zipfile.ZipInfo]) -> None:
    """The expected files are there: the named ones, or (for the images) at least one JPEG."""
    names = {PurePosixPath(info.filename).name for info in members if not info.is_dir()}
    missing = [name for name in archive.required if name not in names]
    if not archive.required and not any(name.lower().endswith(IMAGE_SUFFIXES)
                                        for name in names):
        missing = ["any JPEG image"]
    if missing:
        raise ArchiveError(f"{zip_path} is not the Flickr8k archive expected: it lacks "
                           f"{', '.join(missing)}.")


def _single_top_folder(staging: Path) -> Path:
    """What to rename into place: the archive's one top folder, or all of it when it has
    files at the top (the text archive may have either shape)."""
    entries = list(staging.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return staging
