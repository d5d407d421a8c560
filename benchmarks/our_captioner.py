"""Our Captioner as the benchmarks time it, on a model file the size of a Flickr8k model.

Captioning cost depends on the vocabulary (output layer width), the hidden size and how long the
captions are, not on what the weights mean. So the decoder is trained for one epoch on the real
Flickr8k training captions paired with random "image features": it learns the language well
enough to end captions at Flickr8k-like lengths, which random weights never do (they run to the
32-word limit). A third of the training images is plenty for that; the vocabulary is the whole
split's. The file is cached in ``benchmarks/out`` under a hash of the decoder and training code,
so it is rebuilt when they change.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import benchkit
import numpy as np

FEATURE_DIM = 512
TRAIN_IMAGES = 2000  # of Flickr8k's 6000


def _code_version() -> str:
    sources = [benchkit.REPO_ROOT / "desktop_captioner" / "core" / name
               for name in ("decoder.py", "training.py", "modelfile.py")]
    return hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:10]


def synthetic_features(names, seed: int = 0) -> dict[str, np.ndarray]:
    """Non-negative 512-d vectors, like VGG16's post-ReLU averages, one per image name."""
    rng = np.random.default_rng(seed)
    return {name: np.abs(rng.normal(0, 1, FEATURE_DIM)).astype(np.float32)
            for name in sorted(names)}


def flickr8k_training_data(vocab_captions: dict, train_captions: dict, val_captions: dict,
                           config):
    """(vocabulary, train data, val data): real Flickr8k captions paired with synthetic features.

    ``vocab_captions`` decides the vocabulary (its size is the decoder's output width, hence its
    cost), so a run trained on a subset can still have the full split's vocabulary.
    """
    from desktop_captioner.core.training import encode_captions
    from desktop_captioner.core.vocabulary import Vocabulary

    vocab = Vocabulary.build((c for texts in vocab_captions.values() for c in texts),
                             min_count=config.min_count, max_length=config.max_length)
    features = synthetic_features([*train_captions, *val_captions])
    train = encode_captions(vocab, train_captions, sorted(train_captions), features)
    val = encode_captions(vocab, val_captions, sorted(val_captions), features)
    return vocab, train, val


def flickr8k_sized_model(weights: Path, precision: str, image_size: int = 224) -> Path:
    """The cached model file (encoder settings: ``image_size``, ``precision``, ``weights``).

    The decoder is trained once; other encoder settings re-save it, since the decoding cost
    does not depend on them.
    """
    from desktop_captioner.core.modelfile import load_model_file, save_model_file

    out = benchkit.work_dir("models") / (
        f"flickr8k_sized_{image_size}_{precision}_{_code_version()}.dcmodel")
    if not out.exists():
        base = load_model_file(_trained_model(weights))
        encoder = {**base.manifest["encoder"], "image_size": image_size, "precision": precision}
        save_model_file(out, decoder=base.decoder, vocab=base.vocab,
                        decoder_config=base.decoder_config, training=base.manifest["training"],
                        encoder=encoder, provenance=base.manifest["provenance"],
                        metrics=base.manifest["metrics"])
    return out


def _trained_model(weights: Path) -> Path:
    """The decoder, trained once per version of the code (its encoder settings are re-saved)."""
    from desktop_captioner.core.encoder import EncoderConfig
    from desktop_captioner.core.modelfile import save_model_file
    from desktop_captioner.core.training import TrainingConfig, fit_decoder
    from desktop_captioner.core.weights import weights_md5

    out = benchkit.work_dir("models") / f"flickr8k_sized_{_code_version()}.dcmodel"
    if out.exists():
        return out
    all_train = benchkit.flickr8k_captions("train")
    train_captions = dict(sorted(all_train.items())[:TRAIN_IMAGES])
    val_captions = benchkit.flickr8k_captions("dev")
    config = TrainingConfig(epochs=1)
    vocab, train, val = flickr8k_training_data(all_train, train_captions, val_captions, config)
    print(f"   training the Flickr8k-sized decoder once ({vocab.size} words, 1 epoch)...")
    with tempfile.TemporaryDirectory() as checkpoints:
        fit = fit_decoder(train, val, vocab, config, checkpoint_dir=Path(checkpoints))
    encoder = EncoderConfig(image_size=224, precision="float32").to_dict()
    return save_model_file(
        out, decoder=fit.model, vocab=vocab, decoder_config=fit.decoder_config,
        training=config.to_dict(), encoder={**encoder, "weights_md5": weights_md5(weights)},
        provenance={"note": "benchmark model: real Flickr8k captions, synthetic features"},
        metrics={"val_loss": fit.best_val_loss})


def load_captioner(weights: Path, precision: str):
    """``Captioner.load`` on the Flickr8k-sized model, exactly as the app loads a model."""
    from desktop_captioner.core.captioner import Captioner

    return Captioner.load(flickr8k_sized_model(weights, precision), weights=weights)


def caption_img_per_s(captioner, photos, batch_size: int = 16,
                      beam_width: int = 3) -> tuple[float, float]:
    """(images per second, mean caption words) of ``captioner.caption`` over ``photos``,
    after an untimed warm-up batch that traces the encoder and the step decoder."""
    list(captioner.caption(photos[:batch_size], batch_size=batch_size, beam_width=beam_width))
    start = time.perf_counter()
    results = list(captioner.caption(photos, batch_size=batch_size, beam_width=beam_width))
    seconds = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} photos failed, e.g. {failed[0].error}")
    return len(photos) / seconds, float(np.mean([len(r.caption.split()) for r in results]))
