"""Issue 18, class 1 (files and paths): output targets that cannot be written and dataset
folders with broken entries give one sentence naming the file (exit 2), or fail their own image
(exit 1), never "internal error" (exit 3).

The tests run as root, whom ``chmod`` does not stop. A "read-only folder" is therefore made with
something root cannot write either: a path under a regular file (ENOTDIR), a path in ``/proc``,
or a monkeypatched ``OSError`` with the errno the OS would give (EACCES, EPERM, EROFS, ENOSPC);
each case says which.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import tempfile
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core import streaming_export
from desktop_captioner.core.errors import describe_os_error
from desktop_captioner.core.export_reader import read_export
from desktop_captioner.core.sample_dataset import make_sample_dataset
from tests.support.fake_captioner import install_fake_captioner, snapshot
from tests.support.photos import make_photo


@pytest.fixture
def model(monkeypatch, tmp_path) -> Path:
    return install_fake_captioner(monkeypatch, tmp_path)


def _one_clean_line(err: str, *names: str) -> str:
    """The stderr of a refused run: exactly one line, naming the file, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err
    for name in names:
        assert name in lines[0], err
    return lines[0]


def _refuse_in(folder: Path, code: int, monkeypatch) -> None:
    """Make every new file in ``folder`` fail with ``code``, as a read-only folder (EACCES),
    an immutable one (EPERM) or a read-only file system (EROFS) would for root too."""
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # tempfile's own name
        if dir is not None and Path(dir) == folder:
            raise OSError(code, os.strerror(code), str(folder))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def _make_files_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "folder.json").mkdir()


TARGETS = {  # what the target is: its path, relative to tmp_path unless absolute
    "under a regular file (ENOTDIR: read-only even for root)": "a_file/out",
    "a folder": "folder",
    "a name too long for the file system (ENAMETOOLONG)": "n" * 300,
    "a missing folder": "missing/out",
    "in /proc, which takes no new files even from root": "/proc/captions",
}


