"""The simulated clinician's voice: real recorded speech, cut into utterances.

The app ships no clinician recordings, so the caller names them (`--voice FILE`; the tests and benchmarks
use the fixture recordings). Each clip is decoded to 16 kHz mono, cut into *utterances* where its
loudness shows a pause, and every utterance is scaled to one speaking level, so a scene's echo and noise
levels are relative to a known voice level.

Utterances are found from loudness alone (20 ms windows, 10 ms apart; speech where the level is within
`RANGE_DB` of the clip's loud parts and clearly above its quiet floor), not with the speech detector under
test: the end of an utterance is the ground truth the end-of-turn latency is measured against. Pauses
shorter than `JOIN_GAP_S` stay inside an utterance (shorter than the 0.2 s that closes a speech
segment, far shorter than the end-of-turn hang-over), so an utterance never ends a turn by itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.core.errors import SourceError

RATE = 16000
#: Active speech level every utterance is scaled to (RMS over its loud windows, dBFS).
SPEECH_LEVEL_DB = -24.0
RANGE_DB = 30.0  # speech: within this many dB of the clip's loud (95th percentile) windows ...
FLOOR_MARGIN_DB = 12.0  # ... and this far above its quiet (10th percentile) windows
JOIN_GAP_S = 0.15  # pauses up to this long stay inside one utterance
MIN_UTTERANCE_S = 0.8
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".mp4", ".webm", ".mkv", ".mov")


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech without a pause: samples at 16 kHz, speech from the first to the last one."""

    samples: np.ndarray
    source: str

    @property
    def duration(self) -> float:
        return len(self.samples) / RATE


