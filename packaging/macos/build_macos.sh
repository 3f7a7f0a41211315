#!/usr/bin/env bash
# macOS build: "Video-Visit Trainer.app" in a .dmg. Runs on macOS only (the CI workflow uses it); it cannot
# run on the Linux development machine.
#
#   packaging/macos/build_macos.sh
#   SIGN_IDENTITY="Developer ID Application: ..." NOTARY_PROFILE=profile packaging/macos/build_macos.sh
#
# Without SIGN_IDENTITY the app is ad-hoc signed: it runs on the build Mac and, after the user allows it in
# System Settings > Privacy & Security, on others. A programme distributing it should sign with a Developer
# ID and notarize (NOTARY_PROFILE: a keychain profile made with `xcrun notarytool store-credentials`).
# Camera and microphone prompts show the NSCameraUsageDescription / NSMicrophoneUsageDescription texts
# set in packaging/trainer.spec; without them macOS would end the app at the first camera access.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
OUT="$REPO/build/macos"
APP_NAME="Video-Visit Trainer"
mkdir -p "$OUT"

if [ ! -x "$OUT/venv/bin/python" ]; then python3 -m venv "$OUT/venv"; fi
PY="$OUT/venv/bin/python"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet ".[packaging]"
"$PY" -m pip uninstall --quiet -y trainer   # the app's modules come from the checkout (spec pathex)

rm -rf "$OUT/dist" "$OUT/work"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$OUT/dist" --workpath "$OUT/work" \
  packaging/trainer.spec
APP="$OUT/dist/$APP_NAME.app"
/usr/libexec/PlistBuddy -c "Print :NSCameraUsageDescription" "$APP/Contents/Info.plist" >/dev/null
/usr/libexec/PlistBuddy -c "Print :NSMicrophoneUsageDescription" "$APP/Contents/Info.plist" >/dev/null

codesign --force --deep --options runtime --timestamp=none \
  --entitlements packaging/macos/entitlements.plist --sign "${SIGN_IDENTITY:--}" "$APP"
codesign --verify --deep --strict "$APP"

# Smoke tests on the .app's own executable (from a terminal it takes the CLI arguments).
QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/VideoVisitTrainer" --self-test
"$PY" packaging/make_smoke_video.py "$OUT/smoke.mp4"
"$APP/Contents/MacOS/VideoVisitTrainer" analyze "$OUT/smoke.mp4" --out "$OUT/smoke-analysis" --quiet

VERSION=$("$PY" -c "import sys; sys.path.insert(0, '.'); import trainer; print(trainer.__version__)")
DMG="$OUT/VideoVisitTrainer-$VERSION-macos-$(uname -m).dmg"
STAGE="$OUT/dmg"
rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "$APP_NAME" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
if [ -n "${SIGN_IDENTITY:-}" ]; then
  codesign --sign "$SIGN_IDENTITY" --timestamp "$DMG"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
  fi
fi
echo "app: $APP ($(du -sm "$APP" | cut -f1) MB)"
echo "dmg: $DMG ($(du -sm "$DMG" | cut -f1) MB)"
