"""Read back captions this app exported (CSV, JSON array or JSON Lines) as ``CaptionResult`` rows.

One reader for every client that brings an export back: ``caption --resume`` (rows already
done), ``apply`` (a CSV a person corrected in a spreadsheet) and the GUI's Import Captions. A file
whose header or records are not this app's is refused with one sentence naming it, so nothing
reads (or later overwrites) somebody else's file by mistake. A single damaged row is reported and
skipped; the rest still count.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from desktop_captioner.core.errors import CaptionerError
from desktop_captioner.core.export import CSV_COLUMNS, FORMULA_TRIGGERS
from desktop_captioner.core.results import (
    SOURCE_MODEL,
    SOURCES,
    STATUS_ERROR,
    STATUS_OK,
    CaptionResult,
)
from desktop_captioner.core.text import name_from_text

_REQUIRED = CSV_COLUMNS[:5]  # what every version of this app wrote


class ExportFormatError(CaptionerError):
    """A file given as this app's export that is not one (or cannot be read at all)."""


@dataclass
class ReadExport:
    """The rows of an export, in file order, and one sentence per row that was skipped."""

    results: list[CaptionResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_export(path: str | Path) -> ReadExport:
    """Read ``path`` by its extension: ``.json`` (a list), ``.jsonl`` (one record a line),
    anything else as CSV."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ExportFormatError(f"{path} does not exist.") from None
    except UnicodeDecodeError:
        raise ExportFormatError(f"{path} is not a captions file this app wrote "
                                f"(it is not UTF-8 text).") from None
    except OSError as exc:
        raise ExportFormatError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _read_json(path, text)
    if suffix == ".jsonl":
        return _read_jsonl(path, text)
    return _read_csv(path, text)


def uninert_cell(value: str) -> str:
    """Undo ``export.inert_cell``: drop the ``'`` put before a cell that looked like a formula."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def _read_csv(path: Path, text: str) -> ReadExport:
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None or tuple(header[:len(_REQUIRED)]) != _REQUIRED:
        raise ExportFormatError(
            f"{path} is not a captions CSV this app wrote (its header must begin with "
            f"{','.join(_REQUIRED)}).")
    read = ReadExport()
    for cells in reader:
        line = reader.line_num
        if not cells:
            continue
        if len(cells) != len(header):
            read.problems.append(f"{path.name} line {line}: {len(cells)} cells where the header "
                                 f"has {len(header)}; skipped.")
            continue
        record = {name: uninert_cell(value) for name, value in zip(header, cells)}
        _add_record(read, record, f"{path.name} line {line}")
    return read


def _read_json(path: Path, text: str) -> ReadExport:
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportFormatError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}).") \
            from None
    if not isinstance(records, list):
        raise ExportFormatError(f"{path} is not a captions JSON this app wrote (it is not a list).")
    read = ReadExport()
    for number, record in enumerate(records, start=1):
        _add_record(read, record, f"{path.name} record {number}")
    return read


def _read_jsonl(path: Path, text: str) -> ReadExport:
    read = ReadExport()
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {line_number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            read.problems.append(f"{where}: not valid JSON ({exc.msg}); skipped.")
            continue
        _add_record(read, record, where)
    return read


def _add_record(read: ReadExport, record: object, where: str) -> None:
    try:
        read.results.append(_result(record))
    except ValueError as exc:
        read.problems.append(f"{where}: {exc}; skipped.")


def _result(record: object) -> CaptionResult:
    """One exported record -> CaptionResult; ValueError names what is wrong with it."""
    if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in _REQUIRED):
        raise ValueError(f"not a record with the columns {', '.join(_REQUIRED)}")
    if not record["path"]:
        raise ValueError("the path is empty")
    status = record["status"]
    if status not in (STATUS_OK, STATUS_ERROR):
        raise ValueError(f"status {status!r} is neither {STATUS_OK!r} nor {STATUS_ERROR!r}")
    source = record.get("source") or SOURCE_MODEL
    if source not in SOURCES:
        raise ValueError(f"source {source!r} is not one of {', '.join(SOURCES)}")
    return CaptionResult(path=name_from_text(record["path"]), caption=record["caption"],
                         score=_score(record.get("score")), status=status,
                         error=record["error"], source=source)


def _score(value: object) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"score {value!r} is not a number") from None
