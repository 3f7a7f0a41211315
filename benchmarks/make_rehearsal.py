"""Build a long "rehearsal recording" from the shared fixture clips, for whole-visit checks by hand.

    .venv/bin/python benchmarks/make_rehearsal.py --minutes 7 --out /tmp/rehearsal_7min.mp4

The clips (../shared/fixtures/video, with their own sound) are joined in a fixed order and repeated until the
length is reached: 640x480 at 25 fps (each clip scaled to fit and centred), AAC mono 44.1 kHz. Talking clips
alternate with quiet ones, so the recording has stretches of speech (about 6 s) and of silence, like a
clinician who answers and then listens. Nothing here is shipped; it only makes test input.
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

FIXTURES = Path(os.environ.get("TRAINER_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures"))
ORDER = ["talking_a", "steady_a", "talking_nods", "nods_lookaways", "talking_steady", "steady_b",
         "talking_glasses", "eyes_side_sweep"]
W, H, FPS, RATE = 640, 480, 25, 44100


def _clip_frames(path: Path):
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or FPS
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames, fps


def _fit(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(W / w, H / h)
    small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((H, W, 3), np.uint8)
    y, x = (H - small.shape[0]) // 2, (W - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def _clip_audio(path: Path, seconds: float) -> np.ndarray:
    n = int(round(seconds * RATE))
    out = np.zeros(n, np.float32)
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return out
        res = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        chunks = []
        for fr in c.decode(c.streams.audio[0]):
            for r in res.resample(fr):
                chunks.append(r.to_ndarray().reshape(-1))
        for r in res.resample(None):
            chunks.append(r.to_ndarray().reshape(-1))
    if chunks:
        a = np.concatenate(chunks)[:n]
        out[:len(a)] = a
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    clips = []
    for name in ORDER:
        p = FIXTURES / "video" / f"{name}.mp4"
        if not p.exists():
            print(f"fixture missing: {p}", file=sys.stderr)
            return 2
        frames, fps = _clip_frames(p)
        secs = len(frames) / fps
        idx = [min(len(frames) - 1, int(i * fps / FPS)) for i in range(int(secs * FPS))]
        clips.append(([_fit(frames[i]) for i in idx], _clip_audio(p, len(idx) / FPS), name))
    total = int(args.minutes * 60 * FPS)
    out = av.open(str(args.out), "w")
    vs = out.add_stream("libx264", rate=FPS)
    vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
    vs.options = {"crf": "28", "preset": "veryfast"}
    as_ = out.add_stream("aac", rate=RATE)
    as_.layout = "mono"
    written, k, audio_pts = 0, 0, 0
    schedule = []
    while written < total:
        frames, audio, name = clips[k % len(clips)]
        take = min(len(frames), total - written)
        schedule.append((written / FPS, name))
        for img in frames[:take]:
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(pkt)
        a = audio[:int(round(take / FPS * RATE))]
        for i in range(0, len(a), 1024):
            chunk = a[i:i + 1024]
            fr = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            fr.sample_rate = RATE
            fr.pts = audio_pts
            fr.time_base = Fraction(1, RATE)
            audio_pts += len(chunk)
            for pkt in as_.encode(fr):
                out.mux(pkt)
        written += take
        k += 1
    for s in (vs, as_):
        for pkt in s.encode(None):
            out.mux(pkt)
    out.close()
    print(f"wrote {args.out}: {total / FPS:.0f} s, {len(schedule)} clips")
    for t, name in schedule[:len(ORDER)]:
        print(f"  {t:6.1f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
