"""Vendored models: present, checksum-verified, and refused when missing or altered."""

import json
import shutil

import pytest

from trainer.analysis.models import model_path, model_status
from trainer.core.errors import ModelError
from trainer.resources import models_dir


def test_every_manifest_model_verifies():
    manifest = json.loads((models_dir() / "manifest.json").read_text())
    assert "face_landmarker.task" in manifest
    for name in manifest:
        assert model_path(name).is_file()
        assert model_status(name)[0]


def _copy_models(tmp_path):
    dst = tmp_path / "models"
    dst.mkdir()
    shutil.copy(models_dir() / "manifest.json", dst / "manifest.json")
    shutil.copy(models_dir() / "face_landmarker.task", dst / "face_landmarker.task")
    return dst


def test_missing_model_is_a_clear_error(tmp_path):
    folder = _copy_models(tmp_path)
    (folder / "face_landmarker.task").unlink()
    with pytest.raises(ModelError, match="missing"):
        model_path("face_landmarker.task", folder)


def test_altered_model_is_refused(tmp_path):
    folder = _copy_models(tmp_path)
    data = bytearray((folder / "face_landmarker.task").read_bytes())
    data[1000] ^= 0xFF  # same size, one byte changed
    (folder / "face_landmarker.task").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="altered"):
        model_path("face_landmarker.task", folder)
    ok, text = model_status("face_landmarker.task", folder)
    assert not ok and "altered" in text


def test_face_analysis_reports_a_missing_model(tmp_path, monkeypatch):
    folder = _copy_models(tmp_path)
    (folder / "face_landmarker.task").unlink()
    monkeypatch.setenv("TRAINER_ASSETS", str(tmp_path))
    from trainer.analysis.face import FaceAnalyzer

    with pytest.raises(ModelError, match="missing"):
        FaceAnalyzer()
