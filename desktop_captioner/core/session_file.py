"""The window's session file: the image list with every row's caption, status and source.

The GUI saves it as the list changes, so a crash or ``kill -9`` loses at most the last second of
work. Rows are plain tuples of strings and numbers (no Qt here): the GUI snapshots them cheaply
on its own thread and this module serialises and writes them on a worker thread. Statuses are
stored as the GUI's strings without checking them, so a status added later needs no change here.

The file is JSON, its rows serialised in chunks of CHUNK_ROWS, one chunk per line; between
chunks the writing thread gives the GIL back, so the GUI thread never waits long for it::

    {"format": "desktop-captioner-session", "version": 1, "columns": [...], "rows": [
    ["/photos/a.jpg", "a dog", -0.5, "done", "", "model", true], ["/photos/b.jpg", ...], ...
    ...
    ]}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from desktop_captioner.core import paths
from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.errors import CaptionerError

SESSION_FILE_NAME = "session.json"
PREVIOUS_SESSION_FILE_NAME = "session-previous.json"
SESSION_FORMAT = "desktop-captioner-session"
SESSION_VERSION = 1
COLUMNS = ("path", "caption", "score", "status", "error", "source", "unsaved")
CHUNK_ROWS = 200  # about a millisecond of json.dumps
MAX_SESSION_BYTES = 1 << 30  # 1 GiB: millions of rows; a bigger file is not one of ours
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
MAX_SCORE = 1e9  # scores are log-probabilities, far inside this


class SessionFileError(CaptionerError):
    """A session file that is damaged or is not one of ours."""


@dataclass(frozen=True)
class SessionRow:
    """One image of the list, fields in COLUMNS order (the GUI's snapshot tuples are the same
    values). ``unsaved``: its caption changed since it was last exported."""

    path: str
    caption: str
    score: float | None
    status: str
    error: str
    source: str
    unsaved: bool


def session_path() -> Path:
    return paths.data_dir() / SESSION_FILE_NAME


def previous_session_path() -> Path:
    """Where a session that was not restored at start-up waits for File → Restore Last Session."""
    return paths.data_dir() / PREVIOUS_SESSION_FILE_NAME


def write_session(rows: Sequence[Sequence], path: Path) -> None:
    """Write ``rows`` (tuples in COLUMNS order) to ``path`` atomically.

    A chunk holding a file name that is not valid UTF-8 (its bytes are lone surrogates after
    ``os.fsdecode``) is written with JSON's ``\\udcXX`` escapes, which read back to the same
    name; every other chunk keeps its text readable."""
    header = json.dumps({"format": SESSION_FORMAT, "version": SESSION_VERSION,
                         "columns": list(COLUMNS)})
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(header[:-1] + ', "rows": [\n')
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = _json_chunk(rows[start:start + CHUNK_ROWS])
            handle.write((",\n" if start else "") + chunk)
            time.sleep(0)  # one json.dumps call holds the GIL throughout; let others run
        handle.write("\n]}\n")


def _json_chunk(rows: Sequence[Sequence]) -> str:
    """``rows`` as JSON array items (no brackets) that UTF-8 can hold."""
    text = json.dumps(rows, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(rows)
    return text[1:-1]


def read_session(path: Path) -> list[SessionRow]:
    """The rows of the session file at ``path`` (FileNotFoundError when there is none)."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_SESSION_BYTES + 1)
    if len(raw) > MAX_SESSION_BYTES:
        raise SessionFileError(f"{path} is damaged: it is larger than {MAX_SESSION_BYTES:,} "
                               "bytes.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise SessionFileError(f"{path} is damaged: it is nested too deeply.") from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise SessionFileError(f"{path} is damaged: {exc}.") from None
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise SessionFileError(f"{path} is not a Desktop Captioner session file.")
    if data.get("version") != SESSION_VERSION or data.get("columns") != list(COLUMNS):
        raise SessionFileError(f"{path} was written by another version of the app "
                               f"(session version {data.get('version')!r}).")
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise SessionFileError(f"{path} is damaged: it has no list of rows.")
    return [_checked_row(row, number, path) for number, row in enumerate(rows, 1)]


def _checked_row(row: object, number: int, path: Path) -> SessionRow:
    if (isinstance(row, list) and len(row) == len(COLUMNS)
            and all(isinstance(row[i], str) for i in (0, 1, 3, 4, 5))
            and _is_score(row[2]) and isinstance(row[6], bool)
            and row[0] and len(row[0]) <= MAX_PATH_CHARS and "\0" not in row[0]):
        return SessionRow(*row)
    raise SessionFileError(f"{path} is damaged: row {number} is not a valid image row.")


def _is_score(value: object) -> bool:
    """None, or a finite number within MAX_SCORE (a 4,000-digit integer or 1e400 is not)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return -MAX_SCORE <= value <= MAX_SCORE  # False for NaN; ints compared without float()
