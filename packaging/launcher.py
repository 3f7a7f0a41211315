"""Entry script of the packaged app: the same `trainer` command as the installed package."""

import multiprocessing
import sys

from trainer.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless when unused; required if a worker process is ever spawned
    sys.exit(main())
