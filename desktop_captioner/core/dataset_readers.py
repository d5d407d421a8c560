"""Readers for the caption and split files of Flickr8k-style datasets.

Copies of Flickr8k that circulate online differ in small ways (spaces instead of the tab, CRLF,
a byte-order mark, blank lines, stray non-UTF-8 bytes, repeated lines). None of that should stop
a user from training, so the readers repair what they can, skip what they cannot, and record
each quirk as a ``Problem`` the user can read in ``inspect``.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from desktop_captioner.core.errors import DatasetError, describe_os_error

# Repeats of one quirk are listed this many times with their line numbers, then summarised, so a
# copy with 40,000 space-separated lines gives a readable report instead of 40,000 entries.
LINES_LISTED_PER_QUIRK = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset file; ``line`` is 1-based, None for whole-file problems."""

    file: str
    line: int | None
    message: str


@dataclass(frozen=True)
class CaptionLine:
    """One caption as read from a captions file, with where it came from."""

    line: int
    image: str
    caption: str


class ProblemLog:
    """Collects problems in the order found, folding long runs of the same quirk into one entry."""

    def __init__(self) -> None:
        self._listed: list[Problem] = []
        self._counts: dict[tuple[str, str], int] = {}
        self._entries: set[tuple[str, str]] = set()  # quirks of JSON entries, not text lines

    def add(self, file: Path, line: int | None, message: str,
            position: str | None = None) -> None:
        """Record ``message`` about ``file``; a JSON file's entry is named by ``position``
        (``images[12].sentences[3]``), which leads the listed message and counts as its line."""
        key = (str(file), message)
        count = self._counts[key] = self._counts.get(key, 0) + 1
        if position is not None:
            self._entries.add(key)
        if count <= LINES_LISTED_PER_QUIRK:
            listed = message if position is None else f"{position}: {message}"
            self._listed.append(Problem(str(file), line, listed))

    def problems(self) -> list[Problem]:
        def unit(file: str, message: str) -> str:
            return "entries" if (file, message) in self._entries else "lines"

        folded = [Problem(file, None, f"{count - LINES_LISTED_PER_QUIRK} more "
                                      f"{unit(file, message)} like this: {message}")
                  for (file, message), count in self._counts.items()
                  if count > LINES_LISTED_PER_QUIRK]
        return self._listed + folded


def read_text_lines(path: Path, log: ProblemLog) -> list[tuple[int, str]]:
    """Return ``(line number, text)`` for each non-blank line, repairing encoding quirks.

    Lines are decoded one at a time so a single bad byte costs at most that line's accents
    (replaced by U+FFFD) instead of the whole file.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(describe_os_error(path, exc, "read")) from exc
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        log.add(path, 1, "the file starts with a UTF-8 byte-order mark, which was ignored")
    if b"\r\n" in data:
        log.add(path, None, "the file has Windows line endings (CRLF), which were accepted")
    lines = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            log.add(path, number,
                    "the line has bytes that are not UTF-8; they were replaced by \ufffd")
        if not text.strip():
            log.add(path, number, "blank line, skipped")
            continue
        lines.append((number, text.strip()))
    return lines


_SPACE_SEPARATED = re.compile(r"(\S+)\s+(.*)")
MAX_CAPTION_LINES = 5  # lines one quoted Kaggle caption may span


def read_token_file(path: Path, log: ProblemLog) -> list[CaptionLine]:
    """Read ``Flickr8k.token.txt`` lines ``IMAGE#N<TAB>caption``.

    The name is everything before the last ``#``: real names contain dots
    (``2258277193_586949ec62.jpg.1``), so cutting at the first dot would merge a phantom entry
    into a real image. A repeated line is one with the same ``IMAGE#N`` and caption; the same
    caption under two numbers is two annotators agreeing (the real file has 10 such pairs).
    """
    captions = []
    seen: set[tuple[str, str]] = set()
    for number, text in read_text_lines(path, log):
        if "\t" in text:
            key, caption = text.split("\t", 1)
        else:
            match = _SPACE_SEPARATED.fullmatch(text)
            if match is None:
                log.add(path, number, "the line has no caption, skipped")
                continue
            key, caption = match.groups()
            log.add(path, number, "name and caption are separated by spaces instead of a tab")
        key, caption = key.strip(), caption.strip()
        if (key, caption) in seen:
            log.add(path, number, "the line repeats an earlier line, skipped")
            continue
        seen.add((key, caption))
        name, hash_sign, _ = key.rpartition("#")
        captions.append(CaptionLine(number, name if hash_sign else key, caption))
    return _without_empty(path, captions, log)


def read_kaggle_captions(path: Path, log: ProblemLog) -> list[CaptionLine]:
    """Read Kaggle's ``captions.txt``: CSV ``image,caption``, captions quoted or not.

    An unquoted caption may itself contain commas, so when csv finds more than two fields the
    caption is taken to be everything after the first comma. A quoted caption may run over
    several lines (a line break typed into a spreadsheet cell); those lines are joined with
    spaces. Rows carry no caption number, so an identical row cannot be told from two annotators
    writing the same words (10 such pairs in the real file): every row is kept.
    """
    lines = read_text_lines(path, log)
    if lines and lines[0][1].replace(" ", "").lower() == "image,caption":
        lines = lines[1:]
    else:
        log.add(path, 1, "the file has no 'image,caption' header; its first line was read as data")
    captions = []
    for number, text in _quoted_rows_joined(path, lines, log):
        fields = next(csv.reader([text]))
        if len(fields) == 2:
            name, caption = fields
        elif len(fields) > 2:
            name, caption = text.split(",", 1)
        else:
            log.add(path, number, "the line has no comma between image and caption, skipped")
            continue
        captions.append(CaptionLine(number, name.strip(), caption.strip()))
    return _without_empty(path, captions, log)


def _opens_a_quote(text: str) -> bool:
    """True when the caption field starts with a quote that the text does not close."""
    _, comma, caption = text.partition(",")
    caption = caption.lstrip()
    return bool(comma) and caption.startswith('"') and caption.count('"') % 2 == 1


def _quoted_rows_joined(path: Path, lines: list[tuple[int, str]],
                        log: ProblemLog) -> list[tuple[int, str]]:
    """Rows with a quoted caption over several lines joined into one (at most
    ``MAX_CAPTION_LINES``, so a stray quote cannot swallow the rest of the file)."""
    rows = []
    index = 0
    while index < len(lines):
        number, text = lines[index]
        end, joined = index, text
        while (_opens_a_quote(joined) and end + 1 < len(lines)
               and end - index + 1 < MAX_CAPTION_LINES):
            end += 1
            joined = f"{joined} {lines[end][1]}"
        if end > index and not _opens_a_quote(joined):
            log.add(path, number, f"the quoted caption runs over lines {number}-{lines[end][0]}; "
                                  f"they were joined")
            rows.append((number, joined))
            index = end + 1
            continue
        if _opens_a_quote(text):
            log.add(path, number, "the caption's opening quote is never closed; the line was "
                                  "read as it stands")
        rows.append((number, text))
        index += 1
    return rows


def _without_empty(path: Path, captions: list[CaptionLine], log: ProblemLog) -> list[CaptionLine]:
    kept = []
    for item in captions:
        if item.image and item.caption:
            kept.append(item)
        else:
            log.add(path, item.line, "the line has an empty image name or caption, skipped")
    return kept

