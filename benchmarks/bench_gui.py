"""The desktop app's responsiveness, measured on the real window (offscreen Qt).

- start-up: process start to main window shown, through the real ``desktop-captioner gui`` path;
- event-loop stalls: a 10 ms QTimer records the gaps between its ticks; the longest gap minus
  10 ms is the longest stall, while captioning 200 photos and while training in the dialog;
- memory: RSS growth from the 100th to the 1000th caption;
- adding a folder of 10,000 files: time until every row is listed.
Each scenario runs in its own Python process so one's imports and memory do not colour the
next's. The stall figures include the OS descheduling the GUI thread when other processes load
the machine; the table shows the median gap too, to tell load from our own stalls.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchkit

TICK_MS = 10
STARTUP_TARGET_S, STALL_TARGET_MS, RSS_TARGET_MB, LIST_TARGET_S = 1.0, 50.0, 50.0, 2.0


def _qt_env(home: Path) -> dict:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DESKTOP_CAPTIONER_HOME": str(home),
            "QT_LOGGING_RULES": "qt.qpa.*=false"}


# --- helpers that run inside a scenario process ---------------------------------------------

class StallMeter:
    """Gaps between the ticks of a 10 ms precise timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._last = time.perf_counter()
        self._timer.start(TICK_MS)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def take(self) -> dict:
        """Longest stall and median gap (ms) since the last ``take``; starts a new window."""
        gaps, self.gaps = self.gaps or [0.0], []
        return {"stall_ms": max(0.0, max(gaps) * 1000 - TICK_MS),
                "median_gap_ms": statistics.median(gaps) * 1000}


def run_until(predicate, timeout_s: float, what: str) -> None:
    """Run the Qt event loop until ``predicate()`` holds (polled every 20 ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if predicate() else None)
    poll.start(20)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if not predicate():
        loop.exec()
    poll.stop()
    if not predicate():
        raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_window(weights: Path):
    from desktop_captioner.gui.app import create_application
    from desktop_captioner.gui.main_window import MainWindow

    app = create_application(["bench"])
    window = MainWindow(weights_override=weights)
    window.show()
    return app, window


def load_model(window, model_path: Path) -> None:
    window.load_model(model_path)
    run_until(lambda: window.captioning.model_info is not None, 600, "the model to load")


def add_and_wait(window, paths, expected_rows: int, timeout_s: float = 120) -> None:
    window.add_paths(paths)
    run_until(lambda: window.model.rowCount() >= expected_rows and not window.adder.walker.busy,
              timeout_s, f"{expected_rows} rows")


def caption_all_and_wait(window, timeout_s: float) -> None:
    window.caption_all()
    run_until(lambda: not window.captioning.busy, timeout_s, "captioning to finish")


def copies(count: int, unique: int = 200) -> list[Path]:
    """``count`` photo files made by hard-linking ``unique`` generated photos under new names."""
    sources = benchkit.make_photos(unique)
    folder = benchkit.work_dir(f"photo_links_{count}")
    paths = [folder / f"copy_{i:05d}.jpg" for i in range(count)]
    for i, path in enumerate(paths):
        if not path.exists():
            os.link(sources[i % unique], path)
    return paths


# --- scenarios (each in its own process) ------------------------------------------------------

def scenario_startup() -> None:
    """The real start-up path, reporting once the window is shown and the event loop runs."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_captioner.gui import main_window

    show = main_window.MainWindow.show

    def show_and_report(window) -> None:
        show(window)
        QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), QApplication.quit()))

    main_window.MainWindow.show = show_and_report
    from desktop_captioner.cli import main

    sys.exit(main(["gui"]))


def scenario_caption(quick: bool) -> dict:
    import reference
    import tensorflow  # noqa: F401 - its one-off import stall is measured on its own
    from our_captioner import flickr8k_sized_model

    weights = benchkit.fake_weights()
    photos = benchkit.make_photos(48 if quick else 200)
    model = flickr8k_sized_model(weights, reference.best_precision())
    app, window = open_window(weights)
    meter = StallMeter()
    load_model(window, model)
    loading = meter.take()
    add_and_wait(window, photos, len(photos))
    meter.take()
    with benchkit.stopwatch() as seconds:
        caption_all_and_wait(window, 1800)
    captioning = meter.take()
    window.close()
    return {"photos": len(photos), "loading": loading, "captioning": captioning,
            "img_per_s": len(photos) / seconds[0]}


