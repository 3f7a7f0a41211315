"""The PyInstaller spec and the files it must carry agree (no PyInstaller needed, no build: fast).

packaging/trainer.spec is executed with recording stand-ins for PyInstaller's build steps (Analysis, PYZ,
EXE, COLLECT, BUNDLE and the hook helpers). What reaches COLLECT is compared with what is on disk: every
tracked file under assets/ and scenarios/, every model in the manifest, every file a scenario refers to.
So a new asset, model or dependency cannot silently be left out of the packaged app.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"
sys.path.insert(0, str(PACKAGING))
import bundle_data as bd  # noqa: E402

MEDIA_SUFFIXES = {".wav", ".mp3", ".ogg", ".flac", ".m4a", ".opus", ".mp4", ".webm", ".mov", ".png", ".jpg",
                  ".jpeg", ".svg", ".onnx", ".task", ".tflite", ".json", ".yaml", ".yml", ".txt"}


class Recorder:
    def __init__(self):
        self.analyses, self.exes, self.collects, self.bundles = [], [], [], []
        self.collected_data, self.collected_libs, self.stripped = [], [], []


def _toc(pairs, typecode):
    return [(str(PurePosixPath(dest) / Path(src).name), src, typecode) for src, dest in pairs]


def run_spec(monkeypatch, tmp_path, platform: str) -> tuple[Recorder, dict]:
    rec = Recorder()
    # What PyInstaller's own hooks would add, so the test sees the spec prune them.
    hook_datas = [("/site/PySide6/Qt/translations/qtbase_de.qm", "PySide6/Qt/translations"),
                  ("/site/PySide6/Qt/translations/qtbase_fr.qm", "PySide6/Qt/translations")]
    hook_bins = [("/site/onnxruntime/capi/libonnxruntime.so.1.32.0", "onnxruntime/capi"),
                 ("/site/onnxruntime/capi/onnxruntime_pybind11_state.so", "onnxruntime/capi")]

    class Analysis:
        def __init__(self, scripts, **kw):
            self.kw = kw
            self.scripts = [(Path(s).stem, s, "PYSOURCE") for s in scripts]
            self.pure = []
            self.binaries = _toc(list(kw["binaries"]) + hook_bins, "BINARY")
            self.datas = _toc(list(kw["datas"]) + hook_datas, "DATA")
            rec.analyses.append(self)

    def PYZ(pure):
        return ("PYZ", pure)

    class EXE:
        def __init__(self, pyz, scripts, *args, **kw):
            self.scripts, self.kw = scripts, kw
            rec.exes.append(self)

    class COLLECT:
        def __init__(self, *args, **kw):
            self.exes = [a for a in args if isinstance(a, EXE)]
            self.toc = [entry for a in args if isinstance(a, list) for entry in a]
            self.kw = kw
            rec.collects.append(self)

    class BUNDLE:
        def __init__(self, coll, **kw):
            self.coll, self.kw = coll, kw
            rec.bundles.append(self)

    hooks = types.ModuleType("PyInstaller.utils.hooks")

    def collect_data_files(package, **kw):
        rec.collected_data.append((package, kw))
        return []

    def collect_dynamic_libs(package, **kw):
        rec.collected_libs.append(package)
        return []

    hooks.collect_data_files = collect_data_files
    hooks.collect_dynamic_libs = collect_dynamic_libs
    qt = types.ModuleType("PyInstaller.utils.hooks.qt")

    class QtLibraryInfo:
        def collect_plugins(self, plugin_type):
            return [(f"/qt/plugins/{plugin_type}/{name}", f"PySide6/Qt/plugins/{plugin_type}")
                    for name in self.available.get(plugin_type, [])]

    qt.QtLibraryInfo = QtLibraryInfo
    hooks.qt = qt
    pkg = types.ModuleType("PyInstaller")
    utils = types.ModuleType("PyInstaller.utils")
    for name, mod in {"PyInstaller": pkg, "PyInstaller.utils": utils, "PyInstaller.utils.hooks": hooks,
                      "PyInstaller.utils.hooks.qt": qt}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "bundle_data", bd)
    monkeypatch.setattr(bd, "strip_collected", lambda internal: rec.stripped.append(Path(internal)))
    monkeypatch.setattr(sys, "platform", platform)
    ns = {"SPECPATH": str(PACKAGING), "SPEC": str(PACKAGING / "trainer.spec"), "DISTPATH": str(tmp_path / "dist"),
          "workpath": str(tmp_path / "work"), "Analysis": Analysis, "PYZ": PYZ, "EXE": EXE, "COLLECT": COLLECT,
          "BUNDLE": BUNDLE, "__name__": "__main__"}
    code = compile((PACKAGING / "trainer.spec").read_text(encoding="utf-8"), "trainer.spec", "exec")
    exec(code, ns)
    ns["QtLibraryInfo"] = QtLibraryInfo
    return rec, ns


@pytest.fixture
def linux_spec(monkeypatch, tmp_path):
    return run_spec(monkeypatch, tmp_path, "linux")


def shipped_files() -> list[str]:
    """Files a clean checkout has under the data folders (git's view; the filesystem without git)."""
    try:
        out = subprocess.run(["git", "-C", str(REPO), "ls-files", "--", *bd.DATA_DIRS], capture_output=True,
                             text=True, check=True).stdout.split("\n")
        files = [f for f in out if f and (REPO / f).is_file()]
    except (OSError, subprocess.CalledProcessError):
        files = [str(Path(d, f).relative_to(REPO).as_posix()) for top in bd.DATA_DIRS
                 for d, _, fs in os.walk(REPO / top) for f in fs]
    assert files, "no files found under assets/ and scenarios/"
    return files


def collected(rec: Recorder) -> dict[str, str]:
    (coll,) = rec.collects
    return {dest: src for dest, src, _ in coll.toc}


def test_every_asset_and_scenario_file_reaches_the_bundle(linux_spec):
    rec, _ = linux_spec
    got = collected(rec)
    missing = [f for f in shipped_files() if f not in got]
    assert not missing, f"in the checkout but not in the bundle: {missing}"
    for f in shipped_files():
        assert Path(got[f]).resolve() == (REPO / f).resolve()


def test_every_model_in_the_manifest_is_present_and_shipped(linux_spec):
    rec, _ = linux_spec
    got = collected(rec)
    manifest = json.loads((REPO / "assets/models/manifest.json").read_text(encoding="utf-8"))
    assert "face_landmarker.task" in manifest
    for name, entry in manifest.items():
        assert (REPO / "assets/models" / name).stat().st_size == entry["bytes"], name
        assert f"assets/models/{name}" in got, f"model {name} is not in the bundle"
    assert "assets/selftest/face.png" in got  # the self-test needs it in the packaged app


def test_data_comes_only_from_the_checkout_never_from_shared_fixtures(linux_spec):
    rec, _ = linux_spec
    for dest, src in collected(rec).items():
        if dest.split("/")[0] in bd.DATA_DIRS:
            real = Path(src).resolve()
            assert REPO.resolve() in real.parents, f"{dest} comes from outside the checkout: {real}"
            assert "fixtures" not in real.parts, f"{dest} is a test fixture: {real}"


def test_files_scenarios_refer_to_are_shipped(linux_spec):
    """A scenario may name a clip, image or voice file; it must sit inside a shipped folder."""
    import yaml

    rec, _ = linux_spec
    got = collected(rec)

    def strings(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)
        elif isinstance(node, str):
            yield node

    for path in sorted((REPO / "scenarios").glob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for s in strings(doc):
            if "\n" in s or " " in s or Path(s).suffix.lower() not in MEDIA_SUFFIXES:
                continue
            target = (path.parent / s).resolve()
            rel = target.relative_to(REPO.resolve()).as_posix() if REPO.resolve() in target.parents else None
            assert rel is not None and rel in got, f"{path.name} refers to {s}, which the bundle does not carry"


def test_pruning_drops_only_what_it_declares(linux_spec):
    rec, _ = linux_spec
    got = collected(rec)
    # Qt's own French dialogs stay (the app offers French), other languages go.
    assert [d for d in got if d.startswith("PySide6/Qt/translations/")] == ["PySide6/Qt/translations/qtbase_fr.qm"]
    assert "onnxruntime/capi/libonnxruntime.so.1.32.0" not in got
    assert "onnxruntime/capi/onnxruntime_pybind11_state.so" in got
    for f in shipped_files():
        assert bd.pruned(f) is None, f"a PRUNE pattern matches the app's own file {f}"


def test_bundle_layout_matches_what_resources_looks_for(linux_spec, monkeypatch, tmp_path):
    from trainer import resources

    monkeypatch.delenv("TRAINER_ASSETS", raising=False)
    monkeypatch.delenv("TRAINER_SCENARIOS", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.assets_dir() == tmp_path / "assets"
    assert resources.models_dir() == tmp_path / "assets" / "models"
    assert resources.builtin_scenarios_dir() == tmp_path / "scenarios"
    assert set(bd.DATA_DIRS) == {"assets", "scenarios"}


def test_analysis_settings(linux_spec, tmp_path):
    rec, _ = linux_spec
    (a,) = rec.analyses  # Linux: one executable, one analysis
    assert a.scripts[0][1].endswith("packaging/launcher.py")
    assert Path(a.kw["pathex"][0]).resolve() == REPO.resolve()
    # Recorded patient clips are decoded by OpenCV: Qt Multimedia (a third FFmpeg, Qt Quick, QML) stays out.
    assert "PySide6.QtMultimedia" in a.kw["excludes"] and "PySide6.QtMultimedia" not in a.kw["hiddenimports"]
    assert "matplotlib" in a.kw["excludes"] and "webrtcvad" in a.kw["excludes"] and "hf_xet" in a.kw["excludes"]
    (hook,) = a.kw["runtime_hooks"]
    assert Path(hook).is_file()
    (exe,) = rec.exes
    assert exe.kw["name"] == "trainer" and exe.kw["console"] is True
    assert rec.stripped == [tmp_path / "dist" / "trainer" / "_internal"]
    assert not rec.bundles


def test_qt_plugins_are_filtered_at_collection(linux_spec):
    _, ns = linux_spec
    info = ns["QtLibraryInfo"]()
    info.available = {"platforms": ["libqxcb.so", "libqwayland.so", "libqoffscreen.so", "libqvnc.so",
                                    "libqeglfs.so", "libqlinuxfb.so"],
                      "platforminputcontexts": ["libcomposeplatforminputcontextplugin.so",
                                                "libqtvirtualkeyboardplugin.so"],
                      "platformthemes": ["libqgtk3.so", "libqxdgdesktopportal.so"],
                      "imageformats": ["libqjpeg.so", "libqpdf.so", "libqtiff.so", "libqsvg.so"]}
    kept = {t: [Path(src).name for src, _ in info.collect_plugins(t)] for t in info.available}
    assert kept["platforms"] == ["libqxcb.so", "libqwayland.so", "libqoffscreen.so"]
    assert kept["platforminputcontexts"] == ["libcomposeplatforminputcontextplugin.so"]
    assert kept["platformthemes"] == ["libqxdgdesktopportal.so"]
    assert kept["imageformats"] == ["libqjpeg.so", "libqsvg.so"]
    # Windows names match the same patterns.
    assert bd.qt_plugin_left_out("platforms", "C:/qt/plugins/platforms/qvnc.dll")
    assert bd.qt_plugin_left_out("platforms", "C:/qt/plugins/platforms/qwindows.dll") is None


def test_windows_build_adds_a_windowed_launcher(monkeypatch, tmp_path):
    rec, _ = run_spec(monkeypatch, tmp_path, "win32")
    names = {e.kw["name"]: e.kw["console"] for e in rec.exes}
    assert names == {"trainer": True, "VideoVisitTrainer": False}
    assert len(rec.collects[0].exes) == 2
    assert not rec.stripped


def test_macos_app_declares_camera_and_microphone_use(monkeypatch, tmp_path):
    rec, _ = run_spec(monkeypatch, tmp_path, "darwin")
    (bundle,) = rec.bundles
    plist = bundle.kw["info_plist"]
    for key in ("NSCameraUsageDescription", "NSMicrophoneUsageDescription"):
        assert len(plist[key]) > 40, key
    assert plist["CFBundleExecutable"] == "VideoVisitTrainer"
    # BUNDLE takes the first executable in COLLECT as the app's: it must be the windowed one.
    assert rec.collects[0].exes[0].kw["name"] == "VideoVisitTrainer"
    assert bundle.kw["name"].endswith(".app")


def test_every_runtime_dependency_has_a_declared_way_into_the_bundle():
    deps = bd.runtime_dependencies(REPO / "pyproject.toml")
    assert "mediapipe" in deps and "pyside6-essentials" in deps
    undeclared = [d for d in deps if d not in bd.DEPENDENCIES]
    assert not undeclared, (f"add {undeclared} to DEPENDENCIES in packaging/bundle_data.py (hook, collect or "
                            "code) so the packaged app carries what it needs")
    assert set(bd.DEPENDENCIES.values()) <= {"hook", "collect", "code"}


CODE_SUFFIXES = {".py", ".pyi", ".pyc", ".so", ".pyd", ".typed", ".pxd", ".pyx", ".c", ".h"}


@pytest.mark.parametrize("dist", sorted(d for d, how in bd.DEPENDENCIES.items() if how == "code"))
def test_code_only_dependencies_really_ship_no_data(dist):
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        if dist in bd.runtime_dependencies(REPO / "pyproject.toml"):
            pytest.fail(f"{dist} is a runtime dependency but not installed")
        pytest.skip(f"{dist} is not a dependency yet")
    data = [str(f) for f in files
            if ".dist-info" not in str(f) and ".libs" not in str(f)
            and not any(str(f).endswith(s) or ".so." in str(f) for s in CODE_SUFFIXES)]
    assert not data, f"{dist} ships data files {data[:5]}: declare it 'collect' in bundle_data.DEPENDENCIES"


def test_collected_dependencies_are_collected_by_the_spec(linux_spec):
    rec, _ = linux_spec
    packages = [p for p, _ in rec.collected_data]
    assert packages == rec.collected_libs
    assert "mediapipe" in packages  # libmediapipe is loaded by path: only collection carries it
    for dist, how in bd.DEPENDENCIES.items():
        if how != "collect":
            continue
        try:
            files = metadata.distribution(dist).files or []
        except metadata.PackageNotFoundError:
            continue
        # Its import packages: top-level folders with an __init__.py.
        tops = sorted({f.parts[0] for f in files if len(f.parts) == 2 and f.name == "__init__.py"})
        assert tops, f"cannot tell which packages {dist} installs"
        for top in tops:
            assert top in packages, f"{dist} ({top}) is declared 'collect' but the spec does not collect it"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_app_never_imports_a_module_the_bundle_leaves_out():
    excluded = set(bd.EXCLUDED_MODULES) | set(bd.OPTIONAL_IMPORTS_LEFT_OUT)
    allowed = set(bd.OPTIONAL_IMPORTS_LEFT_OUT)
    offenders = []
    for py in sorted((REPO / "trainer").rglob("*.py")):
        for name in _imports(py):
            parts = name.split(".")
            if parts[0] in allowed:
                continue
            if any(".".join(parts[:i]) in excluded for i in range(1, len(parts) + 1)):
                offenders.append(f"{py.relative_to(REPO)}: {name}")
    assert not offenders, ("these imports would fail in the packaged app (excluded in "
                           f"packaging/bundle_data.py): {offenders}")


def test_runtime_hook_answers_mediapipes_pyplot_import_only():
    hook = PACKAGING / "rthook_trainer.py"
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(hook)!r})\n"
        "import matplotlib.pyplot as plt\n"
        "try:\n"
        "    plt.figure()\n"
        "except ModuleNotFoundError as e:\n"
        "    print('refused:', e)\n"
        "try:\n"
        "    import matplotlib.backends\n"
        "except ModuleNotFoundError:\n"
        "    print('other submodules still missing')\n"
    )
    # -I -S: no site-packages, so matplotlib is absent as in the bundle.
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "refused: matplotlib.pyplot.figure: plotting is not part of the packaged trainer" in out.stdout
    assert "other submodules still missing" in out.stdout


