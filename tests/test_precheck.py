"""The pre-visit check (trainer.analysis.precheck, `trainer check`) on real recordings and broken inputs:
it flags a text file, a silent microphone and a wide framing with the right plain fixes, and passes a
clinician talking to the camera."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import write_wav
from trainer.analysis.precheck import FIX, PASS, WARN, check_camera, check_microphone, check_speaker, run_precheck


def _items(items, part=None):
    return {i.name: i for i in items if part is None or i.part == part}


@pytest.fixture
def silent_wav(tmp_path):
    path = tmp_path / "silent.wav"
    write_wav(path, np.zeros(16000 * 3, np.float32))
    return path


def test_a_text_file_is_neither_camera_nor_microphone(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a recording\n")
    cam, _ = check_camera(str(text))
    mic, _ = check_microphone(str(text))
    assert [i.status for i in cam] == [FIX] and [i.status for i in mic] == [FIX]
    assert "cannot be used" in cam[0].message and "MP4" in cam[0].fix
    assert "cannot be used" in mic[0].message and "WAV" in mic[0].fix


def test_a_silent_microphone_is_flagged_with_unmute_advice(silent_wav):
    items, figures = check_microphone(str(silent_wav))
    sound = _items(items)["sound"]
    assert sound.status == FIX and "no sound" in sound.message and "Unmute" in sound.fix
    assert figures["loudest_db"] < -100


def test_noise_without_speech_is_flagged(fixtures):
    items, figures = check_microphone(str(fixtures("audio/noise.wav")))
    found = _items(items)
    assert found["say a sentence"].status == FIX and "No speech" in found["say a sentence"].message
    assert found["background noise"].status == FIX and figures["noise_floor_db"] > -42


def test_wide_framing_is_told_to_move_closer(fixtures):
    items, figures = check_camera(str(fixtures("video/wide_framing.mp4")))
    found = _items(items)
    assert found["face found"].status == PASS
    assert found["framing"].status == FIX and "Move closer" in found["framing"].fix
    assert found["light"].status == PASS
    assert figures["flag_shares"]["face_too_small"] > 0.9


def test_a_clinician_talking_to_the_camera_passes(fixtures):
    clip = str(fixtures("video/talking_a.mp4"))
    report = run_precheck(clip, clip, speaker=False)
    assert report.passed, [i for i in report.items if i.status != PASS]
    found = _items(report.items)
    assert {"face found", "framing", "light", "camera at eye level", "level meter", "background noise", "clipping",
            "say a sentence"} <= set(found)
    assert report.figures["microphone"]["speech_s"] > 2.0


def test_speaker_without_an_output_device_is_a_note_not_a_failure(fixtures):
    items, figures = check_speaker(None)
    assert items and items[0].part == "speaker"
    if figures.get("output") == "device":  # a machine with a sound card: the phrase played
        assert items[0].status == PASS
    else:
        assert items[0].status == WARN and "captions" in items[0].fix


def test_cli_check_json_and_exit_status(tmp_path, fixtures, silent_wav):
    cmd = [sys.executable, "-m", "trainer", "check", "--camera", str(fixtures("video/wide_framing.mp4")),
           "--mic", str(silent_wav), "--json", "--no-speaker"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["passed"] is False
    fixes = {(i["part"], i["name"]): i["fix"] for i in data["items"] if i["status"] == FIX}
    assert "Move closer" in fixes[("camera", "framing")] and "Unmute" in fixes[("microphone", "sound")]