def scenario_memory(quick: bool) -> dict:
    """RSS growth from the 100th to the last caption (64-px model: many captions, quickly)."""
    import reference
    from our_captioner import flickr8k_sized_model

    from desktop_captioner.gui.models.image_list_model import DONE, ERROR

    weights = benchkit.fake_weights()
    total = 300 if quick else 1000
    photos = copies(total)
    model = flickr8k_sized_model(weights, reference.best_precision(), image_size=64)
    app, window = open_window(weights)
    load_model(window, model)
    add_and_wait(window, photos, total)
    samples: list[tuple[int, float]] = []

    def sample() -> None:
        samples.append((len(window.model.rows_with_status([DONE, ERROR])), current_rss_mb()))

    from PySide6.QtCore import QTimer

    sampler = QTimer()
    sampler.timeout.connect(sample)
    sampler.start(250)
    caption_all_and_wait(window, 3600)
    sample()
    sampler.stop()
    after_100 = next(rss for done, rss in samples if done >= 100)
    window.close()
    return {"captions": total, "rss_at_0": samples[0][1], "rss_at_100": after_100,
            "rss_at_end": samples[-1][1],
            "growth_mb": samples[-1][1] - after_100}


def scenario_train(quick: bool) -> dict:
    import tensorflow  # noqa: F401 - its one-off import stall is measured on its own

    from desktop_captioner.core.sample_dataset import make_sample_dataset

    weights = benchkit.fake_weights()
    dataset = benchkit.WORK_DIR / "gui_scenes_64"
    if not dataset.exists():
        make_sample_dataset(dataset, images=300, size=64)
    app, window = open_window(weights)
    meter = StallMeter()
    window.models.open_training_dialog(dataset)
    dialog = window.training_dialog
    run_until(dialog.start_button.isEnabled, 60, "the dataset to be inspected")
    dialog.settings.epochs.setValue(2 if quick else 5)
    dialog.settings.image_size.setValue(64)
    meter.take()
    with benchkit.stopwatch() as seconds:
        dialog.start_training()
        run_until(lambda: dialog.state in ("done", "failed", "cancelled")
                  and not dialog.is_training(), 1800, "training")
    training = meter.take()
    state = dialog.state
    window.close()
    return {"state": state, "training": training, "seconds": seconds[0]}


def _tf_import_stall(load) -> dict:
    """Stalls while ``load`` runs in a worker thread, as the app's first model load does."""
    from PySide6.QtCore import QThread

    class Importer(QThread):
        def run(self) -> None:
            load()

    app, window = open_window(benchkit.fake_weights())
    meter = StallMeter()
    run_until(lambda: len(meter.gaps) > 20, 10, "the event loop")
    meter.take()
    importer = Importer()
    with benchkit.stopwatch() as seconds:
        importer.start()
        run_until(importer.isFinished, 300, "the import")
    importer.wait()
    importing = meter.take()
    window.close()
    return {"seconds": seconds[0], "importing": importing}


def scenario_tf_import(quick: bool) -> dict:
    """The first TensorFlow import of a session, through the app's own loader."""
    return _tf_import_stall(lambda: __import__("desktop_captioner.core.tf_runtime"))


def scenario_tf_import_plain(quick: bool) -> dict:
    """The baseline: a bare ``import tensorflow`` in the same kind of worker thread."""
    return _tf_import_stall(lambda: __import__("tensorflow"))


def scenario_control(quick: bool) -> dict:
    """The floor: stalls while a worker thread runs plain Python (which hands the GIL over every
    5 ms), caused only by the GIL and by other processes taking the CPU."""
    from PySide6.QtCore import QThread

    class Spinner(QThread):
        def run(self) -> None:
            end = time.perf_counter() + (5 if quick else 20)
            while time.perf_counter() < end:
                sum(i * i for i in range(1000))

    app, window = open_window(benchkit.fake_weights())
    meter = StallMeter()
    run_until(lambda: len(meter.gaps) > 20, 10, "the event loop")
    meter.take()
    spinner = Spinner()
    spinner.start()
    run_until(spinner.isFinished, 60, "the spinner")
    spinner.wait()
    spinning = meter.take()
    window.close()
    return {"spinning": spinning}


