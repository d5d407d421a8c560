"""``desktop-captioner apply CAPTIONS.csv``: a corrected export goes into the photos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_captioner.cli import main
from desktop_captioner.core.existing_captions import ExistingCaption, read_existing_caption
from desktop_captioner.core.export import write_csv, write_json
from desktop_captioner.core.metadata import xmp_sidecar_path
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecars import SidecarNames
from tests.support.photos import make_photo, sha256

CAPTION = "Café au lait — 東京"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def album(tmp_path) -> Path:
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("a.jpg", "b.png", "c.tif", "d.webp", "e.jpg"):
        make_photo(folder / name)
    return folder


def corrected_csv(album: Path, out: Path) -> Path:
    """An export as a person leaves it after correcting captions in a spreadsheet."""
    rows = [CaptionResult(album / "a.jpg", CAPTION, -0.4, "ok", source="edited"),
            CaptionResult(album / "b.png", "  =a formula-looking caption  ", -0.4, "ok"),
            CaptionResult(album / "c.tif", "", None, "ok"),
            CaptionResult.failure(album / "d.webp", "d.webp is damaged."),
            CaptionResult(album / "e.jpg", "a red square", -0.2, "ok")]
    return write_csv(rows, out)


def caption_of(photo: Path, ext: str = ".txt") -> ExistingCaption | None:
    return read_existing_caption(photo, SidecarNames(ext))


def test_apply_writes_xmp_sidecars_by_default(album, tmp_path, capsys):
    digests = {p.name: sha256(p) for p in album.iterdir()}
    assert main(["apply", str(corrected_csv(album, tmp_path / "c.csv"))]) == 0
    assert caption_of(album / "a.jpg") == ExistingCaption(CAPTION, "XMP sidecar")
    assert caption_of(album / "b.png") == ExistingCaption("=a formula-looking caption",
                                                         "XMP sidecar")
    assert caption_of(album / "e.jpg") == ExistingCaption("a red square", "XMP sidecar")
    assert not xmp_sidecar_path(album / "c.tif").exists()
    assert not xmp_sidecar_path(album / "d.webp").exists()
    assert {p.name: sha256(p) for p in album.iterdir() if p.suffix != ".xmp"} == digests
    assert ("Applied 3 captions to XMP sidecars; 0 failed; skipped 1 error rows and 1 empty "
            "captions.") in capsys.readouterr().err


def test_apply_embeds_and_writes_text_sidecars(album, tmp_path):
    (album / "a.caption").write_text("an old caption", encoding="utf-8")
    csv_path = corrected_csv(album, tmp_path / "c.csv")
    assert main(["apply", str(csv_path), "--metadata", "embed", "--sidecars",
                 "--sidecar-ext", "caption"]) == 0
    assert (album / "a.caption").read_text(encoding="utf-8") == CAPTION + "\n"
    assert (album / "e.caption").read_text(encoding="utf-8") == "a red square\n"
    assert not (album / "c.caption").exists() and not list(album.glob("*.xmp"))
    (album / "a.caption").unlink()
    assert caption_of(album / "a.jpg", ".caption") == ExistingCaption(CAPTION,
                                                                     "XMP dc:description")


def test_a_missing_photo_and_a_refusing_photo_are_error_lines(album, tmp_path, capsys):
    csv_path = corrected_csv(album, tmp_path / "c.csv")
    (album / "e.jpg").unlink()
    os.chmod(album / "a.jpg", 0o444)
    assert main(["apply", str(csv_path), "--metadata", "embed"]) == 1
    err = capsys.readouterr().err
    assert f"{album / 'e.jpg'} does not exist." in err
    assert "a.jpg is read-only" in err
    assert "Applied 1 captions to photos; 2 failed" in err
    assert caption_of(album / "b.png").caption == "=a formula-looking caption"


def test_relative_paths_are_found_beside_the_csv(album, tmp_path, monkeypatch):
    monkeypatch.chdir(album)
    csv_path = write_csv([CaptionResult(Path("a.jpg"), "beside", -0.1, "ok")], album / "c.csv")
    monkeypatch.chdir(tmp_path)
    assert main(["apply", str(csv_path)]) == 0
    assert caption_of(album / "a.jpg").caption == "beside"


def test_a_json_export_and_damaged_rows(album, tmp_path, capsys):
    json_path = write_json([CaptionResult(album / "a.jpg", "from json", -0.1, "ok")],
                           tmp_path / "c.json")
    assert main(["apply", str(json_path)]) == 0
    assert caption_of(album / "a.jpg").caption == "from json"
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("path,filename,caption,status,error\r\n"
                       f"{album / 'b.png'},b.png,fine,ok,\r\n"
                       f"{album / 'e.jpg'},e.jpg,odd,maybe,\r\n", encoding="utf-8")
    assert main(["apply", str(damaged)]) == 1
    assert "status 'maybe'" in capsys.readouterr().err
    assert caption_of(album / "b.png").caption == "fine"


@pytest.mark.parametrize("content", ["name,caption\r\na.jpg,hello\r\n", "\ufffd\x00 binary"])
def test_a_foreign_file_is_refused_before_anything_is_written(album, tmp_path, capsys, content):
    foreign = tmp_path / "other.csv"
    foreign.write_text(content, encoding="utf-8")
    assert main(["apply", str(foreign)]) == 2
    assert "is not a captions CSV this app wrote" in capsys.readouterr().err
    assert not list(album.glob("*.xmp"))


def test_a_missing_csv_and_a_bad_extension_exit_2(tmp_path, capsys):
    assert main(["apply", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["apply", str(tmp_path / "nope.csv"), "--sidecar-ext", "a/b"])
    assert exit_info.value.code == 2


def test_apply_never_loads_tensorflow(album, tmp_path):
    csv_path = corrected_csv(album, tmp_path / "c.csv")
    script = ("import sys\n"
              "from desktop_captioner.cli import main\n"
              f"code = main(['apply', {str(csv_path)!r}])\n"
              "print(code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.split() == ["0", "False", "False"]
    assert caption_of(album / "a.jpg").caption == CAPTION
