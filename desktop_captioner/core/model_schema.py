"""What a model file may declare: one table of every setting it holds, with its type and bounds.

A model file is input from anyone, so nothing is built from it until every value it declares has
been checked here: the right JSON type (``true`` is not a number, ``"29"`` is not a size), inside
generous bounds, and consistent with the other parts. The bounds keep a small hostile file from
asking for unbounded work: each part is at most ``MEMBER_LIMITS`` bytes inflated, the vocabulary
at most ``MAX_VOCABULARY_WORDS`` words, layers at most ``MAX_LAYER_SIZE`` units, captions at
most ``MAX_CAPTION_WORDS`` words. ``docs/model-file.md`` states them for users.

Checks raise ``SchemaError`` with a detail phrase; ``core/modelfile.py`` adds the file's name.
No TensorFlow and no NumPy here: ``read_manifest`` runs these checks before either is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from desktop_captioner.core.precision import AUTO, PRECISIONS
from desktop_captioner.core.vocabulary import FORMAT_VERSION as VOCABULARY_FORMAT
from desktop_captioner.core.vocabulary import RESERVED_TOKENS, tokenize

MIB = 1024 * 1024
MANIFEST_MEMBER = "manifest.json"
WEIGHTS_MEMBER = "decoder.weights.h5"
VOCABULARY_MEMBER = "vocabulary.json"
CALIBRATION_MEMBER = "precision_calibration.npz"
#: The most bytes each part may inflate to. A decoder of 8,000 words and 256/512 units holds
#: about 33 MB of weights, a 200,000-word one of that size about 0.6 GB; 1 GiB still fits in
#: memory. The other parts are small: a 200,000-word vocabulary is about 2.5 MB of JSON (8 MiB
#: allows 40 bytes a word), a calibration 9 KB, a manifest with a long training history 6 KB.
MEMBER_LIMITS = {MANIFEST_MEMBER: 1 * MIB, WEIGHTS_MEMBER: 1024 * MIB,
                 VOCABULARY_MEMBER: 8 * MIB, CALIBRATION_MEMBER: 1 * MIB}
#: Words besides the reserved ids: many times the ~10,000 MS COCO keeps at a minimum count of 5.
MAX_VOCABULARY_WORDS = 200_000
#: Embedding and LSTM width: 16 times the default 512.
MAX_LAYER_SIZE = 8192
#: Longest caption in words; training captions are cut to this and search stops after it.
MAX_CAPTION_WORDS = 200
#: How deep JSON may nest; this format nests 4 levels.
MAX_JSON_DEPTH = 32
#: The encoder's VGG16 average-pooled features, the only features this version computes.
FEATURE_DIM = 512
SUPPORTED_FEATURES = ("avg",)
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 1024  # VGG16's five poolings need >= 32 px
_LARGE = 10 ** 9  # bound for counts that only describe training (epochs, images, seeds...)


class SchemaError(ValueError):
    """A value a model file declares that this version refuses; the message is a detail phrase."""


@dataclass(frozen=True)
class Setting:
    """One setting: its JSON type ("whole", "number" or "text"), bounds and whether required."""

    kind: str
    low: float | None = None
    high: float | None = None
    below_high: bool = False  # ``high`` itself is excluded (dropout 1 would drop everything)
    choices: tuple = ()
    required: bool = True


def whole(low: int, high: int, required: bool = True) -> Setting:
    return Setting("whole", low, high, required=required)


def number(low: float, high: float, below_high: bool = False, required: bool = True) -> Setting:
    return Setting("number", low, high, below_high=below_high, required=required)


def text(*choices: str, required: bool = True) -> Setting:
    return Setting("text", choices=choices, required=required)


DECODER = {
    "vocab_size": whole(len(RESERVED_TOKENS) + 1, len(RESERVED_TOKENS) + MAX_VOCABULARY_WORDS),
    "feature_dim": whole(FEATURE_DIM, FEATURE_DIM),
    "embedding_dim": whole(1, MAX_LAYER_SIZE),
    "hidden_dim": whole(1, MAX_LAYER_SIZE),
    "dropout": number(0.0, 1.0, below_high=True),
}
ENCODER = {
    "image_size": whole(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE),
    "precision": text(*PRECISIONS),
    "features": text(*SUPPORTED_FEATURES),
    "weights_md5": text(required=False),
}
TRAINING = {  # a record of how the model was made: optional, but typed when present
    "epochs": whole(1, _LARGE, required=False),
    "batch_size": whole(1, _LARGE, required=False),
    "embedding_dim": whole(1, MAX_LAYER_SIZE, required=False),
    "hidden_dim": whole(1, MAX_LAYER_SIZE, required=False),
    "dropout": number(0.0, 1.0, below_high=True, required=False),
    "learning_rate": number(0.0, 10.0, required=False),
    "clipnorm": number(0.0, 1e6, required=False),
    "patience": whole(0, _LARGE, required=False),
    "seed": whole(-2 ** 63, 2 ** 63, required=False),
    "min_count": whole(1, _LARGE, required=False),
    "max_length": whole(1, MAX_CAPTION_WORDS, required=False),
    "precision": text(*PRECISIONS, AUTO, required=False),
}
PROVENANCE = {key: text(required=False) for key in ("dataset_root", "layout", "created")}
METRICS = {
    **{f"bleu{n}": number(0.0, 1.0, required=False) for n in range(1, 5)},
    "images": whole(0, _LARGE, required=False),
    "beam_width": whole(1, 1000, required=False),
    "split": text(required=False),
}
SECTIONS = {"decoder": DECODER, "encoder": ENCODER, "training": TRAINING,
            "provenance": PROVENANCE, "metrics": METRICS}
VOCABULARY = {
    "format": whole(VOCABULARY_FORMAT, VOCABULARY_FORMAT),
    "min_count": whole(1, _LARGE),
    "max_length": whole(1, MAX_CAPTION_WORDS),
}


def _describe(setting: Setting) -> str:
    if setting.kind == "text":
        return f"one of {', '.join(setting.choices)}" if setting.choices else "text"
    kind = "a whole number" if setting.kind == "whole" else "a number"
    if setting.low == setting.high:
        return f"{kind} equal to {setting.low:g}"
    upper = f"below {setting.high:g}" if setting.below_high else f"{setting.high:,g}"
    return f"{kind} from {setting.low:,g} to {upper}"


def _fits(value: Any, setting: Setting) -> bool:
    if setting.kind == "text":
        return isinstance(value, str) and (not setting.choices or value in setting.choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if setting.kind == "whole" and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    above_high = value >= setting.high if setting.below_high else value > setting.high
    return not (value < setting.low or above_high)


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


def check_settings(section: str, data: Any, table: Mapping[str, Setting]) -> None:
    """Every setting of ``table`` in ``data`` has its type and bounds; unknown keys are ignored
    (a newer version may add settings), missing optional ones take their defaults."""
    if not isinstance(data, dict):
        raise SchemaError(f"its {section} settings are not a JSON object")
    for name, setting in table.items():
        label = name.replace("_", " ")
        if name not in data:
            if setting.required:
                raise SchemaError(f"its {section} settings lack the {label}")
            continue
        if not _fits(data[name], setting):
            raise SchemaError(f"its {section} setting {label} is {_shown(data[name])}, "
                              f"not {_describe(setting)}")


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """JSON ``value`` nests at most ``limit`` levels (checked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                raise SchemaError(f"it nests deeper than {limit} levels")
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def check_manifest(manifest: dict) -> None:
    """Every section of an already header-checked manifest, and its list of parts."""
    check_depth(manifest)
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
            isinstance(digest, str) and len(digest) == 64 for digest in members.values()):
        raise SchemaError("its list of parts is not a map of names to sha256 digests")
    for section, table in SECTIONS.items():
        check_settings(section, manifest.get(section), table)


