"""Atomic file writing: a crash or a full disk never leaves a half file over a good one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None,
                 newline: str | None = None,
                 permissions_of: str | os.PathLike | None = None) -> Iterator[IO]:
    """Open a temp file next to ``path``; on success fsync it and rename it over ``path``.

    The temp file lives in the destination folder so the final ``os.replace`` never crosses a
    file-system boundary (where it would stop being atomic). On any exception the temp file is
    removed and ``path`` is untouched. ``permissions_of`` names a file whose permission bits the
    new file takes (a rewritten photo keeps its own; the temp file alone would be owner-only).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if permissions_of is not None:
            shutil.copymode(permissions_of, tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (newlines written exactly as given)."""
    with atomic_write(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)
