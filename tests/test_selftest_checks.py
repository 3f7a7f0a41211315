"""`trainer --self-test`: each check passes on this installation and fails, with its reason, when the part
it checks is broken. Runs without Qt (the patient-view check is in test_selftest_render.py)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trainer import selftest
from trainer.selftest import FAIL, OK, SKIP, WARN, Skip, Warn, run_check, run_selftest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def assets_copy(tmp_path, monkeypatch):
    """A private copy of assets/ the test may damage; the app is pointed at it."""
    dst = tmp_path / "assets"
    shutil.copytree(REPO / "assets", dst)
    monkeypatch.setenv("TRAINER_ASSETS", str(dst))
    return dst


def test_runner_prints_each_check_and_fails_on_any_failure():
    def ok():
        return "all good"

    def skipped():
        raise Skip("not in this build")

    def warned():
        raise Warn("no microphone library")

    def broken():
        raise RuntimeError("the widget fell over")

    def crashed():
        return {}["missing"]

    out = io.StringIO()
    assert run_selftest(out, [("one", ok), ("two", skipped), ("three", warned)]) == 0
    text = out.getvalue()
    assert re.search(r"^one \.+ OK   all good \(0\.\d s\)$", text, re.M)
    assert re.search(r"^two \.+ SKIP not in this build", text, re.M)
    assert re.search(r"^three \.+ WARN no microphone library", text, re.M)
    assert text.rstrip().endswith("self-test passed (3 checks)")

    out = io.StringIO()
    assert run_selftest(out, [("one", ok), ("four", broken), ("five", crashed)]) == 1
    text = out.getvalue()
    assert re.search(r"^four \.+ FAIL the widget fell over", text, re.M)
    # Unexpected errors give their type and where they happened.
    assert re.search(r"^five \.+ FAIL KeyError: 'missing' \(at test_selftest_checks\.py:\d+\)", text, re.M)
    assert text.rstrip().endswith("self-test FAILED: four, five")


def test_models_check_passes_and_catches_an_altered_model(assets_copy):
    r = run_check("models", selftest.check_models)
    assert r.status == OK and "face_landmarker.task" in r.detail and "SHA-256 verified" in r.detail
    model = assets_copy / "models" / "face_landmarker.task"
    data = bytearray(model.read_bytes())
    data[1000] ^= 0xFF
    model.write_bytes(bytes(data))
    r = run_check("models", selftest.check_models)
    assert r.status == FAIL and "has been altered" in r.detail
    (assets_copy / "models" / "manifest.json").write_text("{}")
    assert "lists no models" in run_check("models", selftest.check_models).detail


def test_landmarker_finds_the_shipped_face_and_nothing_in_a_blank_frame():
    r = run_check("face landmarker", selftest.check_landmarker)
    assert r.status == OK, r.detail
    assert "478 landmarks" in r.detail and "none in a blank frame" in r.detail


def test_landmarker_check_fails_without_its_image_or_without_a_face(assets_copy):
    import cv2

    img = assets_copy / "selftest" / "face.png"
    img.unlink()
    r = run_check("face landmarker", selftest.check_landmarker)
    assert r.status == FAIL and "face.png is missing or unreadable" in r.detail
    cv2.imwrite(str(img), np.full((256, 256, 3), 200, np.uint8))
    r = run_check("face landmarker", selftest.check_landmarker)
    assert r.status == FAIL and "no face found" in r.detail


def test_selftest_image_is_reproduced_by_its_generator(tmp_path):
    import cv2

    out = tmp_path / "face.png"
    subprocess.run([sys.executable, str(REPO / "packaging" / "make_selftest_image.py"), str(out)], check=True,
                   capture_output=True)
    assert np.array_equal(cv2.imread(str(out)), cv2.imread(str(REPO / "assets" / "selftest" / "face.png")))


def test_audio_decoding_check():
    r = run_check("audio decoding", selftest.check_audio_decoding)
    assert r.status == OK and "8000 samples" in r.detail


def test_store_check_uses_a_temporary_folder_only():
    data = Path(os.environ["TRAINER_DATA_DIR"])
    r = run_check("session store", selftest.check_store)
    assert r.status == OK, r.detail
    assert not data.exists() or not any(data.iterdir())


def test_scenario_check_passes_on_the_built_in_ones_and_names_a_broken_file(tmp_path, monkeypatch):
    r = run_check("built-in scenarios", selftest.check_scenarios)
    assert r.status == OK, r.detail
    assert "first-checkin" in r.detail
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(REPO / "scenarios" / "first_checkin.yaml", folder)
    (folder / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n")
    monkeypatch.setenv("TRAINER_SCENARIOS", str(folder))
    r = run_check("built-in scenarios", selftest.check_scenarios)
    assert r.status == FAIL and f"{folder / 'broken.yaml'}:" in r.detail
    monkeypatch.setenv("TRAINER_SCENARIOS", str(tmp_path / "empty"))
    assert "no scenario files found" in run_check("built-in scenarios", selftest.check_scenarios).detail


def test_policy_checks(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINER_POLICY", "")
    r = run_check("site policy", selftest.check_policy)
    assert r.status == OK and "no site policy file" in r.detail
    assert run_check("scenario packs", selftest.check_scenario_packs).status == SKIP

    p = tmp_path / "policy.yaml"
    p.write_text(f"allow_video_recording: false\nscenario_packs: [{tmp_path / 'packs'}]\n")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    r = run_check("site policy", selftest.check_policy)
    assert r.status == OK and "locked: allow_video_recording, scenario_packs" in r.detail
    r = run_check("scenario packs", selftest.check_scenario_packs)
    assert r.status == FAIL and "not found" in r.detail and str(tmp_path / "packs") in r.detail
    (tmp_path / "packs").mkdir()
    shutil.copy(REPO / "scenarios" / "first_checkin.yaml", tmp_path / "packs")
    r = run_check("scenario packs", selftest.check_scenario_packs)
    assert r.status == OK and "1 valid scenario(s) in 1 folder(s)" in r.detail

    p.write_text("allow_video_recording: false\nretention_days: -3\n")
    r = run_check("site policy", selftest.check_policy)
    assert r.status == FAIL and f"{p}:2: retention_days" in r.detail


def test_patient_voice_is_synthesised_and_heard(monkeypatch):
    r = run_check("patient voice", selftest.check_patient_voice)
    assert r.status == OK, r.detail
    assert "the speech detector hears" in r.detail
    # A voice engine that produces silence must not pass.
    from trainer.capture import patient_voice

    monkeypatch.setattr(patient_voice.PatientVoice, "_synthesize",
                        lambda self, text, voice: np.zeros(3 * patient_voice.TTS_RATE, np.float32))
    r = run_check("patient voice", selftest.check_patient_voice)
    assert r.status == FAIL and "heard speech in 0% of the synthesised line" in r.detail


def test_speech_to_text_hears_the_test_line_and_refuses_an_altered_model(assets_copy):
    r = run_check("speech-to-text", selftest.check_speech_to_text)
    assert r.status == OK, r.detail
    assert "camera" in r.detail.lower()
    manifest = assets_copy / "models" / "manifest.json"
    entry = json.loads(manifest.read_text(encoding="utf-8"))
    entry["whisper-tiny.en-decoder.onnx"]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(entry), encoding="utf-8")
    r = run_check("speech-to-text", selftest.check_speech_to_text)
    assert r.status == FAIL and "altered" in r.detail, r.detail


def test_video_recording_is_written_and_read_back(monkeypatch):
    r = run_check("video recording", selftest.check_video_recording)
    assert r.status == OK, r.detail
    # An encoder that is missing (as in an FFmpeg build without it) must not pass.
    from trainer.store import recording

    def no_encoder(self, out, image):
        raise ValueError("unknown encoder 'mpeg4'")

    monkeypatch.setattr(recording.VideoRecorder, "_open_video", no_encoder)
    r = run_check("video recording", selftest.check_video_recording)
    assert r.status == FAIL and "unknown encoder" in r.detail, r.detail


def test_portaudio_check_is_ok_or_a_warning_never_a_failure():
    r = run_check("audio devices", selftest.check_portaudio)
    assert r.status in (OK, WARN), r.detail


def test_cli_self_test_runs_every_check(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINER_BLOCK_QT",)}
    env.update(QT_QPA_PLATFORM="offscreen", TRAINER_POLICY="")
    proc = subprocess.run([sys.executable, "-m", "trainer", "--self-test"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("trainer ") and "self-test (source install" in lines[0]
    for name, _ in selftest.CHECKS:
        assert any(line.startswith(f"{name} ..") for line in lines), f"no line for {name}:\n{proc.stdout}"
    failed = [line for line in lines if " FAIL " in line]
    assert proc.returncode == (1 if failed else 0), proc.stdout
    assert not failed, proc.stdout + proc.stderr[-2000:]


def test_cli_self_test_exit_status_reflects_a_failure(tmp_path, assets_copy):
    (assets_copy / "models" / "manifest.json").write_text(json.dumps({"face_landmarker.task": {
        "sha256": "0" * 64, "bytes": 3758596}}))
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINER_BLOCK_QT",)}
    env.update(QT_QPA_PLATFORM="offscreen", TRAINER_POLICY="")
    proc = subprocess.run([sys.executable, "-m", "trainer", "--self-test"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert re.search(r"^models \.+ FAIL", proc.stdout, re.M)
    assert "self-test FAILED: models" in proc.stdout
