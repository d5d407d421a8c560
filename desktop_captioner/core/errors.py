"""Project error types.

Every *expected* problem (bad file, missing weights, unusable dataset, cancelled work) is a
``CaptionerError`` whose message is one plain sentence naming the file and what is wrong. The CLI
prints that message on one line and the GUI shows it in a dialog; only unexpected exceptions get a
traceback, and that goes to the log file, never to the user.
"""

from __future__ import annotations

import errno
import logging
import os

from desktop_captioner.core.applog import log_file
from desktop_captioner.core.text import name_text

log = logging.getLogger(__name__)

# What each expected OS error means for the file the app was working on.
_OS_ERROR_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.ENOENT: "it, or a folder on its path, does not exist",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of its path is a file, not a folder",
    errno.ENAMETOOLONG: "its name is too long for the file system",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.ELOOP: "its path goes round a loop of symbolic links",
    errno.EEXIST: "a file stands where a folder on its path should be",
}


class CaptionerError(Exception):
    """An expected problem with a one-line, user-facing message."""


class ImageLoadError(CaptionerError):
    """An image path that cannot be turned into pixels (missing, corrupt, not an image, ...)."""


class DatasetError(CaptionerError):
    """A dataset folder that cannot be used for training or evaluation."""


class WeightsError(CaptionerError):
    """The VGG16 weights file is missing, unreachable, or not the file we need."""


class ModelFileError(CaptionerError):
    """A caption model file that is not ours, is damaged, or asks for something we cannot honour."""


class ArchiveError(CaptionerError):
    """A download or a zip archive that cannot be used: unreachable, damaged, unsafe, too big."""


class Cancelled(CaptionerError):
    """Work stopped because the user asked it to."""


class FileWriteError(CaptionerError, OSError):
    """A file the app was asked to write cannot be written (full disk, no permission, ...).

    Also an ``OSError`` (with the original ``errno``), so code that already handles OS errors
    around a write keeps doing so, now with a message that names the file."""

    @classmethod
    def from_os_error(cls, path: str | os.PathLike, exc: OSError) -> "FileWriteError":
        error = cls(describe_os_error(path, exc))
        error.errno = exc.errno
        return error


def describe_os_error(path: str | os.PathLike, exc: OSError, action: str = "write") -> str:
    """One sentence naming ``path`` and what is wrong, for any ``OSError`` met while working on
    it: "Cannot write /x/out.csv: the disk is full." Unknown errors give the system's words."""
    return f"Cannot {action} {name_text(path)}: {os_error_reason(exc)}."


def os_error_reason(exc: OSError) -> str:
    """What ``exc`` means, in a few lower-case words ("the disk is full")."""
    reason = _OS_ERROR_REASONS.get(exc.errno) if exc.errno is not None else None
    if reason is None:
        reason = (exc.strerror or str(exc) or exc.__class__.__name__).rstrip(".")
        reason = reason[:1].lower() + reason[1:]
    return reason


def describe_failure(exc: BaseException, outcome: str) -> str:
    """One sentence for the user about why some background work ended with ``exc``.

    ``outcome`` says what happened in words that can go before "because …", such as "Training
    stopped" or "scenes.dcmodel could not be loaded". A ``Cancelled`` gives "" (the user asked:
    nothing to report); any other ``CaptionerError`` gives its own message; anything else is a
    bug: it is logged with its traceback and the sentence names the exception and points to the
    log file.
    """
    if isinstance(exc, Cancelled):
        return ""
    if isinstance(exc, CaptionerError):
        return str(exc)
    log.error("%s", outcome, exc_info=exc)
    return (f"{outcome} because of an internal error ({exc.__class__.__name__}: "
            f"{_last_line(exc)}); the details are in {log_file()}.")


def _last_line(exc: BaseException) -> str:
    """TensorFlow's messages end with the actual error after many lines of graph context."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1].rstrip(".") if lines else ""
