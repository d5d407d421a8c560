"""Shared plumbing of the benchmark scripts: work folder, inputs, timing and the printed table.

Every script compares two things measured in the same run on the same machine, because the
machines here are shared and noisy: the ratio is the result, absolute seconds are context.
Importing this module puts the repository root on ``sys.path`` so ``python benchmarks/X.py``
works from any folder without installing the package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The Flickr8k text files; FLICKR8K_TEXT points elsewhere (e.g. from a git worktree).
FLICKR8K_TEXT = Path(os.environ.get("FLICKR8K_TEXT",
                                    REPO_ROOT.parent / "shared" / "flickr8k_text"))
WORK_DIR = REPO_ROOT / "benchmarks" / "out"  # git-ignored; inputs are reused between runs
RESULT_PREFIX = "RESULT "  # a child process's last line: RESULT {json}


def parse_args(description: str, extra=None) -> argparse.Namespace:
    """``--quick`` (small, for development) plus whatever ``extra(parser)`` adds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="a smaller run for development; ratios are rougher")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def work_dir(name: str) -> Path:
    path = WORK_DIR / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> str:
    """CPU model and core count, as printed at the top of every result."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


def print_header(title: str, quick: bool) -> None:
    print(f"== {title}{' (quick)' if quick else ''}")
    print(f"   {machine()}, {time.strftime('%Y-%m-%d %H:%M')}")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "MISSED"


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    elapsed = [0.0]
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - start


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fake_weights() -> Path:
    """The seeded random VGG16 notop file (same layout and shapes as the real one, so the same
    speed); the real weights cannot be downloaded on these machines."""
    from tests.support.fake_vgg16 import write_fake_vgg16_weights

    path = work_dir("weights") / "vgg16_notop_fake.h5"
    if not path.exists():
        write_fake_vgg16_weights(path, seed=0)
    return path


def make_photos(count: int, size: tuple[int, int] = (500, 375), seed: int = 0) -> list[Path]:
    """``count`` photo-sized JPEGs (noise under random shapes, quality 90): they decode at the
    cost of real photos, unlike flat synthetic images that JPEG compresses to nothing."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder = work_dir(f"photos_{size[0]}x{size[1]}_s{seed}")
    paths = [folder / f"photo_{i:05d}.jpg" for i in range(count)]
    rng = np.random.default_rng(seed)
    shapes = random.Random(seed)
    for path in paths:
        if path.exists():
            continue
        noise = rng.normal(128, 40, (size[1], size[0], 3)).clip(0, 255).astype(np.uint8)
        image = Image.fromarray(noise)
        draw = ImageDraw.Draw(image)
        for _ in range(8):
            x, y = shapes.randrange(size[0]), shapes.randrange(size[1])
            r = shapes.randrange(20, 120)
            fill = tuple(shapes.randrange(256) for _ in range(3))
            (draw.ellipse if shapes.random() < 0.5 else draw.rectangle)(
                (x - r, y - r, x + r, y + r), fill=fill)
        image.save(path, "JPEG", quality=90)
    return paths


def flickr8k_captions(split: str) -> dict[str, list[str]]:
    """Real Flickr8k captions of one official split ("train", "dev", "test"), by image name."""
    names = set((FLICKR8K_TEXT / f"Flickr_8k.{split}Images.txt").read_text().split())
    captions: dict[str, list[str]] = {}
    for line in (FLICKR8K_TEXT / "Flickr8k.token.txt").read_text(encoding="utf-8").splitlines():
        key, _, text = line.partition("\t")
        name = key.rsplit("#", 1)[0]
        if name in names and text.strip():
            captions.setdefault(name, []).append(text.strip())
    return captions


def run_child(script: Path, args: Sequence[str]) -> dict:
    """Run ``script args`` in a fresh Python (so its peak RSS is its own) and return the JSON
    it printed on its ``RESULT`` line; its other output is passed through."""
    proc = subprocess.run([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True,
                          check=False)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
        else:
            print(line)
    if proc.returncode != 0 or result is None:
        raise SystemExit(f"{script.name} {' '.join(args)} failed with exit code {proc.returncode}")
    return result


def report_to_parent(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result), flush=True)
