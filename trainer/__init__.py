"""Video-visit simulation trainer.

Importing this package must stay cheap (no numpy, OpenCV, MediaPipe or Qt): `trainer --version` and the
CLI's argument parsing run before any heavy module is needed.
"""

__version__ = "0.1.0"

# Before anything can load onnxruntime or MediaPipe: their telemetry and usage logging stay off
# (trainer/privacy.py explains the switches).
from trainer.privacy import apply_offline_switches as _apply_offline_switches  # noqa: E402

_apply_offline_switches()
