"""The image loader: every mode, orientation, animation and broken-file case the app may meet."""

from __future__ import annotations

import hashlib
import os
from contextlib import nullcontext

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from desktop_captioner.core import images
from desktop_captioner.core.errors import ImageLoadError
from desktop_captioner.core.image_types import IMAGE_EXTENSIONS, is_image_path
from desktop_captioner.core.images import (
    image_size,
    load_for_encoder,
    load_image,
    load_thumbnail,
    preprocess_vgg16,
)

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def halves(width: int = 64, height: int = 32) -> Image.Image:
    """Left half red, right half blue: shows both rotation and mirroring."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2:] = BLUE
    return Image.fromarray(pixels)


def exif_with_orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


def close_to(pixel, expected, tolerance: int = 12) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected))


def test_image_extensions_and_is_image_path():
    assert IMAGE_EXTENSIONS == {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
    assert is_image_path("a/B.JPG") and is_image_path("x.webp") and is_image_path("y.Tiff")
    assert not is_image_path("notes.txt") and not is_image_path("jpg") and not is_image_path("a.h5")


def test_rgb_jpeg_loads_as_rgb_and_file_is_untouched(tmp_path):
    path = tmp_path / "photo.jpg"
    halves().save(path, quality=95)
    before = (hashlib.md5(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (64, 32)
    assert close_to(image.getpixel((5, 5)), RED) and close_to(image.getpixel((60, 5)), BLUE)
    assert (hashlib.md5(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns) == before


@pytest.mark.parametrize("orientation, size, top_left, bottom_right", [
    (1, (64, 32), RED, BLUE),
    (3, (64, 32), BLUE, RED),    # rotated 180
    (6, (32, 64), RED, BLUE),    # camera held rotated: red goes to the top
    (8, (32, 64), BLUE, RED),
    (2, (64, 32), BLUE, RED),    # mirrored
])
def test_exif_orientation_is_applied(tmp_path, orientation, size, top_left, bottom_right):
    path = tmp_path / "rotated.jpg"
    halves().save(path, quality=95, exif=exif_with_orientation(orientation))
    assert image_size(path) == size  # header only, yet upright like the pixels
    for image in (load_image(path), load_thumbnail(path, 1000)):
        assert image.size == size
        assert close_to(image.getpixel((2, 2)), top_left)
        assert close_to(image.getpixel((size[0] - 3, size[1] - 3)), bottom_right)


def test_image_size_of_an_unreadable_file_is_unknown(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    assert image_size(path) is None and image_size(tmp_path / "missing.jpg") is None


def test_damaged_exif_block_keeps_the_image_unrotated(tmp_path):
    path = tmp_path / "bad_exif.png"
    halves().save(path, exif=b"Exif\x00\x00garbage-garbage-garbage")
    image = load_image(path)
    assert image.size == (64, 32) and close_to(image.getpixel((2, 2)), RED, 0)
    assert load_for_encoder(path, 32).shape == (32, 32, 3)


def test_animated_gif_gives_its_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (64, 64), RED), Image.new("RGB", (64, 64), BLUE)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 2
    image = load_image(path)
    assert image.mode == "RGB" and close_to(image.getpixel((10, 10)), RED, 0)


def test_multipage_tiff_gives_its_first_page(tmp_path):
    path = tmp_path / "pages.tif"
    pages = [Image.new("RGB", (64, 48), BLUE), Image.new("RGB", (32, 32), RED)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    image = load_image(path)
    assert image.size == (64, 48) and image.getpixel((1, 1)) == BLUE


def test_grey_and_one_bit_images_become_rgb(tmp_path):
    grey = tmp_path / "grey.png"
    Image.new("L", (64, 64), 77).save(grey)
    one_bit = tmp_path / "ink.bmp"
    Image.new("1", (64, 64), 1).save(one_bit)
    assert load_image(grey).getpixel((3, 3)) == (77, 77, 77)
    assert load_image(one_bit).mode == "RGB" and load_image(one_bit).getpixel((3, 3)) == WHITE


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((64, 64), 32768, np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    assert load_image(path).getpixel((0, 0)) == (128, 128, 128)


def test_rgba_is_composited_on_white(tmp_path):
    pixels = np.zeros((64, 64, 4), np.uint8)
    pixels[:, :32] = (0, 0, 0, 0)          # fully transparent black -> white
    pixels[:, 32:] = (0, 0, 0, 128)        # half-transparent black -> mid grey
    path = tmp_path / "cutout.png"
    Image.fromarray(pixels, "RGBA").save(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.getpixel((5, 5)) == WHITE
    assert close_to(image.getpixel((50, 5)), (127, 127, 127), 2)


def test_grey_with_alpha_is_composited_on_white(tmp_path):
    path = tmp_path / "la.png"
    Image.merge("LA", [Image.new("L", (64, 64), 0), Image.new("L", (64, 64), 0)]).save(path)
    assert load_image(path).getpixel((3, 3)) == WHITE


def test_palette_with_transparency_is_composited_on_white(tmp_path):
    path = tmp_path / "logo.gif"
    palette_image = Image.new("P", (64, 64), 0)
    palette_image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette_image.paste(1, (32, 0, 64, 64))
    palette_image.save(path, transparency=0)
    image = load_image(path)
    assert image.getpixel((5, 5)) == WHITE and image.getpixel((50, 5)) == RED


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    image = load_image(path)
    assert image.mode == "RGB" and close_to(image.getpixel((5, 5)), RED)


def test_thumbnail_keeps_aspect_ratio_within_max_side(tmp_path):
    path = tmp_path / "wide.png"
    halves(200, 100).save(path)
    thumb = load_thumbnail(path, 50)
    assert thumb.mode == "RGB" and thumb.size == (50, 25)


def test_big_jpeg_is_decoded_at_reduced_size(tmp_path, monkeypatch):
    path = tmp_path / "big.jpg"
    halves(1024, 768).save(path, quality=80)
    decoded_sizes = []
    original_load = JpegImagePlugin.JpegImageFile.load

    def recording_load(self):
        decoded_sizes.append(self.size)
        return original_load(self)

    def size_decoded_for(load):
        decoded_sizes.clear()
        load()
        return decoded_sizes[0]

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", recording_load)
    # 1/8 scale is still >= 64 on both sides; 1/4 is the smallest still >= 100.
    assert size_decoded_for(lambda: load_for_encoder(path, 64)) == (128, 96)
    assert size_decoded_for(lambda: load_thumbnail(path, 100)) == (256, 192)
    assert size_decoded_for(lambda: load_image(path)) == (1024, 768)
    assert load_for_encoder(path, 64).shape == (64, 64, 3)
    assert load_thumbnail(path, 100).size == (100, 75)


def test_load_for_encoder_resizes_and_preprocesses(tmp_path):
    path = tmp_path / "solid.png"
    Image.new("RGB", (96, 50), (200, 100, 50)).save(path)
    pixels = load_for_encoder(path, 32)
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels[7, 9], [50 - 103.939, 100 - 116.779, 200 - 123.68],
                               rtol=0, atol=1e-4)
    assert load_for_encoder(path).shape == (224, 224, 3)
    with pytest.raises(ValueError):
        load_for_encoder(path, 16)


def test_preprocess_matches_keras_and_copies():
    from keras.applications.vgg16 import preprocess_input

    rgb = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 3)).astype(np.float32)
    original = rgb.copy()
    ours = preprocess_vgg16(rgb)
    np.testing.assert_array_equal(rgb, original)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, preprocess_input(rgb.copy()), rtol=0, atol=1e-5)
    np.testing.assert_allclose(preprocess_vgg16(rgb.astype(np.uint8)), ours, rtol=0, atol=1e-5)


# --- files that are not (whole) images -----------------------------------------------------------

def assert_refused(path, *phrases):
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    for phrase in phrases:
        assert phrase in message
    for loader in (lambda p: load_for_encoder(p, 32), lambda p: load_thumbnail(p, 32)):
        with pytest.raises(ImageLoadError):
            loader(path)


@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png"), ("GIF", ".gif")])
def test_truncated_file(tmp_path, fmt, suffix):
    path = tmp_path / f"photo{suffix}"
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, "truncated", "still be downloading")


def test_corrupt_png(tmp_path):
    path = tmp_path / "broken.png"
    Image.new("RGB", (64, 64), RED).save(path)
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the compressed pixel data
    path.write_bytes(bytes(data))
    assert_refused(path, "damaged")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert_refused(path, "empty")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are my holiday notes, not a photo\n")
    assert_refused(path, "not an image")


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "gone.jpg", "does not exist")


def test_directory(tmp_path):
    folder = tmp_path / "album.jpg"
    folder.mkdir()
    assert_refused(folder, "folder")


def test_broken_symlink(tmp_path):
    link = tmp_path / "link.jpg"
    link.symlink_to(tmp_path / "moved_away.jpg")
    assert_refused(link, "link", "no longer exists")


def test_image_above_our_pixel_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "huge.png"
    Image.new("RGB", (64, 64)).save(path)
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 64 * 64 - 1)
    assert_refused(path, "too large")
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 64 * 64)
    assert load_image(path).size == (64, 64)


@pytest.mark.parametrize("pillow_limit", [3000, 1000])  # Pillow warns at 3000, raises at 1000
def test_pillow_decompression_bomb_warning_and_error_are_refused(tmp_path, monkeypatch,
                                                                  pillow_limit):
    path = tmp_path / "bomb.png"
    Image.new("RGB", (64, 64)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    expect_warning = pillow_limit == 3000
    with pytest.warns(Image.DecompressionBombWarning) if expect_warning else nullcontext():
        with pytest.raises(ImageLoadError, match="too large"):
            load_image(path)
