"""Fetch one large file over HTTP(S) with progress, cancellation and a checksum.

Kept apart from ``weights`` so the VGG16 logic (where the file lives, what it must contain) does
not mix with streaming and clean-up. Plain urllib: one GET, no dependency for a single file.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from desktop_captioner.core.progress import CancelToken, ProgressCallback, RateMeter

CHUNK_BYTES = 256 * 1024
DOWNLOAD_PHASE = "download"


class DownloadError(Exception):
    """What went wrong, in plain words; callers wrap it with advice about their own file."""


def part_path(dest: Path) -> Path:
    """Where the bytes land until they are verified (a fixed name, so a killed download's
    leftovers are simply overwritten by the next attempt instead of piling up)."""
    return dest.with_name(dest.name + ".part")


def download_file(url: str, dest: Path, *, md5: str | None, size: int | None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                  timeout: float = 30) -> Path:
    """Stream ``url`` into ``dest``'s ``.part`` file and rename it to ``dest`` only once the
    byte count and MD5 match. Raises ``DownloadError``, or ``Cancelled`` from ``cancel``;
    either way no ``.part`` file is left behind and an existing ``dest`` is untouched."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = part_path(dest)
    try:
        digest = _stream(url, partial, size, progress, cancel, timeout)
        if md5 is not None and digest != md5.lower():
            raise DownloadError(f"the downloaded file's checksum is {digest}, not {md5} "
                                "(it was damaged or changed on the way)")
        os.replace(partial, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return dest


def _stream(url: str, partial: Path, size: int | None, progress: ProgressCallback | None,
            cancel: CancelToken | None, timeout: float) -> str:
    """Write the response body to ``partial``, reporting progress; returns its MD5 hex digest."""
    digest = hashlib.md5()
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, \
                open(partial, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else (size or 0)
            meter = RateMeter(DOWNLOAD_PHASE, total)
            while True:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                chunk = response.read(CHUNK_BYTES)
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
        raise DownloadError(f"the server stopped answering for {timeout:g} seconds "
                            f"after {done:,} bytes") from exc
    except (http.client.HTTPException, ConnectionError) as exc:
        raise DownloadError(f"the connection dropped after {done:,} bytes ({exc})") from exc
    except OSError as exc:  # e.g. disk full, network gone mid-transfer
        raise DownloadError(f"the transfer failed after {done:,} bytes ({exc})") from exc
    expected = total or size
    if expected and done != expected:
        raise DownloadError(f"the connection dropped after {done:,} of {expected:,} bytes")
    return digest.hexdigest()
