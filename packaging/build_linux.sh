#!/usr/bin/env bash
# Build the Linux one-folder app from a clean checkout, then smoke-test it.
#
#   packaging/build_linux.sh [--ref REF] [--out DIR] [--fixture VIDEO] [--runs N] [--no-lean]
#
#   --ref REF       commit to build (default HEAD). Only committed files go in: the tree is exported with
#                   `git archive`, so uncommitted edits and untracked files never reach the bundle.
#   --out DIR       work folder (default build/linux in the checkout; build/ is git-ignored). Holds
#                   src/ (the export), venv/ (the build environment, reused while pyproject.toml is
#                   unchanged), work/ (PyInstaller's), dist/trainer/ (the app) and the .tar.gz.
#   --fixture FILE  video for the `trainer analyze` smoke test (default: talking_nods.mp4 from
#                   $TRAINER_FIXTURES or ../shared/fixtures beside the checkout; without either, a clip
#                   generated from the self-test face by packaging/make_smoke_video.py). Never shipped.
#   --runs N        launches for the first-window timing (default 3).
#   --no-lean       keep the official NumPy and OpenCV wheels: a quick build, but about 140 MB over the
#                   400 MB limit. By default (--lean) NumPy without BLAS and OpenCV with only the modules the
#                   app calls are rebuilt from the installed releases' sources by packaging/lean_wheels.py
#                   (cached in packaging/.cache or $TRAINER_BUILD_CACHE; the first build compiles for one to
#                   two hours on 2 cores, later builds reuse the cache). See docs/packaging.md, "Lean NumPy
#                   and OpenCV".
#
# Steps: system packages (apt, when missing) -> export REF -> build venv (pip install ".[packaging]";
# OpenCV swapped for the headless build; with --lean, NumPy and OpenCV rebuilt lean from the same releases'
# sources by packaging/lean_wheels.py; see docs/packaging.md)
# -> PyInstaller with packaging/trainer.spec
# -> verify the bundle against packaging/bundle_data.py (contents, and its size: at most SIZE_LIMIT_MB
# = 400 MB unpacked without the speech-to-text model) -> smoke tests on the bundle, run with a clean
# environment from an unrelated folder: `trainer --self-test`, `trainer analyze FIXTURE`, a headless visit
# (`trainer run first-checkin --headless`, the recording as camera and microphone), the bundle's OpenCV
# against the official wheel's (same decoded frames), cold start to the first window under Xvfb -> archive. Prints the unpacked size, the speech model's size, archive size and
# start time; writes DIR/figures.json. Exit status is non-zero if the build or any smoke test failed or
# the bundle is over the size limit.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REF=HEAD
OUT="$REPO/build/linux"
FIXTURE=""
RUNS=3
LEAN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) REF=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --fixture) FIXTURE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --lean) LEAN=1; shift ;;
    --no-lean) LEAN=0; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
log() { printf '[build] %s\n' "$*"; }

# -- 1. system packages: what PyInstaller needs to build (binutils: objdump, strip) and what the bundle
#       loads from the system at run time (Qt's X11/EGL libraries, PulseAudio client for Qt Multimedia,
#       PortAudio for the microphone), plus Xvfb for the first-window timing; icu-devtools (icupkg) rebuilds
#       Qt's ICU data without the locales the app does not use (bundle_data.slim_icu_data). The compilers,
#       cmake, ninja, pkg-config and headers build the lean NumPy and OpenCV (packaging/lean_wheels.py).
APT_PACKAGES=(git binutils icu-devtools python3-venv python3-dev gcc g++ make cmake ninja-build pkg-config
  zlib1g-dev linux-libc-dev xz-utils libportaudio2 libpulse0 libegl1 libgl1 libglib2.0-0 libfontconfig1
  libfreetype6 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libx11-xcb1
  fonts-dejavu-core xvfb xauth patchelf)
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing system packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  log "not a Debian-family system: make sure ${APT_PACKAGES[*]} (or equivalents) are installed"
fi

