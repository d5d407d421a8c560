"""Sidecars by the shared-name rule: no caption lost to a collision, the rule reported."""

from __future__ import annotations

import logging
from pathlib import Path

from desktop_captioner.core.existing_captions import read_existing_caption
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecar_writer import SidecarWriter
from desktop_captioner.core.sidecars import SidecarNames


def _folder(tmp_path: Path) -> list[Path]:
    images = [tmp_path / n for n in ("a.jpg", "a.png", "A.JPG", "b.jpg")]
    for image in images:
        image.write_bytes(b"x")
    return images


def test_images_sharing_a_stem_each_get_their_own_sidecar(tmp_path, caplog):
    images = _folder(tmp_path)
    results = [CaptionResult(image, f"caption of {image.name}", -1.0, "ok") for image in images]
    writer = SidecarWriter(SidecarNames(".caption"))
    with caplog.at_level(logging.INFO):
        assert writer.write(results[:2]) == []
        assert writer.write(results[2:]) == []
    expected = {"a.jpg.caption": "a.jpg", "a.png.caption": "a.png", "A.JPG.caption": "A.JPG",
                "b.caption": "b.jpg"}
    for name, image in expected.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == f"caption of {image}\n"
    assert (writer.written, writer.kept, len(writer.full_names)) == (4, 0, 3)
    assert "3 shared a name" in writer.summary() and "(a.jpg.caption)" in writer.summary()
    assert "a.png.caption" in caplog.text
    found = [read_existing_caption(image, SidecarNames(".caption")) for image in images]
    assert [c.caption for c in found] == [f"caption of {image.name}" for image in images]
    assert not any(read_existing_caption(image, SidecarNames()) for image in images)


def test_existing_sidecars_are_kept_unless_overwrite_and_failures_counted(tmp_path):
    images = _folder(tmp_path)
    (tmp_path / "a.png.txt").write_text("my own words\n", encoding="utf-8")
    (tmp_path / "b.txt").mkdir()  # a folder where the sidecar should go: that one fails
    results = [CaptionResult(image, "new", -1.0, "ok") for image in images]
    results.append(CaptionResult.failure(tmp_path / "c.jpg", "broken"))
    writer = SidecarWriter(SidecarNames())
    errors = writer.write(results)
    assert (tmp_path / "a.png.txt").read_text(encoding="utf-8") == "my own words\n"
    assert (writer.written, writer.kept, writer.skipped, writer.failed) == (2, 1, 1, 1)
    assert len(errors) == 1 and str(tmp_path / "b.txt") in errors[0]
    assert "1 could not be written" in writer.summary()

    overwriting = SidecarWriter(SidecarNames(), overwrite=True)
    overwriting.write(results[:2])
    assert (tmp_path / "a.png.txt").read_text(encoding="utf-8") == "new\n"
