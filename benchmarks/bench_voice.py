"""Speed of the voice analysis: CPU share of one core in real time, and end-of-turn detection delay.

    .venv/bin/python benchmarks/bench_voice.py [--repeat 5] [--realtime-s 10]

1. Real time: microphone blocks (64 ms, as MicrophoneSource delivers them) are handed to the live voice processor at the pace a device
   delivers them (the patient's playback fed alongside, so the echo guard and the playback detector
   run too); the CPU time of that thread over the wall time is the share of one core. Median of
   --repeat runs of --realtime-s seconds of a simulated call (real voices, leak at -12 dB).
2. Throughput: CPU seconds per audio second when analysing as fast as possible (offline analysis), with
   and without the echo guard; median of --repeat runs over 30 s.
4. Echo (printed first): microphone tracks with the patient's playback leaking in (gain, delay, room,
   noise as listed), analysed with the playback as reference: clinician talk time vs the same detector
   on the clinician-only track, clinician speech reported during patient-only parts, and clinician
   speech found while both talk.
3. End of turn: "front center" (speech_short.wav, hand-labelled end 1.35 s) repeated with 2 s of room
   noise between; delay = TurnEnded time - labelled end, for the default 0.7 s hang-over and for 0.5 s,
   plus the wall-clock time process() takes for the block that emits it; live, the event also waits
   for its block to be captured (up to one block, 64 ms).
5. End of turn after a patient line with the echo reference on (printed last): the microphone must not
   wait for playback reference once the line has ended (issue 9); delay measured on the session clock
   from the labelled end of speech to the newest microphone sample at the moment TurnEnded comes out.

The machine's 2 cores are shared with other work: medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.analysis.echo_sim import build_scene  # noqa: E402
from trainer.analysis.voice import create_voice_processor  # noqa: E402
from trainer.capture.audio import BLOCK_S, decode_audio  # noqa: E402
from trainer.capture.base import AudioBlock  # noqa: E402
from trainer.core.events import TurnEnded  # noqa: E402

FIX = Path(os.environ.get("TRAINER_FIXTURES", Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"))
BLOCK = int(round(BLOCK_S * 16000))  # what MicrophoneSource delivers


def scene():
    clin = decode_audio(FIX / "video/talking_a.mp4")
    pat = decode_audio(FIX / "video/talking_nods.mp4")
    noise = decode_audio(FIX / "audio/noise.wav")
    return build_scene(clin, pat, noise, gain_db=-12, delay_s=0.06, noise_db=-35)


def run_realtime(mic: np.ndarray, ref: np.ndarray | None, seconds: float) -> float:
    """Process `seconds` of audio paced like a device; returns thread CPU / wall time."""
    voice = create_voice_processor()
    n = int(seconds * 16000)
    fed = 0
    cpu0 = time.thread_time()
    wall0 = time.perf_counter()
    for i in range(0, n, BLOCK):
        due = wall0 + (i + BLOCK) / 16000
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = i / 16000
        if ref is not None:
            up = min(len(ref), int((t + 0.1) * 16000))
            while fed < up:  # the player hands over 20 ms chunks ahead of hearing them
                voice.patient_audio(fed / 16000, ref[fed:fed + 320], 16000)
                fed += 320
        voice.process(AudioBlock(t, mic[i:i + BLOCK], 16000))
    return (time.thread_time() - cpu0) / (time.perf_counter() - wall0)


def run_fast(mic: np.ndarray, ref: np.ndarray | None) -> float:
    """CPU seconds per audio second, as fast as possible."""
    voice = create_voice_processor()
    t0 = time.process_time()
    if ref is not None:
        voice.patient_audio(0.0, ref, 16000)
    for i in range(0, len(mic), BLOCK):
        voice.process(AudioBlock(i / 16000, mic[i:i + BLOCK], 16000))
    voice.flush()
    return (time.process_time() - t0) / (len(mic) / 16000)


def end_of_turn(hangover: float, reps: int = 5) -> tuple[list[float], list[float]]:
    """(delays after the labelled end, process() wall times of the emitting blocks)."""
    words = decode_audio(FIX / "audio/speech_short.wav")
    label_end = json.loads((FIX / "labels.json").read_text())["audio/speech_short.wav"]["speech"][-1][1]
    noise = decode_audio(FIX / "audio/noise.wav")
    gap = np.tile(noise, 2)[:32000] * 0.02  # about -64 dBFS room noise
    parts, ends = [], []
    t = 0.0
    for _ in range(reps):
        parts += [words, gap]
        ends.append(t + label_end)
        t += (len(words) + len(gap)) / 16000
    x = np.concatenate(parts).astype(np.float32)
    voice = create_voice_processor(end_of_turn_s=hangover)
    delays, proc = [], []
    for i in range(0, len(x), BLOCK):
        t0 = time.perf_counter()
        evs = voice.process(AudioBlock(i / 16000, x[i:i + BLOCK], 16000))
        dt = time.perf_counter() - t0
        for ev in evs:
            if isinstance(ev, TurnEnded):
                true_end = min(ends, key=lambda e: abs(ev.speech_end - e))
                delays.append(ev.t - true_end)
                proc.append(dt)
    return delays, proc


def end_of_turn_after_line(reps: int = 8) -> tuple[list[float], float]:
    """Echo reference on: a patient line (talking_nods' voice, leaking into the microphone at -12 dB, the
    playback handed over 20 ms at a time 0.1 s ahead and only while the line plays), 1 s of pause, then
    the clinician's "front center" (speech_short.wav, labelled end 1.35 s), then 2.5 s of room noise.
    Returns (for each turn: newest microphone sample when TurnEnded came out - labelled end of speech,
    the largest backlog of microphone audio waiting for analysis)."""
    words = decode_audio(FIX / "audio/speech_short.wav")
    label_end = json.loads((FIX / "labels.json").read_text())["audio/speech_short.wav"]["speech"][-1][1]
    line_s, pause_s, tail_s = 3.0, 1.0, 2.5
    period = line_s + pause_s + len(words) / 16000 + tail_s
    lines = [(k * period, k * period + line_s) for k in range(reps)]
    answers = [(e + pause_s, 0.0, len(words) / 16000) for _s, e in lines]
    sc = build_scene(words, decode_audio(FIX / "video/talking_nods.mp4"), decode_audio(FIX / "audio/noise.wav"),
                     gain_db=-12, delay_s=0.06, noise_db=-35,
                     layout={"patient": [(s, 0.0, line_s) for s, _e in lines], "clinician": answers,
                             "duration": reps * period})
    voice = create_voice_processor()
    ends = [a + label_end for a, _o, _n in answers]
    delays, backlog = [], 0.0
    fed = [int(s * 16000) for s, _e in lines]
    for i in range(0, len(sc.mic), BLOCK):
        t = i / 16000
        for k, (_s, e) in enumerate(lines):  # the player: 20 ms chunks of the line, 0.1 s ahead of hearing
            while fed[k] < int(e * 16000) and fed[k] < (t + 0.1) * 16000:
                n = min(320, int(e * 16000) - fed[k])
                voice.patient_audio(fed[k] / 16000, sc.reference[fed[k]:fed[k] + n], 16000)
                fed[k] += n
        evs = voice.process(AudioBlock(t, sc.mic[i:i + BLOCK], 16000))
        backlog = max(backlog, voice.backlog_s)
        newest = t + BLOCK / 16000
        for ev in evs:
            if isinstance(ev, TurnEnded):
                delays.append(newest - min(ends, key=lambda e: abs(ev.speech_end - e)))
    return delays, backlog


ECHO_CASES = [(-6, 0.02, False, -35), (-6, 0.12, True, -30), (-12, 0.06, False, -25), (-20, 0.12, True, -35),
              (-6, 0.12, False, -20), (-60, 0.05, False, -35)]


def echo_report() -> None:
    from trainer.core import talktime as tt

    clin = decode_audio(FIX / "video/talking_a.mp4")
    pat = decode_audio(FIX / "video/talking_nods.mp4")
    noise = decode_audio(FIX / "audio/noise.wav")

    def run(mic, ref):
        voice = create_voice_processor()
        if ref is not None:
            voice.patient_audio(0.0, ref, 16000)
        for i in range(0, len(mic), BLOCK):
            voice.process(AudioBlock(i / 16000, mic[i:i + BLOCK], 16000))
        voice.flush()
        return voice.clinician_intervals()

    print("Echo guard (leak gain dB, delay ms, room tail, noise dB -> clinician talk error, "
          "clinician s in patient-only parts, clinician s found while both talk / reference):")
    for g, d, room, nz in ECHO_CASES:
        sc = build_scene(clin, pat, noise, gain_db=g, delay_s=d, room=room, noise_db=nz)
        truth, hyp = run(sc.clinician_only, None), run(sc.mic, sc.reference)
        bare = run(sc.mic, None)
        only = tt.subtract(sc.patient_placed, sc.clinician_placed)
        both = tt.intersect(sc.patient_placed, sc.clinician_placed)
        err = tt.total_duration(hyp) / tt.total_duration(truth) - 1
        print(f"  {g:4d} dB {1000 * d:4.0f} ms {'room' if room else '    '} {nz:4d} dB: {100 * err:+5.1f} %, "
              f"{tt.seconds_within(hyp, only):.2f} s (without the reference {tt.seconds_within(bare, only):.2f} s), "
              f"{tt.seconds_within(hyp, both):.2f} / {tt.seconds_within(truth, both):.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--realtime-s", type=float, default=10.0)
    args = ap.parse_args()
    echo_report()
    sc = scene()
    # Real-time window: 12 s .. 12+N s holds the clinician, the patient and both at once.
    a = int(12 * 16000)
    mic_rt = sc.mic[a:]
    ref_rt = sc.reference[a:]
    rt = [run_realtime(mic_rt, ref_rt, args.realtime_s) for _ in range(args.repeat)]
    rt_plain = [run_realtime(mic_rt, None, args.realtime_s) for _ in range(args.repeat)]
    fast_echo = [run_fast(sc.mic, sc.reference) for _ in range(args.repeat)]
    fast_plain = [run_fast(sc.mic, None) for _ in range(args.repeat)]
    print("Voice analysis CPU, share of one core (median of %d):" % args.repeat)
    print(f"  real time, echo guard + playback detector : {100 * statistics.median(rt):5.2f} %  "
          f"(runs: {', '.join(f'{100 * r:.2f}' for r in rt)})")
    print(f"  real time, microphone only (headphones)   : {100 * statistics.median(rt_plain):5.2f} %")
    print(f"  as fast as possible, echo guard           : {100 * statistics.median(fast_echo):5.2f} % "
          f"-> {1 / statistics.median(fast_echo):.0f}x real time")
    print(f"  as fast as possible, microphone only      : {100 * statistics.median(fast_plain):5.2f} % "
          f"-> {1 / statistics.median(fast_plain):.0f}x real time")
    print("End-of-turn detection (TurnEnded time - hand-labelled end of speech):")
    for h in (0.7, 0.5):
        d, p = end_of_turn(h)
        print(f"  hang-over {h:.1f} s: median {1000 * statistics.median(d):.0f} ms, max {1000 * max(d):.0f} ms "
              f"over {len(d)} turns; + process() of the emitting block median {1000 * statistics.median(p):.2f} ms "
              f"(+ up to one {1000 * BLOCK_S:.0f} ms block live)")
    d, backlog = end_of_turn_after_line()
    d.sort()
    print(f"End of turn after a patient line, echo reference on (default 0.7 s hang-over; newest microphone "
          f"sample when TurnEnded comes out - labelled end of speech): median {1000 * statistics.median(d):.0f} ms, "
          f"p90 {1000 * d[int(0.9 * (len(d) - 1))]:.0f} ms, max {1000 * d[-1]:.0f} ms over {len(d)} turns; "
          f"largest microphone backlog {1000 * backlog:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
