"""A short test video for the bundle's `trainer analyze` smoke test where no recorded fixture is available
(CI runners): the synthetic self-test face, nodding gently, 4 s at 25 fps, MPEG-4, no audio track.

    python packaging/make_smoke_video.py OUT.mp4

Built from assets/selftest/face.png, so it needs nothing outside the checkout. A real recording
(../shared/fixtures/video/talking_nods.mp4) is preferred when present: it also carries speech.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import cv2
import numpy as np

FPS, SECONDS, SIZE = 25, 4, 320


def main() -> int:
    out = Path(sys.argv[1])
    face = cv2.imread(str(Path(__file__).resolve().parent.parent / "assets" / "selftest" / "face.png"))
    if face is None:
        print("assets/selftest/face.png is missing", file=sys.stderr)
        return 1
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (SIZE, SIZE))
    if not writer.isOpened():
        print(f"cannot write {out}", file=sys.stderr)
        return 1
    background = np.full((SIZE, SIZE, 3), (200, 205, 210), np.uint8)
    for i in range(FPS * SECONDS):
        t = i / FPS
        dy = 10 * math.sin(2 * math.pi * 1.2 * t) if 1.0 < t < 2.5 else 0.0  # a nod in the middle
        m = np.float32([[1, 0, (SIZE - face.shape[1]) / 2], [0, 1, (SIZE - face.shape[0]) / 2 + dy]])
        writer.write(cv2.warpAffine(face, m, (SIZE, SIZE), dst=background.copy(),
                                    borderMode=cv2.BORDER_TRANSPARENT))
    writer.release()
    print(f"wrote {out} ({FPS * SECONDS} frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
