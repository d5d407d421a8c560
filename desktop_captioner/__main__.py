"""Allow ``python -m desktop_captioner`` to behave exactly like the console script."""

import sys

from desktop_captioner.cli import main

sys.exit(main())
