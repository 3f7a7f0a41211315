"""Video-visit simulation trainer.

Importing this package must stay cheap (no numpy, OpenCV, MediaPipe or Qt): `trainer --version` and the
CLI's argument parsing run before any heavy module is needed.
"""

__version__ = "0.1.0"
