"""Existing captions are found in the issue's order; camera boilerplate and damage are none."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from desktop_captioner.core import exiv2_access as ex
from desktop_captioner.core.existing_captions import (
    ExistingCaption,
    is_boilerplate,
    read_existing_caption,
)
from desktop_captioner.core.metadata import write_caption_metadata, xmp_sidecar_path
from desktop_captioner.core.sidecars import SidecarNames
from tests.support.photos import exif_with_description, exiftool_set, make_photo, needs_exiftool

CAPTION = "Café au lait — 東京"


def set_fields(photo: Path, xmp: str | None = None, iptc: bytes | None = None,
               utf8_marked: bool = True, exif: bytes | None = None) -> None:
    """Put chosen caption fields in a photo (raw bytes for IPTC and EXIF)."""
    import exiv2

    with ex.exiv2_call():
        image = ex.open_bytes(photo.read_bytes())
        if xmp is not None:
            image.xmpData()[ex.XMP_DESCRIPTION] = exiv2.LangAltValue({"x-default": xmp})
        if iptc is not None:
            value = exiv2.StringValue()
            value.read(iptc)
            image.iptcData()[ex.IPTC_CAPTION] = value
            if utf8_marked:
                image.iptcData()[ex.IPTC_CHARSET] = exiv2.StringValue(ex.IPTC_UTF8)
        if exif is not None:
            value = exiv2.AsciiValue()
            value.read(exif)
            image.exifData()[ex.EXIF_DESCRIPTION] = value
        image.writeMetadata()
        photo.write_bytes(ex.image_bytes(image))


def read(photo: Path, ext: str = ".txt") -> ExistingCaption | None:
    return read_existing_caption(photo, SidecarNames(ext))


def test_a_plain_photo_has_no_caption(tmp_path):
    assert read(make_photo(tmp_path / "a.jpg")) is None


def test_each_place_in_order_wins_over_the_next(tmp_path):
    photo = make_photo(tmp_path / "a.jpg")
    set_fields(photo, xmp="from xmp", iptc=b"from iptc", exif=b"from exif")
    xmp_sidecar_path(photo).write_bytes(sidecar_with("from the sidecar"))
    (tmp_path / "a.txt").write_text("from the text file\n", encoding="utf-8")
    expected = [("from the text file", "a.txt"), ("from the sidecar", "XMP sidecar"),
                ("from xmp", "XMP dc:description"), ("from iptc", "IPTC Caption-Abstract"),
                ("from exif", "EXIF ImageDescription")]
    for caption, origin in expected:
        assert read(photo) == ExistingCaption(caption, origin)
        remove_place(photo, origin)
    assert read(photo) is None


def remove_place(photo: Path, origin: str) -> None:
    if origin == "a.txt":
        (photo.parent / "a.txt").unlink()
    elif origin == "XMP sidecar":
        xmp_sidecar_path(photo).unlink()
    else:
        key = {"XMP dc:description": ex.XMP_DESCRIPTION, "IPTC Caption-Abstract": ex.IPTC_CAPTION,
               "EXIF ImageDescription": ex.EXIF_DESCRIPTION}[origin]
        with ex.exiv2_call():
            image = ex.open_bytes(photo.read_bytes())
            data = {"Xmp": image.xmpData, "Iptc": image.iptcData, "Exif": image.exifData}
            del data[key.split(".")[0]]()[key]
            image.writeMetadata()
            photo.write_bytes(ex.image_bytes(image))


def sidecar_with(description: str) -> bytes:
    return (f'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            f'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li>'
            f'</rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>'
            f'<?xpacket end="w"?>').encode("utf-8")


def test_the_chosen_sidecar_extension_and_the_shared_stem_rule_are_used(tmp_path):
    jpg, png = make_photo(tmp_path / "a.jpg"), make_photo(tmp_path / "a.png")
    (tmp_path / "a.jpg.caption").write_text("jpg words", encoding="utf-8")
    (tmp_path / "a.txt").write_text("not this one: the stem is shared", encoding="utf-8")
    assert read(jpg, ".caption") == ExistingCaption("jpg words", "a.jpg.caption")
    assert read(png, ".caption") is None
    assert read(png) is None


@pytest.mark.parametrize("text", ["OLYMPUS DIGITAL CAMERA", "  sony dsc ", "SONY DSC\0\0",
                                  "KONICA MINOLTA  DIGITAL CAMERA", "Created with GIMP", "",
                                  "   ", "LEAD Technologies Inc. V1.01"])
def test_camera_boilerplate_and_blank_text_are_no_caption(tmp_path, text):
    assert is_boilerplate(text)
    photo = make_photo(tmp_path / "a.jpg", exif=exif_with_description(text))
    assert read(photo) is None


def test_boilerplate_in_one_field_lets_the_next_speak(tmp_path):
    photo = make_photo(tmp_path / "a.jpg")
    set_fields(photo, xmp="OLYMPUS DIGITAL CAMERA", iptc=b"   ", exif=b"a dog on a beach")
    assert read(photo) == ExistingCaption("a dog on a beach", "EXIF ImageDescription")
    assert not is_boilerplate("a Sony DSC on a table")


def test_a_blank_text_sidecar_is_no_caption(tmp_path):
    photo = make_photo(tmp_path / "a.jpg", exif=exif_with_description("a dog"))
    (tmp_path / "a.txt").write_text(" \n", encoding="utf-8")
    assert read(photo) == ExistingCaption("a dog", "EXIF ImageDescription")


def test_unicode_round_trips_from_every_field(tmp_path):
    encoded = CAPTION.encode("utf-8")
    for origin, fields in [("XMP dc:description", {"xmp": CAPTION}),
                           ("IPTC Caption-Abstract", {"iptc": encoded}),
                           ("EXIF ImageDescription", {"exif": encoded})]:
        photo = make_photo(tmp_path / f"{origin.split()[0]}.png")
        set_fields(photo, **fields)
        assert read(photo) == ExistingCaption(CAPTION, origin)


def test_legacy_latin1_iptc_and_exif_are_decoded(tmp_path):
    photo = make_photo(tmp_path / "a.jpg")
    set_fields(photo, iptc="Café".encode("latin-1"), utf8_marked=False)
    assert read(photo) == ExistingCaption("Café", "IPTC Caption-Abstract")
    other = make_photo(tmp_path / "b.jpg")
    set_fields(other, exif="Crème".encode("latin-1"))
    assert read(other) == ExistingCaption("Crème", "EXIF ImageDescription")


@pytest.mark.parametrize("mode", ["xmp", "embed"])
def test_captions_this_app_wrote_are_read_back(tmp_path, mode):
    photo = make_photo(tmp_path / "a.webp")
    write_caption_metadata(photo, CAPTION, mode)
    origin = "XMP sidecar" if mode == "xmp" else "XMP dc:description"
    assert read(photo) == ExistingCaption(CAPTION, origin)


@needs_exiftool
def test_captions_written_by_exiftool_are_found(tmp_path):
    photo = make_photo(tmp_path / "a.jpg")
    exiftool_set(photo, f"-IPTC:Caption-Abstract={CAPTION}", "-IPTC:CodedCharacterSet=UTF8")
    assert read(photo) == ExistingCaption(CAPTION, "IPTC Caption-Abstract")
    tiff = make_photo(tmp_path / "b.tif")
    exiftool_set(tiff, f"-XMP-dc:Description={CAPTION}")
    assert read(tiff) == ExistingCaption(CAPTION, "XMP dc:description")


def damaged_files(folder: Path) -> list[Path]:
    truncated = make_photo(folder / "truncated.jpg")
    truncated.write_bytes(truncated.read_bytes()[:40])
    garbage = folder / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\xff" * 200)
    empty = folder / "empty.tif"
    empty.write_bytes(b"")
    folder_named_like_a_photo = folder / "folder.jpg"
    folder_named_like_a_photo.mkdir()
    return [truncated, garbage, empty, folder_named_like_a_photo, folder / "missing.webp"]


def test_damaged_and_missing_photos_are_no_caption_and_never_raise(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        for photo in damaged_files(tmp_path):
            assert read(photo) is None, photo


def test_damaged_sidecars_are_skipped_for_the_next_place(tmp_path):
    photo = make_photo(tmp_path / "a.jpg", exif=exif_with_description("a dog"))
    (tmp_path / "a.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    xmp_sidecar_path(photo).write_bytes(b"<?xml version='1.0'?><x:xmpmeta><broken")
    assert read(photo) == ExistingCaption("a dog", "EXIF ImageDescription")
    (tmp_path / "a.txt").unlink()
    (tmp_path / "a.txt").mkdir()  # a folder where the text file would be
    xmp_sidecar_path(photo).write_bytes(b"not xml")
    assert read(photo) == ExistingCaption("a dog", "EXIF ImageDescription")


def test_non_ascii_and_undecodable_file_names(tmp_path):
    for name in ("東京 café.jpg", os.fsdecode(b"raw-\xff-name.jpg")):
        photo = make_photo(tmp_path / name, exif=exif_with_description("a dog"))
        assert read(photo) == ExistingCaption("a dog", "EXIF ImageDescription")
        write_caption_metadata(photo, CAPTION, "embed")
        assert read(photo) == ExistingCaption(CAPTION, "XMP dc:description")


def test_a_photo_is_not_opened_when_a_sidecar_has_the_caption(tmp_path, monkeypatch):
    photo = make_photo(tmp_path / "a.jpg")
    (tmp_path / "a.txt").write_text("words", encoding="utf-8")

    def must_not_open(path):
        raise AssertionError(f"{path} was opened")

    monkeypatch.setattr(ex, "open_for_reading", must_not_open)
    assert read(photo) == ExistingCaption("words", "a.txt")
