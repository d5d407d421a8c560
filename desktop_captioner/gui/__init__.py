"""The PySide6 desktop app. Nothing here imports TensorFlow at module level (see app.py)."""
