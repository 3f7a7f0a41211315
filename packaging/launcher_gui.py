"""Entry script of the windowed launcher (Windows: no console window; macOS: the .app's executable)."""

import multiprocessing
import sys

from trainer.cli import gui_main, main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    # From a terminal the .app's executable still takes the CLI (e.g. `--self-test`); a double-click
    # (no arguments, or only macOS's -psn_ process serial number) opens the window.
    args = [a for a in sys.argv[1:] if not a.startswith("-psn_")]
    sys.exit(main(args) if args else gui_main())
