"""`trainer analyze --transcript`: the four formats read to the same utterances, utterances.csv and the
talk-time keys, errors with file and line; `--transcribe` on a recording."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import fixture
from trainer.analysis.offline_transcript import COLUMNS, analyze_transcript, pick_clinician, read_transcript
from trainer.core.errors import SourceError

DATA = Path(__file__).parent / "data" / "transcripts"
EXPECTED = [(0.0, 2.5, "Doctor", "Good morning, Mrs Lopez. How have you been sleeping?"),
            (2.8, 6.2, "Patient", 'Not well, I keep waking up at 3 am and I feel "wired".'),
            (6.0, 9.5, "Doctor", "That sounds exhausting. Your hypertension is also a little high."),
            (11.0, 14.0, "Doctor", "We'll talk again in two weeks. Does that make sense?")]


@pytest.mark.parametrize("name", ["visit.TextGrid", "visit_short.TextGrid", "visit.vtt", "visit.srt", "visit.csv"])
def test_formats_read_the_same(name):
    got = [(u.start, u.end, u.speaker, u.text) for u in read_transcript(DATA / name)]
    assert got == EXPECTED


def test_utterances_csv_and_talk_time(tmp_path):
    summary = analyze_transcript(DATA / "visit.TextGrid", tmp_path, patient_names=["Maria Lopez"])
    rows = list(csv.DictReader(open(tmp_path / "utterances.csv", encoding="utf-8")))
    assert tuple(rows[0]) == COLUMNS
    assert [r["speaker"] for r in rows] == ["clinician", "Patient", "clinician", "clinician"]
    first, patient, third, last = rows
    assert (first["open_questions"], first["small_talk"], first["name"]) == ("1", "1", "1")
    assert patient["open_questions"] == "" and patient["text"].startswith("Not well")
    assert third["empathy"] == "1" and third["jargon"] == "hypertension"
    assert "high blood pressure" in third["jargon_advice"]
    assert (last["agenda"], last["check"], last["closed_questions"]) == ("1", "1", "1")
    assert summary["clinician_speaker"] == "Doctor" and summary["transcript_format"] == "textgrid"
    assert summary["clinician_talk_s"] == pytest.approx(2.5 + 3.5 + 3.0)
    assert summary["patient_talk_s"] == pytest.approx(3.4)
    assert summary["interruptions"] == [6.0]  # the doctor started at 6.0 while the patient spoke until 6.2
    assert summary["verbal"]["jargon_unexplained"] == ["'hypertension' - try 'high blood pressure'"]


def test_clinician_choice():
    utts = read_transcript(DATA / "visit.csv")
    assert pick_clinician(utts) == "Doctor"
    assert pick_clinician(utts, "patient") == "Patient"
    with pytest.raises(SourceError, match="No speaker 'Nurse'"):
        pick_clinician(utts, "Nurse")


def test_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end,speaker,text\n0,1,A,hi\n2,x,B,oops\n")
    with pytest.raises(SourceError, match=r"bad.csv:3"):
        read_transcript(bad)
    nospk = tmp_path / "n.srt"
    nospk.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello there\n")
    with pytest.raises(SourceError, match="names no speaker"):
        read_transcript(nospk)
    with pytest.raises(SourceError, match="not found"):
        read_transcript(tmp_path / "missing.vtt")


def test_cli_transcript(tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "trainer", "analyze", "--transcript", str(DATA / "visit.vtt"),
                        "--out", str(out), "--patient-name", "Maria Lopez"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "jargon: 'hypertension' - try 'high blood pressure'" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verbal"]["utterances"] == 3 and summary["clinician_share"] == pytest.approx(9 / 12.4, abs=1e-3)
    r = subprocess.run([sys.executable, "-m", "trainer", "analyze", "--out", str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "either a recording" in r.stderr


def test_transcribe_recording_keeps_words_only_when_allowed(tmp_path, monkeypatch):
    from trainer.analysis.offline import analyze_recording

    clip = fixture("audio/speech_short.wav")  # audio only: no face analysis, keeps the test short
    s = analyze_recording(clip, tmp_path / "a", transcribe=True, keep_text=True)
    rows = list(csv.DictReader(open(tmp_path / "a" / "utterances.csv", encoding="utf-8")))
    words = " ".join(r["text"] for r in rows).lower()
    assert "front" in words and "center" in words and s["transcripts_kept"] is True
    assert s["verbal"]["utterances"] == len(rows) >= 1
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nallow_transcripts: false\n")
    monkeypatch.setenv("TRAINER_POLICY", str(policy))
    s = analyze_recording(clip, tmp_path / "b", transcribe=True)
    rows = list(csv.DictReader(open(tmp_path / "b" / "utterances.csv", encoding="utf-8")))
    assert s["transcripts_kept"] is False and rows and all(r["text"] == "" for r in rows)
    assert all(r["statements"] != "" for r in rows)  # the labels are kept
