"""Fetch one large file over HTTP(S) with progress, cancellation, resumption and a checksum.

Kept apart from ``weights`` so the VGG16 logic (where the file lives, what it must contain) does
not mix with streaming and clean-up. Plain urllib: one GET, no dependency for a single file.

An interrupted transfer (dropped connection, stalled server, the user's Cancel) keeps its
``.part`` file, and the next attempt asks the server for the rest with an HTTP Range request:
58 MB over a poor connection should not start from zero every time. A server that ignores the
Range gets a fresh start. Bytes that fail the checksum are never kept; any other failure (no
network, a server error, a full disk) keeps them, because they are not proven bad.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter

if TYPE_CHECKING:
    import urllib.request

CHUNK_BYTES = 256 * 1024
DOWNLOAD_PHASE = "download"


class DownloadError(Exception):
    """What went wrong, in plain words; callers wrap it with advice about their own file."""


def part_path(dest: Path) -> Path:
    """Where the bytes land until they are verified (a fixed name, so the next attempt finds
    an interrupted download's bytes and resumes instead of piling up copies)."""
    return dest.with_name(dest.name + ".part")


class _Interrupted(DownloadError):
    """The transfer stopped part-way; the bytes so far are worth resuming from."""


class _BadBytes(DownloadError):
    """The bytes are all there but wrong: nothing of them is worth keeping."""


def download_file(url: str, dest: Path, *, md5: str | None, size: int | None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                  timeout: float = 30) -> Path:
    """Stream ``url`` into ``dest``'s ``.part`` file (resuming one left by an interrupted
    attempt) and rename it to ``dest`` only once the byte count and MD5 match. Raises
    ``DownloadError``, or ``Cancelled`` from ``cancel``; an existing ``dest`` is untouched, and
    the ``.part`` file is deleted only when its bytes fail the checksum (an offline attempt
    never loses an earlier attempt's bytes)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = part_path(dest)
    try:
        digest = _stream(url, partial, size, progress, cancel, timeout)
        if md5 is not None and digest != md5.lower():
            raise _BadBytes(f"the downloaded file's checksum is {digest}, not {md5} "
                            "(it was damaged or changed on the way)")
        os.replace(partial, dest)
    except _BadBytes:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return dest


def _resume_point(partial: Path, size: int | None) -> int:
    """Bytes an earlier attempt left to resume from; 0 when there are none worth keeping."""
    have = partial.stat().st_size if partial.exists() else 0
    return 0 if size and have >= size else have


def _md5_so_far(partial: Path, start: int):
    """An MD5 object fed the first ``start`` bytes of ``partial``, to continue after them."""
    digest = hashlib.md5()
    if start:
        with open(partial, "rb") as existing:
            while chunk := existing.read(CHUNK_BYTES):
                digest.update(chunk)
    return digest


def _request(url: str, start: int) -> urllib.request.Request:
    import urllib.request  # the HTTP stack (~40 ms to import) only when a download starts

    headers = {"Range": f"bytes={start}-"} if start else {}
    return urllib.request.Request(url, headers=headers)


def _stream(url: str, partial: Path, size: int | None, progress: ProgressCallback | None,
            cancel: CancelToken | None, timeout: float) -> str:
    """Write the response body to ``partial``, after the bytes an earlier attempt left there
    when the server sends just the rest; returns the whole file's MD5 hex digest."""
    import http.client
    import urllib.error
    import urllib.request

    start = _resume_point(partial, size)
    done = 0
    try:
        with urllib.request.urlopen(_request(url, start), timeout=timeout) as response:
            resumed = bool(start) and response.status == 206 and response.headers.get(
                "Content-Range", "").startswith(f"bytes {start}-")
            if not resumed:  # a full answer (or none asked for): start over
                start = 0
            digest = _md5_so_far(partial, start)
            done = start
            length = response.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else (size or 0)
            meter = RateMeter(DOWNLOAD_PHASE, total)
            with open(partial, "ab" if resumed else "wb") as out:
                while True:
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    chunk = response.read1(CHUNK_BYTES)  # what has arrived: kept on a stall
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(meter.progress(done))
                out.flush()
                os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"the server answered {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        raise DownloadError(f"could not reach the server ({reason})") from exc
    except TimeoutError as exc:
        raise _Interrupted(f"the server stopped answering for {timeout:g} seconds "
                           f"after {done:,} bytes; downloading again resumes there") from exc
    except (http.client.HTTPException, ConnectionError) as exc:
        raise _Interrupted(f"the connection dropped after {done:,} bytes ({exc}); "
                           f"downloading again resumes there") from exc
    except OSError as exc:  # e.g. disk full, network gone mid-transfer
        raise DownloadError(f"the transfer failed after {done:,} bytes ({exc})") from exc
    expected = total or size
    if expected and done != expected:
        raise _Interrupted(f"the connection dropped after {done:,} of {expected:,} bytes; "
                           f"downloading again resumes there")
    return digest.hexdigest()
