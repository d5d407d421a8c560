"""The sidecar naming rule: unique stems keep photo.txt, shared stems get full names."""

from __future__ import annotations

import pytest

from desktop_captioner.core.sidecars import SidecarNames, normalise_sidecar_ext


def test_unique_stems_use_the_plain_name_and_shared_stems_the_full_name(tmp_path):
    for name in ("a.jpg", "a.png", "A.JPEG", "b.jpg", "b.txt", "c.webp", "notes.md"):
        (tmp_path / name).write_bytes(b"x")
    names = SidecarNames()
    assert names.path(tmp_path / "b.jpg") == tmp_path / "b.txt"
    assert names.path(tmp_path / "c.webp") == tmp_path / "c.txt"
    shared = [names.path(tmp_path / n) for n in ("a.jpg", "a.png", "A.JPEG")]
    assert shared == [tmp_path / "a.jpg.txt", tmp_path / "a.png.txt", tmp_path / "A.JPEG.txt"]
    assert len(set(shared)) == 3


def test_another_extension_and_folders_apart(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "a.jpg").write_bytes(b"x")
    (tmp_path / "two" / "a.png").write_bytes(b"x")
    names = SidecarNames("caption")
    assert names.path(tmp_path / "one" / "a.jpg") == tmp_path / "one" / "a.caption"
    assert names.path(tmp_path / "two" / "a.png") == tmp_path / "two" / "a.caption"


@pytest.mark.parametrize("bad", [".", "..", "a/b", ".tar.gz", " .txt"])
def test_extensions_that_are_not_plain_are_refused(bad):
    with pytest.raises(ValueError):
        normalise_sidecar_ext(bad)
