"""Choosing the encoder's number format: the fastest one this CPU really has.

bfloat16 roughly doubles VGG16 throughput on CPUs with native bf16 instructions, but on CPUs
without them TensorFlow emulates it and runs *slower* than float32, so "auto" detects the
hardware rather than guesses. int8 (a quantised VGG16 run by LiteRT, ``core/int8_encoder.py``)
is chosen only by name: with the stand-in weights its captions match the trained precision's
only after the near-tie re-check re-encodes most images, which costs more than int8 saves on an
AVX2 CPU; until that is measured with the real ImageNet weights, "auto" does not pick it. Kept
free of TensorFlow so the GUI can show the choices at start-up.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

PRECISIONS = ("float32", "bfloat16", "int8")
AUTO = "auto"

# x86 flags (Linux /proc/cpuinfo spelling) of instructions oneDNN uses for bf16 convolutions.
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_CPUINFO = Path("/proc/cpuinfo")


def _linux_cpu_flags(cpuinfo: Path = _CPUINFO) -> set[str]:
    """The union of every core's ``flags`` line (empty when the file is unreadable)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    flags: set[str] = set()
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == "flags":
            flags.update(value.split())
    return flags


@functools.lru_cache(maxsize=1)
def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX-BF16).

    Only Linux is detected (from /proc/cpuinfo). macOS and Windows expose no equally reliable
    flag list without extra dependencies, so they report False and "auto" stays on float32,
    which is always correct, merely slower on the few machines that could do better.
    """
    if not sys.platform.startswith("linux"):
        return False
    return bool(_linux_cpu_flags() & _BF16_CPU_FLAGS)


def resolve_precision(requested: str, allow_int8: bool = True) -> str:
    """Turn "float32" | "bfloat16" | "int8" | "auto" into a concrete precision.

    "auto" is bfloat16 where native, else float32 (int8 only when asked for by name).
    ``allow_int8=False`` is for the decoder, which has no int8 form: there int8 means float32.
    ValueError for anything else.
    """
    if requested == AUTO:
        return "bfloat16" if cpu_supports_bf16() else "float32"
    if requested in PRECISIONS:
        return requested if allow_int8 or requested != "int8" else "float32"
    raise ValueError(f"Unknown precision {requested!r}; "
                     f"expected one of {', '.join(PRECISIONS)}, auto.")
