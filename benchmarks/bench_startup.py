"""Process start to main window on screen, on a real X server (Xvfb), against the floor.

Each contender is started as a new process, N times, in alternation (so load from the other
agents on this machine falls on all of them alike), and timed from just before ``Popen`` until
the X server maps its first top-level window: ``xev -root -event substructure`` reports the
MapNotify, so the app is observed from outside, not asked. Contenders:

- floor: a bare ``QApplication`` + empty ``QMainWindow`` in the same interpreter, same env: what
  Python, PySide6 and the xcb platform plugin cost before any of our code runs;
- source: ``python -m desktop_captioner gui`` from a checkout (``--source LABEL=ROOT``, repeatable);
- bundle: the PyInstaller app (``--bundle LABEL=EXE``, repeatable; by default
  ``dist/desktop-captioner/desktop-captioner`` when it exists).

Every contender gets a fresh ``DESKTOP_CAPTIONER_HOME`` (no session to restore) and one untimed
warm-up start (file cache). Needs Xvfb, xev and xdotool; starts its own Xvfb on a free display.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchkit

TARGET_S = 1.0
# The app home is also the working folder: `python -m` puts it first on sys.path.
HOME_VAR = "DESKTOP_CAPTIONER_HOME"
WINDOW_TIMEOUT_S = 60
FLOOR_CODE = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("Start-up floor")
window.resize(1100, 700)
window.show()
sys.exit(app.exec())
"""
_MAP_NOTIFY = re.compile(r"^MapNotify event")
_MAPPED_WINDOW = re.compile(r"window (0x[0-9a-f]+), override")


@dataclass
class Contender:
    label: str
    argv: list[str]
    env: dict[str, str]
    seconds: list[float] = field(default_factory=list)


class MapWatcher:
    """``xev`` on the root window: the arrival time of each top-level window's MapNotify."""

    def __init__(self, display: str) -> None:
        self._proc = subprocess.Popen(["xev", "-display", display, "-root", "-event",
                                       "substructure"], stdout=subprocess.PIPE, text=True,
                                      bufsize=1)
        self._maps: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.5)
        if self._proc.poll() is not None:
            raise SystemExit(f"xev could not watch display {display}")

    def _read(self) -> None:
        pending = None
        for line in self._proc.stdout:
            if _MAP_NOTIFY.match(line):
                pending = time.perf_counter()
            elif pending is not None and (found := _MAPPED_WINDOW.search(line)):
                self._maps.put((pending, found.group(1)))
                pending = None

    def drain(self) -> None:
        while not self._maps.empty():
            self._maps.get_nowait()

    def next_map(self, timeout: float) -> tuple[float, str]:
        return self._maps.get(timeout=timeout)

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait()


def window_name(display: str, window: str) -> str:
    out = subprocess.run(["xprop", "-display", display, "-id", window, "WM_NAME"],
                         capture_output=True, text=True).stdout
    return out.split("=", 1)[1].strip().strip('"') if "=" in out else ""


def time_one(contender: Contender, watcher: MapWatcher, display: str) -> float:
    """Seconds from just before the process starts to its first mapped top-level window."""
    watcher.drain()
    start = time.perf_counter()
    proc = subprocess.Popen(contender.argv, env=contender.env, cwd=contender.env[HOME_VAR],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        mapped, window = watcher.next_map(WINDOW_TIMEOUT_S)
        name = window_name(display, window)
    except queue.Empty:
        raise SystemExit(f"{contender.label}: no window within {WINDOW_TIMEOUT_S} s "
                         f"(exit code {proc.poll()})") from None
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    expected = "Start-up floor" if contender.label == "floor" else "Desktop Captioner"
    if expected not in name:
        raise SystemExit(f"{contender.label}: the first window mapped was {name!r}")
    return mapped - start


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """An Xvfb of our own on the first display from :96 that it can take."""
    for number in range(96, 200):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        display = f":{number}"
        server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten",
                                   "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if server.poll() is not None:
                break  # another server took it meanwhile: try the next number
            if subprocess.run(["xdpyinfo", "-display", display],
                              capture_output=True).returncode == 0:
                return server, display
            time.sleep(0.05)
        server.terminate()
        server.wait()
    raise SystemExit("Xvfb did not start")


def labelled(values: list[str]) -> list[tuple[str, Path]]:
    pairs = []
    for value in values:
        label, sep, path = value.partition("=")
        if not sep:
            raise SystemExit(f"expected LABEL=PATH, got {value!r}")
        pairs.append((label, Path(path).resolve()))
    return pairs


def contenders(args, display: str, homes: Path) -> list[Contender]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WAYLAND_DISPLAY")}
    base.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")

    def env(label: str, **extra: str) -> dict[str, str]:
        home = homes / label
        home.mkdir()
        return {**base, HOME_VAR: str(home), **extra}

    found = [Contender("floor", [sys.executable, "-c", FLOOR_CODE], env("floor"))]
    for label, root in labelled(args.source or [f"source={benchkit.REPO_ROOT}"]):
        found.append(Contender(label, [sys.executable, "-m", "desktop_captioner", "gui"],
                               env(label, PYTHONPATH=str(root))))
    default_bundle = benchkit.REPO_ROOT / "dist" / "desktop-captioner" / "desktop-captioner"
    bundles = labelled(args.bundle) if args.bundle else (
        [("bundle", default_bundle)] if default_bundle.exists() else [])
    for label, exe in bundles:
        found.append(Contender(label, [str(exe)], env(label)))
    return found


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--runs", type=int, default=None, help="timed starts per contender")
        parser.add_argument("--source", action="append", metavar="LABEL=ROOT",
                            help="a checkout to start with `python -m desktop_captioner gui`")
        parser.add_argument("--bundle", action="append", metavar="LABEL=EXE",
                            help="a PyInstaller app to start")

    args = benchkit.parse_args(__doc__.splitlines()[0], options)
    missing = [tool for tool in ("Xvfb", "xev", "xprop", "xdpyinfo") if not shutil.which(tool)]
    if missing:
        print(f"bench_startup: skipped, needs {', '.join(missing)}")
        return
    runs = args.runs or (3 if args.quick else 7)
    benchkit.print_header("Start-up to main window mapped (Xvfb)", args.quick)
    load_before = os.getloadavg()[0]
    server, display = start_xvfb()
    watcher = MapWatcher(display)
    try:
        with tempfile.TemporaryDirectory() as homes:
            lineup = contenders(args, display, Path(homes))
            for contender in lineup:  # warm the file cache; untimed
                time_one(contender, watcher, display)
            for run in range(runs):
                turn = lineup[run % len(lineup):] + lineup[:run % len(lineup)]
                for contender in turn:
                    contender.seconds.append(time_one(contender, watcher, display))
    finally:
        watcher.close()
        server.terminate()
        server.wait()
    floor = statistics.median(lineup[0].seconds)
    rows = []
    for contender in lineup:
        median = statistics.median(contender.seconds)
        rows.append([contender.label, f"{median:.2f} s",
                     ", ".join(f"{s:.2f}" for s in contender.seconds),
                     f"{median / floor:.2f}x", f"+{median - floor:.2f} s",
                     "" if contender.label == "floor"
                     else benchkit.verdict(median, TARGET_S, higher_is_better=False)])
    benchkit.print_table(["contender", "median", "runs", "vs floor", "above floor",
                          f"<= {TARGET_S:g} s"], rows)
    print(f"   load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
