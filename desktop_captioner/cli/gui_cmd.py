"""``desktop-captioner gui [PATH...] [--captions FILE]``: open the main window (also what no
subcommand does)."""

from __future__ import annotations

import argparse

from desktop_captioner.cli.display_check import require_display


def register(subparsers) -> None:
    parser = subparsers.add_parser("gui", help="open the desktop app (the default command)",
                                   description="Open the desktop app; PATHs (photos or folders) "
                                               "are added to the list at start.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="photos or folders to add")
    parser.add_argument("--model", help="caption model file (.dcmodel) to load")
    parser.add_argument("--weights", help="VGG16 notop weights file (.h5)")
    parser.add_argument("--train", metavar="DATASET_DIR",
                        help="open the training dialog for this dataset folder")
    parser.add_argument("--no-restore", dest="restore", action="store_false",
                        help="do not reopen the last session (File → Restore Last Session "
                             "still can)")
    parser.add_argument("--captions", metavar="FILE",
                        help="import captions this app exported (CSV, JSON or JSON Lines) at "
                             "start; photos it names are matched by path or added")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_display()
    from desktop_captioner.gui.app import main  # Qt only when the GUI is wanted

    return main(args.paths, model=args.model, weights=args.weights, train_dir=args.train,
                restore=args.restore, captions=args.captions)
