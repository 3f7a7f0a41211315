"""Site policy: settings a training programme fixes for every user of a machine.

A policy file is YAML (documented in docs/policy.md). Keys at the top level are *enforced*: users cannot
change them and the app shows them as locked. Keys under `defaults:` are starting values a user may change.

    version: 1
    note: "Programme rule: no video is stored on shared workstations. Questions: IT helpdesk."
    allow_video_recording: false
    retention_days: 90
    data_dir: /srv/trainer-data/$USER
    scenario_packs: [/opt/programme-scenarios]
    lms:                                   # results to a Learning Record Store (xAPI); absent = nothing sent
      endpoint: https://lrs.example.org/xapi/
      credentials_file: /etc/video-visit-trainer/lrs-credentials
      learner: account
      account_homepage: https://lms.example.org
    defaults:
      default_feedback_mode: after_action

Where the app looks (first listed wins for each key, see `policy_paths`):
  1. $TRAINER_POLICY when it is set (only that file; set it to an empty string to apply no policy at all);
  2. the system-wide file: Linux /etc/video-visit-trainer/policy.yaml, Windows
     %PROGRAMDATA%\\VideoVisitTrainer\\policy.yaml, macOS /Library/Application Support/VideoVisitTrainer/policy.yaml;
  3. policy.yaml next to the app's executable (packaged builds only), for deployments copied to a share.

Errors name the file, the line and the key, so the person who wrote the file can fix it.
Pure Python + PyYAML (via trainer.core.yamlpos): no Qt, no platform libraries.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from trainer.core.errors import ScenarioError, TrainerError
from trainer.core.i18n import N_
from trainer.core.yamlpos import LDict, load_located

POLICY_ENV = "TRAINER_POLICY"
POLICY_FILENAME = "policy.yaml"
FEEDBACK_MODES = ("live", "after_action", "off")
MAX_RETENTION_DAYS = 36500  # a hundred years: anything longer is a typo


class PolicyError(TrainerError):
    """A policy file cannot be read or has an invalid value; names file:line and the key."""

    title = N_("Site policy problem")

    def __init__(self, path: str | Path, message: str, *, line: int | None = None, key: str | None = None):
        self.path = str(path)
        self.line = line
        self.key = key
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}",
                         hint="The site policy is set by your training programme's IT staff; "
                              "ask them to correct this file (see docs/policy.md).")
        self.detail = message


class SettingLocked(TrainerError):
    """A user tried to change a setting the site policy enforces."""

    title = N_("Setting locked by site policy")


# -- the settings ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    default: Any
    check: Callable[[Any, "Path"], Any]  # returns the normalised value or raises ValueError(reason)
    help: str
    # False for a key a policy may carry but this version of the app does not act on (About hides it, so
    # it never claims an effect that does not exist); the value is still validated.
    in_effect: bool = True
    # False for keys only the enforced (top) level may set: a user-changeable default makes no sense.
    default_allowed: bool = True


def _check_bool(value: Any, _base: Path) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {_show(value)}")


def _check_retention(value: Any, _base: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number of days (or null to keep sessions forever), got {_show(value)}")
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise ValueError(f"expected between 1 and {MAX_RETENTION_DAYS} days, got {value}")
    return value


def _expand(text: str) -> str:
    expanded = os.path.expandvars(os.path.expanduser(text))
    if "$" in expanded or (sys.platform == "win32" and "%" in expanded):
        raise ValueError(f"'{text}' uses an environment variable that is not set here")
    return expanded


def _check_data_dir(value: Any, _base: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a folder path, got {_show(value)}")
    path = _expand(value.strip())
    if not Path(path).is_absolute():
        raise ValueError(f"'{value}' is not an absolute path (a data folder must not depend on where the app "
                         "was started)")
    return path


def _check_packs(value: Any, base: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"expected a list of folders, e.g. [/opt/scenario-packs], got {_show(value)}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"item {i + 1}: expected a folder path, got {_show(item)}")
        p = Path(_expand(item.strip()))
        # Relative folders are relative to the policy file, so a deployment can ship packs beside it.
        out.append(str(p if p.is_absolute() else (base / p)))
    return tuple(out)


def _check_mode(value: Any, _base: Path) -> str:
    if value is False:
        # YAML 1.1 reads an unquoted `off` (and `no`, `false`) as the boolean false; all mean "off" here.
        return "off"
    if value not in FEEDBACK_MODES:
        raise ValueError(f"expected one of {', '.join(FEEDBACK_MODES)}, got {_show(value)}")
    return value


LANGUAGE_CHOICES = ("system", "en", "fr_CA")
CAPTION_SIZES = {"normal": 1.0, "large": 1.3, "larger": 1.6, "largest": 2.0}  # x the default caption font
CAPTION_CONTRASTS = ("standard", "high")
TURN_TIME_LIMITS = {"normal": 1.0, "extended": 2.0, "off": None}  # x each turn's timeout_s; None = no limit


def _check_choice(choices):
    def check(value: Any, _base: Path) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {_show(value)}")
        return value
    return check


LEARNER_SCHEMES = ("account", "mbox")


@dataclass(frozen=True)
class LmsPolicy:
    """Where results go (xAPI, docs/xapi.md): the LRS endpoint, the file holding its credentials (never
    the policy itself: policy files are readable by every user), and how the learner is identified."""

    endpoint: str
    credentials_file: str
    learner: str = "account"  # "account": {homePage, name = login}; "mbox": mailto:login@mbox_domain
    account_homepage: str = ""
    mbox_domain: str = ""
    activity_base: str = "https://video-visit-trainer.invalid/scenarios/"
    platform: str = "Video-Visit Trainer"

    def describe(self) -> str:
        """One line for About and `trainer lms status`."""
        from trainer.core.i18n import _

        return _("{endpoint} (learners identified by {scheme})").format(endpoint=self.endpoint, scheme=self.learner)


_LMS_KEYS = {"endpoint", "credentials_file", "learner", "account_homepage", "mbox_domain", "activity_base",
             "platform"}


def _iri(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: expected an address such as https://lrs.example.org/xapi/, got {_show(value)}")
    text = value.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
        raise ValueError(f"{key}: '{text}' is not an http:// or https:// address")
    return text


def _check_lms(value: Any, base: Path) -> LmsPolicy | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("expected 'key: value' lines indented under it (endpoint, credentials_file, learner, "
                         f"...), got {_show(value)}")
    unknown = sorted(set(value) - _LMS_KEYS)
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), sorted(_LMS_KEYS), n=1)
        raise ValueError(f"unknown key '{unknown[0]}'." + (f" Did you mean '{close[0]}'?" if close else "")
                         + f" Known keys: {', '.join(sorted(_LMS_KEYS))}")
    for key in ("endpoint", "credentials_file"):
        if key not in value:
            raise ValueError(f"'{key}' is required")
    endpoint = _iri(value["endpoint"], "endpoint")
    if not endpoint.endswith("/"):
        endpoint += "/"  # the statements resource is endpoint + "statements"
    creds = value["credentials_file"]
    if not isinstance(creds, str) or not creds.strip():
        raise ValueError(f"credentials_file: expected a file path, got {_show(creds)}")
    creds_path = Path(_expand(creds.strip()))
    creds_path = creds_path if creds_path.is_absolute() else base / creds_path
    learner = value.get("learner", "account")
    if learner not in LEARNER_SCHEMES:
        raise ValueError(f"learner: expected one of {', '.join(LEARNER_SCHEMES)}, got {_show(learner)}")
    out = {"endpoint": endpoint, "credentials_file": str(creds_path), "learner": learner}
    if learner == "account":
        if "account_homepage" not in value:
            raise ValueError("learner: account needs 'account_homepage' (the address of the system whose "
                             "login names identify learners, e.g. https://lms.example.org)")
        out["account_homepage"] = _iri(value["account_homepage"], "account_homepage")
    else:
        domain = value.get("mbox_domain")
        if not isinstance(domain, str) or not domain.strip() or "@" in domain or "/" in domain:
            raise ValueError("learner: mbox needs 'mbox_domain' (learners become mailto:LOGIN@DOMAIN), got "
                             f"{_show(domain)}")
        out["mbox_domain"] = domain.strip()
    if "activity_base" in value:
        base_iri = _iri(value["activity_base"], "activity_base")
        out["activity_base"] = base_iri if base_iri.endswith("/") else base_iri + "/"
    if "platform" in value:
        if not isinstance(value["platform"], str) or not value["platform"].strip():
            raise ValueError(f"platform: expected text, got {_show(value['platform'])}")
        out["platform"] = value["platform"].strip()
    return LmsPolicy(**out)


SETTINGS: dict[str, SettingSpec] = {s.key: s for s in (
    SettingSpec("allow_video_recording", "Video recording allowed", True, _check_bool,
                "Whether a learner may record their own camera video (with the patient's voice) for the debrief. "
                "Even when allowed, a visit is recorded only if the learner ticks \"Record this visit for my "
                "debrief\" before it starts; the video stays on this computer beside the sessions and is "
                "deleted with its session."),
    SettingSpec("retention_days", "Keep sessions for (days)", None, _check_retention,
                "Sessions older than this are deleted when the app starts; otherwise they are kept until deleted."),
    SettingSpec("data_dir", "Data folder", None, _check_data_dir,
                "Where your sessions are stored."),
    SettingSpec("scenario_packs", "Extra scenario folders", (), _check_packs,
                "Folders of scenario packs offered next to the built-in scenarios."),
    SettingSpec("default_feedback_mode", "Feedback mode", "live", _check_mode,
                "Live: coaching during the visit; after the visit: only in the debrief; off: no feedback."),
    SettingSpec("language", "Language", "system", _check_choice(LANGUAGE_CHOICES),
                "The app's language. The patient's voice is English (no French voice is available offline); in "
                "French the patient's words are shown as French captions."),
    SettingSpec("caption_size", "Caption size", "normal", _check_choice(tuple(CAPTION_SIZES)),
                "Size of the patient's captions and the coaching text during a visit."),
    SettingSpec("caption_contrast", "Caption contrast", "standard", _check_choice(CAPTION_CONTRASTS),
                "Standard: white text on a dark band over the video; high: yellow text on opaque black."),
    SettingSpec("live_captions", "Live captions of what you say", False, _check_bool,
                "Whether visits start with your own words shown as live captions (transcribed on this computer). "
                "Turning them on or off during a visit (Captions, Ctrl+K) changes this setting too."),
    SettingSpec("turn_time_limits", "Time limits for your turns", "normal", _check_choice(tuple(TURN_TIME_LIMITS)),
                "How long the patient waits for you to answer before carrying on."),
    SettingSpec("lms", "Results sent to a learning record store", None, _check_lms,
                "When set, each completed visit's results are queued on this computer and sent as xAPI "
                "statements to the programme's learning record store; when not set, nothing leaves the computer.",
                default_allowed=False),
    SettingSpec("allow_transcripts", "Transcripts of what you say kept", False, _check_bool,
                "Whether the clinician's words, as transcribed on this machine, are stored with a session "
                "(and written by trainer analyze --transcribe). When false the words are discarded after "
                "labelling and only the verbal labels (question type, empathy, jargon, ...) are kept."),
)}

_META_KEYS = {"version", "note", "defaults"}


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "nothing (null)"
    kind = {bool: "true/false", int: "the number", float: "the number", list: "the list",
            dict: "the mapping"}.get(type(value), "the value")  # words, not Python class names
    return f"{kind} {value!r}"


# -- one policy file ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyValue:
    value: Any
    line: int


@dataclass(frozen=True)
class PolicyFile:
    """One parsed, validated policy file."""

    path: Path
    enforced: dict[str, PolicyValue]
    defaults: dict[str, PolicyValue]
    note: str = ""


def _unknown_key(path: Path, key: str, line: int, where: str) -> PolicyError:
    known = sorted(SETTINGS) + ([] if where else sorted(_META_KEYS))
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return PolicyError(path, f"unknown key '{where}{key}'.{hint} Known keys: {', '.join(known)}",
                       line=line, key=str(key))


def _validate(path: Path, m: LDict, prefix: str) -> dict[str, PolicyValue]:
    out: dict[str, PolicyValue] = {}
    for key, raw in m.items():
        line = m.where(key)[0]
        spec = SETTINGS.get(key)
        if spec is None:
            raise _unknown_key(path, key, line, prefix)
        if prefix and not spec.default_allowed:
            raise PolicyError(path, f"{prefix}{key}: can only be set at the top level (enforced), not as a "
                                    "default users may change", line=line, key=key)
        try:
            out[key] = PolicyValue(spec.check(raw, path.parent), line)
        except ValueError as exc:
            raise PolicyError(path, f"{prefix}{key}: {exc}", line=line, key=key) from None
    return out


def parse_policy(text: str, path: str | Path) -> PolicyFile:
    """Parse and validate the text of a policy file; raises PolicyError naming file:line and the key."""
    path = Path(path)
    try:
        doc = load_located(text, str(path))
    except ScenarioError as exc:  # yamlpos reports positions as ScenarioError; re-badge it
        raise PolicyError(path, exc.detail, line=exc.line) from None
    if not isinstance(doc, LDict):
        raise PolicyError(path, "a policy file must be a set of 'key: value' lines", line=1)
    top = LDict({k: v for k, v in doc.items() if k not in _META_KEYS})
    top.pos, top.key_pos = doc.pos, doc.key_pos
    version = doc.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise PolicyError(path, f"version: this app reads policy version 1, the file says {_show(version)}",
                          line=doc.where("version")[0], key="version")
    note = doc.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise PolicyError(path, f"note: expected text, got {_show(note)}", line=doc.where("note")[0], key="note")
    enforced = _validate(path, top, "")
    defaults: dict[str, PolicyValue] = {}
    if "defaults" in doc and doc["defaults"] is not None:
        raw_defaults = doc["defaults"]
        if not isinstance(raw_defaults, LDict):
            raise PolicyError(path, "defaults: expected 'key: value' lines indented under it",
                              line=doc.where("defaults")[0], key="defaults")
        defaults = _validate(path, raw_defaults, "defaults.")
        for key in defaults:
            if key in enforced:
                raise PolicyError(path, f"'{key}' is both enforced (top level, line {enforced[key].line}) and a "
                                        "default under 'defaults:'; keep one", line=defaults[key].line, key=key)
    return PolicyFile(path, enforced, defaults, note.strip())


def read_policy_file(path: str | Path) -> PolicyFile:
    """Read and validate one policy file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(p, "file not found") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(p, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise PolicyError(p, f"cannot read the file: {exc.strerror or exc}") from None
    return parse_policy(text, p)


# -- where policy files are ----------------------------------------------------------------------------

def system_policy_path(platform: str | None = None) -> Path:
    """The machine-wide policy file for this operating system."""
    platform = platform or sys.platform
    if platform == "win32":
        root = os.environ.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(root) / "VideoVisitTrainer" / POLICY_FILENAME
    if platform == "darwin":
        return Path("/Library/Application Support/VideoVisitTrainer") / POLICY_FILENAME
    return Path("/etc/video-visit-trainer") / POLICY_FILENAME


def executable_policy_path() -> Path | None:
    """policy.yaml beside the packaged app's executable; None when running from source (there the
    'executable' is the Python interpreter, and a file beside it would apply to every Python program)."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(sys.executable).resolve().parent / POLICY_FILENAME


def policy_paths() -> list[Path]:
    """The policy files the app considers, highest precedence first (whether or not they exist)."""
    env = os.environ.get(POLICY_ENV)
    if env is not None:
        return [Path(env)] if env.strip() else []
    paths = [system_policy_path()]
    beside = executable_policy_path()
    if beside is not None:
        paths.append(beside)
    return paths


@dataclass(frozen=True)
class Policy:
    """The policy files that apply, highest precedence first, and where the app looked."""

    files: tuple[PolicyFile, ...] = ()
    searched: tuple[Path, ...] = ()


def load_policy(paths: Iterable[str | Path] | None = None) -> Policy:
    """Load every policy file that exists among `paths` (default: `policy_paths()`).

    A file named by $TRAINER_POLICY must exist; the standard locations are simply skipped when absent.
    An invalid file raises PolicyError: a policy the app cannot read is never silently ignored.
    """
    explicit = paths is None and bool(os.environ.get(POLICY_ENV, "").strip())
    candidates = [Path(p) for p in (policy_paths() if paths is None else paths)]
    files = []
    for p in candidates:
        if explicit or p.is_file():
            files.append(read_policy_file(p))
    return Policy(tuple(files), tuple(candidates))


# -- effective settings --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One setting's value and where it comes from."""

    key: str
    label: str
    value: Any
    locked: bool
    origin: str  # "policy" (enforced) | "policy default" | "user" | "built-in"
    source: Path | None = None
    line: int | None = None
    note: str = ""

    def explanation(self, with_note: bool = True) -> str:
        """Why the setting has this value, in words a user can pass on to IT (with the policy's note,
        unless `with_note` is false because the note is shown elsewhere)."""
        from trainer.core.i18n import _

        where = f"{self.source}:{self.line}" if self.source is not None else ""
        if self.origin == "policy":
            why = _("Locked by site policy ({where}).").format(where=where)
            return f"{why} {self.note}" if self.note and with_note else why
        if self.origin == "policy default":
            return _("Default set by site policy ({where}); you may change it.").format(where=where)
        if self.origin == "user":
            return _("Your own setting.")
        return _("Built-in default.")


@dataclass(frozen=True)
class EffectiveSettings:
    """Every setting's value, whether it is locked, and by which file."""

    settings: dict[str, Setting]
    policy: Policy = field(default_factory=Policy)
    ignored_user_values: tuple[str, ...] = ()  # user values the policy overrides

    def __getitem__(self, key: str) -> Setting:
        return self.settings[key]

    def __iter__(self):
        return iter(self.settings.values())

    def value(self, key: str) -> Any:
        return self.settings[key].value

    def is_locked(self, key: str) -> bool:
        return self.settings[key].locked

    def check_can_change(self, key: str) -> None:
        """Raise SettingLocked when the policy enforces `key`."""
        s = self.settings[key]
        if s.locked:
            raise SettingLocked(f"'{s.label}' cannot be changed on this machine. {s.explanation()}")

    @property
    def allow_video_recording(self) -> bool:
        return self.value("allow_video_recording")

    @property
    def retention_days(self) -> int | None:
        return self.value("retention_days")

    @property
    def data_dir(self) -> str | None:
        return self.value("data_dir")

    @property
    def scenario_packs(self) -> tuple[str, ...]:
        return self.value("scenario_packs")

    @property
    def default_feedback_mode(self) -> str:
        return self.value("default_feedback_mode")

    @property
    def lms(self) -> LmsPolicy | None:
        return self.value("lms")

    @property
    def language(self) -> str:
        return self.value("language")

    @property
    def caption_scale(self) -> float:
        return CAPTION_SIZES[self.value("caption_size")]

    @property
    def turn_time_scale(self) -> float | None:
        """Factor for every clinician turn's timeout; None when time limits are off."""
        return TURN_TIME_LIMITS[self.value("turn_time_limits")]

    @property
    def allow_transcripts(self) -> bool:
        return self.value("allow_transcripts")

    @property
    def policy_files(self) -> tuple[Path, ...]:
        return tuple(f.path for f in self.policy.files)


def effective_settings(policy: Policy | None = None, user: Mapping[str, Any] | None = None) -> EffectiveSettings:
    """Combine built-in defaults, policy defaults, the user's own values and enforced policy values.

    Precedence, strongest first: an enforced value from the first policy file that sets it; the user's
    value; a policy default; the built-in default. User values are validated like policy values
    (a bad one raises ValueError naming the key).
    """
    policy = load_policy() if policy is None else policy
    user = dict(user or {})
    out: dict[str, Setting] = {}
    ignored = []
    for key, spec in SETTINGS.items():
        enforced = next(((f, f.enforced[key]) for f in policy.files if key in f.enforced), None)
        if enforced is not None:
            f, pv = enforced
            out[key] = Setting(key, spec.label, pv.value, True, "policy", f.path, pv.line, f.note)
            if key in user:
                ignored.append(key)
            continue
        if key in user and not spec.default_allowed:
            ignored.append(key)  # only a policy may set it (e.g. where results are sent)
        elif key in user:
            try:
                value = spec.check(user[key], Path.cwd())
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
            out[key] = Setting(key, spec.label, value, False, "user")
            continue
        default = next(((f, f.defaults[key]) for f in policy.files if key in f.defaults), None)
        if default is not None:
            f, pv = default
            out[key] = Setting(key, spec.label, pv.value, False, "policy default", f.path, pv.line, f.note)
            continue
        out[key] = Setting(key, spec.label, spec.default, False, "built-in")
    unknown = sorted(set(user) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
    return EffectiveSettings(out, policy, tuple(ignored))
