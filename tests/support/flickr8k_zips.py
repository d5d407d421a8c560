"""Small stand-ins for the two Flickr8k archives, built from the generated sample dataset."""

from __future__ import annotations

import contextlib
import io
import stat
import struct
import zipfile
from pathlib import Path
from typing import Iterator

from desktop_captioner.core.dataset import IMAGES_DIR_NAMES, SPLIT_FILE_NAMES, TOKEN_FILE_NAME
from desktop_captioner.core.flickr8k_download import FLICKR8K_URL_ENV
from desktop_captioner.core.sample_dataset import make_sample_dataset
from tests.support.http_files import FileServer, serving

IMAGES = 12
TEXT_FILES = (TOKEN_FILE_NAME, *SPLIT_FILE_NAMES.values())


def flickr8k_zips(work: Path, text_folder: str = "") -> dict[str, bytes]:
    """``{"Flickr8k_Dataset.zip": ..., "Flickr8k_text.zip": ...}`` shaped like the real ones:
    images under ``Flicker8k_Dataset/`` plus Finder junk, the text files flat (or under
    ``text_folder``). Images are stored uncompressed, so a flipped byte fails only the CRC."""
    source = make_sample_dataset(work / "source", images=IMAGES)
    images = io.BytesIO()
    with zipfile.ZipFile(images, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{IMAGES_DIR_NAMES[0]}/", b"")
        for path in sorted((source / IMAGES_DIR_NAMES[0]).iterdir()):
            archive.write(path, f"{IMAGES_DIR_NAMES[0]}/{path.name}")
        archive.writestr(f"__MACOSX/{IMAGES_DIR_NAMES[0]}/._{path.name}", b"resource fork")
    text = io.BytesIO()
    with zipfile.ZipFile(text, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in TEXT_FILES:
            archive.write(source / name, f"{text_folder}/{name}" if text_folder else name)
        archive.writestr(f"{text_folder}/readme.txt" if text_folder else "readme.txt",
                         "stand-in for the tests")
    return {"Flickr8k_Dataset.zip": images.getvalue(), "Flickr8k_text.zip": text.getvalue()}


def damaged(zip_bytes: bytes, member_suffix: str = ".jpg") -> bytes:
    """The archive with one byte flipped inside the data of its first ``member_suffix`` member
    (the zip structure stays valid; only that member's CRC-32 fails)."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(member_suffix))
    name_length, extra_length = struct.unpack_from("<HH", zip_bytes, info.header_offset + 26)
    data_start = info.header_offset + 30 + name_length + extra_length
    flipped = bytearray(zip_bytes)
    flipped[data_start + info.compress_size // 2] ^= 0xFF
    return bytes(flipped)


def with_member(zip_bytes: bytes, name: str, data: bytes = b"x", symlink: bool = False) -> bytes:
    """The archive plus one more member ``name`` (a symbolic link to ``data`` if asked)."""
    out = io.BytesIO(zip_bytes)
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, data)
    return out.getvalue()


@contextlib.contextmanager
def serving_flickr8k(zips: dict[str, bytes], monkeypatch) -> Iterator[FileServer]:
    """A local server holding ``zips`` that ``get_flickr8k`` downloads from (via its env var)."""
    with serving() as server:
        server.files.update({f"/{name}": data for name, data in zips.items()})
        monkeypatch.setenv(FLICKR8K_URL_ENV, server.url)
        yield server
