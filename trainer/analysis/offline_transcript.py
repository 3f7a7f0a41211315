"""Time-aligned transcripts in and out: `trainer analyze --transcript FILE` and the `utterances.csv` of
any analysis (formats and columns: docs/transcripts.md).

Readers: Praat TextGrid (one interval tier per speaker, long or short text format), WebVTT (speaker from
`<v Name>` or a `Name:` prefix), SRT (`Name:` prefix) and CSV `start,end,speaker,text`. Each returns
`TranscriptUtterance`s in time order; empty intervals are skipped.

The clinician is the speaker named by `clinician=`, else the first speaker whose name says so
("clinician", "doctor", "Dr ...", "nurse", "GP", "physician", "provider"), else the first one to speak;
every other speaker (patient, caregiver) counts as the patient side for talk time, as the app counts a
caregiver's voice in the patient's playback.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from trainer.core import talktime
from trainer.core.errors import SourceError
from trainer.core.verbal import label_utterance, merge_labels

LABEL_COLUMNS = ("open_questions", "closed_questions", "statements", "empathy", "jargon", "jargon_advice",
                 "check", "agenda", "small_talk", "name")
COLUMNS = ("start", "end", "speaker", "text", *LABEL_COLUMNS)
_CLINICIAN_NAME = re.compile(r"\b(clinician|doctor|dr|physician|nurse|gp|provider|practitioner|np|"
                             r"interviewer|student|resident)\b", re.IGNORECASE)


@dataclass(frozen=True)
class TranscriptUtterance:
    start: float
    end: float
    speaker: str
    text: str


# -- readers -------------------------------------------------------------------------------------------

def read_transcript(path: str | os.PathLike) -> list[TranscriptUtterance]:
    """Utterances of a transcript file, format chosen by its content (TextGrid, WebVTT) or extension
    (.srt, .csv/.tsv). Raises SourceError naming the file and line for anything it cannot read."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(f"Transcript file not found: {p}") from None
    except UnicodeDecodeError:
        try:
            text = p.read_text(encoding="utf-16")  # Praat writes UTF-16 when the text needs it
        except (UnicodeError, OSError) as exc:
            raise SourceError(f"Cannot read the transcript {p}: {exc}") from None
    except OSError as exc:
        raise SourceError(f"Cannot read the transcript {p}: {exc}") from None
    head = text.lstrip()[:200]
    if "ooTextFile" in head or 'Object class = "TextGrid"' in head:
        out = _read_textgrid(p, text)
    elif head.startswith("WEBVTT"):
        out = _read_vtt(p, text)
    elif p.suffix.lower() == ".srt" or re.match(r"\d+\s*\n\s*\d\d:\d\d", head):
        out = _read_srt(p, text)
    elif p.suffix.lower() in (".csv", ".tsv", ".txt"):
        out = _read_csv(p, text)
    else:
        raise SourceError(f"{p.name}: not a transcript format this app reads.",
                          hint="Give a Praat TextGrid, WebVTT (.vtt), SRT (.srt) or CSV start,end,speaker,text.")
    out = [u for u in out if u.text.strip()]
    if not out:
        raise SourceError(f"{p.name} contains no utterances with text.")
    return sorted(out, key=lambda u: (u.start, u.end))


def _tg_value(line: str) -> str | None:
    m = re.match(r'\s*\w+\s*=\s*(.*)$', line)
    return m.group(1).strip() if m else None


def _read_textgrid(p: Path, text: str) -> list[TranscriptUtterance]:
    # Both the long format (key = value) and the short one (values only) list, per tier: class, name,
    # xmin, xmax, size, then xmin, xmax, text per interval. A token reader handles both.
    tokens: list[tuple[int, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r'"((?:[^"]|"")*)"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|<exists>', line):
            if m.group(1) is not None:
                tokens.append((n, '"' + m.group(1).replace('""', '"')))
            elif m.group(2) is not None:
                # numbers inside "intervals [3]:" headers of the long format are not values
                before = line[:m.start()]
                if before.rstrip().endswith("[") or re.search(r"item\s*\[\s*$|intervals\s*\[\s*$|points\s*\[\s*$",
                                                              before):
                    continue
                tokens.append((n, m.group(2)))
    out: list[TranscriptUtterance] = []
    i = 0

    def take_num() -> float:
        nonlocal i
        while i < len(tokens) and tokens[i][1].startswith('"'):
            i += 1
        if i >= len(tokens):
            raise SourceError(f"{p}: the TextGrid ends in the middle of a tier")
        n, v = tokens[i]
        i += 1
        return float(v)

    def take_str() -> str:
        nonlocal i
        if i >= len(tokens) or not tokens[i][1].startswith('"'):
            line = tokens[i][0] if i < len(tokens) else "end"
            raise SourceError(f"{p}:{line}: expected a quoted text in the TextGrid")
        v = tokens[i][1][1:]
        i += 1
        return v

    # Skip the file header: "ooTextFile", "TextGrid", xmin, xmax, tier count.
    while i < len(tokens) and tokens[i][1] not in ('"IntervalTier', '"TextTier'):
        i += 1
    while i < len(tokens):
        kind = take_str()
        name = take_str()
        take_num(), take_num()
        size = int(take_num())
        for _ in range(size):
            if kind == "IntervalTier":
                s, e = take_num(), take_num()
                t = take_str()
                if t.strip():
                    if e < s:
                        raise SourceError(f"{p}: tier '{name}' has an interval ending before it starts ({s}-{e})")
                    out.append(TranscriptUtterance(s, e, name, t.strip()))
            else:  # point tiers carry no durations: not talk time
                take_num(), take_str()
    return out


_TS = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"


def _ts(m: re.Match, k: int) -> float:
    h, mi, s, ms = m.group(k), m.group(k + 1), m.group(k + 2), m.group(k + 3)
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


_CUE = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}")


