#!/usr/bin/env bash
# Sets everything up on first use, then runs the whole test suite in two passes:
#   1. every test not marked `gui`, with Qt made unimportable (proves the non-UI layers never need it);
#   2. the `gui` tests, with Qt offscreen (and Xvfb for the one real-window test).
# Extra arguments go to both pytest passes. "No tests collected" counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PYTHONDONTWRITEBYTECODE=1
status=0
echo "[tests] pass 1/2: core, capture, analysis, store, cli (Qt blocked)"
TRAINER_BLOCK_QT=1 .venv/bin/python -m pytest -p no:pytest-qt -m "not gui" "$@" || status=$?
if [ $status -ne 0 ]; then echo "[tests] pass 1 failed (exit $status)"; exit $status; fi
echo "[tests] pass 2/2: GUI (Qt offscreen)"
QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -m gui "$@" || status=$?
if [ $status -ne 0 ]; then echo "[tests] pass 2 failed (exit $status)"; fi
exit $status
