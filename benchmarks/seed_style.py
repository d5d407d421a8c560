"""The seed project's pipeline, re-implemented faithfully so our speed-ups are measured against it.

The seed followed the classic VGG16 + LSTM "merge" tutorial:
- captioning a photo built a fresh ``VGG16()`` *with* its classifier, cut it at ``fc2`` (4096-d),
  loaded the 553 MB weights file, and ran ``model.predict`` on the one image;
- captions were generated greedily with one ``model.predict`` per word on a left-padded prefix;
- training made one sample per caption prefix (photo, padded prefix -> one-hot next word) and fed
  one photo's samples per step from a Python generator.
Only Keras 3 spellings changed (``Tokenizer`` is gone, generators yield tuples). Nothing from the
app is imported here.
"""

from __future__ import annotations

import string
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

SEED_MAX_LENGTH = 34  # the tutorial's max_length for Flickr8k
SEED_FEATURE_DIM = 4096  # VGG16 fc2
DECODE_TOKENS = 12  # a typical Flickr8k caption; random weights never say "endseq" on their own
_TOP_LAYERS = (("fc1", 25088, 4096), ("fc2", 4096, 4096), ("predictions", 4096, 1000))


# --- text, as the tutorial cleaned it -------------------------------------------------------

def clean(caption: str) -> str:
    """Lower-case, strip punctuation, drop one-letter and non-alphabetic words, add markers."""
    table = str.maketrans("", "", string.punctuation)
    words = [w.translate(table) for w in caption.lower().split()]
    words = [w for w in words if len(w) > 1 and w.isalpha()]
    return "startseq " + " ".join(words) + " endseq"


