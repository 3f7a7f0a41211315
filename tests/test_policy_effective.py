"""Effective settings: which value applies, whether it is locked, by which file; and the data folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from trainer.core.policy import (SETTINGS, Policy, PolicyError, SettingLocked, effective_settings,
                                 executable_policy_path, load_policy, policy_paths)


def policy_from(tmp_path: Path, *texts: str) -> Policy:
    paths = []
    for i, text in enumerate(texts):
        p = tmp_path / f"policy{i}.yaml"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return load_policy(paths)


def test_without_policy_every_setting_is_the_built_in_default():
    s = effective_settings(Policy())
    assert {x.key for x in s} == set(SETTINGS)
    assert s.allow_video_recording is True
    assert s.retention_days is None
    assert s.data_dir is None
    assert s.scenario_packs == ()
    assert s.default_feedback_mode == "live"
    assert not any(x.locked for x in s)
    assert all(x.origin == "built-in" and x.source is None for x in s)
    assert s["retention_days"].explanation() == "Built-in default."


def test_enforced_values_are_locked_and_name_their_file_and_line(tmp_path):
    pol = policy_from(tmp_path, "note: Ask the simulation lab.\n# comment\nallow_video_recording: false\n")
    s = effective_settings(pol)
    rec = s["allow_video_recording"]
    assert rec.value is False and rec.locked and rec.origin == "policy"
    assert rec.source == tmp_path / "policy0.yaml" and rec.line == 3
    assert rec.explanation() == f"Locked by site policy ({tmp_path / 'policy0.yaml'}:3). Ask the simulation lab."
    assert not s.is_locked("retention_days")
    assert s.policy_files == (tmp_path / "policy0.yaml",)
    with pytest.raises(SettingLocked) as err:
        s.check_can_change("allow_video_recording")
    assert "cannot be changed on this machine" in str(err.value)
    assert "policy0.yaml:3" in str(err.value)
    s.check_can_change("retention_days")  # not locked: no error


def test_user_values_apply_unless_enforced(tmp_path):
    pol = policy_from(tmp_path, "retention_days: 30\ndefaults:\n  default_feedback_mode: after_action\n")
    s = effective_settings(pol, user={"retention_days": 365, "default_feedback_mode": "off"})
    assert s.retention_days == 30 and s.is_locked("retention_days")
    assert s.ignored_user_values == ("retention_days",)
    # A policy default is only a starting value: the user's choice wins and it is not locked.
    assert s.default_feedback_mode == "off"
    assert s["default_feedback_mode"].origin == "user"
    s2 = effective_settings(pol)
    fm = s2["default_feedback_mode"]
    assert fm.value == "after_action" and not fm.locked and fm.origin == "policy default" and fm.line == 3
    assert "you may change it" in fm.explanation()


def test_user_values_are_validated():
    with pytest.raises(ValueError, match="default_feedback_mode: expected one of"):
        effective_settings(Policy(), user={"default_feedback_mode": "sometimes"})
    with pytest.raises(ValueError, match="unknown setting"):
        effective_settings(Policy(), user={"colour": "blue"})


def test_first_file_wins_per_key(tmp_path):
    pol = policy_from(tmp_path,
                      "retention_days: 30\n",
                      "retention_days: 90\nallow_video_recording: false\n")
    s = effective_settings(pol)
    assert s.retention_days == 30 and s["retention_days"].source == tmp_path / "policy0.yaml"
    # Keys the first file does not set come from the second.
    assert s.allow_video_recording is False and s["allow_video_recording"].source == tmp_path / "policy1.yaml"


def test_packaged_app_also_reads_the_file_beside_its_executable(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINER_POLICY", raising=False)
    assert executable_policy_path() is None  # from source, the "executable" is Python itself
    exe = tmp_path / "app" / "trainer"
    exe.parent.mkdir()
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert executable_policy_path() == exe.parent / "policy.yaml"
    assert policy_paths()[-1] == exe.parent / "policy.yaml"
    (exe.parent / "policy.yaml").write_text("default_feedback_mode: off\n")
    if not policy_paths()[0].exists():  # a machine-wide policy on this machine would take precedence
        assert effective_settings().default_feedback_mode == "off"


def test_data_dir_follows_the_policy(tmp_path, monkeypatch):
    from trainer.store.paths import data_dir, default_db_path

    p = tmp_path / "policy.yaml"
    p.write_text(f"data_dir: {tmp_path / 'programme-data'}\n")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    # $TRAINER_DATA_DIR (set for every test) still comes first...
    assert data_dir() == Path(__import__("os").environ["TRAINER_DATA_DIR"])
    # ...and without it the policy decides.
    monkeypatch.delenv("TRAINER_DATA_DIR")
    assert data_dir() == tmp_path / "programme-data"
    assert default_db_path() == tmp_path / "programme-data" / "sessions.sqlite3"
    # An unreadable policy stops the app instead of storing sessions somewhere the programme forbade.
    p.write_text("data_dir: relative\n")
    with pytest.raises(PolicyError, match="data_dir"):
        data_dir()
    monkeypatch.setenv("TRAINER_POLICY", "")
    assert data_dir().name == "VideoVisitTrainer"
