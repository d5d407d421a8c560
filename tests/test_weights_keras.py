"""A file that passes our h5py validation really is what Keras' VGG16 loader needs."""

from __future__ import annotations

import h5py
import numpy as np

from desktop_captioner.core.weights import validate_weights_file


def test_validated_fixture_loads_into_keras_vgg16(weights_file):
    validate_weights_file(weights_file)
    import keras

    model = keras.applications.VGG16(weights=str(weights_file), include_top=False,
                                     input_shape=(32, 32, 3))
    with h5py.File(weights_file, "r") as f:
        expected = f["block5_conv3"]["block5_conv3_W_1:0"][()]
    np.testing.assert_array_equal(model.get_layer("block5_conv3").get_weights()[0], expected)