class SeedTokenizer:
    """What ``keras.preprocessing.text.Tokenizer`` did for the seed: ids by frequency from 1."""

    def __init__(self, texts: list[str]) -> None:
        counts = Counter(word for text in texts for word in text.split())
        ordered = sorted(counts, key=lambda w: (-counts[w], w))
        self.word_index = {word: i + 1 for i, word in enumerate(ordered)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.vocab_size = len(self.word_index) + 1

    def texts_to_sequences(self, texts: list[str]) -> list[list[int]]:
        return [[self.word_index[w] for w in text.split() if w in self.word_index]
                for text in texts]


# --- the models ------------------------------------------------------------------------------

def write_fake_vgg16_top_weights(path: Path, notop: Path, seed: int = 0) -> Path:
    """The with-top weights file the seed loaded, in the official layout: the conv layers copied
    from a notop file plus random ``fc1``/``fc2``/``predictions`` (same shapes, same size)."""
    rng = np.random.default_rng(seed)
    with h5py.File(notop, "r") as src, h5py.File(path, "w") as dst:
        names = [n.decode() if isinstance(n, bytes) else n for n in src.attrs["layer_names"]]
        for name in names:
            src.copy(src[name], dst, name)
        dst.create_group("flatten").attrs["weight_names"] = np.array([], dtype="S1")
        for name, fan_in, fan_out in _TOP_LAYERS:
            group = dst.create_group(name)
            weight_names = [f"{name}_W_1:0", f"{name}_b_1:0"]
            group.attrs["weight_names"] = np.array([n.encode() for n in weight_names])
            group.create_dataset(weight_names[0], data=rng.normal(
                0, np.sqrt(1 / fan_in), (fan_in, fan_out)).astype(np.float32))
            group.create_dataset(weight_names[1], data=np.zeros(fan_out, np.float32))
        dst.attrs["layer_names"] = np.array(
            [n.encode() for n in names + ["flatten"] + [t[0] for t in _TOP_LAYERS]])
        dst.attrs["backend"] = b"tensorflow"
        dst.attrs["keras_version"] = b"2.0.8"
    return path


def extract_features(photo: Path, top_weights: Path) -> np.ndarray:
    """The seed's per-photo feature extraction: a fresh VGG16 for every single photo."""
    import keras
    from keras.applications.vgg16 import VGG16, preprocess_input

    model = VGG16(weights=str(top_weights))
    model = keras.Model(inputs=model.inputs, outputs=model.layers[-2].output)
    image = keras.utils.img_to_array(keras.utils.load_img(photo, target_size=(224, 224)))
    image = preprocess_input(image.reshape((1, *image.shape)))
    return model.predict(image, verbose=0)


def merge_model(vocab_size: int, max_length: int = SEED_MAX_LENGTH,
                feature_dim: int = SEED_FEATURE_DIM):
    """The tutorial's merge decoder: image Dense(256) + LSTM(256) over the prefix, added."""
    import keras
    from keras import layers

    inputs1 = keras.Input(shape=(feature_dim,))
    fe2 = layers.Dense(256, activation="relu")(layers.Dropout(0.5)(inputs1))
    inputs2 = keras.Input(shape=(max_length,))
    se1 = layers.Embedding(vocab_size, 256, mask_zero=True)(inputs2)
    se3 = layers.LSTM(256)(layers.Dropout(0.5)(se1))
    decoder2 = layers.Dense(256, activation="relu")(layers.add([fe2, se3]))
    outputs = layers.Dense(vocab_size, activation="softmax")(decoder2)
    model = keras.Model(inputs=[inputs1, inputs2], outputs=outputs)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model


def generate_desc(model, tokenizer: SeedTokenizer, photo: np.ndarray,
                  max_length: int = SEED_MAX_LENGTH, tokens: int = DECODE_TOKENS) -> str:
    """Greedy decoding, one ``model.predict`` per word on the re-tokenised, re-padded text."""
    import keras

    in_text = "startseq"
    for _ in range(tokens):
        sequence = tokenizer.texts_to_sequences([in_text])[0]
        sequence = keras.utils.pad_sequences([sequence], maxlen=max_length)
        yhat = int(np.argmax(model.predict([photo, sequence], verbose=0)))
        in_text += " " + tokenizer.index_word.get(yhat, "")
    return in_text


def caption_img_per_s(photos: list[Path], top_weights: Path, decoder,
                      tokenizer: SeedTokenizer) -> float:
    """The seed's end-to-end captioning rate (decoder loaded once, as the seed's script did)."""
    start = time.perf_counter()
    for photo in photos:
        generate_desc(decoder, tokenizer, extract_features(photo, top_weights))
    return len(photos) / (time.perf_counter() - start)


# --- training --------------------------------------------------------------------------------

def create_sequences(tokenizer: SeedTokenizer, max_length: int, desc_list: list[str],
                     photo: np.ndarray, vocab_size: int):
    """One sample per caption prefix: (photo, left-padded prefix) -> one-hot next word."""
    import keras

    x1, x2, y = [], [], []
    for desc in desc_list:
        seq = tokenizer.texts_to_sequences([desc])[0]
        for i in range(1, len(seq)):
            in_seq = keras.utils.pad_sequences([seq[:i]], maxlen=max_length)[0]
            x1.append(photo)
            x2.append(in_seq)
            y.append(keras.utils.to_categorical([seq[i]], num_classes=vocab_size)[0])
    return np.array(x1), np.array(x2), np.array(y)


def data_generator(descriptions: dict[str, list[str]], photos: dict[str, np.ndarray],
                   tokenizer: SeedTokenizer, max_length: int) -> Iterator:
    """The tutorial's progressive loader: one photo's samples per step, forever."""
    while True:
        for key, desc_list in descriptions.items():
            x1, x2, y = create_sequences(tokenizer, max_length, desc_list, photos[key],
                                         tokenizer.vocab_size)
            yield (x1, x2), y


def prefix_samples(descriptions: dict[str, list[str]], tokenizer: SeedTokenizer) -> int:
    """How many samples one seed epoch has (one per word after ``startseq``)."""
    return sum(len(seq) - 1 for texts in descriptions.values()
               for seq in tokenizer.texts_to_sequences(texts))
