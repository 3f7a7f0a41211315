"""Offline voice analysis of a recording (an audio file or a video's audio track): the `voice.csv` and the
talk-time keys of `summary.json` of `trainer analyze` (DESIGN.md section 5).

The recording goes through the same `VoiceAnalyzer` as a live session, block by block on the file's own
time line, so the segments match what the live session reported for the same sound.

Patient information (optional) makes it a talk-time analysis:

- `--patient-segments FILE`: when the patient was heard, as RTTM (NIST "SPEAKER" lines) or as a CSV of
  `start,end` seconds. An RTTM file with several speakers names the patient by its first SPEAKER line
  (the first speaker in the file is the patient) unless `speaker=` says otherwise.
- `--patient-audio FILE`: the patient's playback signal, time-aligned with the microphone track (both
  start at session time 0), as a live session has it. It feeds the echo guard, so the patient's voice
  leaking from speakers into the microphone is not counted as the clinician's; the patient's speech
  intervals are detected on it by the speech detector (not its loudness: a recording carries room
  noise) unless segments are given too. It is streamed block by block beside the microphone track
  (`PlaybackFeed`, reading through the same `AudioFileSource`), never loaded whole.

With segments but no playback signal, the microphone recording may or may not contain the patient (a
headset vs. speakers). If most of the patient's time is also heard as speech on the microphone, the
patient is taken to be audible there: the clinician's speech is then counted outside the patient's
intervals only, and `overlap_measurable` is false (talking over the patient cannot be told apart from
the patient). Give `--patient-audio` to measure overlaps and interruptions in that case.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from trainer.capture.audio import DEFAULT_RATE, AudioFileSource
from trainer.core import talktime
from trainer.core.errors import SourceError
from trainer.core.events import Notice
from trainer.core.metrics import merge_intervals, total_duration

Interval = tuple[float, float]
PATIENT_AUDIBLE_SHARE = 0.5  # share of the patient's time heard as mic speech that means "speakers"


def parse_patient_segments(path: str | os.PathLike, speaker: str | None = None) -> list[Interval]:
    """Patient intervals from an RTTM file or a `start,end` CSV (header optional, '#' comments).

    For RTTM, `speaker` picks the patient; by default the speaker of the first SPEAKER line.
    Raises SourceError naming the file and line for anything it cannot read."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(f"Patient segments file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"Cannot read the patient segments file {p}: {exc}") from None
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(n, ln) for n, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise SourceError(f"{p.name} lists no patient intervals.",
                          hint="Give an RTTM file or a CSV with start,end seconds per line.")
    if lines[0][1].split()[0].upper() in ("SPEAKER", "SPKR-INFO", "LEXEME", "NOSCORE", "UEM"):
        return _parse_rttm(p, lines, speaker)
    return _parse_csv(p, lines)


def _parse_rttm(p: Path, lines, speaker: str | None) -> list[Interval]:
    rows: list[tuple[str, float, float]] = []
    for n, ln in lines:
        f = ln.split()
        if f[0].upper() != "SPEAKER":
            continue
        try:
            start, dur, name = float(f[3]), float(f[4]), f[7]
        except (IndexError, ValueError):
            raise SourceError(f"{p}:{n}: not an RTTM SPEAKER line (type file channel start duration "
                              f"<NA> <NA> speaker ...): {ln[:80]}") from None
        if not (math.isfinite(start) and math.isfinite(dur)) or dur < 0 or start < 0:
            raise SourceError(f"{p}:{n}: start and duration must be finite seconds, 0 or more")
        rows.append((name, start, start + dur))
    if not rows:
        raise SourceError(f"{p.name} has no SPEAKER lines.")
    who = speaker if speaker is not None else rows[0][0]
    out = [(s, e) for name, s, e in rows if name == who]
    if not out:
        names = sorted({r[0] for r in rows})
        raise SourceError(f"{p.name} has no speaker '{who}' (it has: {', '.join(names)}).")
    return merge_intervals(out)


