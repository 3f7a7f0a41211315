"""Which voice activity detector: Silero VAD (ONNX) vs WebRTC VAD (modes 0-3) vs the foundation's energy
detector, each behind the same segmenter the app uses, on the shared fixtures.

    .venv/bin/python benchmarks/vad_compare.py [--repeat 5]

Prints, per detector: frame agreement with the RTTM of call_two_speakers (10 ms frames, 0.25 s collars)
on the clean call and with the real noise recording mixed in at 10 dB and 0 dB SNR; seconds of "speech"
on noise.wav; boundary errors on the two hand-labelled words of speech_short.wav; and CPU cost as a share
of one core when running in real time (median over --repeat runs of the 30 s call).
Needs the test extra (webrtcvad-wheels) for the WebRTC candidates.
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

from trainer.analysis import vad as V  # noqa: E402
from trainer.analysis.voice import VoiceAnalyzer  # noqa: E402
from trainer.capture.audio import decode_audio  # noqa: E402
from trainer.capture.base import AudioBlock  # noqa: E402
from trainer.core import talktime as tt  # noqa: E402

FIX = Path(os.environ.get("TRAINER_FIXTURES", Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"))


def segments(x: np.ndarray, kind: str) -> list[tuple[float, float]]:
    """Speech segments of a 16 kHz signal with the named detector and the app's segmenter."""
    voice = VoiceAnalyzer(vad=V.create_vad(kind))
    for i in range(0, len(x), 512):
        voice.process(AudioBlock(i / 16000, x[i:i + 512], 16000))
    voice.flush()
    return voice.clinician_intervals()


def cpu_share(x: np.ndarray, kind: str, repeat: int) -> float:
    """Median CPU seconds per audio second (= share of one core in real time)."""
    runs = []
    for _ in range(repeat):
        t0 = time.process_time()
        segments(x, kind)
        runs.append((time.process_time() - t0) / (len(x) / 16000))
    return statistics.median(runs)


def with_noise(x: np.ndarray, noise: np.ndarray, snr_db: float, ref) -> np.ndarray:
    speech = np.concatenate([x[int(s * 16000):int(e * 16000)] for s, e in ref])
    nz = np.tile(noise, int(np.ceil(len(x) / len(noise))))[:len(x)]
    p_s = float(np.mean(speech.astype(np.float64) ** 2))
    p_n = float(np.mean(nz.astype(np.float64) ** 2))
    return np.clip(x + nz * np.sqrt(p_s / p_n * 10 ** (-snr_db / 10)), -1, 1).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    call = decode_audio(FIX / "audio/call_two_speakers.wav")
    rttm = [ln.split() for ln in (FIX / "audio/call_two_speakers.rttm").read_text().splitlines() if ln.strip()]
    ref = [(float(r[3]), float(r[3]) + float(r[4])) for r in rttm]
    noise = decode_audio(FIX / "audio/noise.wav")
    short = decode_audio(FIX / "audio/speech_short.wav")
    words = json.loads((FIX / "labels.json").read_text())["audio/speech_short.wav"]["speech"]
    noisy10 = with_noise(call, noise, 10, tt.merge_intervals(ref))
    noisy0 = with_noise(call, noise, 0, tt.merge_intervals(ref))

    kinds = ["silero", "webrtc-0", "webrtc-1", "webrtc-2", "webrtc-3", "energy"]
    results = {}
    for kind in kinds:
        try:
            V.create_vad(kind)
        except ImportError as exc:
            print(f"{kind}: not available ({exc})", file=sys.stderr)
            continue
        r = {
            "agreement_clean": tt.frame_agreement(segments(call, kind), ref, 30.0),
            "agreement_snr10": tt.frame_agreement(segments(noisy10, kind), ref, 30.0),
            "agreement_snr0": tt.frame_agreement(segments(noisy0, kind), ref, 30.0),
            "noise_speech_s": tt.total_duration(segments(noise, kind)),
        }
        found = segments(short, kind)
        if len(found) == len(words):
            r["word_boundary_err_s"] = max(max(abs(a - c), abs(b - d)) for (a, b), (c, d) in zip(found, words))
        else:
            r["word_boundary_err_s"] = None
            r["words_found"] = len(found)
        r["cpu_share_one_core"] = cpu_share(call, kind, args.repeat)
        results[kind] = r

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'detector':10} {'agree clean':>11} {'SNR 10 dB':>9} {'SNR 0 dB':>9} {'noise.wav s':>11} "
          f"{'word err s':>10} {'CPU % core':>10}")
    for kind, r in results.items():
        we = "missed" if r["word_boundary_err_s"] is None else f"{r['word_boundary_err_s']:.3f}"
        print(f"{kind:10} {r['agreement_clean']:11.4f} {r['agreement_snr10']:9.4f} {r['agreement_snr0']:9.4f} "
              f"{r['noise_speech_s']:11.2f} {we:>10} {100 * r['cpu_share_one_core']:10.2f}")
    print(f"(CPU: CPU seconds per audio second, median of {args.repeat} back-to-back runs over the 30 s call, "
          "detector + segmenter; live, woken every 64 ms, costs more: see bench_voice.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
