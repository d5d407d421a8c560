"""get-dataset flickr8k: download, resume, verify, safe unpacking, disk space, errors.

Against a local HTTP server serving small stand-in archives (tests/support/flickr8k_zips.py).
"""

from __future__ import annotations

import json
import zipfile
from collections import namedtuple
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core import flickr8k_download
from desktop_captioner.core.download import part_path
from desktop_captioner.core.errors import ArchiveError
from desktop_captioner.core.flickr8k_download import UNPACKING_PREFIX
from desktop_captioner.core.safe_zip import check_archive, verify_archive
from tests.support.flickr8k_zips import (
    IMAGES,
    damaged,
    flickr8k_zips,
    serving_flickr8k,
    with_member,
)

IMAGES_ZIP, TEXT_ZIP = "Flickr8k_Dataset.zip", "Flickr8k_text.zip"


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    return flickr8k_zips(tmp_path_factory.mktemp("zips"))


@pytest.fixture
def server(zips, monkeypatch):
    with serving_flickr8k(zips, monkeypatch) as server:
        yield server


def get(folder: Path, capsys) -> tuple[int, str, str]:
    code = main(["get-dataset", "flickr8k", str(folder)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *phrases: str) -> str:
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith("desktop-captioner: error: ")
    for phrase in phrases:
        assert phrase in line
    return line


def full_gets(server, name: str) -> list:
    return [r for path, r in server.requests if path == f"/{name}" and r != "bytes=0-0"]


@pytest.mark.parametrize("text_folder", ["", "Flickr8k_text"])
def test_download_unpack_and_inspect(tmp_path, capsys, monkeypatch, text_folder):
    zips = flickr8k_zips(tmp_path / "zips", text_folder)
    with serving_flickr8k(zips, monkeypatch) as server:
        folder = tmp_path / "data" / "flickr8k"
        code, out, err = get(folder, capsys)
        assert code == 0, err
        assert out.strip() == str(folder)
        assert "download MB" in err and f"Unpacking {IMAGES_ZIP}" in err
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["Flicker8k_Dataset", "Flickr8k_text", IMAGES_ZIP, TEXT_ZIP])
        assert not (folder / "__MACOSX").exists()
        assert (folder / "Flickr8k_text" / "Flickr8k.token.txt").is_file()

        assert main(["inspect", str(folder), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["layout"] == "flickr8k" and summary["images"] == IMAGES
        assert sum(summary["splits"].values()) == IMAGES

        before = len(server.requests)
        code, out, err = get(folder, capsys)
        assert code == 0 and "already in" in err and "nothing to do" in err
        assert len(server.requests) == before  # not even a size probe


def test_an_interrupted_download_resumes(server, tmp_path, capsys):
    server.cut_once.add(f"/{IMAGES_ZIP}")
    folder = tmp_path / "flickr8k"
    code, _, err = get(folder, capsys)
    assert_one_line_error(code, err, IMAGES_ZIP, "resumes")
    partial = part_path(folder / IMAGES_ZIP)
    size = len(server.files[f"/{IMAGES_ZIP}"])
    assert partial.stat().st_size == size // 2
    assert not (folder / "Flicker8k_Dataset").exists()  # nothing unpacked from half a file

    code, _, err = get(folder, capsys)
    assert code == 0, err
    assert "Resuming" in err
    assert full_gets(server, IMAGES_ZIP)[-1] == f"bytes={size // 2}-"
    assert (folder / IMAGES_ZIP).read_bytes() == server.files[f"/{IMAGES_ZIP}"]
    assert len(list((folder / "Flicker8k_Dataset").iterdir())) == IMAGES


def test_an_interrupted_unpacking_is_redone(server, tmp_path, capsys):
    folder = tmp_path / "flickr8k"
    stale = folder / (UNPACKING_PREFIX + "Flicker8k_Dataset") / "Flicker8k_Dataset"
    stale.mkdir(parents=True)
    (stale / "half.jpg").write_bytes(b"half")
    code, _, err = get(folder, capsys)
    assert code == 0, err
    assert not list(folder.glob(UNPACKING_PREFIX + "*"))
    assert not (folder / "Flicker8k_Dataset" / "half.jpg").exists()


def test_a_damaged_download_is_refused_and_not_kept(server, tmp_path, capsys):
    server.files[f"/{IMAGES_ZIP}"] = damaged(server.files[f"/{IMAGES_ZIP}"])
    folder = tmp_path / "flickr8k"
    code, _, err = get(folder, capsys)
    assert_one_line_error(code, err, str(folder / IMAGES_ZIP), "damaged", "CRC",
                          "was deleted")
    assert not (folder / IMAGES_ZIP).exists() and not (folder / "Flicker8k_Dataset").exists()
    assert not list(folder.glob(UNPACKING_PREFIX + "*"))


def test_the_users_damaged_archive_is_refused_and_kept(server, tmp_path, capsys):
    folder = tmp_path / "flickr8k"
    folder.mkdir()
    (folder / TEXT_ZIP).write_bytes(b"not a zip at all")
    code, _, err = get(folder, capsys)
    assert_one_line_error(code, err, str(folder / TEXT_ZIP), "not a readable zip",
                          "Delete it to download it again")
    assert (folder / TEXT_ZIP).read_bytes() == b"not a zip at all"
    assert not full_gets(server, TEXT_ZIP)


def test_an_archive_without_the_captions_is_refused(server, tmp_path, capsys):
    server.files[f"/{TEXT_ZIP}"] = server.files[f"/{IMAGES_ZIP}"]
    code, _, err = get(tmp_path / "flickr8k", capsys)
    assert_one_line_error(code, err, "lacks Flickr8k.token.txt")


@pytest.mark.parametrize("name, symlink, reason", [
    ("../evil.txt", False, "climbs out"),
    ("Flickr8k_text/../../evil.txt", False, "climbs out"),
    ("/tmp/evil-absolute.txt", False, "absolute path"),
    ("C:/evil.txt", False, "absolute path"),
    ("link", True, "symbolic link"),
])
def test_a_member_that_could_escape_refuses_the_whole_archive(server, tmp_path, capsys, name,
                                                              symlink, reason):
    server.files[f"/{TEXT_ZIP}"] = with_member(server.files[f"/{TEXT_ZIP}"], name,
                                               b"../../evil.txt" if symlink else b"evil",
                                               symlink)
    folder = tmp_path / "inside" / "flickr8k"
    code, _, err = get(folder, capsys)
    assert_one_line_error(code, err, repr(name), reason, "nothing was extracted")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "inside" / "evil.txt").exists()
    assert not Path("/tmp/evil-absolute.txt").exists()
    assert sorted(p.name for p in folder.iterdir()) == []  # refused before anything was written


def test_not_enough_disk_space_is_refused_before_downloading(server, tmp_path, capsys,
                                                             monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(flickr8k_download.shutil, "disk_usage",
                        lambda path: usage(10**9, 10**9 - 1000, 1000))
    folder = tmp_path / "flickr8k"
    code, _, err = get(folder, capsys)
    line = assert_one_line_error(code, err, str(folder), "MB free", "choose another folder")
    assert "\n" not in line
    assert list(folder.iterdir()) == []
    assert not full_gets(server, IMAGES_ZIP) and not full_gets(server, TEXT_ZIP)


def test_not_enough_space_to_unpack_is_refused_before_unpacking(server, tmp_path, zips,
                                                                monkeypatch):
    folder = tmp_path / "flickr8k"
    folder.mkdir()
    for name, data in zips.items():
        (folder / name).write_bytes(data)  # downloaded before: only unpacking is left
    usage = namedtuple("usage", "total used free")
    free = iter([10**9, 10])  # enough at the first check, too little for the text files
    monkeypatch.setattr(flickr8k_download.shutil, "disk_usage",
                        lambda path: usage(10**9, 0, next(free)))
    with pytest.raises(ArchiveError, match=f"to unpack {TEXT_ZIP}"):
        flickr8k_download.get_flickr8k(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(zips)


def test_a_missing_file_on_the_server_is_one_line_and_exit_2(server, tmp_path, capsys):
    server.files.clear()
    code, out, err = get(tmp_path / "flickr8k", capsys)
    line = assert_one_line_error(code, err, "404", f"{server.url}/{TEXT_ZIP}")
    assert err.strip() == line and out == ""


def test_check_archive_lists_members_without_the_finder_junk(zips, tmp_path):
    path = tmp_path / IMAGES_ZIP
    path.write_bytes(zips[IMAGES_ZIP])
    names = [info.filename for info in verify_archive(path)]
    assert len(names) == IMAGES + 1 and not any("__MACOSX" in name for name in names)
    with zipfile.ZipFile(path) as archive:
        assert any(info.filename.startswith("__MACOSX/") for info in archive.infolist())
    assert [i.filename for i in check_archive(path)] == names
