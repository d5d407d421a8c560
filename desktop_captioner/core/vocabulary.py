"""The caption vocabulary: text <-> token ids, with reserved ids that no text can produce.

The seed tutorial wrote ``<start>``/``<end>`` into the caption text and then let a tokenizer
strip the angle brackets, so its markers collided with real words. Here the markers are ids, not
text: PAD=0, START=1, END=2, UNK=3 are never produced by ``tokenize`` (which keeps only letters,
digits and underscores), so a caption that literally says "<start>" just contains the word
"start".

No TensorFlow here: the vocabulary travels inside the model file and is read by light code.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from desktop_captioner.core.errors import ModelFileError

PAD, START, END, UNK = 0, 1, 2, 3
RESERVED_TOKENS = ("<pad>", "<start>", "<end>", "<unk>")
FORMAT_VERSION = 1

_APOSTROPHES = re.compile(r"['\u2019`]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def tokenize(text: str) -> list[str]:
    """Lower-case, drop punctuation, split on whitespace.

    Apostrophes are deleted rather than split on, so "don't" stays one word ("dont"); all other
    punctuation becomes a space, so "black-and-white" is three words, as it is in Flickr8k's own
    pre-tokenised captions.
    """
    text = _APOSTROPHES.sub("", text.lower())
    return _NOT_WORD.sub(" ", text).split()


@dataclass
class Vocabulary:
    """Word <-> id maps. Ids 0..3 are reserved; words get ids from 4 in frequency order."""

    words: list[str]
    min_count: int = 5
    max_length: int = 32  # caption words kept by ``encode``, START/END not counted
    _ids: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._ids = {word: index + len(RESERVED_TOKENS) for index, word in enumerate(self.words)}

    @classmethod
    def build(cls, train_captions: Iterable[str], min_count: int = 5,
              max_length: int = 32) -> "Vocabulary":
        """Count words in the *training* captions only, so validation/test words stay unseen.

        Ties in frequency are broken alphabetically so the same captions always give the same ids.
        """
        counts = Counter(word for caption in train_captions for word in tokenize(caption))
        kept = [word for word, count in counts.items() if count >= min_count]
        kept.sort(key=lambda word: (-counts[word], word))
        return cls(kept, min_count=min_count, max_length=max_length)

    @property
    def size(self) -> int:
        """Number of ids, reserved ones included: the decoder's output width."""
        return len(self.words) + len(RESERVED_TOKENS)

    def __len__(self) -> int:
        return self.size

    def id_of(self, word: str) -> int:
        return self._ids.get(word, UNK)

    def word_of(self, token_id: int) -> str:
        if token_id < len(RESERVED_TOKENS):
            return RESERVED_TOKENS[token_id]
        return self.words[token_id - len(RESERVED_TOKENS)]

    def encode(self, caption: str) -> list[int]:
        """``[START] + ids + [END]``, words beyond ``max_length`` dropped, unknown words -> UNK."""
        ids = [self.id_of(word) for word in tokenize(caption)[: self.max_length]]
        return [START, *ids, END]

    def decode(self, token_ids: Sequence[int]) -> list[str]:
        """Words for ``token_ids``: stops at END, skips PAD and START."""
        words = []
        for token_id in token_ids:
            token_id = int(token_id)
            if token_id == END:
                break
            if token_id in (PAD, START):
                continue
            words.append(self.word_of(token_id))
        return words

    def to_dict(self) -> dict:
        return {"format": FORMAT_VERSION, "words": list(self.words),
                "min_count": self.min_count, "max_length": self.max_length}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        """Rebuild from ``to_dict`` output; a malformed dict is a damaged model file."""
        try:
            if data.get("format") != FORMAT_VERSION:
                raise ModelFileError(
                    f"The vocabulary has format {data.get('format')!r}; this version reads "
                    f"format {FORMAT_VERSION}.")
            words = [str(word) for word in data["words"]]
            vocab = cls(words, min_count=int(data["min_count"]),
                        max_length=int(data["max_length"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"The vocabulary is damaged ({exc}).") from exc
        if len(vocab._ids) != len(words) or any(w in RESERVED_TOKENS for w in words):
            raise ModelFileError("The vocabulary is damaged (duplicate or reserved words).")
        return vocab