# -- 2. clean checkout of REF
COMMIT=$(git -C "$REPO" rev-parse --verify "$REF^{commit}")
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
  log "note: the working tree has uncommitted changes; they are NOT in this build (building $COMMIT)"
fi
SRC="$OUT/src"
rm -rf "$SRC"
mkdir -p "$SRC"
git -C "$REPO" archive --format=tar "$COMMIT" | tar -x -C "$SRC"
log "exported $COMMIT to $SRC"

# -- 3. build environment, reused while pyproject.toml, packaging/lean_wheels.py and the Python version are
#       unchanged
PY=${PYTHON:-python3}
VENV="$OUT/venv"
CACHE=${TRAINER_BUILD_CACHE:-$REPO/packaging/.cache}
stamp_want=$( (cat "$SRC/pyproject.toml"; "$PY" --version; [ $LEAN = 0 ] || cat "$SRC/packaging/lean_wheels.py") \
  | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp_want" ]; then
  log "creating the build environment in $VENV (first time: downloads the dependencies)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SRC[packaging]"
  # The app's modules come from $SRC (the spec puts it first on the path); drop the installed copy so a
  # stale one can never be picked up.
  "$VENV/bin/python" -m pip uninstall --quiet -y trainer
  # mediapipe requires opencv-contrib-python, which brings OpenCV's contrib modules and a Qt 5 for
  # cv2.imshow windows: neither is used (video is shown through Qt 6). The same OpenCV version in its
  # headless build gives the app identical cv2 calls and saves about 50 MB.
  cv_version=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("opencv-contrib-python"))')
  "$VENV/bin/python" -m pip uninstall --quiet -y opencv-contrib-python
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
       "opencv-python-headless==$cv_version" 2>/dev/null; then
    # The headless build of a new OpenCV release can appear later than the contrib one: take the newest
    # headless release of the same major version (the app's cv2 calls are the same in all of them).
    major=${cv_version%%.*}
    headless=$("$VENV/bin/python" -m pip index versions opencv-python-headless 2>/dev/null \
      | sed -n 's/^Available versions: //p' | tr -d ' ' | tr ',' '\n' | grep "^$major\." | head -1)
    [ -n "$headless" ] || { log "no opencv-python-headless $major.x available"; exit 1; }
    log "opencv-python-headless $cv_version is not available; using $headless"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "opencv-python-headless==$headless"
  fi
  # NumPy without BLAS and OpenCV with only the modules the app calls, built once from the installed
  # releases' sources and cached (the first build compiles for a long while: docs/packaging.md, "Size").
  if [ $LEAN = 1 ]; then
    "$VENV/bin/python" "$SRC/packaging/lean_wheels.py" --cache "$CACHE" \
      || { log "the lean NumPy/OpenCV build failed"; exit 1; }
  fi
  echo "$stamp_want" > "$VENV/.stamp"
fi
"$VENV/bin/python" -c 'import cv2, mediapipe, PySide6, PyInstaller' \
  || { log "the build environment is broken; delete $VENV and run again"; exit 1; }

# -- 4. PyInstaller
DIST="$OUT/dist"
APP="$DIST/trainer"
rm -rf "$DIST" "$OUT/work"
log "running PyInstaller (a few minutes)"
t0=$(date +%s)
(cd "$SRC" && "$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$OUT/work" packaging/trainer.spec) > "$OUT/pyinstaller.log" 2>&1 \
  || { tail -40 "$OUT/pyinstaller.log"; log "PyInstaller failed (full log: $OUT/pyinstaller.log)"; exit 1; }
log "PyInstaller done in $(( $(date +%s) - t0 )) s (log: $OUT/pyinstaller.log)"
if [ $LEAN = 1 ]; then
  # CMake left the build cache's FFmpeg folder in the lean OpenCV module's RUNPATH after the folder it needs
  # ($ORIGIN/../opencv_python_headless.libs); a build machine's path has no place in a shipped binary.
  for so in "$APP"/_internal/cv2/cv2*.so; do
    [ -e "$so" ] && patchelf --set-rpath '$ORIGIN/../opencv_python_headless.libs' "$so"
  done
