"""Face-analysis speed figures (issue 3): per-frame path, offline analysis, live latency.

    .venv/bin/python benchmarks/bench_face.py [--runs 3] [--fixtures DIR]

0. The whole per-frame path against the landmarker alone, side by side on the same frames in one run
   (issue 13): `FaceProcessor.process` (landmarks, rigid pose, eyes, gaze, quality, expressivity, smiles,
   nods) timed per frame, and inside it the time spent in `FaceAnalyzer.analyze` (the MediaPipe
   landmarker with its colour conversion), and a second, bare `FaceAnalyzer` on each same frame.
   Target: whole path <= 1.3x the landmarker alone.
1. Per-frame path at 640x480: decode -> landmarks -> features -> gaze state, quality, expressivity, nods
   (`VideoFileSource` + `FaceProcessor.process`), timed per frame over a 640x480 clip made from the
   fixture clips (cropped to 4:3 and scaled). Target: median <= 15 ms, p90 <= 25 ms.
2. Offline: `analyze_video` on 30 fps fixture clips; `processing_fps` / 30 is the real-time factor.
   Target: >= 2x.
3. Live: the 640x480 clip fed through `VisitPipeline` (drop_frames=True, the live mode) by a file source
   paced at 2x real time (60 frames/s offered) and at 8x (240/s, more than one core can analyse).
   Frames are re-stamped with the session clock when the source releases them, as a camera stamps its
   frames (a paced VideoFileSource keeps the file's own times, which run ahead of the clock at speed > 1),
   so `FrameSample.latency_s` is capture-to-metric time. Target: p90 < 100 ms, with frames dropped
   rather than queued when analysis cannot keep up.

The machine is shared (2 cores): every figure is the median over --runs runs, with the spread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CLIPS_640 = ("steady_a", "nods_lookaways", "talking_nods", "steady_b")
CLIPS_30FPS = ("talking_nods", "steady_a", "wide_framing")


def pct(values, q):
    vs = sorted(values)
    if not vs:
        return float("nan")
    k = (len(vs) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(vs) - 1)
    return vs[lo] + (vs[hi] - vs[lo]) * (k - lo)


def make_640x480(fixtures: Path, out: Path) -> tuple[Path, int]:
    """A 640x480, 30 fps clip: the fixture clips one after another, each cropped to 4:3 and scaled."""
    import cv2

    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 480))
    n = 0
    for clip in CLIPS_640:
        cap = cv2.VideoCapture(str(fixtures / "video" / f"{clip}.mp4"))
        while True:
            ok, img = cap.read()
            if not ok:
                break
            h, w = img.shape[:2]
            ch = min(h, int(w * 3 / 4))
            cw = int(ch * 4 / 3)
            y0, x0 = (h - ch) // 2, (w - cw) // 2
            writer.write(cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (640, 480), interpolation=cv2.INTER_AREA))
            n += 1
        cap.release()
    writer.release()
    return out, n


def per_frame(video: Path) -> list[float]:
    """Milliseconds per frame for decode + FaceProcessor.process (first 10 frames: warm-up, dropped)."""
    from trainer.analysis.face import create_face_processor
    from trainer.capture.video import VideoFileSource

    src = VideoFileSource(video, realtime=False)
    proc = create_face_processor()
    times = []
    frames = src.frames()
    try:
        while True:
            t0 = time.perf_counter()
            try:
                frame = next(frames)
            except StopIteration:
                break
            proc.process(frame)
            times.append((time.perf_counter() - t0) * 1000.0)
    finally:
        proc.close()
        src.close()
    return times[10:]


class TimedAnalyzer:
    """Wraps a FaceAnalyzer and records the milliseconds each `analyze` call takes."""

    def __init__(self, inner):
        self.inner = inner
        self.ms: list[float] = []

    def analyze(self, frame):
        t0 = time.perf_counter()
        obs = self.inner.analyze(frame)
        self.ms.append((time.perf_counter() - t0) * 1000.0)
        return obs

    def close(self):
        self.inner.close()


def path_vs_landmarker(video: Path) -> dict:
    """Per-frame ms of the whole path and of the landmarker inside it, and of a second, bare landmarker
    on each same frame right after (interleaved, so both see the same machine load; decoding is in
    neither)."""
    from trainer.analysis.face import FaceAnalyzer, FaceProcessor
    from trainer.capture.video import VideoFileSource

    src = VideoFileSource(video, realtime=False)
    timed = TimedAnalyzer(FaceAnalyzer())
    proc = FaceProcessor(analyzer=timed)
    bare_analyzer = FaceAnalyzer()
    whole, bare = [], []
    try:
        for f in src.frames():
            t0 = time.perf_counter()
            proc.process(f)
            t1 = time.perf_counter()
            bare_analyzer.analyze(f)
            t2 = time.perf_counter()
            whole.append((t1 - t0) * 1000.0)
            bare.append((t2 - t1) * 1000.0)
    finally:
        proc.close()
        bare_analyzer.close()
        src.close()
    skip = 10  # warm-up
    return {"whole": whole[skip:], "inside": timed.ms[skip:], "bare": bare[skip:]}


class Restamped:
    """A paced file source whose frames are stamped with the session clock on release (camera-like)."""

    kind = "camera"

    def __init__(self, inner, clock):
        self.inner, self.clock = inner, clock
        self.name = inner.name
        self.error = None

    def open(self):
        self.inner.open()

    def frames(self):
        from trainer.capture.base import Frame

        for f in self.inner.frames():
            yield Frame(self.clock.now(), f.image, f.index)

    def stop(self):
        self.inner.stop()

    def close(self):
        self.inner.close()


def live(video: Path, speed: float) -> dict:
    from trainer.analysis.pipeline import VisitPipeline
    from trainer.capture.video import VideoFileSource
    from trainer.core.clock import SessionClock
    from trainer.core.events import FrameSample

    clock = SessionClock()
    samples = []
    src = Restamped(VideoFileSource(video, clock=clock, realtime=True, speed=speed), clock)
    pipe = VisitPipeline(src, None, clock, lambda ev: samples.append(ev) if isinstance(ev, FrameSample) else None,
                         drop_frames=True)
    pipe.prepare()
    clock.start()
    pipe.start()
    pipe.join(600)
    pipe.stop()
    lat = [s.latency_s * 1000.0 for s in samples if s.latency_s is not None]
    return {"p50": pct(lat, 50), "p90": pct(lat, 90), "max": max(lat), "analysed": pipe.frames_analyzed,
            "dropped": pipe.frames_dropped}


def offline(fixtures: Path, out_dir: Path) -> dict[str, float]:
    from trainer.analysis.offline_video import analyze_video

    return {clip: analyze_video(fixtures / "video" / f"{clip}.mp4", out_dir / clip)["processing_fps"]
            for clip in CLIPS_30FPS}


def spread(values, nd: int = 1) -> str:
    return f"median {statistics.median(values):6.{nd}f}  (runs: {', '.join(f'{v:.{nd}f}' for v in values)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only-path", action="store_true", help="only section 0 (path vs landmarker)")
    ap.add_argument("--fixtures", type=Path,
                    default=Path(os.environ.get("TRAINER_FIXTURES", REPO.parent / "shared" / "fixtures")))
    args = ap.parse_args()
    print(f"face benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, runs {args.runs}")
    with tempfile.TemporaryDirectory() as tmp:
        video, n = make_640x480(args.fixtures, Path(tmp) / "clip640x480.mp4")
        print(f"\n0. whole per-frame path vs the landmarker alone, same {n} frames at 640x480 (ms per frame)")
        ratios, rows, extra = [], [], []
        for _ in range(args.runs):
            r = path_vs_landmarker(video)
            w, i, b = (statistics.median(r[k]) for k in ("whole", "inside", "bare"))
            rows.append((w, i, b))
            ratios.append(sum(r["whole"]) / sum(r["inside"]))
            extra.append(statistics.median(x - y for x, y in zip(r["whole"], r["inside"])))
        print(f"   whole path (FaceProcessor.process)     {spread([x[0] for x in rows])}")
        print(f"   landmarker inside it (analyze)         {spread([x[1] for x in rows])}")
        print(f"   landmarker alone, same frames          {spread([x[2] for x in rows])}")
        print(f"   whole path minus its landmarker        {spread(extra, 2)}")
        print(f"   whole / landmarker (total time)        {spread(ratios, 3)}   target <= 1.3")
        print(f"   whole / landmarker alone (medians)     {spread([x[0] / x[2] for x in rows], 3)}")

        if args.only_path:
            return
        print(f"\n1. per-frame path, 640x480 ({n} frames of {', '.join(CLIPS_640)})")
        med, p90 = [], []
        for _ in range(args.runs):
            ms = per_frame(video)
            med.append(statistics.median(ms))
            p90.append(pct(ms, 90))
        print(f"   median ms/frame  {spread(med)}   target <= 15")
        print(f"   p90 ms/frame     {spread(p90)}   target <= 25")

        print("\n2. offline analyze_video on 30 fps clips (processing_fps; x real time = fps / 30)")
        runs = [offline(args.fixtures, Path(tmp) / f"off{i}") for i in range(args.runs)]
        for clip in CLIPS_30FPS:
            fps = [r[clip] for r in runs]
            print(f"   {clip:14s} fps {spread(fps)}   = {statistics.median(fps) / 30:.1f}x real time (target >= 2x)")

        for speed in (2.0, 8.0):
            print(f"\n3. live latency, file source paced at {speed:g}x real time ({30 * speed:.0f} frames/s offered)")
            res = [live(video, speed) for _ in range(args.runs)]
            print(f"   p50 ms  {spread([r['p50'] for r in res])}")
            print(f"   p90 ms  {spread([r['p90'] for r in res])}   target < 100")
            print(f"   max ms  {spread([r['max'] for r in res])}")
            counts = ", ".join(f"{r['analysed']}/{r['dropped']}" for r in res)
            print(f"   frames analysed / dropped per run: {counts}")


if __name__ == "__main__":
    main()