def _parse_csv(p: Path, lines) -> list[Interval]:
    out: list[Interval] = []
    for k, (n, ln) in enumerate(lines):
        cells = next(csv.reader(io.StringIO(ln.replace("\t", ","))))
        try:
            start, end = float(cells[0]), float(cells[1])
        except (IndexError, ValueError):
            if k == 0:
                continue  # a header line such as "start,end"
            raise SourceError(f"{p}:{n}: expected 'start,end' in seconds, got: {ln[:80]}") from None
        if not (math.isfinite(start) and math.isfinite(end)) or end < start or start < 0:
            raise SourceError(f"{p}:{n}: the interval {start}..{end} is not a valid time span")
        out.append((start, end))
    if not out:
        raise SourceError(f"{p.name} lists no patient intervals.")
    return merge_intervals(out)


def open_patient_audio(path: str | os.PathLike, rate: int = DEFAULT_RATE) -> AudioFileSource:
    """The patient's playback signal in a file (or a video's sound), checked and ready to stream in blocks
    (an AudioFileSource, never decoded whole). Raises SourceError ("Patient audio: ...")."""
    src = AudioFileSource(path, realtime=False, rate=rate)
    try:
        src.open()
    except SourceError as exc:
        raise SourceError(f"Patient audio: {exc.message}", hint=exc.hint) from None
    return src


class PlaybackFeed:
    """Hands the patient's playback to a voice analyser up to a given sample, pulling it piece by piece
    from `chunks` (an iterator of mono float32 arrays at DEFAULT_RATE). From a file the pieces are the
    AudioFileSource's blocks, so at most one block is held here whatever the recording's length.
    `max_held` is the largest number of samples held at once."""

    def __init__(self, chunks: Iterable[np.ndarray]):
        self._it = iter(chunks)
        self._held = np.zeros(0, dtype=np.float32)
        self.fed = 0  # samples handed over so far
        self.max_held = 0
        self.ended = False

    @classmethod
    def from_file(cls, src: AudioFileSource) -> "PlaybackFeed":
        def chunks():
            try:
                for block in src.blocks():
                    yield block.samples
            except SourceError as exc:
                raise SourceError(f"Patient audio: {exc.message}", hint=exc.hint) from None
        return cls(chunks())

    def feed(self, voice, upto: int) -> None:
        """Hand over samples fed ... upto (fewer when the playback ends first)."""
        while self.fed < upto and not self.ended:
            if not len(self._held):
                try:
                    self._held = np.asarray(next(self._it), dtype=np.float32).reshape(-1)
                except StopIteration:
                    self.ended = True
                    break
                self.max_held = max(self.max_held, len(self._held))
                continue
            take = self._held[:upto - self.fed]
            voice.patient_audio(self.fed / DEFAULT_RATE, take, DEFAULT_RATE)
            self.fed += len(take)
            self._held = self._held[len(take):]


