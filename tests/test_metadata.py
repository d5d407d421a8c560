"""Captions written where photo software looks: XMP sidecars and embedded metadata."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import exiv2
import pytest

from desktop_captioner.core import exiv2_access as ex
from desktop_captioner.core import metadata
from desktop_captioner.core.existing_captions import read_existing_caption
from desktop_captioner.core.metadata import (
    METADATA_MODES,
    MetadataError,
    write_caption_metadata,
    xmp_sidecar_path,
)
from desktop_captioner.core.sidecars import SidecarNames
from tests.support.photos import (
    exiftool_set,
    exiftool_tags,
    make_photo,
    needs_exiftool,
    pixels,
    sha256,
)

CAPTION = "Café au lait — 東京"
EMBED_FORMATS = (".jpg", ".png", ".tif", ".webp")
CAPTION_TAGS = {"XMP-dc:Description", "XMP-iptcCore:AltTextAccessibility",
                "IPTC:Caption-Abstract", "IFD0:ImageDescription"}
# Rewritten by any metadata writer: the caption fields, IPTC's character-set marker, the name of
# the XMP toolkit, and where the file's parts now lie (TIFF strip offsets, byte order).
CHANGED_BY_WRITING = CAPTION_TAGS | {"IPTC:CodedCharacterSet", "XMP-x:XMPToolkit",
                                     "IFD0:StripOffsets"}
NOT_METADATA = ("System:", "File:", "ExifTool:", "Composite:")

EXISTING_SIDECAR = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">
   <dc:subject><rdf:Bag><rdf:li>cat</rdf:li><rdf:li>sofa, red</rdf:li></rdf:Bag></dc:subject>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">old words</rdf:li>
    <rdf:li xml:lang="de">alte Worte</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def read_back(path: Path) -> dict[str, object]:
    """The caption fields as exiv2 reads them, IPTC and EXIF as raw bytes."""
    with ex.exiv2_call():
        image = ex.open_bytes(path.read_bytes())
        iptc, exif = image.iptcData(), image.exifData()
        return {
            "dc": ex.xmp_text(image, ex.XMP_DESCRIPTION),
            "alt": ex.xmp_text(image, ex.XMP_ALT_TEXT),
            "iptc": bytes(iptc[ex.IPTC_CAPTION].value().data()) if ex.IPTC_CAPTION in iptc
            else None,
            "charset": bytes(iptc[ex.IPTC_CHARSET].value().data()) if ex.IPTC_CHARSET in iptc
            else None,
            "exif": bytes(exif[ex.EXIF_DESCRIPTION].value().data()).rstrip(b"\0")
            if ex.EXIF_DESCRIPTION in exif else None,
        }


def other_metadata(path: Path) -> dict[str, object]:
    return {key: value for key, value in exiftool_tags(path).items()
            if key not in CHANGED_BY_WRITING and not key.startswith(NOT_METADATA)}


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("ext", EMBED_FORMATS)
def test_embed_writes_every_field_the_format_holds_in_utf8(tmp_path, ext):
    photo = make_photo(tmp_path / f"photo{ext}")
    assert write_caption_metadata(photo, CAPTION, "embed") == photo
    fields = read_back(photo)
    utf8 = CAPTION.encode("utf-8")
    assert fields["dc"] == fields["alt"] == CAPTION
    assert fields["exif"] == utf8
    if ext == ".webp":  # WebP has no IPTC
        assert fields["iptc"] is None
    else:
        assert (fields["iptc"], fields["charset"]) == (utf8, b"\x1b%G")
    assert files_in(tmp_path) == [photo.name]  # no sidecar, no temp file left


@pytest.mark.parametrize("ext", EMBED_FORMATS)
def test_embed_keeps_pixels_and_every_other_field(tmp_path, ext):
    photo = make_photo(tmp_path / f"photo{ext}")
    pixels_before = pixels(photo)
    os.chmod(photo, 0o640)
    write_caption_metadata(photo, CAPTION, "embed")
    assert pixels(photo) == pixels_before
    assert stat.S_IMODE(photo.stat().st_mode) == 0o640


@needs_exiftool
@pytest.mark.parametrize("ext", EMBED_FORMATS)
def test_exiftool_reads_the_embedded_caption_and_sees_nothing_else_change(tmp_path, ext):
    photo = make_photo(tmp_path / f"photo{ext}")
    others = ["-EXIF:Make=Acme", "-EXIF:Artist=Ann Müller", "-XMP:Rating=4", "-XMP:Subject=cat",
              "-XMP:Subject=sofa", "-EXIF:DateTimeOriginal=2020:01:02 03:04:05"]
    if ext != ".webp":
        others += ["-IPTC:Keywords=cat", "-IPTC:City=Zürich"]
    exiftool_set(photo, *others)
    before = other_metadata(photo)
    write_caption_metadata(photo, CAPTION, "embed")
    tags = exiftool_tags(photo)
    expected = CAPTION_TAGS - ({"IPTC:Caption-Abstract"} if ext == ".webp" else set())
    assert {tag: tags.get(tag) for tag in expected} == dict.fromkeys(expected, CAPTION)
    assert other_metadata(photo) == before
    assert before["XMP-xmp:Rating"] == 4 and before["IFD0:Artist"] == "Ann Müller"


@pytest.mark.parametrize("ext", (*EMBED_FORMATS, ".gif", ".bmp"))
def test_sidecar_mode_never_touches_the_photo(tmp_path, ext):
    photo = make_photo(tmp_path / f"photo{ext}")
    digest, mtime = sha256(photo), photo.stat().st_mtime_ns
    written = write_caption_metadata(photo, CAPTION, "xmp")
    assert written == xmp_sidecar_path(photo) == tmp_path / f"photo{ext}.xmp"
    assert (sha256(photo), photo.stat().st_mtime_ns) == (digest, mtime)
    fields = read_back(written)
    assert fields["dc"] == fields["alt"] == CAPTION
    assert files_in(tmp_path) == sorted([photo.name, written.name])


@needs_exiftool
def test_exiftool_reads_the_sidecar_caption(tmp_path):
    sidecar = write_caption_metadata(make_photo(tmp_path / "photo.jpg"), CAPTION, "xmp")
    tags = exiftool_tags(sidecar)
    assert tags["XMP-dc:Description"] == tags["XMP-iptcCore:AltTextAccessibility"] == CAPTION


def test_an_existing_sidecar_is_merged_keeping_its_other_fields(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    xmp_sidecar_path(photo).write_text(EXISTING_SIDECAR, encoding="utf-8")
    os.chmod(xmp_sidecar_path(photo), 0o664)
    sidecar = write_caption_metadata(photo, CAPTION, "xmp")
    with ex.exiv2_call():
        xmp = ex.open_bytes(sidecar.read_bytes()).xmpData()
        assert xmp["Xmp.xmp.Rating"].toString() == "4"
        assert list(xmp["Xmp.dc.subject"].value()) == ["cat", "sofa, red"]
        assert dict(xmp["Xmp.dc.description"].value().items()) == {"x-default": CAPTION}
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o664


@needs_exiftool
def test_exiftool_sees_the_merged_sidecar(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    xmp_sidecar_path(photo).write_text(EXISTING_SIDECAR, encoding="utf-8")
    tags = exiftool_tags(write_caption_metadata(photo, CAPTION, "xmp"))
    assert tags["XMP-xmp:Rating"] == 4
    assert tags["XMP-dc:Subject"] == ["cat", "sofa, red"]
    assert tags["XMP-dc:Description"] == CAPTION


@pytest.mark.parametrize("content", [b"this is not XML", b"<?xml version='1.0'?><notes>",
                                     b"<?xml version='1.0'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>"
                                     b"<rdf:RDF><rdf:Description", b"\xff\xd8\xff\xe0 a JPEG"])
def test_a_sidecar_that_is_not_xmp_is_refused_and_left_alone(tmp_path, content):
    photo = make_photo(tmp_path / "photo.jpg")
    xmp_sidecar_path(photo).write_bytes(content)
    with pytest.raises(MetadataError, match=r"photo\.jpg\.xmp is not an XMP sidecar"):
        write_caption_metadata(photo, CAPTION, "xmp")
    assert xmp_sidecar_path(photo).read_bytes() == content
    assert files_in(tmp_path) == ["photo.jpg", "photo.jpg.xmp"]


@pytest.mark.parametrize("mode", METADATA_MODES)
def test_a_second_write_replaces_the_caption(tmp_path, mode):
    photo = make_photo(tmp_path / "photo.png")
    write_caption_metadata(photo, "first words", mode)
    written = write_caption_metadata(photo, CAPTION, mode)
    assert read_back(written)["dc"] == CAPTION
    assert read_existing_caption(photo, SidecarNames()).caption == CAPTION


@pytest.mark.parametrize("mode", METADATA_MODES)
def test_long_multi_line_and_control_character_captions(tmp_path, mode):
    photo = make_photo(tmp_path / "photo.jpg")
    long_caption = "é" * 1500  # 3000 bytes of UTF-8: IPTC keeps its 2000-byte limit
    written = write_caption_metadata(photo, long_caption, mode)
    fields = read_back(written)
    assert fields["dc"] == long_caption
    if mode == "embed":
        assert fields["iptc"] == ("é" * 1000).encode("utf-8")
        assert fields["exif"] == long_caption.encode("utf-8")
    write_caption_metadata(photo, "line one\r\nline\ttwo\x00\x0bend", mode)
    assert read_back(written)["dc"] == "line one line two end"  # one line (issue 18)


def test_a_read_only_photo_is_not_embedded(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    os.chmod(photo, 0o444)
    digest = sha256(photo)
    with pytest.raises(MetadataError, match=r"photo\.jpg is read-only"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert sha256(photo) == digest
    assert files_in(tmp_path) == ["photo.jpg"]


def test_a_read_only_photo_still_gets_a_sidecar(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    os.chmod(photo, 0o444)
    assert write_caption_metadata(photo, CAPTION, "xmp").is_file()


@pytest.mark.parametrize("mode", METADATA_MODES)
def test_a_read_only_folder_is_refused(tmp_path, mode):
    folder = tmp_path / "album"
    folder.mkdir()
    photo = make_photo(folder / "photo.jpg")
    digest = sha256(photo)
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(MetadataError, match=r"folder .*album is read-only"):
            write_caption_metadata(photo, CAPTION, mode)
        assert files_in(folder) == ["photo.jpg"] and sha256(photo) == digest
    finally:
        os.chmod(folder, 0o755)


def test_a_read_only_sidecar_is_refused(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    xmp_sidecar_path(photo).write_text(EXISTING_SIDECAR, encoding="utf-8")
    os.chmod(xmp_sidecar_path(photo), 0o444)
    with pytest.raises(MetadataError, match=r"XMP sidecar .*photo\.jpg\.xmp is read-only"):
        write_caption_metadata(photo, CAPTION, "xmp")
    assert xmp_sidecar_path(photo).read_text(encoding="utf-8") == EXISTING_SIDECAR


def test_a_photo_under_a_file_instead_of_a_folder_is_an_error(tmp_path):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("x")
    with pytest.raises(MetadataError, match="does not exist"):
        write_caption_metadata(not_a_folder / "photo.jpg", CAPTION, "xmp")


@pytest.mark.parametrize("ext", (".gif", ".bmp"))
def test_formats_without_metadata_support_are_refused_in_embed_mode(tmp_path, ext):
    photo = make_photo(tmp_path / f"photo{ext}")
    digest = sha256(photo)
    with pytest.raises(MetadataError, match=r"cannot hold embedded captions.*use XMP sidecars"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert sha256(photo) == digest and files_in(tmp_path) == [photo.name]


def test_a_damaged_exif_block_is_not_rewritten(tmp_path):
    photo = jpeg_with_truncated_exif(tmp_path / "photo.jpg")
    digest = sha256(photo)
    with pytest.raises(MetadataError, match=r"photo\.jpg has damaged metadata"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert sha256(photo) == digest and files_in(tmp_path) == ["photo.jpg"]
    assert write_caption_metadata(photo, CAPTION, "xmp").is_file()  # a sidecar still works


def test_a_damaged_embedded_xmp_packet_is_not_replaced(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    write_caption_metadata(photo, "first words", "embed")
    data = photo.read_bytes()
    photo.write_bytes(data.replace(b"</rdf:RDF>", b"</rdf:RFD>"))  # same length, not XML
    digest = sha256(photo)
    with pytest.raises(MetadataError, match="damaged metadata"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert sha256(photo) == digest


def test_undeclared_latin1_iptc_text_is_not_garbled(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    with ex.exiv2_call():
        image = ex.open_bytes(photo.read_bytes())
        byline = exiv2.StringValue()
        byline.read("Ann Müller".encode("latin-1"))
        image.iptcData()["Iptc.Application2.Byline"] = byline
        image.writeMetadata()
        photo.write_bytes(ex.image_bytes(image))
    digest = sha256(photo)
    with pytest.raises(MetadataError, match="IPTC text in an older character set"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert sha256(photo) == digest


def test_a_symbolic_link_stays_a_link_and_its_target_gets_the_caption(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    link = tmp_path / "link.jpg"
    link.symlink_to(photo)
    assert write_caption_metadata(link, CAPTION, "embed") == link
    assert link.is_symlink() and read_back(photo)["dc"] == CAPTION
    assert files_in(tmp_path) == ["link.jpg", "photo.jpg"]


def test_a_file_that_is_not_an_image_is_an_error(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not a jpeg at all")
    with pytest.raises(MetadataError, match=r"photo\.jpg cannot be read by exiv2"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert photo.read_bytes() == b"not a jpeg at all"


def test_a_huge_xmp_block_survives_embedding(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    with ex.exiv2_call():
        image = ex.open_bytes(photo.read_bytes())
        image.xmpData()["Xmp.xmp.Label"] = "x" * 60_000
        image.writeMetadata()
        photo.write_bytes(ex.image_bytes(image))
    write_caption_metadata(photo, CAPTION, "embed")
    with ex.exiv2_call():
        xmp = ex.open_bytes(photo.read_bytes()).xmpData()
        assert xmp["Xmp.xmp.Label"].toString() == "x" * 60_000
    assert read_back(photo)["dc"] == CAPTION


def test_a_caption_too_big_for_the_jpeg_segment_is_an_error(tmp_path):
    photo = make_photo(tmp_path / "photo.jpg")
    digest = sha256(photo)
    with pytest.raises(MetadataError, match=r"photo\.jpg"):
        write_caption_metadata(photo, "word " * 20_000, "embed")
    assert sha256(photo) == digest and files_in(tmp_path) == ["photo.jpg"]


def test_a_photo_changed_while_being_written_is_left_to_the_other_writer(tmp_path, monkeypatch):
    photo = make_photo(tmp_path / "photo.jpg")
    real = metadata._embedded_copy

    def another_program_writes_meanwhile(image, original, caption):
        updated = real(image, original, caption)
        with image.open("ab") as handle:
            handle.write(b"appended by another program")
        return updated

    monkeypatch.setattr(metadata, "_embedded_copy", another_program_writes_meanwhile)
    with pytest.raises(MetadataError, match=r"photo\.jpg changed on disk"):
        write_caption_metadata(photo, CAPTION, "embed")
    assert photo.read_bytes().endswith(b"appended by another program")
    assert files_in(tmp_path) == ["photo.jpg"]


def test_a_sidecar_changed_while_being_written_is_left_alone(tmp_path, monkeypatch):
    photo = make_photo(tmp_path / "photo.jpg")
    sidecar = xmp_sidecar_path(photo)
    real = metadata._sidecar_packet

    def another_program_creates_it_meanwhile(path, existing, caption):
        packet = real(path, existing, caption)
        sidecar.write_text(EXISTING_SIDECAR, encoding="utf-8")
        return packet

    monkeypatch.setattr(metadata, "_sidecar_packet", another_program_creates_it_meanwhile)
    with pytest.raises(MetadataError, match="changed on disk"):
        write_caption_metadata(photo, CAPTION, "xmp")
    assert sidecar.read_text(encoding="utf-8") == EXISTING_SIDECAR
    assert files_in(tmp_path) == ["photo.jpg", "photo.jpg.xmp"]


def test_a_missing_photo_and_a_bad_mode(tmp_path):
    with pytest.raises(MetadataError, match=r"gone\.jpg does not exist"):
        write_caption_metadata(tmp_path / "gone.jpg", CAPTION, "xmp")
    photo = make_photo(tmp_path / "photo.jpg")
    with pytest.raises(ValueError, match="not one of xmp, embed"):
        write_caption_metadata(photo, CAPTION, "exif")
    with pytest.raises(ValueError, match="empty caption"):
        write_caption_metadata(photo, "  ", "xmp")


def test_reading_while_another_thread_embeds(tmp_path):
    photos = [make_photo(tmp_path / f"p{i}.jpg", seed=i) for i in range(12)]
    names, failures = SidecarNames(), []

    def read_repeatedly():
        try:
            for _ in range(5):
                for photo in photos:
                    found = read_existing_caption(photo, names)
                    assert found is None or found.caption.startswith("caption ")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failures.append(exc)

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    for i, photo in enumerate(photos):
        write_caption_metadata(photo, f"caption {i}", "embed")
    reader.join()
    assert failures == []
    assert [read_existing_caption(p, names).caption for p in photos] == \
        [f"caption {i}" for i in range(12)]


def jpeg_with_truncated_exif(path: Path) -> Path:
    """A JPEG whose EXIF ImageDescription entry points past the end of its APP1 segment."""
    from tests.support.photos import exif_with_description

    make_photo(path, exif=exif_with_description("A long description of the scene"))
    data = bytearray(path.read_bytes())
    start = data.index(b"\xff\xe1")
    length = int.from_bytes(data[start + 2:start + 4], "big")
    cut = 12  # bytes of the description string dropped from the segment
    data[start + 2:start + 4] = (length - cut).to_bytes(2, "big")
    del data[start + 2 + length - cut:start + 2 + length]
    path.write_bytes(bytes(data))
    with ex.exiv2_call() as complaints:
        ex.open_bytes(bytes(data))
    assert complaints, "the test photo must be one exiv2 reports as damaged"
    return path