def _speaker_prefix(text: str) -> tuple[str, str]:
    m = re.match(r"^\s*<v(?:\.[\w.]+)?\s+([^>]+)>(.*)$", text, re.S)
    if m:
        return m.group(1).strip(), re.sub(r"</v>", "", m.group(2)).strip()
    m = re.match(r"^\s*(?:\[([^\]]{1,40})\]|([A-Z][\w .'-]{0,38}?)\s*:)\s+(.*)$", text, re.S)
    if m:
        return (m.group(1) or m.group(2)).strip(), m.group(3).strip()
    return "", text.strip()


def _read_cues(p: Path, text: str, fmt: str) -> list[TranscriptUtterance]:
    out: list[TranscriptUtterance] = []
    lines = text.splitlines()
    i = 0
    last_speaker = ""
    while i < len(lines):
        m = _CUE.match(lines[i])
        if not m:
            i += 1
            continue
        start, end = _ts(m, 1), _ts(m, 5)
        if end < start:
            raise SourceError(f"{p}:{i + 1}: the cue ends before it starts")
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip():
            body.append(lines[i].strip())
            i += 1
        raw = " ".join(body)
        speaker, words = _speaker_prefix(raw)
        words = re.sub(r"<[^>]+>", "", words).strip()  # styling tags
        speaker = speaker or last_speaker
        if not speaker:
            raise SourceError(f"{p}:{i}: this {fmt} cue names no speaker",
                              hint="Start cue text with 'Name: ' (or <v Name> in WebVTT) so talk time "
                                   "can be split between clinician and patient.")
        last_speaker = speaker
        out.append(TranscriptUtterance(start, end, speaker, words))
    if not out:
        raise SourceError(f"{p.name}: no {fmt} cues (lines like 00:00:01.000 --> 00:00:02.500) found.")
    return out


def _read_vtt(p: Path, text: str) -> list[TranscriptUtterance]:
    return _read_cues(p, text, "WebVTT")


def _read_srt(p: Path, text: str) -> list[TranscriptUtterance]:
    return _read_cues(p, text, "SRT")


