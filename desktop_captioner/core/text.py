"""Text the app writes where a reader trusts its shape: captions and file names.

Two rules, each in one place so every writer (CSV, JSON, JSON Lines, stdout lines, sidecars,
photo metadata, the GUI export) applies the same one:

* A caption is one line of printable text (``clean_caption``): a model whose vocabulary holds a
  word with a newline or tab must not be able to forge extra ``filename<TAB>caption`` lines,
  CSV rows or sidecar lines.
* A file name is written losslessly (``name_text`` / ``name_from_text``): Linux allows names
  that are not valid UTF-8 (``os.fsdecode`` turns their bytes into lone surrogates, which no
  UTF-8 file can hold). Such a byte is written as a ``\\xff``-style escape, and read back to the
  same byte, so ``--resume`` still matches the file. On stdout's one-line records
  (``name_on_a_line``) control characters in a name, also legal on Linux, are escaped too.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

_SPACES = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]+")  # line and tab breaks
_RUNS_OF_SPACES = re.compile(r" {2,}")
_ESCAPED_BYTE = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")  # only bytes >= 0x80 are escaped


def clean_caption(text: str) -> str:
    """``text`` as one line: line breaks and tabs become single spaces, other control
    characters (C0, DEL, C1) and undecodable-byte surrogates are dropped, runs of spaces become
    one and the ends are trimmed."""
    text = _SPACES.sub(" ", text)
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))
    return _RUNS_OF_SPACES.sub(" ", kept).strip()


def name_text(name: str | os.PathLike) -> str:
    """A path or message as text any UTF-8 file can hold: each byte of the name that is not
    valid UTF-8 (a surrogate from ``os.fsdecode``) becomes ``\\xHH``; valid text is unchanged."""
    text = os.fspath(name)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape") if _only_escapes(text) \
            else text.encode("utf-8", "backslashreplace")
        return raw.decode("utf-8", "backslashreplace")


def name_on_a_line(name: str | os.PathLike) -> str:
    """``name_text`` for a place where a line break would start a new record (stdout's
    ``filename<TAB>caption`` lines): control characters, legal in Linux file names, are written
    as ``\\xHH`` escapes too. Not read back; exports keep the name exactly."""
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" else ch
                   for ch in name_text(name))


def name_from_text(text: str) -> Path:
    """The path ``name_text`` wrote: ``\\xHH`` escapes (bytes 0x80-0xFF, the only ones it
    writes) back to the original bytes. Names with no escape come back unchanged, and so does
    every name on Windows, whose names are never bytes and whose separator is the backslash.
    (A POSIX name that really holds a backslash, ``x`` and two hex digits from 80 to FF reads
    back as that byte: the price of keeping every other name readable text.)"""
    if "\\x" not in text or os.name == "nt":
        return Path(text)
    raw = _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), text)
    return Path(os.fsdecode(raw.encode("utf-8", "surrogateescape")))


def _only_escapes(text: str) -> bool:
    """True when every surrogate in ``text`` is one ``surrogateescape`` made (U+DC80-U+DCFF)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in text)
