"""Draw the synthetic face that `trainer --self-test` gives the face landmarker (assets/selftest/face.png).

The picture is generated, not photographed: shaded skin oval, hair, eyes with irises, eyebrows, nose and
lips, drawn with OpenCV primitives. It is a frontal, centred face that MediaPipe's Face Landmarker finds,
so it tests the whole detection path without shipping a photo of a real person.

Run from the checkout: .venv/bin/python packaging/make_selftest_image.py [OUT.png]
The output is deterministic (no randomness), so re-running it reproduces the committed file's pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

SIZE = 256


def draw_face() -> np.ndarray:
    h = w = SIZE
    img = np.full((h, w, 3), (200, 205, 210), np.uint8)  # BGR, light grey-blue wall
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, ax, ay = 128, 130, 70, 92
    d = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2
    skin = np.array([140, 170, 215], np.float32)
    # Light from the upper left: darker towards the rim and the right cheek.
    shade = np.clip(1.05 - 0.35 * d - 0.15 * ((xx - cx) / ax), 0.4, 1.1)
    inside = d < 1
    img[inside] = (skin * shade[..., None])[inside].clip(0, 255).astype(np.uint8)
    cv2.ellipse(img, (cx, cy - 55), (76, 50), 0, 180, 360, (40, 50, 70), -1)  # hair
    for ex in (cx - 30, cx + 30):
        cv2.ellipse(img, (ex, cy - 12), (16, 8), 0, 0, 360, (235, 240, 240), -1)  # eye white
        cv2.circle(img, (ex, cy - 12), 7, (60, 70, 90), -1)  # iris
        cv2.circle(img, (ex, cy - 12), 3, (10, 10, 10), -1)  # pupil
        cv2.ellipse(img, (ex, cy - 32), (20, 5), 0, 180, 360, (40, 50, 70), -1)  # eyebrow
    nose = np.array([[cx, cy - 5], [cx - 10, cy + 28], [cx + 10, cy + 28]], np.int32)
    cv2.fillPoly(img, [nose], (110, 140, 190))
    cv2.ellipse(img, (cx, cy + 52), (26, 9), 0, 0, 360, (90, 90, 170), -1)  # lips
    cv2.line(img, (cx - 24, cy + 52), (cx + 24, cy + 52), (50, 50, 110), 2)
    return cv2.GaussianBlur(img, (5, 5), 1.5)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent.parent / "assets" / "selftest" / "face.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), draw_face(), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
