"""Exports written batch by batch while captioning runs, so an interruption loses no finished row.

``.csv`` and ``.jsonl`` targets: the first batch (after the CSV header) is written to a temp file
next to the target, fsynced and renamed over it (``atomic.py``), so an old file is only ever
replaced by a valid one; each later batch is appended with one write and fsynced. A reader, or
``caption --resume`` after a ``kill -9``, finds complete rows only; the one exception, a last line
cut off because the system died inside a write, is recognised by ``resume.py``.

``.json`` targets are one JSON array, which cannot be appended to and stay valid, so every batch
rewrites the whole array atomically: at any moment the file is a valid array of the rows done so
far. That rewrite grows with the run; JSON Lines (``.jsonl``) is the streaming format for long runs.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Sequence

from desktop_captioner.core.atomic import atomic_write_bytes
from desktop_captioner.core.errors import FileWriteError, describe_os_error
from desktop_captioner.core.export import csv_text, jsonl_text, write_csv, write_json, write_jsonl
from desktop_captioner.core.results import CaptionResult

CSV, JSON, JSONL = "csv", "json", "jsonl"


class ExportTargetError(FileWriteError):
    """An export file that cannot be written (checked before any captioning starts)."""

# Device and process files (``/dev/stdout``, ``/proc/self/fd/1``): an export renames a finished
# temp file over its target, which would replace the device's name rather than write to it.
_SPECIAL_FOLDERS = ("dev", "proc")


def json_format(path: str | Path) -> str:
    """The format ``--json PATH`` writes: JSON Lines for a ``.jsonl`` name, else a JSON array."""
    return JSONL if Path(path).suffix.lower() == ".jsonl" else JSON


def check_export_target(path: str | Path) -> None:
    """Raise ``ExportTargetError`` unless ``path`` can be written: a regular file or a new name
    in a folder that takes new files (not a folder, a device such as ``/dev/stdout``, a name
    too long for the file system, ...)."""
    path = Path(path)
    if _is_special(path):
        raise ExportTargetError(f"Cannot write {path}: it is a device or system file, not a "
                                f"regular file; name a file to write the results to.")
    folder = path.parent
    try:
        if not stat.S_ISDIR(os.stat(folder).st_mode):
            raise ExportTargetError(f"Cannot write {path}: its folder {folder} is not a folder.")
    except (FileNotFoundError, NotADirectoryError):
        raise ExportTargetError(f"Cannot write {path}: its folder {folder} does not "
                                f"exist.") from None
    except OSError as exc:
        raise ExportTargetError(describe_os_error(path, exc)) from None
    try:
        status = os.stat(path)
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise ExportTargetError(describe_os_error(path, exc)) from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise ExportTargetError(f"Cannot write {path}: it is a folder.")
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise ExportTargetError(f"Cannot write {path}: it is not a regular file.")
    if status is not None and not os.access(path, os.W_OK):
        raise ExportTargetError(f"Cannot write {path}: the file is read-only.")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise ExportTargetError(describe_os_error(path, exc)) from None
    os.close(handle)
    os.unlink(probe)


def _is_special(path: Path) -> bool:
    """True for a path in ``/dev`` or ``/proc``, named so or reached through a link."""
    if os.name != "posix":
        return False
    named = Path(os.path.abspath(path))
    return any(candidate.parts[1:2] and candidate.parts[1] in _SPECIAL_FOLDERS
               for candidate in (named, named.parent.resolve() / named.name))


def write_whole_export(results: Sequence[CaptionResult], path: str | Path,
                       fmt: str) -> Path:
    """Write a whole export atomically in one of the formats (``CSV``, ``JSON``, ``JSONL``)."""
    writer = {CSV: write_csv, JSON: write_json, JSONL: write_jsonl}[fmt]
    return writer(results, path)


class StreamingExport:
    """One export target, written a batch at a time; use as a context manager.

    ``write`` each finished batch, then ``finish`` (which also writes a run with no rows, as a
    header-only CSV, an empty JSON Lines file or ``[]``). Leaving the ``with`` block without
    ``finish`` (an error, Ctrl+C) keeps every batch already written and nothing else.
    """

    def __init__(self, path: str | Path, fmt: str) -> None:
        if fmt not in (CSV, JSON, JSONL):
            raise ValueError(f"unknown export format {fmt!r}")
        self.path = Path(path)
        self.fmt = fmt
        self.rows = 0
        self._started = False
        self._append_fd: int | None = None
        self._all: list[CaptionResult] = []  # JSON arrays are rewritten whole

    def __enter__(self) -> "StreamingExport":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, results: Sequence[CaptionResult]) -> None:
        """Put one finished batch on disk (fsynced) before returning; a ``FileWriteError``
        naming the file when the system refuses (full disk, ...)."""
        try:
            self._write(results)
        except FileWriteError:
            raise
        except OSError as exc:
            raise FileWriteError.from_os_error(self.path, exc) from exc
        self._started = True
        self.rows += len(results)

    def _write(self, results: Sequence[CaptionResult]) -> None:
        if self.fmt == JSON:
            self._all.extend(results)
            write_json(self._all, self.path)
        elif not self._started:
            text = csv_text(results) if self.fmt == CSV else jsonl_text(results)
            atomic_write_bytes(self.path, text.encode("utf-8"))
            self._append_fd = os.open(self.path, os.O_WRONLY | os.O_APPEND
                                      | getattr(os, "O_BINARY", 0))
        else:
            text = csv_text(results, header=False) if self.fmt == CSV else jsonl_text(results)
            self._append(text.encode("utf-8"))

    def finish(self) -> Path:
        """End the run: make sure the file exists even with no rows, and close it."""
        if not self._started:
            self.write([])
        self.close()
        return self.path

    def rewrite(self, results: Sequence[CaptionResult]) -> Path:
        """Replace the whole file atomically with ``results`` (a resumed run put in input order)."""
        self.close()
        self.rows = len(results)
        return write_whole_export(results, self.path, self.fmt)

    def close(self) -> None:
        if self._append_fd is not None:
            os.close(self._append_fd)
            self._append_fd = None

    def _append(self, data: bytes) -> None:
        """One ``write`` (looped only if the system writes less), then fsync: a batch is on disk
        whole when this returns."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._append_fd, view):]  # type: ignore[arg-type]
        os.fsync(self._append_fd)
