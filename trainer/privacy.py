"""The two privacy promises of the README, made true in one place: nothing leaves the machine, and what
the app writes is readable by the user only.

**No network.** Two native libraries the trainer loads would phone home if left alone:

- *onnxruntime* (Silero VAD, the patient's voice) sends telemetry and keeps a device id and an event queue
  under ``$HOME/.cache/Microsoft/``. ``ORT_DISABLE_TELEMETRY=1``, read when its environment is created,
  turns both off.
- *MediaPipe Tasks* (the face landmarker) starts a usage logger for every task it creates: its native
  ``TaskRunner::Create`` calls ``CreateTasksLogger``, which builds a libcurl client that posts protobuf
  logs to Google's logging endpoint from a worker thread. MediaPipe offers no option, variable or other
  loader that skips it (the Python options only carry the CA bundle the client uses). The switch is
  libcurl's own: the client sets no ``CURLOPT_PROXY``, so libcurl takes its proxy from ``https_proxy`` /
  ``HTTPS_PROXY``. We set both to a scheme libcurl does not support (``OFFLINE_PROXY``) and reduce
  ``no_proxy`` / ``NO_PROXY`` to the loopback names, so each logger request fails inside libcurl before any name lookup or
  connect (``tests/test_privacy_network.py`` traces the system calls to prove it). It also keeps a site's
  real proxy from carrying MediaPipe's logs.

The proxy values the site had before are kept: `site_proxies()` gives them to the one sender a site
policy may enable (its learning-record endpoint), which must pass them explicitly
(``urllib.request.ProxyHandler(site_proxies())``) rather than read the environment.

MediaPipe's vision package also imports matplotlib, which would write a font cache under ``~/.cache`` and
``~/.config``; ``MPLCONFIGDIR`` points it at the app's own cache folder.

`apply_offline_switches()` runs when the ``trainer`` package is imported, before any of these libraries
can be loaded, and again (idempotently) before a landmarker or an ONNX session is created.

**Private files.** `private_dir` / `private_file` create or tighten folders to 0700 and files to 0600 on
POSIX (other platforms keep their per-user defaults); `restrict_umask()` makes everything else the
process creates (CSV output, caches) private too. A folder the user does not own (a shared policy
``data_dir`` set up by an administrator) is left as it is and reported by `permission_problems`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OFFLINE_PROXY = "trainer-offline://no-network"  # a scheme libcurl rejects without resolving anything
_PROXY_VARS = ("https_proxy", "HTTPS_PROXY")  # MediaPipe's endpoint is https; plain http is left alone
_NO_PROXY_VARS = ("no_proxy", "NO_PROXY")
# Loopback stays direct for everyone (local test servers); nothing else bypasses the refusing proxy.
LOOPBACK_NO_PROXY = "localhost,127.0.0.1,::1"
_site_proxies: dict[str, str] | None = None

POSIX = os.name == "posix"


def apply_offline_switches() -> None:
    """Turn off onnxruntime's telemetry and MediaPipe's usage logger and keep matplotlib's cache in the
    app's folder (see the module docstring). Safe to call many times."""
    global _site_proxies
    if _site_proxies is None:
        _site_proxies = {}
        for name in ("HTTPS_PROXY", "https_proxy"):  # lower case wins, as in libcurl and urllib
            value = os.environ.get(name)
            if value and value != OFFLINE_PROXY:
                _site_proxies["https"] = value
        no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
        if no_proxy and no_proxy != LOOPBACK_NO_PROXY:
            _site_proxies["no"] = no_proxy
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    for name in _PROXY_VARS:
        os.environ[name] = OFFLINE_PROXY
    for name in _NO_PROXY_VARS:
        os.environ[name] = LOOPBACK_NO_PROXY
    os.environ["MPLCONFIGDIR"] = str(cache_root() / "matplotlib")


def offline_switches_active() -> list[str]:
    """Which switches are missing (empty when all are in place); for `trainer doctor`."""
    missing = []
    if os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
        missing.append("onnxruntime telemetry is not disabled (ORT_DISABLE_TELEMETRY)")
    if any(os.environ.get(n) != OFFLINE_PROXY for n in _PROXY_VARS) \
            or any(os.environ.get(n, LOOPBACK_NO_PROXY) != LOOPBACK_NO_PROXY for n in _NO_PROXY_VARS):
        missing.append("MediaPipe's usage logger is not blocked (https_proxy/no_proxy were changed)")
    return missing


def site_proxies() -> dict[str, str]:
    """The proxy settings the environment had before `apply_offline_switches` replaced them, in
    ``urllib.request.ProxyHandler`` form (``{"https": ..., "no": ...}``)."""
    return dict(_site_proxies or {})


def cache_root() -> Path:
    """The app's per-user cache folder: $TRAINER_CACHE_DIR, else the platform's (platformdirs)."""
    env = os.environ.get("TRAINER_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("VideoVisitTrainer", appauthor=False))


def restrict_umask() -> None:
    """New files 0600 and folders 0700 for the rest of the process (POSIX)."""
    if POSIX:
        os.umask(0o077)


def _owned(st: os.stat_result) -> bool:
    return not POSIX or st.st_uid == os.getuid()


def private_dir(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """Create `path` and make it 0700 (when this user owns it), together with every folder between it and
    `root` (the app's own folder; default: `path` alone) and every missing parent it had to create.
    Returns the path. Raises OSError as mkdir does."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass
    if POSIX:
        chain = [path]
        if root is not None and path.is_relative_to(root):
            q = path
            while q != Path(root) and q.parent != q:
                q = q.parent
                chain.append(q)
        for d in chain + missing:
            st = d.stat()
            if _owned(st) and stat.S_IMODE(st.st_mode) != 0o700:
                os.chmod(d, 0o700)
    return path


def private_file(path: str | os.PathLike) -> None:
    """Make an existing file 0600 when this user owns it (missing files are ignored)."""
    if not POSIX:
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if _owned(st) and stat.S_IMODE(st.st_mode) != 0o600:
        os.chmod(path, 0o600)


def permission_problems(root: str | os.PathLike) -> list[str]:
    """Folders under `root` (itself included) readable by others than the user, and files readable by
    others; for `trainer doctor` and tests. Empty on non-POSIX platforms."""
    if not POSIX:
        return []
    root = Path(root)
    problems = []
    if not root.exists():
        return problems
    for dirpath, dirnames, filenames in os.walk(root):
        for name, want in [(dirpath, 0o700)] + [(os.path.join(dirpath, f), 0o600) for f in filenames]:
            try:
                mode = stat.S_IMODE(os.lstat(name).st_mode)
            except FileNotFoundError:
                continue
            if mode & 0o077:
                problems.append(f"{name} is {oct(mode)[2:]} (should be {oct(want)[2:]})")
    return problems
