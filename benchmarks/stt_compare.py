"""Speech-to-text candidates compared: word error rate per clip, compute time, CPU, load time.

    .venv/bin/python benchmarks/stt_compare.py [--other-dir DIR] [--tts 24] [--repeat 3]

Candidates: Whisper tiny.en (the shipped model: ONNX Runtime, int8 matrices, 1 thread, greedy: what the
app runs), another ONNX conversion made by tools/whisper_onnx.py (--other-dir: a folder with the two
files and a manifest.json listing their SHA-256, e.g. a --float16 conversion) and PocketSphinx (its
default US English model from its wheel; installed only with the test extras). The Whisper base and
faster-whisper figures of docs/speech-to-text.md were measured by this script's earlier version, when
the app ran on CTranslate2.

Material:
1. the speech in the fixture clips, against tests/data/stt_references.json (written by consensus, see
   docs/speech-to-text.md), WER per clip;
2. --tts N clinician sentences from tests/data/verbal_dev.tsv spoken by the hibari TTS voice (the patient
   voice engine the app ships), whose reference is exactly the text spoken; WER over all of them.

Times are wall seconds per utterance (median of --repeat) and CPU seconds; the machine's 2 cores are
shared with other work, so wall times vary: the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.analysis.stt import SpeechRecognizer, word_errors  # noqa: E402
from trainer.capture.audio import decode_audio  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("TRAINER_FIXTURES", REPO.parent / "shared" / "fixtures"))


class PocketSphinx:
    def __init__(self):
        from pocketsphinx import Decoder

        self.d = Decoder(loglevel="FATAL")

    def transcribe(self, x):
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
        t0, c0 = time.perf_counter(), time.process_time()
        self.d.start_utt()
        self.d.process_raw(pcm, full_utt=True)
        self.d.end_utt()
        h = self.d.hyp()
        return (h.hypstr if h else ""), time.perf_counter() - t0, time.process_time() - c0


class Whisper:
    def __init__(self, model_dir=None):
        self.r = SpeechRecognizer(model_dir)

    def transcribe(self, x):
        tr = self.r.transcribe(x)
        return tr.text, tr.compute_s, tr.cpu_s


def tts_material(n: int) -> list[tuple[str, np.ndarray]]:
    from trainer.capture.patient_voice import TTS_RATE, HibariEngine, resample

    rows = list(csv.DictReader(open(REPO / "tests/data/verbal_dev.tsv", encoding="utf-8"), delimiter="\t"))
    step = max(1, len(rows) // max(1, n))
    eng = HibariEngine()
    out = []
    for row in rows[::step][:n]:
        audio = eng.synthesize(row["text"], 1.0)
        out.append((row["text"], resample(audio, TTS_RATE, 16000).astype(np.float32)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other-dir", help="another ONNX conversion's folder (comparison only)")
    ap.add_argument("--tts", type=int, default=24, help="number of TTS clinician sentences (0 = none)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="comma-separated candidate names")
    args = ap.parse_args()

    refs = json.loads((REPO / "tests/data/stt_references.json").read_text())
    clips = [(k, v, decode_audio(FIXTURES / k)) for k, v in refs.items() if not k.startswith("_")]
    tts = tts_material(args.tts) if args.tts else []

    makers = {"tiny.en": lambda: Whisper()}
    if args.other_dir:
        makers["other"] = lambda: Whisper(args.other_dir)
    try:
        import pocketsphinx  # noqa: F401
        makers["pocketsphinx"] = PocketSphinx
    except ImportError:
        print("pocketsphinx not installed: skipped")
    if args.only:
        makers = {k: v for k, v in makers.items() if k in args.only.split(",")}

    for name, make in makers.items():
        t0 = time.perf_counter()
        model = make()
        load = time.perf_counter() - t0
        print(f"\n== {name} (load {load:.2f} s)")
        print(f"{'clip':28s} {'s':>5s} {'WER':>6s} {'wall':>6s} {'cpu':>6s}  hypothesis")
        for clip, ref, x in clips:
            walls, cpus = [], []
            for _ in range(args.repeat):
                hyp, wall, cpu = model.transcribe(x)
                walls.append(wall)
                cpus.append(cpu)
            e, n = word_errors(ref, hyp)
            print(f"{clip:28s} {len(x) / 16000:5.1f} {e / n:6.1%} {statistics.median(walls):6.2f} "
                  f"{statistics.median(cpus):6.2f}  {hyp!r}")
        if tts:
            errs = words = 0
            walls, cpus, audio_s = [], [], 0.0
            worst = []
            for ref, x in tts:
                hyp, wall, cpu = model.transcribe(x)
                e, n = word_errors(ref, hyp)
                errs, words = errs + e, words + n
                walls.append(wall)
                cpus.append(cpu)
                audio_s += len(x) / 16000
                if e:
                    worst.append((e / n, ref, hyp))
            print(f"TTS clinician sentences: {len(tts)}, {audio_s:.0f} s of speech, WER {errs / words:.1%} "
                  f"({errs}/{words} words); wall median {statistics.median(walls):.2f} s, "
                  f"p90 {np.percentile(walls, 90):.2f} s; CPU median {statistics.median(cpus):.2f} s")
            for w, ref, hyp in sorted(worst, reverse=True)[:5]:
                print(f"   {w:5.0%}  {ref!r} -> {hyp!r}")


if __name__ == "__main__":
    main()
