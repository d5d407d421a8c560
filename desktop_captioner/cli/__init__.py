"""Command-line interface: argparse subcommands, each a thin client of ``desktop_captioner.core``.

Exit codes: 0 success, 1 finished but some items failed, 2 usage or fatal error (one line on
stderr, never a traceback for an expected problem), 3 internal error (traceback in the log file),
130 interrupted, 141 stdout closed by its reader (``caption ... | head``), as a shell reports a
program that SIGPIPE stopped.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from desktop_captioner import __version__
from desktop_captioner.cli import commands
from desktop_captioner.core.applog import setup_logging
from desktop_captioner.core.errors import Cancelled, CaptionerError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PARTIAL, EXIT_FATAL, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default already does; keep usage short)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"desktop-captioner: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_FATAL)


def build_parser(log_path: Path) -> argparse.ArgumentParser:
    parser = _Parser(prog="desktop-captioner",
                     description="Caption photos with a VGG16 encoder and an LSTM decoder.",
                     epilog=f"Log file: {log_path}",
                     formatter_class=argparse.RawDescriptionHelpFormatter)  # paths unwrapped
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__} (log file: {log_path})")
    parser.add_argument("--self-test", nargs=argparse.REMAINDER,
                        help="[--model MODEL | --train] [--weights FILE]: check that "
                             "everything works (Qt, weights, encoder, training or the model, "
                             "captioning, CSV), print one line and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for register in commands.REGISTRY:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    log_path = setup_logging()
    parser = build_parser(log_path)
    args = parser.parse_args(argv)
    if args.self_test is not None:
        from desktop_captioner import selftest

        return selftest.main(args.self_test)
    if not getattr(args, "func", None):
        args = parser.parse_args(["gui", *(argv if argv is not None else sys.argv[1:])])
    try:
        return int(args.func(args) or 0)
    except Cancelled as exc:
        print(f"desktop-captioner: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except CaptionerError as exc:
        log.info("expected error in %s: %s", args.command, exc)
        print(f"desktop-captioner: error: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("desktop-captioner: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        log.info("%s: stdout was closed by its reader", args.command)
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # last line of defence, details go to the log
        log.exception("internal error in %s", args.command)
        print(f"desktop-captioner: internal error: {exc.__class__.__name__}: {exc} "
              f"(details in {log_path})", file=sys.stderr)
        return EXIT_INTERNAL


def _discard_stdout() -> None:
    """Point stdout at the null device, so flushing it at exit does not fail a second time."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout: nothing to flush
        pass
