"""Our Captioner vs the seed's captioning pipeline, end to end on the same photos.

Seed (``seed_style.py``): per photo a fresh ``VGG16()`` with its classifier, the 553 MB weights
file loaded, one ``predict``; then 12 greedy words, one ``predict`` each, on the merge decoder
with the seed's Flickr8k vocabulary. It is slow, so it runs on a few photos after one untimed
warm-up photo (which pays TensorFlow's start-up, a cost the seed paid too but we leave out).
Ours: ``Captioner.caption`` on 64 photos, beam 3. Target: ours >= 15x the seed's img/s.
"""

from __future__ import annotations

import benchkit
import our_captioner
import reference
import seed_style

PHOTOS, BATCH, BEAM = 64, 16, 3
TARGET = 15.0


def seed_captioner(weights):
    """The seed's with-top weights file, tokenizer and merge decoder (built once, as it was)."""
    top = benchkit.work_dir("weights") / "vgg16_top_fake.h5"
    if not top.exists():
        seed_style.write_fake_vgg16_top_weights(top, weights)
    texts = [seed_style.clean(c) for captions in benchkit.flickr8k_captions("train").values()
             for c in captions]
    tokenizer = seed_style.SeedTokenizer(texts)
    return top, tokenizer, seed_style.merge_model(tokenizer.vocab_size)


def main() -> None:
    args = benchkit.parse_args(__doc__.splitlines()[0])
    seed_photos = 2 if args.quick else 8
    benchkit.print_header("Captioner vs the seed pipeline", args.quick)
    weights = benchkit.fake_weights()
    photos = benchkit.make_photos(PHOTOS)

    top, tokenizer, decoder = seed_captioner(weights)
    seed_style.caption_img_per_s(photos[:1], top, decoder, tokenizer)  # warm-up, untimed
    seed_ips = seed_style.caption_img_per_s(photos[1:1 + seed_photos], top, decoder, tokenizer)

    precision = reference.best_precision()
    captioner = our_captioner.load_captioner(weights, precision)
    ours_ips, words = our_captioner.caption_img_per_s(captioner, photos, BATCH, BEAM)

    ratio = ours_ips / seed_ips
    print(f"   seed: {seed_photos} photos, vocabulary {tokenizer.vocab_size}, "
          f"{seed_style.DECODE_TOKENS} words each; ours: {PHOTOS} photos, {precision}, "
          f"beam {BEAM}, mean caption {words:.1f} words")
    benchkit.print_table(
        ["what", "img/s", "ratio", "target", "verdict"],
        [["seed-style pipeline", seed_ips, 1.0, "", ""],
         ["our Captioner", ours_ips, ratio, f">= {TARGET:g}x", benchkit.verdict(ratio, TARGET)]])


if __name__ == "__main__":
    main()
