#!/usr/bin/env bash
# Sets everything up on first use, then opens the trainer. Arguments go to `trainer`, e.g.
#   scripts/run-app.sh --camera my_video.mp4
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [ "$(uname -s)" = "Linux" ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
   && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "[run] no screen found (DISPLAY is not set): starting the app on a virtual screen (Xvfb)."
  echo "[run] it cannot be seen from here; run this on a desktop session to use the app."
  exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/trainer "$@"
fi
exec .venv/bin/trainer "$@"
