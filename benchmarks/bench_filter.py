"""The list filter: time to re-filter 10,000 rows per keystroke, as the user sees it.

Rows are put in the real ``ImageListModel`` (file names and captions like a real folder's) and
shown through the app's ``CaptionFilterModel`` in a visible ``ImageListView`` (offscreen Qt).
Each "keystroke" sets the filter text to one more character of a phrase and then lets the
event loop run, so the view's own update is inside the time. Each quick filter is timed the
same way. Baseline, in the same run: the same proxy re-filtering with no filter at all (every
row accepted), i.e. the proxy and view machinery without our predicate. Target: the slowest
keystroke <= 100 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import benchkit

ROWS = 10_000
PHRASE = "dog on the beach"
LIMIT_MS = 100.0
REPEATS = 5
WORDS = ("a dog runs on the beach", "two children play in a park", "a man rides a bicycle",
         "boats in a harbour at dusk", "a black cat sleeps on a sofa", "people walk down a street")


def build(rows: int):
    """A shown main-window-like list: model, filter proxy, view."""
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from desktop_captioner.gui.models.caption_filter_model import CaptionFilterModel
    from desktop_captioner.gui.models.image_list_model import (DONE, EDITED, ERROR, HAS_CAPTION,
                                                               NEW, ImageItem, ImageListModel)
    from desktop_captioner.gui.widgets.image_list_view import ImageListView
    from desktop_captioner.gui.workers.thumbnails import ThumbnailLoader

    app = QApplication.instance() or QApplication([])
    rng = random.Random(0)
    statuses = [NEW, DONE, DONE, DONE, ERROR, EDITED, HAS_CAPTION]
    items = []
    for n in range(rows):
        status = rng.choice(statuses)
        caption = "" if status in (NEW, ERROR) else rng.choice(WORDS)
        items.append(ImageItem(Path(f"/photos/holiday/IMG_{n:05d}.jpg"), caption=caption,
                               status=status))
    thumbnails = ThumbnailLoader(56)
    model = ImageListModel(thumbnails, QUndoStack())
    model.add_items(items)
    proxy = CaptionFilterModel(model)
    view = ImageListView(proxy)
    view.resize(900, 700)
    view.show()
    app.processEvents()
    return app, thumbnails, proxy, view


def timed(app, change) -> float:
    """Milliseconds for one filter change plus the event-loop turn that repaints the view."""
    start = time.perf_counter()
    change()
    app.processEvents()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    args = benchkit.parse_args(__doc__.splitlines()[0])
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("DESKTOP_CAPTIONER_HOME", tempfile.mkdtemp(prefix="bench-filter-"))
    from desktop_captioner.gui.models.caption_filter_model import QuickFilter

    benchkit.print_header(f"List filter, {ROWS:,} rows", args.quick)
    app, thumbnails, proxy, view = build(ROWS)
    repeats = 2 if args.quick else REPEATS

    baseline, typing, quick = [], [], {q: [] for q in QuickFilter if q is not QuickFilter.ALL}
    for _ in range(repeats):
        for _ in PHRASE:  # as many re-filters as keystrokes, every row accepted
            baseline.append(timed(app, lambda: (proxy.beginFilterChange(),
                                                proxy.endFilterChange(proxy.Direction.Rows))))
        for length in range(1, len(PHRASE) + 1):
            typing.append(timed(app, lambda: proxy.set_filter(text=PHRASE[:length])))
        typing.append(timed(app, lambda: proxy.set_filter(text="")))  # the clear button
        for name in quick:
            quick[name].append(timed(app, lambda: proxy.set_filter(quick=name)))
            timed(app, lambda: proxy.set_filter(quick=QuickFilter.ALL))

    base = statistics.median(baseline)
    rows = [["no filter (baseline)", base, max(baseline), 1.0, "", ""]]
    worst = max(typing)
    rows.append([f"typing {PHRASE!r}", statistics.median(typing), worst,
                 statistics.median(typing) / base, f"<= {LIMIT_MS:g} ms",
                 benchkit.verdict(worst, LIMIT_MS, higher_is_better=False)])
    for name, times in quick.items():
        worst = max(worst, max(times))
        rows.append([f"quick filter {name.value!r}", statistics.median(times), max(times),
                     statistics.median(times) / base, f"<= {LIMIT_MS:g} ms",
                     benchkit.verdict(max(times), LIMIT_MS, higher_is_better=False)])
    print(f"   {repeats} rounds; each time includes the view's repaint")
    benchkit.print_table(["what", "median ms", "max ms", "ratio", "target", "verdict"], rows)
    verdict = "PASS" if worst <= LIMIT_MS else "FAIL"
    print(f"{verdict}: slowest re-filter {worst:.1f} ms (limit {LIMIT_MS:g} ms per keystroke)")
    view.close()
    thumbnails.shutdown()


if __name__ == "__main__":
    main()
