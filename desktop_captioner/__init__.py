"""desktop_captioner: caption photos with a VGG16 encoder and a trainable LSTM decoder."""

__version__ = "0.1.0"
