#!/usr/bin/env bash
# Set-up shared by run-app.sh and run-tests.sh: system libraries (Debian/Ubuntu, via apt when missing),
# a virtual environment in .venv and the Python packages. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Libraries Qt's xcb/offscreen platforms, OpenGL/EGL and PortAudio load at run time, plus Xvfb for the
# tests that open real windows and for running the app on a machine without a screen. libpulse0: Qt
# Multimedia (recorded patient clips) will not import without it. strace: the test that proves the app
# makes no network connection traces its system calls.
APT_PACKAGES=(libportaudio2 libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libx11-xcb1
  libpulse0 fonts-dejavu-core xvfb xauth x11-apps strace)

if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "[setup] installing system packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "[setup] please run as root: apt-get install ${missing[*]}" >&2; exit 1; fi
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "[setup] not a Debian-family system: install PortAudio and Qt's X11/EGL libraries yourself (see README)."
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "[setup] Python 3.11 or newer is required; found $("$PY" --version 2>&1)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating the virtual environment in .venv"
  "$PY" -m venv .venv
fi

# Reinstall only when pyproject.toml changed since the last successful install.
stamp=.venv/.trainer-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[setup] installing Python packages (first run takes a minute or two)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
  touch "$stamp"
fi