fi
grep '^\[spec\]' "$OUT/pyinstaller.log" | head -8 || true

# -- 5. the bundle holds what the spec promises
status=0
"$VENV/bin/python" "$SRC/packaging/verify_bundle.py" "$APP" --src "$SRC" --json "$OUT/bundle.json" \
  $([ $LEAN = 1 ] && echo --lean) || status=1

# -- 6. smoke tests on the bundle: clean environment, unrelated working folder, throw-away data folder
SMOKE=$(mktemp -d /tmp/trainer-smoke.XXXXXX)
trap 'rm -rf "$SMOKE"' EXIT
run_bundle() {
  (cd "$SMOKE" && env -i PATH=/usr/bin:/bin HOME="$SMOKE/home" LANG=C.UTF-8 TRAINER_DATA_DIR="$SMOKE/data" \
     ${TRAINER_POLICY+TRAINER_POLICY="$TRAINER_POLICY"} "$@")
}
mkdir -p "$SMOKE/home"

log "smoke test 1/5: trainer --self-test"
if run_bundle env QT_QPA_PLATFORM=offscreen "$APP/trainer" --self-test 2> "$SMOKE/selftest.err"; then
  selftest=passed
else
  selftest=FAILED; status=1; tail -20 "$SMOKE/selftest.err"
fi

if [ -z "$FIXTURE" ]; then
  FIXTURE="${TRAINER_FIXTURES:-$REPO/../shared/fixtures}/video/talking_nods.mp4"
  if [ ! -f "$FIXTURE" ]; then
    # No recorded fixture here (e.g. a CI runner): a generated clip of the self-test face instead.
    log "no recorded fixture at $FIXTURE; generating a synthetic test video"
    FIXTURE="$SMOKE/smoke.mp4"
    "$VENV/bin/python" "$SRC/packaging/make_smoke_video.py" "$FIXTURE" >/dev/null
  fi
fi
# smoke NAME CHECK ARG -- COMMAND...: run COMMAND on the bundle (output in $SMOKE/NAME.out), then the Python
# CHECK on ARG (its output goes to the log); prints "passed" only when both succeed.
smoke() {
  local name=$1 check=$2 arg=$3
  shift 4
  if run_bundle "$@" > "$SMOKE/$name.out" 2>&1; then
    "$VENV/bin/python" -c "$check" "$arg" >&2 && { echo passed; return; }
  else
    tail -20 "$SMOKE/$name.out" >&2
  fi
  echo FAILED
}
[ -f "$FIXTURE" ] || { log "fixture not found: $FIXTURE"; status=1; }

