"""The consented video recording (trainer/store/recording.py): size, encoding cost, effect on the live face
analysis, and how much a crash loses.

    nice -n -15 .venv/bin/python benchmarks/bench_recording.py [--runs 3] [--fixtures DIR]

1. Size and encoder cost: a 640x480, 30 fps clip made from the fixture clips (as bench_face.py) fed to
   `VideoRecorder` with its frames' times; MB per minute of session and milliseconds of recorder-thread
   time per recorded frame (scaling + MPEG-4 encoding + muxing).
2. Live cost: the same clip as the camera of a real-time visit (`VisitRunner`, no microphone), with and
   without recording, runs alternating; face samples stored per second of visit (the analysis drops
   frames it cannot keep up with, so a recorder stealing CPU shows as fewer samples).
3. Crash loss: a real-time recorded visit killed with SIGKILL after about 8 s; seconds between the last
   frame the store had and the last frame the recording plays.
4. Replay: `RecordingReader.frame_at` at 50 random session times of the recording from 1 (a jump: seek
   + decode from the keyframe before), and per call while playing (steps of 50 ms).

Medians over --runs, with the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def encoder_figures(clip: Path, workdir: Path) -> tuple[float, float, int]:
    """(MB per minute, ms of recorder thread CPU per recorded frame, frames recorded)."""
    import cv2

    from trainer.capture.base import Frame
    from trainer.store.recording import VideoRecorder

    out = workdir / f"enc-{time.monotonic_ns()}.mkv"
    rec = VideoRecorder(out, audio_rate=24000, block=True)
    cap = cv2.VideoCapture(str(clip))
    n = 0
    while True:  # the clip's frames as a 30 fps camera gives them
        ok, img = cap.read()
        if not ok:
            break
        rec.add_frame(Frame(n / 30.0, img, n))
        n += 1
    cap.release()
    stats = rec.close()
    minutes = n / 30.0 / 60.0
    return out.stat().st_size / 1e6 / minutes, stats.cpu_s * 1000 / max(1, stats.frames), stats.frames, out


def replay_figures(path: Path, duration: float) -> tuple[list[float], float]:
    """(ms per random jump, ms per call while playing)."""
    import random

    from trainer.store.recording import RecordingReader

    reader = RecordingReader(path)
    rng = random.Random(1)
    jumps = []
    for _ in range(50):
        t = rng.uniform(0.0, duration)
        t0 = time.perf_counter()
        assert reader.frame_at(t) is not None
        jumps.append((time.perf_counter() - t0) * 1000)
    reader.frame_at(1.0)
    t0 = time.perf_counter()
    for i in range(200):
        reader.frame_at(1.0 + i * 0.05)
    playing = (time.perf_counter() - t0) * 1000 / 200
    reader.close()
    return jumps, playing


def live_samples_per_s(clip: Path, record: bool, workdir: Path) -> float:
    from trainer.core.scenario import discover_scenarios
    from trainer.resources import builtin_scenarios_dir
    from trainer.store.db import SessionStore
    from trainer.visit import VisitRunner

    scenario = discover_scenarios([builtin_scenarios_dir()])[0][0]
    store = SessionStore(workdir / f"live-{time.monotonic_ns()}" / "sessions.sqlite3")
    events = []
    runner = VisitRunner(scenario, store, camera=str(clip), mic=None, listener=events.append, realtime=True,
                         sound_output=False, calibration=None, lms=None, record_video=record)
    sid = runner.start()
    while not any(type(e).__name__ == "SourceFinished" and e.kind == "camera" for e in events):
        time.sleep(0.1)
    runner.end()
    frames = store.frames(sid)
    return len(frames) / max(1e-6, frames[-1]["t"] - frames[0]["t"])


_KILLED = """
import sys, time
from trainer.core.scenario import discover_scenarios
from trainer.resources import builtin_scenarios_dir
from trainer.store.db import SessionStore
from trainer.visit import VisitRunner
scenario = discover_scenarios([builtin_scenarios_dir()])[0][0]
store = SessionStore(sys.argv[2])
runner = VisitRunner(scenario, store, camera=sys.argv[1], mic=None, realtime=True, sound_output=False,
                     calibration=None, lms=None, record_video=True)
print(runner.start(), flush=True)
time.sleep(120)
"""


def crash_loss(clip: Path, workdir: Path) -> float:
    import cv2

    from trainer.store.db import SessionStore

    db = workdir / f"crash-{time.monotonic_ns()}" / "sessions.sqlite3"
    db.parent.mkdir()
    script = workdir / "killed.py"
    script.write_text(_KILLED)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, str(script), str(clip), str(db)], stdout=subprocess.PIPE, env=env)
    sid = int(proc.stdout.readline())
    store = SessionStore(db)
    while True:
        time.sleep(0.2)
        frames = store.frames(sid)
        if frames and frames[-1]["t"] >= 8.0:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    last_stored = store.frames(sid)[-1]["t"]
    cap = cv2.VideoCapture(str(store.recording(sid)))
    last = 0.0
    while cap.read()[0]:
        last = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
    return last_stored - last


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fixtures", type=Path, default=REPO.parent / "shared" / "fixtures")
    args = ap.parse_args()
    from bench_face import make_640x480

    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip, n = make_640x480(args.fixtures, work / "clip640.mp4")
        print(f"clip: 640x480, 30 fps, {n} frames ({n / 30:.1f} s)")
        enc = [encoder_figures(clip, work) for _ in range(args.runs)]
        sizes, costs = [e[0] for e in enc], [e[1] for e in enc]
        print(f"1. recording: {statistics.median(sizes):.2f} MB per minute (runs {', '.join(f'{s:.2f}' for s in sizes)}), "
              f"{enc[0][2]} frames; recorder thread {statistics.median(costs):.1f} ms per recorded frame "
              f"(runs {', '.join(f'{c:.1f}' for c in costs)}) = {statistics.median(costs):.1f} % of one core at 10 fps "
              f"(includes PyAV's start-up)")
        with_rec, without = [], []
        for _ in range(args.runs):
            without.append(live_samples_per_s(clip, False, work))
            with_rec.append(live_samples_per_s(clip, True, work))
        print(f"2. live face samples/s: without recording {statistics.median(without):.1f} "
              f"(runs {', '.join(f'{v:.1f}' for v in without)}), with recording {statistics.median(with_rec):.1f} "
              f"(runs {', '.join(f'{v:.1f}' for v in with_rec)})")
        losses = [crash_loss(clip, work) for _ in range(args.runs)]
        print(f"3. killed visit: the recording ends {statistics.median(losses):.2f} s before the store's last frame "
              f"(median; runs {', '.join(f'{v:.2f}' for v in losses)})")
        jumps, playing = replay_figures(enc[0][3], n / 30.0 - 0.2)
        jumps.sort()
        print(f"4. replay: a jump to a random time {statistics.median(jumps):.1f} ms median, "
              f"p90 {jumps[int(len(jumps) * 0.9)]:.1f} ms, max {jumps[-1]:.1f} ms; playing {playing:.2f} ms per call")
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
