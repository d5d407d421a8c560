"""Exporters for caption results: CSV, JSON and ``.txt`` sidecars next to the images.

No TensorFlow here: the GUI exports from its own thread. Every file goes through ``atomic`` so an
interrupted export never leaves a half-written CSV over a good one.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from desktop_captioner.core.atomic import atomic_write_text
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecars import DEFAULT_SIDECAR_EXT, SidecarNames

# The first five are the original columns, in their order; later ones are only ever appended.
CSV_COLUMNS = ("path", "filename", "caption", "status", "error", "source", "score")

# Spreadsheets treat a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SidecarCounts:
    """How a sidecar export went: written, existing ones left alone, failed images skipped."""

    written: int
    kept: int
    skipped: int


def _record(result: CaptionResult) -> dict[str, str]:
    return {
        "path": str(result.path),
        "filename": result.path.name,
        "caption": result.caption,
        "status": result.status,
        "error": result.error,
        "source": result.source if result.ok else "",
        "score": "" if result.score is None else f"{result.score:.4f}",
    }


def inert_cell(value: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would otherwise evaluate as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_text(results: Iterable[CaptionResult]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for result in results:
        writer.writerow({key: inert_cell(value) for key, value in _record(result).items()})
    return buffer.getvalue()


def write_csv(results: Iterable[CaptionResult], out_path: str | Path) -> Path:
    """Write ``path,filename,caption,status,error`` rows (UTF-8) atomically to ``out_path``."""
    out_path = Path(out_path)
    atomic_write_text(out_path, csv_text(results))
    return out_path


def write_json(results: Iterable[CaptionResult], out_path: str | Path) -> Path:
    """Write the same records as the CSV, as a JSON list, atomically to ``out_path``."""
    out_path = Path(out_path)
    records = [_record(result) for result in results]
    atomic_write_text(out_path, json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    return out_path


def sidecar_path(image_path: str | Path) -> Path:
    """``photo.jpg`` -> ``photo.txt``: the convention caption tools read."""
    return Path(image_path).with_suffix(".txt")


def has_sidecar(image_path: str | Path) -> bool:
    return sidecar_path(image_path).is_file()


def write_sidecars(results: Iterable[CaptionResult], overwrite: bool = False,
                   ext: str = DEFAULT_SIDECAR_EXT) -> SidecarCounts:
    """Write each successful caption to its image's sidecar (named by ``SidecarNames(ext)``);
    existing sidecars are the user's work, so they are kept unless ``overwrite`` is asked for."""
    names = SidecarNames(ext)
    written = kept = skipped = 0
    for result in results:
        if not result.ok:
            skipped += 1
            continue
        target = names.path(result.path)
        if target.exists() and not overwrite:
            kept += 1
            continue
        atomic_write_text(target, result.caption + "\n")
        written += 1
    return SidecarCounts(written=written, kept=kept, skipped=skipped)
