"""Speech-to-text latency during a visit, and what it costs the face path.

    .venv/bin/python benchmarks/bench_stt_visit.py [--mic FILE|clips] [--camera FILE] [--seconds 40] [--threads 1]

A real-time headless visit (first-checkin) with a video file as the camera and a recording as the
microphone, speech-to-text on: prints each utterance's latency (transcript time minus end of speech),
the median and p90 for utterances up to 10 s, where the time went (end of speech -> segment closed and
queued -> decoding started -> transcript), and the face samples per second while the camera file
played, with and without speech-to-text. `--mic clips` plays the speech of the five fixture clips with
reference transcripts (talking_a/nods/steady/glasses, speech_short) twice, 2.5 s apart: more utterances
than the default two-speaker call, all of one speaker. The machine's 2 cores are shared with other work: run it at
`nice -n -15` when the load is low, and quote the load average it prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.analysis.stt import SpeechRecognizer  # noqa: E402
from trainer.core.events import FrameSample, SourceFinished, Utterance  # noqa: E402
from trainer.core.scenario import load_scenario  # noqa: E402
from trainer.resources import builtin_scenarios_dir  # noqa: E402
from trainer.store.db import SessionStore  # noqa: E402
from trainer.visit import VisitRunner  # noqa: E402

FIX = Path(os.environ.get("TRAINER_FIXTURES", Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"))


def run(camera: str, mic: str, seconds: float, stt: bool, threads: int, tmp: Path):
    events = []
    factory = (lambda: SpeechRecognizer(threads=threads)) if stt else None
    runner = VisitRunner(load_scenario(builtin_scenarios_dir() / "first_checkin.yaml"), SessionStore(tmp / f"{stt}.db"),
                         camera=camera, mic=mic, listener=events.append, speech_to_text=stt, keep_transcripts=False,
                         recognizer_factory=factory, sound_output=False)
    runner.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(0.2)
    worker = runner.pipeline._stt if stt else None
    runner.end()
    timings = list(worker.timings) if worker is not None else []
    run.speculation = dict(worker.speculation) if worker is not None else {}
    cam_end = next((e.t for e in events if isinstance(e, SourceFinished) and e.kind == "camera"), None)
    frames = [e for e in events if isinstance(e, FrameSample)]
    fps = len(frames) / cam_end if cam_end else float("nan")
    utts = [e for e in events if isinstance(e, Utterance)]
    return fps, utts, timings


def _clips_wav(path: Path) -> str:
    import wave

    from trainer.capture.audio import decode_audio

    gap = np.zeros(int(2.5 * 16000), np.float32)
    names = ["video/talking_a.mp4", "video/talking_nods.mp4", "video/talking_steady.mp4",
             "video/talking_glasses.mp4", "audio/speech_short.wav"]
    parts = [gap]
    for _ in range(2):
        for n in names:
            parts += [decode_audio(FIX / n, 16000), gap]
    x = np.concatenate(parts)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--camera", default=str(FIX / "video/talking_nods.mp4"))
    ap.add_argument("--mic", default=str(FIX / "audio/call_two_speakers.wav"))
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import tempfile

    if args.mic == "clips":
        args.mic = _clips_wav(Path(tempfile.mkdtemp()) / "clips.wav")
    print(f"nice {os.nice(0)}, threads {args.threads}")
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d:
        fps_off, _, _ = run(args.camera, args.mic, min(args.seconds, 15), False, args.threads, Path(d))
        fps_on, utts, timings = run(args.camera, args.mic, args.seconds, True, args.threads, Path(d))
        stt_spec = run.speculation
    lat = [u.t - u.end for u in utts if u.end - u.start <= 10.0]
    for u in utts:
        print(f"  {u.start:6.2f}-{u.end:6.2f} s  latency {u.t - u.end:5.2f} s  {u.text!r}")
    if stt_spec:
        print(f"  speculative decodings: {stt_spec}")
    for end, queued, started, done in timings:
        print(f"  end {end:6.2f}: closed+queued +{queued - end:4.2f} s, waited {started - queued:4.2f} s, "
              f"decoded {done - started:4.2f} s")
    if lat:
        print(f"utterances {len(lat)}: latency median {np.median(lat):.2f} s, p90 {np.percentile(lat, 90):.2f} s")
    print(f"face samples/s while the camera file played: {fps_off:.1f} without, {fps_on:.1f} with speech-to-text")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