def _read_csv(p: Path, text: str) -> list[TranscriptUtterance]:
    delim = "\t" if p.suffix.lower() == ".tsv" or ("\t" in text.splitlines()[0] and "," not in text.splitlines()[0]) \
        else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    out: list[TranscriptUtterance] = []
    for n, row in enumerate(rows, 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        try:
            start, end = float(row[0]), float(row[1])
        except (IndexError, ValueError):
            if n == 1:
                continue  # header
            raise SourceError(f"{p}:{n}: expected start,end,speaker,text with times in seconds") from None
        if len(row) < 4:
            raise SourceError(f"{p}:{n}: expected start,end,speaker,text (4 columns), got {len(row)}")
        if end < start or start < 0:
            raise SourceError(f"{p}:{n}: the interval {start}..{end} is not a valid time span")
        out.append(TranscriptUtterance(start, end, row[2].strip(), ",".join(row[3:]).strip()))
    return out


# -- speakers, labels, outputs -----------------------------------------------------------------------------

def pick_clinician(utterances: Sequence[TranscriptUtterance], clinician: str | None = None) -> str:
    """Which speaker is the clinician (see the module docstring); SourceError for an unknown name."""
    speakers = list(dict.fromkeys(u.speaker for u in utterances))
    if clinician is not None:
        for s in speakers:
            if s.lower() == clinician.lower():
                return s
        raise SourceError(f"No speaker '{clinician}' in the transcript (it has: {', '.join(speakers)}).")
    for s in speakers:
        if _CLINICIAN_NAME.search(s):
            return s
    return speakers[0]


def label_rows(utterances: Iterable[TranscriptUtterance], clinician: str,
               patient_names: Sequence[str] = (), keep_text: bool = True) -> list[dict]:
    """utterances.csv rows: every utterance with start, end, speaker ('clinician' for the clinician,
    the file's name otherwise), text (blank when `keep_text` is false) and, for the clinician's
    utterances, the verbal labels of trainer.core.verbal."""
    rows = []
    for u in utterances:
        row = {"start": f"{u.start:.3f}", "end": f"{u.end:.3f}",
               "speaker": "clinician" if u.speaker == clinician else u.speaker,
               "text": u.text if keep_text else ""}
        if u.speaker == clinician:
            row.update(merge_labels(label_utterance(u.text, patient_names)))
        rows.append(row)
    return rows


def write_utterances_csv(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """utterances.csv: COLUMNS in order, label cells blank for other speakers."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def verbal_summary(rows: Iterable[dict]) -> dict:
    """Counts over the clinician's labelled utterances (the verbal keys of summary.json)."""
    clin = [r for r in rows if r.get("speaker") == "clinician" and "open_questions" in r]
    open_q = sum(r["open_questions"] for r in clin)
    closed_q = sum(r["closed_questions"] for r in clin)
    advice = sorted({a for r in clin for a in r["jargon_advice"].split("; ") if a})
    return {
        "utterances": len(clin),
        "open_questions": open_q,
        "closed_questions": closed_q,
        "open_question_share": round(open_q / (open_q + closed_q), 3) if open_q + closed_q else None,
        "empathy_utterances": sum(r["empathy"] for r in clin),
        "check_understanding_utterances": sum(r["check"] for r in clin),
        "agenda_utterances": sum(r["agenda"] for r in clin),
        "small_talk_utterances": sum(r["small_talk"] for r in clin),
        "name_uses": sum(r["name"] for r in clin),
        "jargon_unexplained": advice,
    }


def analyze_transcript(path: str | os.PathLike, out_dir: str | os.PathLike, *, clinician: str | None = None,
                       patient_names: Sequence[str] = ()) -> dict:
    """`trainer analyze --transcript FILE`: writes out_dir/utterances.csv and returns the summary keys
    (talk-time keys from both speakers' timings, verbal counts, the speakers found)."""
    utts = read_transcript(path)
    who = pick_clinician(utts, clinician)
    rows = label_rows(utts, who, patient_names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_utterances_csv(out / "utterances.csv", rows)
    clin = [(u.start, u.end) for u in utts if u.speaker == who]
    pat = [(u.start, u.end) for u in utts if u.speaker != who]
    end = max(u.end for u in utts)
    summary: dict = {"input": str(path), "transcript_format": _format_name(Path(path), utts),
                     "clinician_speaker": who,
                     "other_speakers": sorted({u.speaker for u in utts if u.speaker != who}),
                     "duration_s": round(end, 3)}
    summary.update(talktime.summarize(clin, pat, session_end=end).as_dict())
    summary["verbal"] = verbal_summary(rows)
    return summary


def transcribe_recording(path: str | os.PathLike, segments: Sequence[tuple[float, float]],
                         out_dir: str | os.PathLike, *, patient_names: Sequence[str] = (), keep_text: bool = True,
                         recognizer=None, progress=None) -> dict:
    """Transcribe the clinician's speech segments of a recording (offline speech-to-text, the same
    recogniser and padding a live visit uses), label them and write out_dir/utterances.csv.

    Returns the summary keys: `verbal` counts, `transcripts_kept`, and the recogniser's real-time factor."""
    import time

    from trainer.analysis.stt import PAD_S, RATE, SpeechRecognizer
    from trainer.capture.audio import decode_audio

    audio = decode_audio(path, RATE)
    rec = recognizer or SpeechRecognizer()
    utts: list[TranscriptUtterance] = []
    t0 = time.perf_counter()
    for i, (s, e) in enumerate(segments):
        clip = audio[max(0, int((s - PAD_S) * RATE)):int((e + PAD_S) * RATE)]
        text = rec.transcribe(clip).text
        utts.append(TranscriptUtterance(float(s), float(e), "clinician", text))
        if progress is not None:
            progress(i + 1, len(segments))
    spent = time.perf_counter() - t0
    rows = label_rows(utts, "clinician", patient_names, keep_text=keep_text)
    write_utterances_csv(Path(out_dir) / "utterances.csv", rows)
    speech = sum(e - s for s, e in segments)
    return {"verbal": verbal_summary(rows), "transcripts_kept": bool(keep_text),
            "stt_realtime_factor": round(speech / spent, 2) if spent > 0 and speech > 0 else None}


def _format_name(p: Path, utts) -> str:
    head = p.read_text(encoding="utf-8-sig", errors="replace").lstrip()[:200]
    if "TextGrid" in head:
        return "textgrid"
    if head.startswith("WEBVTT"):
        return "webvtt"
    return "srt" if p.suffix.lower() == ".srt" else "csv"
