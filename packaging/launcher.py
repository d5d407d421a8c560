"""Entry script of the PyInstaller bundle: make the process safe to print, then run the CLI.

Stream repair must happen before the CLI (and through it TensorFlow) is imported, which is why
this is a separate script rather than ``desktop_captioner/__main__.py``.
"""

import sys

from desktop_captioner.frozen import make_streams_safe

make_streams_safe()

from desktop_captioner.cli import main  # noqa: E402

sys.exit(main())
