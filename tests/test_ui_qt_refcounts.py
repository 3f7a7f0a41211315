"""Guards against a Qt binding that leaks references to None/True/False (PySide6 6.12.0 on Python 3.11
aborted the interpreter after a few thousand signal emits). Runs in a child process: the failure mode is
a hard abort, which would take the test run down with it."""

import os
import subprocess
import sys

CODE = r"""
import sys
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
class O(QObject):
    s = Signal(object)
o = O()
o.s.connect(lambda v: None)
label = QLabel()
n0, t0 = sys.getrefcount(None), sys.getrefcount(True)
for i in range(20000):
    o.s.emit(i)
    label.setText("x")
print(sys.getrefcount(None) - n0, sys.getrefcount(True) - t0)
"""


def test_signals_and_void_calls_do_not_leak_singleton_references():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]
    none_delta, true_delta = map(int, proc.stdout.split())
    assert abs(none_delta) < 100 and abs(true_delta) < 100
