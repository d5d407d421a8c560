"""The caption decoder: a Keras model for teacher forcing and a compiled step function for search.

Architecture (``build_decoder``): the 512-d image vector, projected by two Dense+tanh layers,
becomes the LSTM's initial state (h0, c0); the LSTM reads word embeddings (``mask_zero=True``,
right padding) and a Dense layer gives next-word logits at every position. One training pass
covers a whole caption (input ``[START] w1..wn``, target ``w1..wn [END]``) instead of the seed
tutorial's one sample per prefix.

The model is built from plain layers only, so a model file needs nothing but
``DecoderConfig.to_dict()`` and a ``.weights.h5`` file: ``build_decoder(config)`` then
``model.load_weights(path)`` restores it without custom objects.

``StepDecoder`` runs the *same layers* one token at a time, carrying the LSTM state, in
``tf.function``s with fixed input signatures: caption cost is linear in its length, a batch of
images is decoded together, and nothing retraces between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from desktop_captioner.core.errors import ModelFileError
from desktop_captioner.core.model_schema import FEATURE_DIM
from desktop_captioner.core.settings_record import SettingsRecord
from desktop_captioner.core.tf_runtime import keras, tf
from desktop_captioner.core.vocabulary import PAD

layers = keras.layers  # through tf_runtime, which loads TensorFlow quietly first


@dataclass(frozen=True)
class DecoderConfig(SettingsRecord):
    """Everything needed to rebuild the decoder's layers before loading its weights."""

    vocab_size: int
    feature_dim: int = FEATURE_DIM
    embedding_dim: int = 256
    hidden_dim: int = 512
    dropout: float = 0.3

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DecoderConfig":
        """As ``SettingsRecord.from_dict``, but a missing required setting is a damaged file."""
        try:
            return super().from_dict(data)
        except TypeError as exc:
            raise ModelFileError(f"The decoder settings are incomplete ({exc}).") from exc


def build_decoder(config: DecoderConfig, precision: str = "float32") -> keras.Model:
    """Teacher-forcing model: (features N×F, tokens N×T int32) -> logits N×T×V.

    ``precision="bfloat16"`` computes in bfloat16 over float32 weights (Keras' mixed_bfloat16
    policy): on CPUs with native bf16 it trained about twice as fast here at the same validation
    loss. The weights are float32 either way, so one weights file serves both builds.
    """
    policy = "mixed_bfloat16" if precision == "bfloat16" else "float32"
    features = keras.Input((config.feature_dim,), name="features")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    # Standardised per dimension (statistics set by ``adapt`` on the training features): raw
    # VGG16 averages are large and mostly a shared offset, which saturates the tanh state.
    image = layers.Normalization(name="feature_norm")(features)
    image = layers.Dropout(config.dropout, name="feature_dropout", dtype=policy)(image)
    h0 = layers.Dense(config.hidden_dim, activation="tanh", name="init_h", dtype=policy)(image)
    c0 = layers.Dense(config.hidden_dim, activation="tanh", name="init_c", dtype=policy)(image)
    words = layers.Embedding(config.vocab_size, config.embedding_dim, mask_zero=True,
                             name="embedding", dtype=policy)(tokens)
    words = layers.Dropout(config.dropout, name="embedding_dropout", dtype=policy)(words)
    sequence = layers.LSTM(config.hidden_dim, return_sequences=True, name="lstm", dtype=policy)(
        words, initial_state=[h0, c0])
    sequence = layers.Dropout(config.dropout, name="output_dropout", dtype=policy)(sequence)
    logits = layers.Dense(config.vocab_size, name="logits", dtype=policy)(sequence)
    return keras.Model([features, tokens], logits, name="caption_decoder")


def set_decoder_weights(model: keras.Model, weights: list) -> None:
    """``model.set_weights`` that also refreshes the feature Normalization's statistics.

    Keras caches them as constants and refreshes them only in ``adapt`` and ``load_weights``;
    after a plain ``set_weights``/``assign`` the layer would keep normalising with stale ones.
    """
    model.set_weights(weights)
    model.get_layer("feature_norm").finalize_state()


def compile_decoder(model: keras.Model, learning_rate: float = 1e-3,
                    clipnorm: float = 5.0) -> None:
    """Adam + sparse cross-entropy on logits.

    No sample weights are needed: the Embedding's padding mask travels to the logits and Keras 3
    applies it to the loss and to the accuracy (averaging over real tokens only), which the tests
    check by appending padding and seeing identical numbers.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])


def teacher_forcing_pair(tokens: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Right-padded ``[START] w.. [END] PAD..`` rows -> (inputs, targets) shifted by one.

    The END token is blanked out of the inputs so the input mask marks exactly the positions
    that have a real target; otherwise the position reading END (target PAD) would count.
    """
    tokens = tf.convert_to_tensor(tokens, tf.int32)
    targets = tokens[:, 1:]
    inputs = tf.where(targets == PAD, tf.zeros_like(targets), tokens[:, :-1])
    return inputs, targets


class StepDecoder:
    """Batched one-token inference over a trained ``build_decoder`` model's own layers.

    ``init_state(features) -> (h, c)`` and ``step(tokens, (h, c)) -> (log_probs, (h, c))``;
    both accept any batch size without retracing.
    """

    def __init__(self, model: keras.Model) -> None:
        self._feature_norm = model.get_layer("feature_norm")
        self._init_h = model.get_layer("init_h")
        self._init_c = model.get_layer("init_c")
        self._embedding = model.get_layer("embedding")
        self._cell = model.get_layer("lstm").cell
        self._logits = model.get_layer("logits")
        self.feature_dim = int(model.get_layer("init_h").kernel.shape[0])
        self.hidden_dim = int(self._cell.units)
        self.vocab_size = int(self._logits.units)
        state_spec = (tf.TensorSpec([None, self.hidden_dim], tf.float32),
                      tf.TensorSpec([None, self.hidden_dim], tf.float32))
        self.init_state = tf.function(
            self._init_state, input_signature=[tf.TensorSpec([None, self.feature_dim], tf.float32)])
        self.step = tf.function(
            self._step, input_signature=[tf.TensorSpec([None], tf.int32), state_spec])

    def _init_state(self, features: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = self._feature_norm(features)
        return self._init_h(image), self._init_c(image)

    def _step(self, tokens: tf.Tensor, state: tuple[tf.Tensor, tf.Tensor]):
        # A plain lookup: calling the Embedding layer would attach a padding mask the cell
        # warns about.
        words = tf.gather(self._embedding.embeddings, tokens)
        output, (h, c) = self._cell(words, list(state), training=False)
        return tf.nn.log_softmax(self._logits(output)), (h, c)
