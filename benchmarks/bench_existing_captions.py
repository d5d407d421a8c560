"""How fast existing captions are found while a folder is walked (the GUI does it per photo).

``read_existing_caption`` on camera-like JPEGs (EXIF with "OLYMPUS DIGITAL CAMERA", so every place
is looked at and nothing is found: the slowest case) against two baselines measured in the same
run: the old check (does a ``.txt`` sidecar exist) and Pillow reading the EXIF description (what
a reader without exiv2 would do). Also with a ``.txt`` sidecar beside every photo, where the
photo is never opened. Files are in the page cache (second pass), as in a folder just listed.
The result is projected to a 10,000-photo folder.
"""

from __future__ import annotations

from pathlib import Path

import benchkit

PHOTO_SIZE = (500, 375)


def camera_like_photos(count: int) -> list[Path]:
    """JPEGs with a camera's EXIF block (make, model, date, boilerplate description)."""
    import numpy as np
    from PIL import Image

    folder = benchkit.work_dir(f"camera_photos_{count}")
    paths = [folder / f"P{i:05d}.jpg" for i in range(count)]
    rng = np.random.default_rng(14)
    for path in paths:
        if path.exists():
            continue
        exif = Image.Exif()
        exif.update({270: "OLYMPUS DIGITAL CAMERA", 271: "OLYMPUS IMAGING CORP.",
                     272: "E-M10", 306: "2026:11:29 12:00:00"})
        noise = rng.integers(0, 256, (PHOTO_SIZE[1], PHOTO_SIZE[0], 3), dtype=np.uint8)
        Image.fromarray(noise).save(path, "JPEG", quality=85, exif=exif)
    return paths


def per_photo_ms(read, paths: list[Path]) -> float:
    for path in paths:  # warm the page cache and the libraries
        read(path)
    with benchkit.stopwatch() as elapsed:
        for path in paths:
            read(path)
    return elapsed[0] * 1000 / len(paths)


def main() -> None:
    args = benchkit.parse_args(__doc__)
    from PIL import Image

    from desktop_captioner.core.existing_captions import read_existing_caption
    from desktop_captioner.core.sidecars import SidecarNames

    count = 300 if args.quick else 2000
    benchkit.print_header(f"existing captions, {count} camera-like JPEGs", args.quick)
    paths = camera_like_photos(count)

    def pillow_description(path: Path):
        with Image.open(path) as image:
            return image.getexif().get(270)

    names = SidecarNames()
    timings = {
        "old check: .txt exists": per_photo_ms(lambda p: p.with_suffix(".txt").is_file(), paths),
        "Pillow EXIF description": per_photo_ms(pillow_description, paths),
        "read_existing_caption, no caption": per_photo_ms(
            lambda p: read_existing_caption(p, names), paths),
    }
    for path in paths:
        path.with_suffix(".txt").write_text("a caption", encoding="utf-8")
    try:
        timings["read_existing_caption, .txt beside"] = per_photo_ms(
            lambda p: read_existing_caption(p, names), paths)
    finally:
        for path in paths:
            path.with_suffix(".txt").unlink()
    pillow = timings["Pillow EXIF description"]
    benchkit.print_table(
        ["reader", "ms/photo", "s per 10,000", "x Pillow"],
        [[name, ms, ms * 10, ms / pillow] for name, ms in timings.items()])


if __name__ == "__main__":
    main()
