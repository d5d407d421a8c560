"""The list of subcommands. Each command module exposes ``register(subparsers)``."""

from __future__ import annotations

from typing import Callable

REGISTRY: list[Callable] = []
