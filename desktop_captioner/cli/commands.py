"""The list of subcommands. Each command module exposes ``register(subparsers)``."""

from __future__ import annotations

from typing import Callable

from desktop_captioner.cli import inspect_cmd
from desktop_captioner.cli import sample_cmd
from desktop_captioner.cli import weights_cmd
from desktop_captioner.cli import gui_cmd
from desktop_captioner.cli import train_cmd
from desktop_captioner.cli import caption_cmd
from desktop_captioner.cli import evaluate_cmd
from desktop_captioner.cli import apply_cmd
from desktop_captioner.cli import get_dataset_cmd

REGISTRY: list[Callable] = []
REGISTRY.append(inspect_cmd.register)
REGISTRY.append(sample_cmd.register)
REGISTRY.append(weights_cmd.register)
REGISTRY.append(gui_cmd.register)
REGISTRY.append(train_cmd.register)
REGISTRY.append(caption_cmd.register)
REGISTRY.append(evaluate_cmd.register)
REGISTRY.append(apply_cmd.register)
REGISTRY.append(get_dataset_cmd.register)
