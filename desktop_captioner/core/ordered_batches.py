"""A run's rows in input order, one batch at a time, ready to be written as each batch finishes.

Some rows are decided before captioning (a file that does not exist gets its error row); the
rest come from ``Captioner.caption``, which yields its results a batch at a time. Merging the two
here lets an export be written batch by batch while still listing every row in input order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from desktop_captioner.core.results import CaptionResult


def ordered_batches(rows: Sequence[Path | CaptionResult], captioned: Iterator[CaptionResult],
                    batch_size: int) -> Iterator[list[CaptionResult]]:
    """Yield ``rows`` as results, in order: a ``Path`` row takes the next ``captioned`` result,
    a ``CaptionResult`` row is used as it is. A list is yielded as soon as it holds
    ``batch_size`` captioned results (one Captioner batch) or the rows run out, so the next
    batch is only started after the caller has dealt with this one."""
    batch: list[CaptionResult] = []
    paths = 0
    for row in rows:
        if isinstance(row, CaptionResult):
            batch.append(row)
            continue
        batch.append(next(captioned))
        paths += 1
        if paths == batch_size:
            yield batch
            batch, paths = [], 0
    if batch:
        yield batch