def test_build_script_is_valid_bash_and_smoke_tests_the_bundle():
    script = PACKAGING / "build_linux.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    for needed in ('git -C "$REPO" archive', "--self-test", " analyze ",
                   "measure_first_window.py", "verify_bundle.py", "tar -C", "lean_wheels.py",
                   "--check-decode"):
        assert needed in text, needed


SHOWSRC = """Package: ffmpeg
Binary: ffmpeg, libavcodec61, libavcodec-extra61, libavformat61
Version: 7:7.1.5-0+deb13u1

Package: ffmpeg
Binary: ffmpeg, libavdevice62,
 libavcodec62, libavformat62
Version: 7:8.0.1-1

Package: ffmpeg
Binary: ffmpeg, libavcodec62, libavcodec-extra62, libavformat62
Version: 7:8.1.2-2

Package: ffmpeg
Binary: ffmpeg, ffplay, libavcodec63, libavformat63
Version: 7:9.0.2-4

Package: ffmpeg
Binary: ffmpeg,
 libavcodec60
Version: 7:6.0-1
"""


def test_lean_opencv_takes_ffmpeg_headers_of_the_wheels_release():
    import lean_wheels as lw

    # The newest source of the series whose libavcodec major the OpenCV wheel's library has; never
    # another series (its headers would not match the wheel's libraries).
    assert lw.pick_ffmpeg_source(SHOWSRC, 62) == "7:8.1.2-2"
    assert lw.pick_ffmpeg_source(SHOWSRC, 63) == "7:9.0.2-4"
    assert lw.pick_ffmpeg_source(SHOWSRC, 60) == "7:6.0-1"  # a folded Binary field
    assert lw.pick_ffmpeg_source(SHOWSRC, 59) is None


def test_lean_build_uses_the_debian_archive_apt_already_uses(tmp_path, monkeypatch):
    import lean_wheels as lw

    monkeypatch.delenv("TRAINER_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n")
    assert lw.debian_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://local.example/debian bookworm main\n")
    assert lw.debian_mirror(tmp_path) == "http://local.example/debian"
    monkeypatch.setenv("TRAINER_DEBIAN_MIRROR", "http://it.example/debian")
    assert lw.debian_mirror(tmp_path) == "http://it.example/debian"


def test_decode_comparison_reports_any_difference():
    import lean_wheels as lw

    ref = {"frames": 199, "all_frames_sha256": "a", "ops_sha256": {"imread_png": "b"}, "opencv": "5.0.0"}
    assert lw.digest_differences(ref, {**ref, "opencv": "5.0.0-lean"}) == []
    assert lw.digest_differences(ref, {**ref, "frames": 198, "all_frames_sha256": "c"}) == [
        "all_frames_sha256", "frames"]
    assert lw.digest_differences(ref, {**ref, "ops_sha256": {"imread_png": "x"}}) == ["ops_sha256"]
    assert lw.digest_differences(ref, {k: v for k, v in ref.items() if k != "frames"}) == ["frames"]
