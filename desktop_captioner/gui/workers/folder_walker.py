"""Turn dropped/chosen files and folders into image paths without blocking the GUI thread.

The walk runs in a pool thread and delivers paths in chunks (queued signals), so the model inserts
a few hundred rows at a time and the event loop keeps turning between chunks, even for a folder of
10,000 photos on a slow network share. The same thread reads each photo's existing caption (its
.txt or XMP sidecar, its embedded metadata), so a row arrives with its caption: it is never
listed as uncaptioned first, and the file reads never touch the GUI thread.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generator, Iterable, Iterator

from PySide6.QtCore import QObject, QThreadPool, Signal

from desktop_captioner.core.errors import Cancelled, describe_failure
from desktop_captioner.core.image_types import is_image_path
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.core.sidecars import SidecarNames
from desktop_captioner.gui.workers.pool_job import run_in_pool

if TYPE_CHECKING:
    from desktop_captioner.core.existing_captions import ExistingCaption

log = logging.getLogger(__name__)

CHUNK_SIZE = 250
CHUNK_SECONDS = 0.05
# A pure-Python walk holds the GIL almost continuously; pausing after each chunk lets the GUI
# thread (which needs the GIL between every Qt call) insert the rows without waiting on us.
PAUSE_AFTER_CHUNK = 0.01


@dataclass(frozen=True)
class FoundImage:
    """An image the walk found and the caption it already has (None: none, or not looked for)."""

    path: Path
    existing: ExistingCaption | None = None


@dataclass(frozen=True)
class WalkSummary:
    """What a walk found besides images: files that are not images and paths that do not exist."""

    images: int
    not_images: int
    missing: int


def iter_files(paths: Iterable[Path], counts: dict[str, int]) -> Iterator[Path]:
    """Every file under ``paths`` (folders recursively, sorted); missing paths are counted."""
    for path in paths:
        path = Path(os.path.abspath(path))
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(folder, name)
        elif path.exists():
            yield path
        else:
            counts["missing"] += 1


def walk(paths: list[Path], read_captions: bool,
         cancel: CancelToken) -> Generator[list[FoundImage], None, WalkSummary]:
    """In a pool thread: yield the images under ``paths`` in chunks, return what else was found.

    With ``read_captions`` each image comes with its existing caption. Raises ``Cancelled``
    once ``cancel`` is set; an unreadable folder ends the walk early, not the app.
    """
    sidecar_names = SidecarNames() if read_captions else None
    counts = {"images": 0, "not_images": 0, "missing": 0}
    chunk: list[FoundImage] = []
    last_emit = time.monotonic()
    try:
        for path in iter_files(paths, counts):
            cancel.raise_if_cancelled()
            if not is_image_path(path):
                counts["not_images"] += 1
                continue
            chunk.append(_found(path, sidecar_names))
            counts["images"] += 1
            if len(chunk) >= CHUNK_SIZE or time.monotonic() - last_emit > CHUNK_SECONDS:
                yield chunk
                time.sleep(PAUSE_AFTER_CHUNK)
                chunk, last_emit = [], time.monotonic()
        if chunk:
            yield chunk
    except OSError as exc:
        log.warning("walking %s failed: %s", paths, exc)
    return WalkSummary(**counts)


def _found(path: Path, sidecar_names: SidecarNames | None) -> FoundImage:
    if sidecar_names is None:
        return FoundImage(path)
    from desktop_captioner.core import existing_captions  # exiv2: not before the window shows

    existing = existing_captions.read_existing_caption(path, sidecar_names)
    time.sleep(0)  # hand the GIL to the GUI thread if it waits (see PAUSE_AFTER_CHUNK)
    return FoundImage(path, existing)


class FolderWalker(QObject):
    """Starts walks; ``found`` delivers chunks of FoundImage, ``finished`` a WalkSummary."""

    found = Signal(list)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # walks run one after another, keeping drop order
        self._cancel = CancelToken()
        self._active = 0

    @property
    def busy(self) -> bool:
        return self._active > 0

    def add(self, paths: Iterable[str | Path], read_captions: bool = True) -> None:
        """Walk ``paths``; with ``read_captions`` each image's existing caption is read too."""
        self._active += 1
        run_in_pool(self, walk, [Path(p) for p in paths], read_captions, self._cancel,
                    pool=self.pool, on_yield=self.found.emit, on_result=self._on_done,
                    on_error=self._on_failed)

    def shutdown(self) -> None:
        self._cancel.cancel()
        self.pool.clear()
        self.pool.waitForDone()

    def _on_done(self, summary: WalkSummary) -> None:
        self._active -= 1  # first, so `busy` is right for listeners
        self.finished.emit(summary)

    def _on_failed(self, exc: Exception) -> None:
        """A walk that failed (a bug) still ends: the listeners must not wait for it forever."""
        self._active -= 1
        if not isinstance(exc, Cancelled):
            describe_failure(exc, "Adding photos stopped")
            self.finished.emit(WalkSummary(0, 0, 0))