def scenario_add_folder(quick: bool) -> dict:
    count = 10_000
    folder = benchkit.work_dir("folder_10000")
    source = benchkit.make_photos(1)[0]
    for i in range(count):
        path = folder / f"img_{i:05d}.jpg"
        if not path.exists():
            os.link(source, path)
    app, window = open_window(benchkit.fake_weights())
    meter = StallMeter()
    meter.take()
    with benchkit.stopwatch() as seconds:
        add_and_wait(window, [folder], count, 120)
    adding = meter.take()
    window.close()
    return {"files": count, "seconds": seconds[0], "adding": adding}


SCENARIOS = {"control": scenario_control, "tf_import": scenario_tf_import,
             "tf_import_plain": scenario_tf_import_plain,
             "caption": scenario_caption, "memory": scenario_memory, "train": scenario_train,
             "add_folder": scenario_add_folder}


# --- the parent -------------------------------------------------------------------------------

def startup_seconds(home: Path) -> float:
    """Process start to the SHOWN line of a ``--scenario startup`` child."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--scenario", "startup"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=_qt_env(home))
    for line in proc.stdout:
        if line.strip() == "SHOWN":
            elapsed = time.perf_counter() - start
            proc.wait()
            return elapsed
    raise SystemExit(f"start-up child exited with {proc.wait()} without showing the window")


def main() -> None:
    args = benchkit.parse_args(__doc__.splitlines()[0], lambda p: p.add_argument(
        "--scenario", choices=("startup", *SCENARIOS), help="run one scenario here"))
    if args.scenario == "startup":
        scenario_startup()
    if args.scenario:
        benchkit.report_to_parent(SCENARIOS[args.scenario](args.quick))
        return
    benchkit.print_header("GUI responsiveness (offscreen)", args.quick)
    flags = ["--quick"] if args.quick else []
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(_qt_env(Path(home)))
        startup_seconds(Path(home))  # warm the file cache; untimed
        starts = [startup_seconds(Path(home)) for _ in range(3 if args.quick else 5)]
        results = {name: benchkit.run_child(Path(__file__), ["--scenario", name, *flags])
                   for name in SCENARIOS}
    cap, mem, train, add, tf_import, tf_plain, control = (results[n] for n in (
        "caption", "memory", "train", "add_folder", "tf_import", "tf_import_plain", "control"))
    startup = statistics.median(starts)
    stall = f"<= {STALL_TARGET_MS:g} ms"

    def stall_row(label: str, measured: dict, target: str = stall) -> list:
        return [label, f"{measured['stall_ms']:.0f} ms (median gap "
                       f"{measured['median_gap_ms']:.1f})", target,
                benchkit.verdict(measured["stall_ms"], STALL_TARGET_MS, False) if target else ""]

    benchkit.print_table(["measure", "value", "target", "verdict"], [
        ["start-up to window shown (median)",
         f"{startup:.2f} s (runs {', '.join(f'{s:.2f}' for s in starts)})",
         f"<= {STARTUP_TARGET_S:g} s", benchkit.verdict(startup, STARTUP_TARGET_S, False)],
        stall_row("control: longest stall, pure-Python worker", control["spinning"], ""),
        stall_row(f"baseline: longest stall, bare `import tensorflow` in a worker "
                  f"({tf_plain['seconds']:.1f} s)", tf_plain["importing"], ""),
        stall_row(f"longest stall, first TensorFlow import in a worker, app's loader "
                  f"({tf_import['seconds']:.1f} s)", tf_import["importing"]),
        stall_row("longest stall, loading the model", cap["loading"], ""),
        stall_row(f"longest stall, captioning {cap['photos']} photos "
                  f"({cap['img_per_s']:.1f} img/s)", cap["captioning"]),
        stall_row(f"longest stall, training ({train['state']}, {train['seconds']:.0f} s)",
                  train["training"]),
        [f"RSS growth, caption 100 -> {mem['captions']}",
         f"{mem['growth_mb']:.1f} MB ({mem['rss_at_0']:.0f} at 0, {mem['rss_at_100']:.0f} "
         f"-> {mem['rss_at_end']:.0f})",
         f"<= {RSS_TARGET_MB:g} MB", benchkit.verdict(mem["growth_mb"], RSS_TARGET_MB, False)],
        [f"add a folder of {add['files']:,} files", f"{add['seconds']:.2f} s",
         f"<= {LIST_TARGET_S:g} s", benchkit.verdict(add["seconds"], LIST_TARGET_S, False)],
        stall_row("longest stall, adding the folder", add["adding"]),
    ])


if __name__ == "__main__":
    main()
