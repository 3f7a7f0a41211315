"""Fingerprint what an OpenCV build does with a video and an image, to compare two builds.

    python packaging/video_digest.py VIDEO IMAGE [--module PATH/cv2.abi3.so]

Prints one JSON line: the number of frames decoded, the frame size, the FPS and frame count the file
reports, a SHA-256 over every decoded frame (BGR bytes), one per frame for the first 5, and SHA-256s of
what the app does with OpenCV besides decoding (trainer/: imread of a PNG, cvtColor BGR->RGB, resize with
INTER_AREA and the default INTER_LINEAR). Without --module it imports `cv2` as installed (e.g. the
official wheel); with --module it loads that extension module file itself, so a bundle's own copy (with
the FFmpeg libraries its RPATH finds beside it) is what runs. build_linux.sh compares the two outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import importlib.util
import json
import sys


def load_cv2(module: str | None):
    if not module:
        import cv2

        return cv2
    loader = importlib.machinery.ExtensionFileLoader("cv2", module)
    spec = importlib.util.spec_from_file_location("cv2", module, loader=loader)
    cv2 = importlib.util.module_from_spec(spec)
    loader.exec_module(cv2)
    return cv2


def sha(array) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


def digest(cv2, video: str, image: str) -> dict:
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        raise SystemExit(f"cannot open {video} with this OpenCV build")
    total = hashlib.sha256()
    frames, first, shape, ops = 0, [], None, {}
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        total.update(frame.tobytes())
        if frames < 5:
            first.append(sha(frame))
        if frames == 0:
            shape = list(frame.shape)
            # sizes the app uses: not integer ratios (the recording's 360 px, the self-test's comparison)
            small = (frame.shape[1] * 3 // 5, frame.shape[0] * 3 // 5)
            large = (frame.shape[1] * 4 // 3, frame.shape[0] * 4 // 3)
            ops["cvtColor_bgr2rgb"] = sha(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            ops["resize_area_down"] = sha(cv2.resize(frame, small, interpolation=cv2.INTER_AREA))
            ops["resize_linear_down"] = sha(cv2.resize(frame, small))
            ops["resize_linear_up"] = sha(cv2.resize(frame, large))
        frames += 1
    png = cv2.imread(image, cv2.IMREAD_COLOR)
    if png is None:
        raise SystemExit(f"cannot read {image} with this OpenCV build")
    ops["imread_png"] = sha(png)
    return {"frames": frames, "shape": shape, "fps": round(cap.get(cv2.CAP_PROP_FPS), 3),
            "frame_count": int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), "all_frames_sha256": total.hexdigest(),
            "first_frames_sha256": first, "ops_sha256": ops}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("image")
    ap.add_argument("--module", help="an OpenCV extension module file to load instead of `import cv2`")
    args = ap.parse_args()
    cv2 = load_cv2(args.module)
    out = digest(cv2, args.video, args.image)
    out["opencv"] = cv2.__version__
    json.dump(out, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