def write_segments_csv(path: str | os.PathLike, intervals: Iterable[Interval]) -> None:
    """`start,end` rows in seconds (millisecond precision)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["start", "end"])
        for s, e in intervals:
            w.writerow([f"{s:.3f}", f"{e:.3f}"])


def analyze_voice(path: str | os.PathLike, out_dir: str | os.PathLike, *,
                  patient_segments: str | os.PathLike | Sequence[Interval] | None = None,
                  patient_audio: str | os.PathLike | np.ndarray | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cues: Sequence[float] = (), speaker: str | None = None,
                  end_of_turn_s: float = 0.7) -> dict:
    """Analyse the sound of `path`; writes out_dir/voice.csv and returns the summary keys.

    `patient_segments`: a file (see `parse_patient_segments`) or a list of (start, end); `patient_audio`:
    a file or a 16 kHz float array aligned with the recording; `progress(done, total)` is called with
    processed and total audio blocks; `cues`: patient cue times for `silence_after_cues_s`.
    Keys: speech_s, duration_s of audio, and with patient information the talk-time keys
    (clinician_talk_s, patient_talk_s, clinician_share, interruptions, backchannels, overlaps, overlap_s,
    longest_monologue_s, response_latencies_s, turns, clinician_turns, silence_after_cues_s,
    patient_source, echo_guard, overlap_measurable). `_segments` carries the voice.csv intervals for
    the caller (not for summary.json). Raises SourceError for unreadable inputs.
    """
    from trainer.analysis.voice import create_voice_processor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pat_segs: list[Interval] | None = None
    if patient_segments is not None:
        if isinstance(patient_segments, (str, os.PathLike)):
            pat_segs = parse_patient_segments(patient_segments, speaker)
        else:
            pat_segs = merge_intervals((float(s), float(e)) for s, e in patient_segments)
    # The playback is streamed from its file block by block as the microphone track advances, like the
    # microphone itself (an hour of it whole would take about 0.6 GB).
    ref: PlaybackFeed | None = None
    if patient_audio is not None:
        if isinstance(patient_audio, (str, os.PathLike)):
            ref = PlaybackFeed.from_file(open_patient_audio(patient_audio))
        else:
            ref = PlaybackFeed([np.asarray(patient_audio, dtype=np.float32).reshape(-1)])

    src = AudioFileSource(path, realtime=False)  # streamed: memory stays flat for long recordings
    src.open()
    voice = create_voice_processor(end_of_turn_s=end_of_turn_s, recorded_playback=ref is not None)
    for s, e in pat_segs or ():
        voice.patient_segment(s, e)
    total = max(1, int(np.ceil(src.duration * src.rate / src.block)))  # from the file's metadata
    lead = DEFAULT_RATE  # hand the playback over 1 s ahead of the microphone, as a live player does
    notices: list[str] = []
    t0 = time.perf_counter()
    for i, block in enumerate(src.blocks()):
        if ref is not None:
            ref.feed(voice, int((block.t + block.duration) * DEFAULT_RATE) + lead)
        for ev in voice.process(block):
            if isinstance(ev, Notice):
                notices.append(ev.message)
        if progress is not None:
            progress(min(i + 1, total), total)
    if progress is not None:
        progress(total, total)
    voice.flush()
    elapsed = time.perf_counter() - t0
    duration = src.duration  # exact now that every block has been read

    mic_speech = voice.clinician_intervals()
    summary: dict = {
        "audio_duration_s": round(duration, 3),
        "voice_realtime_factor": round(duration / elapsed, 1) if elapsed > 0 else None,
    }
    if pat_segs is None and ref is None:
        segments = mic_speech
    else:
        patient = pat_segs if pat_segs is not None else voice.patient_intervals()
        overlap_measurable = True
        clinician = mic_speech
        if ref is None:
            heard = talktime.seconds_within(mic_speech, patient)
            audible = total_duration(patient) > 0 and heard / total_duration(patient) >= PATIENT_AUDIBLE_SHARE
            if audible:
                clinician = talktime.subtract(mic_speech, patient)
                clinician = [(s, e) for s, e in clinician if e - s >= 0.1]
                overlap_measurable = False
        segments = clinician
        talk = talktime.summarize(clinician, patient, cues=cues, session_end=duration)
        summary.update(talk.as_dict())
        summary["patient_source"] = "segments" if pat_segs is not None else "audio"
        summary["echo_guard"] = ref is not None
        summary["overlap_measurable"] = overlap_measurable
    summary["speech_s"] = round(float(total_duration(segments)), 3)
    summary["mic_gaps"] = [list(g) for g in voice.gaps]
    if notices:
        summary["voice_notices"] = notices
    write_segments_csv(out / "voice.csv", segments)
    summary["_segments"] = [(s, e) for s, e in segments]
    # For core.measures (trainer.analysis.offline): the patient's speech, when known, and the time the
    # microphone track really covered (its gaps left out).
    summary["_patient"] = list(patient) if (pat_segs is not None or ref is not None) else []
    summary["_mic"] = talktime.subtract([(0.0, duration)], [tuple(g) for g in voice.gaps])
    return summary
