"""``caption --metadata`` and ``--skip-captioned`` with captions inside photos, on a fake
captioner (the model path is covered by test_cli_e2e.py; here no TensorFlow is needed)."""

from __future__ import annotations

import csv
import os
import sys
import types
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.cli.caption_cmd import collect
from desktop_captioner.core import modelfile
from desktop_captioner.core.existing_captions import ExistingCaption, read_existing_caption
from desktop_captioner.core.metadata import write_caption_metadata, xmp_sidecar_path
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecars import SidecarNames
from tests.support.photos import exif_with_description, make_photo, sha256


class _FakeCaptioner:
    """Captions every photo "a photo called STEM"; a file named bad.* fails its own row."""

    @classmethod
    def load(cls, *args, **kwargs) -> "_FakeCaptioner":
        return cls()

    def caption(self, paths, batch_size=16, beam_width=3, progress=None):
        for path in paths:
            if path.stem == "bad":
                yield CaptionResult.failure(path, f"{path} is damaged.")
            else:
                yield CaptionResult(path, f"a photo called {path.stem}", -0.5, "ok")


@pytest.fixture
def fake_model(monkeypatch, tmp_path) -> Path:
    """A model argument that loads the fake captioner instead of TensorFlow."""
    monkeypatch.setattr(modelfile, "read_manifest", lambda path: None)
    monkeypatch.setitem(sys.modules, "desktop_captioner.core.captioner",
                        types.SimpleNamespace(Captioner=_FakeCaptioner))
    return tmp_path / "fake.dcmodel"


@pytest.fixture
def album(tmp_path) -> Path:
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("a.jpg", "b.png", "c.webp"):
        make_photo(folder / name)
    return folder


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_caption_writes_xmp_sidecars_and_leaves_photos_alone(album, fake_model, capsys):
    digests = {p.name: sha256(p) for p in album.iterdir()}
    assert main(["caption", str(album), "--model", str(fake_model), "--metadata", "xmp"]) == 0
    for name, digest in digests.items():
        photo = album / name
        assert sha256(photo) == digest
        assert read_existing_caption(photo, SidecarNames()) == ExistingCaption(
            f"a photo called {photo.stem}", "XMP sidecar")
    assert "Metadata: 3 captions written to XMP sidecars, 0 failed." in capsys.readouterr().err


def test_caption_embeds_and_a_refusing_photo_is_reported_but_keeps_its_caption(
        album, fake_model, tmp_path, capsys):
    make_photo(album / "d.gif")
    read_only = album / "a.jpg"
    os.chmod(read_only, 0o444)
    out = tmp_path / "out.csv"
    code = main(["caption", str(album), "--model", str(fake_model), "--metadata", "embed",
                 "--csv", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert {row["filename"]: row["status"] for row in csv_rows(out)} == dict.fromkeys(
        ["a.jpg", "b.png", "c.webp", "d.gif"], "ok")
    assert "a.jpg is read-only" in err and "d.gif cannot hold embedded captions" in err
    assert "Metadata: 2 captions written to photos, 2 failed." in err
    assert read_existing_caption(album / "b.png", SidecarNames()) == ExistingCaption(
        "a photo called b", "XMP dc:description")
    assert not list(album.glob("*.xmp"))


def test_failed_captions_get_no_metadata(album, fake_model, capsys):
    make_photo(album / "bad.jpg")
    assert main(["caption", str(album), "--model", str(fake_model), "--metadata", "xmp"]) == 1
    assert not xmp_sidecar_path(album / "bad.jpg").exists()
    assert "Metadata: 3 captions written" in capsys.readouterr().err


def test_skip_captioned_skips_every_kind_of_existing_caption(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    make_photo(folder / "plain.jpg")
    make_photo(folder / "text.jpg")
    (folder / "text.txt").write_text("words", encoding="utf-8")
    write_caption_metadata(make_photo(folder / "sidecar.png"), "words", "xmp")
    write_caption_metadata(make_photo(folder / "embedded.webp"), "words", "embed")
    make_photo(folder / "exif.jpg", exif=exif_with_description("a dog on a beach"))
    make_photo(folder / "olympus.jpg", exif=exif_with_description("OLYMPUS DIGITAL CAMERA"))
    work = collect([str(folder)], skip_captioned=True)
    assert sorted(p.name for p in work.to_caption) == ["olympus.jpg", "plain.jpg"]
    assert work.skipped_captioned == 4
    assert len(collect([str(folder)]).to_caption) == 6


def test_skip_captioned_on_the_command_line(album, fake_model, tmp_path, capsys):
    write_caption_metadata(album / "a.jpg", "already said", "embed")
    out = tmp_path / "out.csv"
    assert main(["caption", str(album), "--model", str(fake_model), "--skip-captioned",
                 "--csv", str(out)]) == 0
    assert [row["filename"] for row in csv_rows(out)] == ["b.png", "c.webp"]
    assert "1 already captioned" in capsys.readouterr().err
