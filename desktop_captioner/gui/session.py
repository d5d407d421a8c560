"""The window's session on disk: saved as the list changes, offered back at the next start.

Every change to the list (rows added or removed, a caption, status or source changed, an export)
starts a short timer; when it fires the rows are snapshotted on the GUI thread (a list of plain
tuples, a few milliseconds for 10,000 rows) and serialised and written on a pool thread. One
write runs at a time: changes during a write are saved by the next one (coalesced). The timer is
not restarted by further changes, so a steady stream of captions is saved every SAVE_DELAY_MS
rather than never. A sequence number makes sure an older snapshot never lands over a newer one,
even when ``flush`` writes on the GUI thread at close while a pool write is still queued.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from desktop_captioner.core.damaged_files import set_aside
from desktop_captioner.core.errors import describe_failure
from desktop_captioner.core.results import SOURCE_EDITED, SOURCE_IMPORTED, SOURCE_MODEL
from desktop_captioner.core.session_file import (
    SessionFileError,
    SessionRow,
    previous_session_path,
    read_session,
    session_path,
    write_session,
)
from desktop_captioner.gui.models.image_list_model import (
    CAPTIONING,
    DONE,
    EDITED,
    HAS_CAPTION,
    NEW,
    QUEUED,
    STATUS_LABELS,
    ImageItem,
    ImageListModel,
)
from desktop_captioner.gui.workers.pool_job import run_in_pool

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 800
# A row whose captioning was cut short by a crash: captioned again if it had no caption yet,
# otherwise its caption is kept with the status that caption's source implies.
_INTERRUPTED = (QUEUED, CAPTIONING)
_STATUS_FOR_SOURCE = {SOURCE_MODEL: DONE, SOURCE_EDITED: EDITED, SOURCE_IMPORTED: HAS_CAPTION}


def restored_item(row: SessionRow) -> ImageItem:
    """The list item for a saved row; unknown statuses (a newer app's) become "new"."""
    status = row.status
    if status in _INTERRUPTED:
        status = _STATUS_FOR_SOURCE.get(row.source, DONE) if row.caption else NEW
    elif status not in STATUS_LABELS:
        log.warning("session row %s has unknown status %r; restored as not captioned",
                    row.path, status)
        status = NEW
    return ImageItem(Path(row.path), row.caption, row.score, status, row.error, row.source,
                     row.unsaved)


class _SessionWriter:
    """Writes and removals of the session file, in sequence order, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._last = 0

    def write(self, sequence: int, rows: Sequence[tuple]) -> None:
        with self._lock:
            if sequence > self._last:
                write_session(rows, self.path)
                self._last = sequence

    def remove(self, sequence: int) -> None:
        with self._lock:
            self._last = max(self._last, sequence)
            self.path.unlink(missing_ok=True)


class SessionKeeper(QObject):
    """Saves ``model`` to the session file and restores it. Inactive until ``begin``, so a window
    that was never started (tests, mostly) leaves the session file alone."""

    save_failed = Signal(str)  # one sentence for the status bar

    def __init__(self, model: ImageListModel, parent: QObject | None = None,
                 path: Path | None = None, previous_path: Path | None = None,
                 delay_ms: int = SAVE_DELAY_MS) -> None:
        super().__init__(parent)
        self.model = model
        self.path = path or session_path()
        self.previous_path = previous_path or previous_session_path()
        self._writer = _SessionWriter(self.path)
        self._sequence = 0
        self._writing = self._again = self._active = False
        self.previous_count = 0  # photos in a session set aside at start-up (0: none waits)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._save)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.item_changed, model.export_state_changed):
            signal.connect(self.schedule)

    # --- start-up and restoring ---------------------------------------------------------------
    def begin(self, restore: bool) -> str:
        """Start keeping the session. The last one is restored when ``restore`` is set;
        otherwise it is moved to ``previous_path`` for File → Restore Last Session. Returns a
        sentence for the status bar ("" when there is nothing to say)."""
        rows, problem = self._read(self.path)
        message = problem
        if rows and restore:
            self._apply(rows)
            message = f"Restored last session: {len(rows):,} photos."
        elif rows:
            try:
                os.replace(self.path, self.previous_path)
            except OSError as exc:  # the new list will be saved over it: say so
                log.warning("could not keep the last session %s: %s", self.path, exc)
                message = f"The last session could not be kept ({exc.strerror or exc})."
            else:
                self.previous_count = len(rows)
                message = (f"Your last session ({len(rows):,} photos) was not restored; "
                           "File → Restore Last Session brings it back.")
        self._active = True
        self.schedule()
        return message

    def restore_previous(self) -> str:
        """Replace the list with the session set aside at start-up; returns a status sentence."""
        rows, problem = self._read(self.previous_path)
        self.previous_count = 0
        if not rows:
            return problem or f"{self.previous_path} is no longer there, so nothing was restored."
        self._apply(rows)
        self.flush()
        self.previous_path.unlink(missing_ok=True)
        return f"Restored last session: {len(rows):,} photos."

    def _read(self, path: Path) -> tuple[list[SessionRow], str]:
        try:
            return read_session(path), ""
        except FileNotFoundError:
            return [], ""
        except IsADirectoryError:
            problem = f"{path} is a folder, not a session file."
        except OSError as exc:
            problem = f"{path} could not be read ({exc.strerror or exc})."
        except SessionFileError as exc:
            problem = str(exc)
        log.warning("session file not restored: %s", problem)
        try:
            kept = set_aside(path, "session file")
        except OSError as move_error:
            log.warning("could not move %s aside: %s", path, move_error)
            return [], f"{problem} The app starts with an empty list."
        return [], f"{problem} It was kept as {kept.name}; the app starts with an empty list."

    def _apply(self, rows: list[SessionRow]) -> None:
        self.model.replace_items([restored_item(row) for row in rows])

    # --- saving -------------------------------------------------------------------------------
    @Slot()
    def schedule(self, *_args) -> None:
        if self._active and not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _save(self) -> None:
        if self._writing:
            self._again = True
            return
        self._writing = True
        self._sequence += 1
        run_in_pool(self, self._writer.write, self._sequence, self.model.snapshot(),
                    pool=self._pool, on_result=lambda _none: self._on_written(""),
                    on_error=self._on_write_failed)

    def _on_write_failed(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self._on_written(f"The session could not be saved to {self.path}: "
                             f"{exc.strerror or exc}.")
        else:
            self._on_written(describe_failure(exc, "The session could not be saved"))

    def _on_written(self, problem: str) -> None:
        self._writing = False
        if problem:
            log.warning("%s", problem)
            self.save_failed.emit(problem)
        if self._again:
            self._again = False
            self.schedule()

    @property
    def idle(self) -> bool:
        """No save waiting or running."""
        return not (self._timer.isActive() or self._writing or self._again)

    def flush(self) -> None:
        """Write the list now, on this thread (at close: the file is exact when the app ends)."""
        if not self._active:
            return
        self._timer.stop()
        self._again = False
        self._sequence += 1
        try:
            self._writer.write(self._sequence, self.model.snapshot())
        except OSError as exc:
            log.warning("session not saved to %s: %s", self.path, exc)

    def discard(self) -> None:
        """Forget the session (the user chose Discard at quit): no file, no further saves. A
        window that never began keeping the session leaves the file alone."""
        if not self._active:
            return
        self._active = False
        self._timer.stop()
        self._sequence += 1
        try:
            self._writer.remove(self._sequence)
        except OSError as exc:
            log.warning("session file %s not removed: %s", self.path, exc)

    def shutdown(self) -> None:
        """Stop saving and wait for a write in progress (before Qt tears the pool down)."""
        self._active = False
        self._timer.stop()
        self._pool.waitForDone()
