"""Atomic file writing: a crash or a full disk never leaves a half file over a good one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator

from desktop_captioner.core.errors import FileWriteError


def _process_umask() -> int:
    """The umask, read without changing it where the OS tells (Linux); elsewhere set and restored
    once, at import, before the app starts any thread that could create files meanwhile."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def _final_mode(path: Path) -> int:
    """The mode a replaced file keeps, or the one a plain ``open()`` would give a new file
    (``mkstemp`` makes 0600 files whatever the umask, which would hide exports from others)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None,
                 newline: str | None = None) -> Iterator[IO]:
    """Open a temp file next to ``path``; on success fsync it and rename it over ``path``.

    The temp file lives in the destination folder so the final ``os.replace`` never crosses a
    file-system boundary (where it would stop being atomic). The result has the mode of the file
    it replaces, or the umask's for a new one. On any exception the temp file is removed and
    ``path`` is untouched. Any ``OSError`` (full disk, no permission, a folder in the way ...)
    comes out as a ``FileWriteError`` whose message names ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise FileWriteError.from_os_error(path, exc) from exc
    try:
        os.chmod(tmp_name, _final_mode(path))
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and not isinstance(exc, FileWriteError):
            raise FileWriteError.from_os_error(path, exc) from exc
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (newlines written exactly as given)."""
    with atomic_write(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)