def check_vocabulary(data: Any, decoder_vocab_size: int) -> list[str]:
    """The vocabulary's words, after checking them and that the decoder has one output per id."""
    check_settings("vocabulary", data, VOCABULARY)
    words = data.get("words")
    if not isinstance(words, list):
        raise SchemaError("its vocabulary has no list of words")
    if len(words) > MAX_VOCABULARY_WORDS:
        raise SchemaError(f"its vocabulary has {len(words):,} words; this version reads at most "
                          f"{MAX_VOCABULARY_WORDS:,}")
    for word in words:
        if not isinstance(word, str) or tokenize(word) != [word] or word in RESERVED_TOKENS:
            raise SchemaError(f"its vocabulary holds {_shown(word)}, which is not a caption word")
    if len(set(words)) != len(words):
        raise SchemaError("its vocabulary lists a word twice")
    if len(words) + len(RESERVED_TOKENS) != decoder_vocab_size:
        raise SchemaError(f"its vocabulary has {len(words):,} words but its decoder has "
                          f"{decoder_vocab_size - len(RESERVED_TOKENS):,}")
    return words


def decoder_weight_bytes(decoder: Mapping[str, int]) -> int:
    """Bytes of float32 weights a decoder with these (checked) settings holds; see
    ``core.decoder.build_decoder`` for the layers counted."""
    vocab, features = decoder["vocab_size"], decoder["feature_dim"]
    embedding, hidden = decoder["embedding_dim"], decoder["hidden_dim"]
    parameters = (2 * features + 1                       # feature_norm: mean, variance, count
                  + 2 * (features * hidden + hidden)     # init_h, init_c
                  + vocab * embedding                    # embedding
                  + 4 * hidden * (embedding + hidden + 1)  # lstm
                  + hidden * vocab + vocab)              # logits
    return 4 * parameters