def _window_db(x: np.ndarray, win: int = 320, hop: int = 160) -> np.ndarray:
    n = max(0, (len(x) - win) // hop + 1)
    if n == 0:
        return np.zeros(0)
    sq = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(n) * hop
    rms = np.sqrt(np.maximum(0.0, (sq[starts + win] - sq[starts]) / win))
    return 20 * np.log10(np.maximum(rms, 1e-9))


def active_level_db(samples: np.ndarray) -> float:
    """Speech level of a 16 kHz signal (dBFS): the mean level of its louder half of 20 ms windows."""
    db = _window_db(np.asarray(samples, np.float32), 320, 320)
    if len(db) == 0:
        return SPEECH_LEVEL_DB
    return float(np.mean(db[db >= np.percentile(db, 50)]))


def split_utterances(x: np.ndarray, source: str = "") -> list[Utterance]:
    """Cut a 16 kHz recording into utterances (module docstring), each scaled to SPEECH_LEVEL_DB."""
    db = _window_db(x)
    if len(db) == 0:
        return []
    loud, quiet = np.percentile(db, 95), np.percentile(db, 10)
    active = db > max(loud - RANGE_DB, quiet + FLOOR_MARGIN_DB)
    hop, win = 160, 320
    spans: list[list[int]] = []
    for i in np.flatnonzero(active):
        a, b = i * hop, i * hop + win
        if spans and a - spans[-1][1] <= JOIN_GAP_S * RATE:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    out = []
    for a, b in spans:
        if (b - a) / RATE < MIN_UTTERANCE_S:
            continue
        piece = x[a:b].astype(np.float32)
        gain = 10 ** ((SPEECH_LEVEL_DB - active_level_db(piece)) / 20)
        out.append(Utterance(np.clip(piece * gain, -1, 1).astype(np.float32), source))
    return out


class ClinicianVoice:
    """Utterances from recorded clips, handed out in a fixed round-robin order (same order every run)."""

    def __init__(self, utterances: list[Utterance]):
        if not utterances:
            raise SourceError("The clinician's voice clips contain no usable speech.",
                              hint="Give recordings of someone talking (e.g. a WAV of a few sentences).")
        self.utterances = utterances
        self._next = 0

    def fresh(self) -> "ClinicianVoice":
        """The same utterances, handed out from the first again (each simulated visit starts afresh, so
        a visit does not depend on the ones run before it)."""
        return ClinicianVoice(self.utterances)

    @classmethod
    def from_files(cls, paths) -> "ClinicianVoice":
        """Load clips (audio files, the sound of video files, or folders of them)."""
        from trainer.capture.audio import decode_audio

        files: list[Path] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                files += sorted(f for f in p.iterdir() if f.suffix.lower() in AUDIO_SUFFIXES)
            else:
                files.append(p)
        if not files:
            raise SourceError("No clinician voice clips were given.",
                              hint="Pass --voice FILE (a recording of someone talking; repeat for more).")
        utts: list[Utterance] = []
        for f in files:
            utts += split_utterances(decode_audio(f, RATE), os.path.basename(f))
        return cls(utts)

    def take(self, at_least_s: float, at_most_s: float | None = None, gap_s: float = 0.12) -> np.ndarray:
        """Speech lasting at least `at_least_s` (utterances joined with `gap_s` pauses, cut at
        `at_most_s`): starts and ends with voice."""
        parts: list[np.ndarray] = []
        total = 0
        gap = np.zeros(int(gap_s * RATE), np.float32)
        while total < at_least_s * RATE:
            u = self.utterances[self._next % len(self.utterances)]
            self._next += 1
            if parts:
                parts.append(gap)
            parts.append(u.samples)
            total += len(gap) * (len(parts) > 1) + len(u.samples)
        x = np.concatenate(parts)
        if at_most_s is not None:
            x = x[:int(at_most_s * RATE)]
        return x


#: The speak-freely clinician's voice: the app's text-to-speech voice (the one the patients use, the only
#: one its wheel ships) raised in pitch by 1.3 (4.5 semitones above the highest patient persona, 1.08,
#: 7.5 above the usual 0.95-1.0), so it is never mistaken for the patient's. Measured before choosing:
#: all 35 first-card phrasings of the built-in scenarios were recognised as their intent through
#: Whisper tiny.en at pitch 1.3 (mean WER 3 %); at pitch 0.62 (below every patient) 34/35, WER 24 %.
CLINICIAN_TTS_VOICE = (1.0, 1.3)  # (rate, pitch) of trainer.capture.patient_voice.Voice
#: What the clinician says in a turn that has no intent cards.
PLAIN_REPLY = "Thank you for telling me. Let's go through it together."
#: Pauses inside a spoken phrasing are shortened to this: the synthesiser pauses longer between
#: sentences than the 0.7 s that ends a turn, and a person answering in two sentences does not yield
#: the floor in between.
MAX_PAUSE_S = 0.3


def close_pauses(x: np.ndarray, max_pause_s: float = MAX_PAUSE_S) -> np.ndarray:
    """16 kHz speech with every pause longer than max_pause_s shortened to it (pauses found from loudness
    as in split_utterances, joined across gaps shorter than JOIN_GAP_S)."""
    db = _window_db(x)
    if len(db) == 0:
        return x
    loud, quiet = np.percentile(db, 95), np.percentile(db, 10)
    active = np.flatnonzero(db > max(loud - RANGE_DB, quiet + FLOOR_MARGIN_DB))
    if len(active) == 0:
        return x
    hop, win, keep = 160, 320, int(max_pause_s * RATE)
    parts: list[list[int]] = []
    for i in active:
        a, b = i * hop, i * hop + win
        if parts and a - parts[-1][1] <= keep:
            parts[-1][1] = max(parts[-1][1], b)
        else:
            parts.append([a, b])
    gap = np.zeros(keep, np.float32)
    out = []
    for k, (a, b) in enumerate(parts):
        if k:
            out.append(gap)
        out.append(x[a:b])
    return np.concatenate(out).astype(np.float32)


class IntentVoice:
    """A speak-freely clinician's words, spoken: for every clinician turn of a scenario, the first
    phrasing (`say:`) of the card `choose(step)` returns (default: the first card), synthesised with
    CLINICIAN_TTS_VOICE, at 16 kHz and SPEECH_LEVEL_DB. `intended` maps turn id -> that card's id (the
    branch the words should take); turns without cards get PLAIN_REPLY. Rendered before the visit (and
    cached like the patient's lines), so the microphone never waits for synthesis."""

    def __init__(self, scenario, patient_voice, choose=None):
        from trainer.capture.patient_voice import Voice, resample
        from trainer.core.scenario import ClinicianTurn

        voice = Voice(*CLINICIAN_TTS_VOICE)
        self.intended: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self._speech: dict[str, np.ndarray] = {}
        for step in scenario.steps:
            if not isinstance(step, ClinicianTurn):
                continue
            text = PLAIN_REPLY
            if step.cards:
                card = choose(step) if choose is not None else step.cards[0]
                self.intended[step.id] = card.id
                text = card.say[0] if card.say else card.label
            line = patient_voice.render(text, voice)
            x = close_pauses(resample(line.samples, line.rate, RATE).astype(np.float32))
            gain = 10 ** ((SPEECH_LEVEL_DB - active_level_db(x)) / 20)
            self.texts[step.id] = text
            self._speech[step.id] = np.clip(x * gain, -1, 1).astype(np.float32)

    def speech(self, step_id: str) -> np.ndarray | None:
        """The samples said in turn `step_id` (None for a step that is not a clinician turn)."""
        return self._speech.get(step_id)
