"""How fast a COCO-sized caption dataset loads: Karpathy's ``dataset_coco.json`` and COCO 2017's
caption files, against the Flickr8k token-file loader on the same number of captions.

A temporary folder gets 123,287 empty stand-in images (82,783 in ``train2014/``, 40,504 in
``val2014/``, the 2014 sizes; COCO 2017's ``train2017/`` and ``val2017/`` are links to them) and
five generated captions per image (616,435, the size of COCO's) in the three file shapes:
Karpathy's JSON with its tokens and ids, COCO's two annotation files with their image metadata,
and a ``Flickr8k.token.txt`` beside a flat images folder of the same names. Each case runs
``load_dataset`` (the real code path: parse, checks, one listing per images folder) in its own
Python process, best of two loads, and reports seconds and the process's peak RSS (VmHWM). Targets:
≤ 5 s and ≤ 1 GB for the COCO-sized files.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path

import benchkit

TRAIN_IMAGES, VAL_IMAGES = 82_783, 40_504
CAPTIONS_PER_IMAGE = 5
WORDS = 10_000  # vocabulary the captions are drawn from
TARGET_SECONDS, TARGET_MB = 5.0, 1024


def image_names(scale: float) -> dict[str, list[str]]:
    """COCO-like file names per folder, in the 2014 folder sizes."""
    train, val = int(TRAIN_IMAGES * scale), int(VAL_IMAGES * scale)
    return {"train2014": [f"COCO_train2014_{i:012d}.jpg" for i in range(train)],
            "val2014": [f"COCO_val2014_{train + i:012d}.jpg" for i in range(val)]}


def caption_maker(seed: int = 0):
    rng = random.Random(seed)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(WORDS)]
    return lambda: " ".join(rng.choice(vocab) for _ in range(rng.randint(8, 14))) + " ."


def karpathy_split(folder: str, val_index: int, scale: float) -> str:
    """Karpathy's COCO split: all of train2014, then 5,000 val, 5,000 test and the rest
    restval from val2014 (scaled with the run)."""
    held_out = int(5000 * scale)
    if folder == "train2014":
        return "train"
    return "val" if val_index < held_out else "test" if val_index < 2 * held_out else "restval"


def stand_in_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for name in names:
        os.close(os.open(folder / name, os.O_CREAT | os.O_WRONLY, 0o644))


def write_inputs(root: Path, scale: float) -> dict[str, Path]:
    """The three datasets under ``root``; returns what each case loads."""
    names = image_names(scale)
    caption = caption_maker()
    captions = {(folder, name): [caption() for _ in range(CAPTIONS_PER_IMAGE)]
                for folder, listed in names.items() for name in listed}
    karpathy = root / "karpathy"
    for folder, listed in names.items():
        stand_in_images(karpathy / folder, listed)
    entries, sentence_id = [], 0
    for image_id, ((folder, name), texts) in enumerate(captions.items()):
        sentences = []
        for text in texts:
            sentences.append({"tokens": text.rstrip(" .").split(), "raw": text,
                              "imgid": image_id, "sentid": sentence_id})
            sentence_id += 1
        split = karpathy_split(folder, image_id - len(names["train2014"]), scale)
        entries.append({"filepath": folder, "sentids": list(range(sentence_id - 5, sentence_id)),
                        "filename": name, "imgid": image_id, "split": split,
                        "sentences": sentences, "cocoid": image_id})
    (karpathy / "dataset_coco.json").write_text(
        json.dumps({"images": entries, "dataset": "coco"}), encoding="utf-8")

    coco = root / "coco2017"
    (coco / "annotations").mkdir(parents=True)
    for old, new in (("train2014", "train2017"), ("val2014", "val2017")):
        (coco / new).symlink_to(karpathy / old, target_is_directory=True)
        images, annotations = [], []
        for image_id, ((folder, name), texts) in enumerate(captions.items()):
            if folder != old:
                continue
            images.append({"license": 3, "file_name": name, "height": 480, "width": 640,
                           "coco_url": f"http://images.cocodataset.org/{new}/{name}",
                           "date_captured": "2013-11-14 11:18:45", "id": image_id,
                           "flickr_url": f"http://farm4.staticflickr.com/{name}"})
            annotations += [{"image_id": image_id, "id": len(annotations) + i, "caption": text}
                            for i, text in enumerate(texts)]
        (coco / "annotations" / f"captions_{new}.json").write_text(json.dumps(
            {"info": {"year": 2017}, "licenses": [], "images": images,
             "annotations": annotations}), encoding="utf-8")

    flickr = root / "flickr8k"
    stand_in_images(flickr / "Flicker8k_Dataset", [name for _, name in captions])
    with (flickr / "Flickr8k.token.txt").open("w", encoding="utf-8") as handle:
        for (_, name), texts in captions.items():
            handle.writelines(f"{name}#{i}\t{text}\n" for i, text in enumerate(texts))
    return {"flickr8k": flickr, "karpathy": karpathy / "dataset_coco.json", "coco": coco}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): unlike ``ru_maxrss``, it does not carry over the
    parent's peak through fork and exec, and the parent here is large from writing the inputs."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return benchkit.peak_rss_mb()


def child(case: str, path: Path) -> None:
    """One case in this fresh process: best of two loads, then the peak RSS."""
    from desktop_captioner.core.dataset import load_dataset

    seconds = []
    for _ in range(2):
        with benchkit.stopwatch() as elapsed:
            dataset = load_dataset(path)
        seconds.append(elapsed[0])
        summary = dataset.summary()
        del dataset
    benchkit.report_to_parent({"case": case, "seconds": min(seconds),
                               "peak_mb": peak_rss_mb(), "images": summary["images"],
                               "captions": summary["captions"], "layout": summary["layout"],
                               "problems": len(summary["problems"])})


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
        return
    args = benchkit.parse_args(__doc__)
    scale = 0.1 if args.quick else 1.0
    benchkit.print_header("dataset loading, COCO-sized caption files", args.quick)
    with tempfile.TemporaryDirectory(prefix="bench_dataset_load_") as temp:
        with benchkit.stopwatch() as made:
            inputs = write_inputs(Path(temp), scale)
        sizes = {case: sum(f.stat().st_size for f in ([path] if path.is_file()
                                                     else path.rglob("*.json")))
                 for case, path in inputs.items() if case != "flickr8k"}
        sizes["flickr8k"] = (inputs["flickr8k"] / "Flickr8k.token.txt").stat().st_size
        print(f"   inputs written in {made[0]:.0f} s")
        results = {case: benchkit.run_child(Path(__file__), ["--child", case, str(path)])
                   for case, path in inputs.items()}
    base = results["flickr8k"]
    rows = []
    for case, result in results.items():
        rows.append([case, result["images"], result["captions"], f"{sizes[case] / 2**20:.0f}",
                     result["seconds"], result["peak_mb"], result["seconds"] / base["seconds"],
                     result["peak_mb"] / base["peak_mb"],
                     "baseline" if case == "flickr8k" else
                     f"time {benchkit.verdict(result['seconds'], TARGET_SECONDS, False)}, "
                     f"RSS {benchkit.verdict(result['peak_mb'], TARGET_MB, False)}"])
    benchkit.print_table(["case", "images", "captions", "file MB", "load s", "peak RSS MB",
                          "time / flickr8k", "RSS / flickr8k", f"≤ {TARGET_SECONDS:.0f} s, "
                          f"≤ {TARGET_MB} MB"], rows)


if __name__ == "__main__":
    main()