@pytest.mark.parametrize("case", list(TARGETS))
@pytest.mark.parametrize("ext", [".csv", ".json", ".jsonl"])
def test_an_unwritable_export_target_is_one_sentence_and_exit_2(case, ext, album, model,
                                                                 tmp_path, capsys):
    _make_files_in_the_way(tmp_path)
    target = tmp_path / (TARGETS[case] + ext)
    if case == "a folder" and ext == ".jsonl":
        target.mkdir()
    before = snapshot(tmp_path)
    option = "--csv" if ext == ".csv" else "--json"
    assert main(["caption", str(album), "--model", str(model), option, str(target)]) == 2
    _one_clean_line(capsys.readouterr().err, str(target))
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM, errno.EROFS])
def test_a_folder_that_refuses_new_files_is_one_sentence(code, album, model, tmp_path,
                                                         monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    _refuse_in(out, code, monkeypatch)  # monkeypatched: root writes past chmod
    before = snapshot(tmp_path)
    assert main(["caption", str(album), "--model", str(model), "--csv",
                 str(out / "c.csv")]) == 2
    line = _one_clean_line(capsys.readouterr().err, str(out / "c.csv"))
    assert describe_os_error(out / "c.csv", OSError(code, "x")) in line
    assert snapshot(tmp_path) == before


def test_csv_to_dev_stdout_is_refused_and_dev_is_untouched(album, model, monkeypatch, capsys):
    real_replace = os.replace

    def guarded_replace(src, dst, **kwargs):  # as root a regression would replace the device
        assert not os.path.abspath(dst).startswith("/dev/"), f"renamed a file over {dst}"
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", guarded_replace)
    link_before = os.readlink("/dev/stdout")
    assert main(["caption", str(album), "--model", str(model), "--csv", "/dev/stdout"]) == 2
    line = _one_clean_line(capsys.readouterr().err, "/dev/stdout")
    assert "not a regular file" in line
    assert os.readlink("/dev/stdout") == link_before  # the device name was not replaced
    assert not [name for name in os.listdir("/dev") if name.startswith(".stdout.")]


class _ClosedPipe(io.StringIO):
    """stdout after its reader (``| head -1``) went away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_stdout_closed_by_its_reader_ends_quietly(album, model, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["caption", str(album), "--model", str(model)]) == 141
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl"])
def test_a_full_disk_on_the_first_batch_leaves_nothing(name, album, model, tmp_path,
                                                        monkeypatch, capsys):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # a full disk shows at the latest at fsync
    before = snapshot(tmp_path)
    assert main(["caption", str(album), "--model", str(model), "--json" if "json" in name
                 else "--csv", str(tmp_path / name)]) == 2
    line = _one_clean_line(capsys.readouterr().err, str(tmp_path / name))
    assert line.endswith("the disk is full.")
    assert snapshot(tmp_path) == before  # no target, no temp file left


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl"])
def test_a_full_disk_while_appending_keeps_the_rows_already_written(
        name, album, model, tmp_path, monkeypatch, capsys):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(streaming_export.os, "write", full)  # only appends use os.write
    target = tmp_path / name
    option = "--json" if "json" in name else "--csv"
    assert main(["caption", str(album), "--model", str(model), option, str(target),
                 "--batch-size", "1"]) == 2
    _one_clean_line(capsys.readouterr().err, str(target), "the disk is full")
    read = read_export(target)
    assert [r.path.name for r in read.results] == ["a.jpg"] and not read.problems
    assert sorted(p.name for p in tmp_path.iterdir()) == ["album", name]  # no temp file


def test_a_folder_with_the_sidecars_name_fails_only_its_image(album, model, capsys):
    (album / "a.txt").mkdir()  # where a.jpg's sidecar would go
    before = snapshot(album)
    assert main(["caption", str(album), "--model", str(model), "--sidecars"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    failures = [line for line in err.splitlines() if str(album / "a.txt") in line]
    assert failures == [f"desktop-captioner: Cannot write {album / 'a.txt'}: it is a folder."]
    assert (album / "b.txt").read_text() == "a photo\n"
    after = snapshot(album)
    assert after.pop(bytes(album / "b.txt")) == b"a photo\n" and after == before


def test_a_sidecar_name_too_long_for_the_file_system_fails_only_its_image(album, model,
                                                                          capsys):
    stem = "n" * 248  # a .jpg and a .png share it: full-name sidecars, 256 bytes, too long
    for index, ext in enumerate((".jpg", ".png")):
        make_photo(album / (stem + ext), seed=index)
    assert main(["caption", str(album), "--model", str(model), "--sidecars"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    too_long = [line for line in err.splitlines() if "too long" in line]
    assert too_long == [f"desktop-captioner: Cannot write {album / (stem + ext + '.txt')}: its "
                        f"name is too long for the file system." for ext in (".jpg", ".png")]
    assert (album / "a.txt").is_file() and (album / "b.txt").is_file()


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_sidecars_next_to_read_only_photos_fail_only_those_images(code, tmp_path, model,
                                                                  monkeypatch, capsys):
    locked, open_ = tmp_path / "locked", tmp_path / "open"
    for folder in (locked, open_):
        folder.mkdir()
        make_photo(folder / "p.jpg")
    _refuse_in(locked, code, monkeypatch)  # monkeypatched: root writes past chmod
    before = snapshot(locked)
    assert main(["caption", str(locked), str(open_), "--model", str(model), "--sidecars"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert [line for line in err.splitlines() if str(locked) in line] == [
        f"desktop-captioner: {describe_os_error(locked / 'p.txt', OSError(code, 'x'))}"]
    assert "1 could not be written" in err
    assert (open_ / "p.txt").read_text() == "a photo\n" and snapshot(locked) == before


@pytest.fixture
def dataset(tmp_path) -> Path:
    return make_sample_dataset(tmp_path / "shapes", images=6)


def test_a_symlink_loop_in_a_dataset_is_a_problem_not_a_crash(dataset, capsys):
    loop = dataset / "Flicker8k_Dataset" / "loop.jpg"
    loop.symlink_to(loop.name)
    assert main(["inspect", str(dataset), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "loop.jpg" in out and "loop of symbolic links" in out


@pytest.mark.parametrize("command", ["inspect", "train"])
def test_an_unreadable_images_folder_is_one_sentence(command, dataset, weights_file, tmp_path,
                                                     monkeypatch, capsys):
    images = dataset / "Flicker8k_Dataset"
    arguments = [command, str(dataset)]
    if command == "train":
        arguments += ["--out", str(tmp_path / "m.dcmodel"), "--weights", str(weights_file)]
    before = snapshot(tmp_path)
    real, refusing = os.scandir, [True]

    def scandir(path="."):
        if refusing and Path(os.fsdecode(path)) == images:  # root reads past chmod
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(arguments) == 2
    line = _one_clean_line(capsys.readouterr().err, str(images))
    refusing.clear()
    assert snapshot(tmp_path) == before  # no model, no cache, nothing half-made
    assert line.endswith("permission denied.")
