"""Site policy files: parsing, validation and the errors IT staff see (file:line and the key)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trainer.core.policy import (FEEDBACK_MODES, PolicyError, load_policy, parse_policy, read_policy_file,
                                 system_policy_path)


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def test_full_policy_is_read_with_values_and_lines(tmp_path):
    p = write(tmp_path, """
        version: 1
        note: "Programme rule: no stored video on shared workstations."
        allow_video_recording: false
        retention_days: 90
        data_dir: /srv/trainer
        scenario_packs: [/opt/packs, local-packs]
        defaults:
          default_feedback_mode: after_action
        """)
    f = read_policy_file(p)
    assert f.note.startswith("Programme rule")
    assert f.enforced["allow_video_recording"].value is False
    assert f.enforced["allow_video_recording"].line == 3
    assert f.enforced["retention_days"].value == 90
    assert f.enforced["data_dir"].value == "/srv/trainer"
    # Relative pack folders are relative to the policy file's own folder.
    assert f.enforced["scenario_packs"].value == ("/opt/packs", str(tmp_path / "local-packs"))
    assert f.defaults["default_feedback_mode"].value == "after_action"
    assert f.defaults["default_feedback_mode"].line == 8
    assert "default_feedback_mode" not in f.enforced


@pytest.mark.parametrize("line, expect", [
    ("allow_video_recording: 'no'", "allow_video_recording: expected true or false, got 'no'"),
    ("retention_days: 0", "retention_days: expected between 1 and 36500 days, got 0"),
    ("retention_days: true", "retention_days: expected a whole number of days"),
    ("retention_days: 30.5", "retention_days: expected a whole number of days"),
    ("data_dir: relative/folder", "data_dir: 'relative/folder' is not an absolute path"),
    ("data_dir: 42", "data_dir: expected a folder path, got the number 42"),
    ("scenario_packs: /opt/packs", "scenario_packs: expected a list of folders"),
    ("scenario_packs: [/opt/a, 3]", "scenario_packs: item 2: expected a folder path"),
    ("default_feedback_mode: sometimes", "default_feedback_mode: expected one of live, after_action, off"),
])
def test_bad_values_name_file_line_and_key(tmp_path, line, expect):
    p = write(tmp_path, f"# programme policy\nversion: 1\n{line}\n")
    with pytest.raises(PolicyError) as err:
        read_policy_file(p)
    e = err.value
    assert e.line == 3
    assert e.key == line.split(":")[0]
    assert str(e).startswith(f"{p}:3: ")
    assert expect in str(e)


def test_unknown_key_suggests_the_close_one(tmp_path):
    p = write(tmp_path, "allow_video_recording: true\nretention_day: 30\n")
    with pytest.raises(PolicyError) as err:
        read_policy_file(p)
    assert err.value.line == 2 and err.value.key == "retention_day"
    assert "unknown key 'retention_day'" in str(err.value)
    assert "Did you mean 'retention_days'?" in str(err.value)


def test_errors_inside_defaults_carry_the_prefix_and_line(tmp_path):
    p = write(tmp_path, "version: 1\ndefaults:\n  default_feedback_mode: loud\n")
    with pytest.raises(PolicyError) as err:
        read_policy_file(p)
    assert err.value.line == 3
    assert "defaults.default_feedback_mode" in str(err.value)


def test_a_key_both_enforced_and_default_is_refused(tmp_path):
    p = write(tmp_path, "retention_days: 30\ndefaults:\n  retention_days: 60\n")
    with pytest.raises(PolicyError) as err:
        read_policy_file(p)
    assert err.value.line == 3
    assert "both enforced (top level, line 1)" in str(err.value)


def test_yaml_syntax_error_points_at_the_line(tmp_path):
    p = write(tmp_path, "allow_video_recording: false\nretention_days: [30\n")
    with pytest.raises(PolicyError) as err:
        read_policy_file(p)
    assert err.value.line is not None and err.value.line >= 2
    assert "YAML syntax error" in str(err.value)
    assert err.value.title == "Site policy problem"


@pytest.mark.parametrize("text, expect", [
    ("", "the file is empty"),
    ("- allow_video_recording\n", "must be a set of 'key: value' lines"),
    ("version: 2\n", "this app reads policy version 1"),
    ("version: true\n", "this app reads policy version 1"),
    ("note: [a, b]\n", "note: expected text"),
    ("defaults: live\n", "defaults: expected 'key: value' lines"),
    ("retention_days: 5\nretention_days: 6\n", "appears twice"),
])
def test_malformed_files(tmp_path, text, expect):
    with pytest.raises(PolicyError) as err:
        parse_policy(text, tmp_path / "p.yaml")
    assert expect in str(err.value)


def test_environment_variables_in_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINER_TEST_SHARE", "/mnt/share")
    f = parse_policy("data_dir: $TRAINER_TEST_SHARE/trainer\nscenario_packs: ['${TRAINER_TEST_SHARE}/packs']\n",
                     tmp_path / "p.yaml")
    assert f.enforced["data_dir"].value == "/mnt/share/trainer"
    assert f.enforced["scenario_packs"].value == ("/mnt/share/packs",)
    monkeypatch.delenv("TRAINER_TEST_SHARE")
    with pytest.raises(PolicyError) as err:
        parse_policy("data_dir: $TRAINER_TEST_SHARE/trainer\n", tmp_path / "p.yaml")
    assert "environment variable that is not set" in str(err.value)


@pytest.mark.parametrize("word", ["off", "'off'", "false", "no"])
def test_unquoted_off_is_the_off_mode(tmp_path, word):
    # YAML 1.1 turns an unquoted `off` into a boolean; IT staff should not have to know that.
    f = parse_policy(f"default_feedback_mode: {word}\n", tmp_path / "p.yaml")
    assert f.enforced["default_feedback_mode"].value == "off"


def test_null_values_mean_the_built_in_behaviour(tmp_path):
    f = parse_policy("retention_days: null\ndata_dir: null\nscenario_packs: null\n", tmp_path / "p.yaml")
    assert f.enforced["retention_days"].value is None
    assert f.enforced["data_dir"].value is None
    assert f.enforced["scenario_packs"].value == ()


def test_unreadable_files(tmp_path):
    with pytest.raises(PolicyError, match="file not found"):
        read_policy_file(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("note: caf\xe9\n".encode("latin-1"))
    with pytest.raises(PolicyError, match="not UTF-8"):
        read_policy_file(bad)


def test_system_locations_per_platform(monkeypatch):
    assert system_policy_path("linux") == Path("/etc/video-visit-trainer/policy.yaml")
    assert system_policy_path("darwin") == Path("/Library/Application Support/VideoVisitTrainer/policy.yaml")
    monkeypatch.setenv("PROGRAMDATA", "D:\\PD")
    assert system_policy_path("win32") == Path("D:\\PD") / "VideoVisitTrainer" / "policy.yaml"


def test_env_override_selects_exactly_one_file(tmp_path, monkeypatch):
    p = write(tmp_path, "retention_days: 14\n")
    monkeypatch.setenv("TRAINER_POLICY", str(p))
    pol = load_policy()
    assert [f.path for f in pol.files] == [p]
    # Named explicitly but missing: an error, not a silent "no policy".
    monkeypatch.setenv("TRAINER_POLICY", str(tmp_path / "missing.yaml"))
    with pytest.raises(PolicyError, match="file not found"):
        load_policy()
    # Empty: no policy at all, whatever is installed on the machine.
    monkeypatch.setenv("TRAINER_POLICY", "")
    assert load_policy().files == () and load_policy().searched == ()


def test_standard_locations_are_skipped_when_absent(tmp_path):
    present = write(tmp_path, "retention_days: 7\n")
    pol = load_policy([tmp_path / "absent.yaml", present])
    assert [f.path for f in pol.files] == [present]
    assert len(pol.searched) == 2


def test_feedback_modes_are_the_documented_ones():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text(encoding="utf-8")
    for mode in FEEDBACK_MODES:
        assert f"`{mode}`" in doc
