"""`trainer doctor --qt-probe`: start Qt's GUI layer and print the platform plugin it picked.

Run in a child process by `trainer doctor`, because Qt aborts the whole process when it cannot reach a
display; the parent reads the exit status and the error text.
"""

from __future__ import annotations

import sys


def print_platform_name() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    print(app.platformName(), flush=True)
    return 0
