"""Exporters for caption results: CSV, JSON and JSON Lines (sidecars: ``sidecar_writer``).

No TensorFlow here: the GUI exports from its own thread. Every file goes through ``atomic`` so an
interrupted export never leaves a half-written CSV over a good one. Captions are written as one
clean line (``text.clean_caption``); a name that is not valid UTF-8 keeps its odd bytes as
``\\xHH`` escapes (``text.name_text``), which ``export_reader`` turns back into the name.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterable, Sequence

from desktop_captioner.core.atomic import atomic_write_text
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.text import clean_caption, name_text

# The first five are the original columns, in their order; later ones are only ever appended.
CSV_COLUMNS = ("path", "filename", "caption", "status", "error", "source", "score")

# Spreadsheets treat a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _record(result: CaptionResult) -> dict[str, str]:
    """The columns of one row: names written losslessly (``text.name_text``), the caption as
    one clean line (``text.clean_caption``)."""
    return {
        "path": name_text(result.path),
        "filename": name_text(result.path.name),
        "caption": clean_caption(result.caption),
        "status": result.status,
        "error": clean_caption(name_text(result.error)),
        "source": result.source if result.ok else "",
        "score": "" if result.score is None else f"{result.score:.4f}",
    }


def inert_cell(value: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would otherwise evaluate as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_text(results: Iterable[CaptionResult], header: bool = True) -> str:
    """CSV text (CRLF line ends), starting with the header line unless ``header`` is False."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    if header:
        writer.writeheader()
    for result in results:
        writer.writerow({key: value if key == "score" else inert_cell(value)  # a number: safe
                         for key, value in _record(result).items()})
    return buffer.getvalue()


def write_csv(results: Iterable[CaptionResult], out_path: str | Path) -> Path:
    """Write ``CSV_COLUMNS`` rows (UTF-8) atomically to ``out_path``."""
    out_path = Path(out_path)
    atomic_write_text(out_path, csv_text(results))
    return out_path


def write_json(results: Iterable[CaptionResult], out_path: str | Path) -> Path:
    """Write the same records as the CSV, as a JSON list, atomically to ``out_path``."""
    out_path = Path(out_path)
    records = [_record(result) for result in results]
    atomic_write_text(out_path, json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    return out_path


def jsonl_text(results: Iterable[CaptionResult]) -> str:
    """The JSON records, one a line (JSON Lines): each line is complete on its own."""
    return "".join(json.dumps(_record(result), ensure_ascii=False) + "\n" for result in results)


def write_jsonl(results: Iterable[CaptionResult], out_path: str | Path) -> Path:
    """Write the same records as the CSV, as JSON Lines, atomically to ``out_path``."""
    out_path = Path(out_path)
    atomic_write_text(out_path, jsonl_text(results))
    return out_path


#: The whole-list export formats by file suffix (the GUI's Export, by extension).
EXPORT_WRITERS = {".csv": write_csv, ".json": write_json, ".jsonl": write_jsonl}


def export_target(chosen: str, selected_filter: str = "") -> Path:
    """The file a save dialog's answer names: ``.csv``, ``.json`` or ``.jsonl`` is kept; any
    other name gets the suffix of the filter picked (``selected_filter``), CSV by default."""
    path = Path(chosen)
    if path.suffix.lower() in EXPORT_WRITERS:
        return path
    picked = selected_filter.lower()
    suffix = ".jsonl" if "jsonl" in picked else ".json" if "json" in picked else ".csv"
    return path.with_name(path.name + suffix)


def write_export(results: Sequence[CaptionResult], target: Path) -> Path:
    """Write ``results`` to ``target`` atomically in the format its suffix names (a JSON list
    for ``.json``, JSON Lines for ``.jsonl``), CSV for any other name."""
    return EXPORT_WRITERS.get(target.suffix.lower(), write_csv)(results, target)
