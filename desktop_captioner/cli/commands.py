"""The list of subcommands. Each command module exposes ``register(subparsers)``."""

from __future__ import annotations

from typing import Callable

from desktop_captioner.cli import (
    apply_cmd,
    caption_cmd,
    evaluate_cmd,
    get_dataset_cmd,
    gui_cmd,
    inspect_cmd,
    sample_cmd,
    train_cmd,
    weights_cmd,
)

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