log "smoke test 2/5: trainer analyze $FIXTURE"
analyze=$(smoke analyze '
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
s = json.loads((out / "summary.json").read_text())
rows = (out / "frames.csv").read_text().splitlines()
assert s["frames"] > 0 and len(rows) > 1, "no frames analysed"
print("[build]   {} frames, eye contact {}, speech {} s, {} fps".format(
    s["frames"], s.get("eye_contact_ratio"), s.get("speech_s"), s.get("processing_fps")))
' "$SMOKE/analysis" -- "$APP/trainer" analyze "$FIXTURE" --out "$SMOKE/analysis" --quiet)
[ "$analyze" = passed ] || { log "analyze smoke test FAILED"; status=1; }

# A whole visit without a window: the recording answers as camera and microphone, through the same
# visit runner as the call window (face, voice detection, patient voice, session store).
log "smoke test 3/5: trainer run first-checkin --headless (the fixture as camera and microphone)"
visit=$(smoke visit '
import json, sys
s = json.loads(open(sys.argv[1]).read())
assert s["figures"]["face_samples"] > 0 and s["turns"], "the visit stored no face samples or no turns"
print("[build]   {}, {:.0f} s, {} turns, {} face samples".format(
    s["end_reason"], s["duration_s"], len(s["turns"]), s["figures"]["face_samples"]))
' "$SMOKE/visit/summary.json" -- "$APP/trainer" run first-checkin --headless --camera "$FIXTURE" --mic "$FIXTURE" \
  --out "$SMOKE/visit")
[ "$visit" = passed ] || { log "headless visit smoke test FAILED"; status=1; }

# The bundle's own OpenCV module (with the FFmpeg libraries beside it) against the official wheel of the
# same release: every frame of the fixture, the self-test PNG, cvtColor and resize must come out identical.
log "smoke test 4/5: the bundle's OpenCV decodes like the official opencv-python-headless wheel"
decode=FAILED
bundle_cv2=$(ls "$APP"/_internal/cv2/cv2*.so 2>/dev/null | head -1)
if [ -n "$bundle_cv2" ] && "$VENV/bin/python" "$SRC/packaging/lean_wheels.py" --cache "$CACHE" \
     --check-decode "$FIXTURE" "$SRC/assets/selftest/face.png" --bundle-cv2 "$bundle_cv2"; then
  decode=passed
else
  status=1; log "OpenCV decode comparison FAILED"
fi

log "smoke test 5/5: cold start to the first window (Xvfb, $RUNS launches)"
start_line="not measured"
if run_bundle "$VENV/bin/python" "$SRC/packaging/measure_first_window.py" "$APP/trainer" \
     --runs "$RUNS" --drop-caches --json "$OUT/start.json" > "$SMOKE/start.out" 2>&1; then
  start_line=$(tail -1 "$SMOKE/start.out")
else
  status=1; tail -20 "$SMOKE/start.out"
fi

# -- 7. archive and figures
VERSION=$("$VENV/bin/python" -c "import sys; sys.path.insert(0, '$SRC'); import trainer; print(trainer.__version__)")
ARCHIVE="$OUT/trainer-$VERSION-linux-$(uname -m).tar.gz"
rm -f "$ARCHIVE"
tar -C "$DIST" -cf - trainer | gzip -6 > "$ARCHIVE"
bundle_bytes=$(du -sb "$APP" | cut -f1)
archive_bytes=$(stat -c %s "$ARCHIVE")
model_bytes=$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["speech_model_bytes"])' \
  "$OUT/bundle.json")
limit_mb=$("$VENV/bin/python" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["limit_mb"]))' "$OUT/bundle.json")
size_ok=yes
[ $(( bundle_bytes - model_bytes )) -le $(( limit_mb * 1000000 )) ] || { size_ok=no; status=1; }
"$VENV/bin/python" - "$OUT" "$COMMIT" "$bundle_bytes" "$archive_bytes" "$selftest" "$analyze" "$model_bytes" \
  "$visit" "$decode" <<'EOF'
import json, sys
from pathlib import Path
out, commit, bundle, archive, selftest, analyze, model, visit, decode = sys.argv[1:]
start = Path(out, "start.json")
fig = {"commit": commit, "bundle_bytes": int(bundle), "speech_model_bytes": int(model),
       "archive_bytes": int(archive), "self_test": selftest, "analyze": analyze, "headless_visit": visit,
       "opencv_decode": decode,
       "first_window": json.loads(start.read_text()) if start.exists() else None}
Path(out, "figures.json").write_text(json.dumps(fig, indent=2) + "\n")
EOF
echo
echo "== Linux bundle of $COMMIT"
echo "   app folder:       $APP  ($(( bundle_bytes / 1000000 )) MB unpacked)"
echo "   without the speech-to-text model: $(( (bundle_bytes - model_bytes) / 1000000 )) MB (limit $limit_mb MB:" \
     "$([ $size_ok = yes ] && echo within || echo OVER))"
echo "   speech-to-text model:             $(( model_bytes / 1000000 )) MB (Whisper tiny.en, not counted)"
echo "   archive:          $ARCHIVE  ($(( archive_bytes / 1000000 )) MB, tar.gz)"
echo "   self-test:        $selftest"
echo "   analyze fixture:  $analyze"
echo "   headless visit:   $visit"
echo "   OpenCV decode:    $decode (same frames as the official wheel)"
echo "   $start_line"
[ $status -eq 0 ] && echo "== build and smoke tests passed" || echo "== build or smoke tests FAILED (see above)"
exit $status
