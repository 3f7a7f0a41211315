"""What the packaged app carries, in one place the PyInstaller spec and the tests share.

Pure Python (no PyInstaller import): tests/test_packaging_spec.py runs the spec with recording stand-ins
for PyInstaller's build steps and checks the result against the files on disk, so a new asset, scenario,
model or dependency cannot silently be left out of the bundle.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Most the unpacked Linux bundle may weigh, in MB (10^6 bytes), not counting the speech-to-text model
#: (issue 14); packaging/verify_bundle.py fails the build above it.
SIZE_LIMIT_MB = 400

#: Folders shipped whole, at the same relative path under the bundle's data root (sys._MEIPASS), where
#: trainer/resources.py looks for them.
DATA_DIRS = ("assets", "scenarios")

#: Never shipped from those folders: editor and OS litter, Python caches.
JUNK = ("__pycache__", "*.pyc", ".DS_Store", "Thumbs.db", "*~", "*.swp", ".gitkeep")

#: How each runtime dependency in pyproject.toml reaches the bundle (names normalised as in PEP 503).
#:   hook    - PyInstaller or its contributed hooks collect its code, native libraries and data;
#:   collect - no adequate hook: the spec collects its data files and native libraries itself;
#:   code    - Python code and extension modules only (PyInstaller's import analysis carries them).
#: tests/test_packaging_spec.py fails when a dependency is missing here, or when a 'code' package turns
#: out to ship data files.
DEPENDENCIES: dict[str, str] = {
    "pyside6-essentials": "hook",
    "pyside6-addons": "hook",
    # mediapipe 1.x is a thin ctypes layer over libmediapipe (loaded by path from its own
    # package folder); PyInstaller's import analysis cannot see that, and no hook knows the new layout.
    "mediapipe": "collect",
    "opencv-contrib-python": "hook",
    "sounddevice": "hook",
    "numpy": "hook",
    "pyyaml": "code",
    "platformdirs": "code",
    "av": "hook",
    "onnxruntime": "hook",
    # Text-to-speech for the virtual patient; its voices live inside the wheel as data files.
    "hibari-tts": "collect",
    # Speech-to-text needs no package of its own: Whisper tiny.en runs on onnxruntime above, its model
    # is vendored in assets/models (docs/speech-to-text.md).
}

#: Files inside collected packages that the app never uses (tests, schemas for model authoring).
COLLECT_EXCLUDES = ("**/test/**", "**/tests/**", "**/*.fbs", "**/*.pyi")

#: Modules the app imports lazily that PyInstaller's import analysis might miss (none at present: recorded
#: patient clips are decoded by OpenCV, no longer by Qt Multimedia).
HIDDEN_IMPORTS: tuple[str, ...] = ()

#: Python packages left out. matplotlib: mediapipe imports pyplot only for its drawing helpers, which the
#: app never calls; the runtime hook (packaging/rthook_trainer.py) answers that import instead. hf_xet:
#: huggingface_hub's download accelerator (11 MB), imported only when downloading, which the app never
#: does (kept out in case a dependency brings huggingface_hub back). The Qt modules: not used;
#: leaving them out also keeps their native libraries and plugins out. Qt Multimedia's FFmpeg plugin alone
#: brought a third FFmpeg (7.1), Qt Quick and QML (about 45 MB).
EXCLUDED_MODULES = (
    "matplotlib", "PIL", "fontTools", "kiwisolver", "contourpy", "cycler", "pyparsing", "hf_xet", "readline",
    "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets", "PySide6.QtNetwork",
    "tkinter", "_tkinter", "IPython", "pytest", "_pytest", "pytestqt", "hypothesis", "importlinter",
    "grimp", "pygments", "setuptools", "pkg_resources", "pip", "wheel", "jinja2", "docutils",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel", "PySide6.QtWebSockets", "PySide6.QtPdf", "PySide6.QtPdfWidgets",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2", "PySide6.Qt3DCore", "PySide6.Qt3DRender", "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic", "PySide6.Qt3DAnimation", "PySide6.Qt3DExtras", "PySide6.QtCharts",
    "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.QtGraphsWidgets", "PySide6.QtBluetooth",
    "PySide6.QtNfc", "PySide6.QtPositioning", "PySide6.QtLocation", "PySide6.QtSensors",
    "PySide6.QtSerialPort", "PySide6.QtSerialBus", "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtDesigner",
    "PySide6.QtHelp", "PySide6.QtUiTools", "PySide6.QtRemoteObjects", "PySide6.QtScxml",
    "PySide6.QtStateMachine", "PySide6.QtTextToSpeech", "PySide6.QtHttpServer", "PySide6.QtNetworkAuth",
    "PySide6.QtSpatialAudio", "PySide6.QtSvgWidgets", "PySide6.QtXml", "PySide6.QtConcurrent",
    "PySide6.QtPrintSupport", "PySide6.QtOpenGLWidgets", "PySide6.QtCanvasPainter",
)

#: Modules the app's code does import, for features the packaged app does not offer, left out on purpose
#: (tests/test_packaging_spec.py allows exactly these): module -> why.
OPTIONAL_IMPORTS_LEFT_OUT: dict[str, str] = {
    # trainer/analysis/vad.py keeps WebRTC VAD only for benchmarks/vad_compare.py ("test" extra);
    # the app runs Silero VAD.
    "webrtcvad": "comparison-only speech detector (test extra)",
}

#: Qt plugins left out, as "plugin type/file name" patterns (matching Linux, Windows and macOS names).
#: They are filtered when PyInstaller's Qt hooks collect plugins, so the libraries only they need (Qt Quick
#: and QML for the virtual keyboard, Qt Pdf, GTK for the GTK theme) are never pulled in at all.
QT_PLUGINS_LEFT_OUT: tuple[tuple[str, str], ...] = (
    ("platforms/*qvnc*", "VNC platform"),
    ("platforms/*qeglfs*", "EGLFS platform (embedded devices)"),
    ("platforms/*qlinuxfb*", "Linux framebuffer platform"),
    ("platforms/*qminimalegl*", "minimal EGL platform"),
    ("platforms/*qvkkhrdisplay*", "Vulkan KHR display platform"),
    ("egldeviceintegrations/*", "EGLFS device integrations"),
    ("generic/*", "touchscreen/evdev input for embedded devices"),
    ("platforminputcontexts/*virtualkeyboard*", "on-screen keyboard (needs Qt Quick and QML)"),
    ("platformthemes/*gtk3*", "GTK 3 theme (pulls in GTK, Cairo and Pango; Qt's own style is used)"),
    ("imageformats/*qpdf*", "PDF image format (Qt Pdf)"),
    # The app opens no image file through Qt (the self-test image is read by OpenCV); JPEG, GIF and SVG
    # stay for Qt's own icons and styles.
    ("imageformats/*qtiff*", "TIFF images"),
    ("imageformats/*qwebp*", "WebP images"),
    ("imageformats/*qicns*", "macOS icon files"),
    ("imageformats/*qtga*", "TGA images"),
    ("imageformats/*qwbmp*", "WBMP images"),
    ("imageformats/*qico*", "Windows icon files"),
)

#: Bundle paths (as PyInstaller lays them out under the data root) dropped after analysis, with why.
PRUNE: tuple[tuple[str, str], ...] = (
    # Qt's translations of its own dialogs, except the French ones the app loads (qtbase_fr.qm, see
    # docs/translation.md); English needs none. PRUNE_KEEP below keeps those.
    ("PySide6/Qt/translations/*", "Qt translations in languages the app does not offer"),
    # OpenCV's highgui Qt5 fonts: the app shows video through Qt 6, never cv2.imshow.
    ("cv2/qt/fonts/*", "OpenCV highgui fonts"),
    # ONNX Runtime's C API library (34 MB): the Python binding links the runtime statically and never
    # loads it (objdump shows no such dependency). Linux name only; other systems keep theirs.
    ("onnxruntime/capi/libonnxruntime.so.*", "ONNX Runtime C API library (unused by the Python binding)"),
)



def app_languages() -> list[str]:
    """Language codes of the languages the app offers ('en', 'fr'), from trainer.core.i18n.LANGUAGES."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_trainer_i18n", ROOT / "trainer" / "core" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return sorted({code.split("_")[0] for code in module.LANGUAGES})


#: Exceptions to PRUNE: Qt's translation of its own dialogs for each language the app offers besides
#: English (qtbase_fr.qm, loaded by trainer/ui/app.py).
PRUNE_KEEP = tuple(f"PySide6/Qt/translations/qtbase_{lang}.qm" for lang in app_languages() if lang != "en")


#: Native libraries stripped of their symbol tables after collection (Linux), as glob patterns under the
#: data root; each must match at least one file. libmediapipe ships with its full symbol table (127 MB ->
#: 97 MB stripped); a locally built libpython and its extension modules carry debug symbols (35 MB ->
#: 9 MB). Dynamic symbols stay intact. Never list libraries that a wheel vendored with patchelf
#: and that fail afterwards (numpy.libs, the OpenCV .libs folder, av's extension modules): strip corrupts
#: them ("ELF load command address/offset not page-aligned").
STRIP_AFTER_COLLECT = ("mediapipe/tasks/c/libmediapipe.so", "libpython3*.so*", "python3*/lib-dynload/*.so")
#: Debug information only (`strip --strip-debug`: the symbol tables stay), for extension modules that a wheel
#: shipped with DWARF data. PyAV's Cython modules carry 24 MB of it (30 MB -> 6 MB). Unlike
#: --strip-unneeded, this leaves the patchelf-edited program headers alone: the modules load and decode
#: (checked by the build's self-test and `trainer analyze`).
STRIP_DEBUG_AFTER_COLLECT = ("av/**/*.so",)


#: FFmpeg libraries PyAV and OpenCV both carry (docs/packaging.md, "Size"). When the two wheels were built
#: against the same FFmpeg major versions (ABI-compatible by FFmpeg's rules), PyAV is pointed at OpenCV's
#: copy and its own goes, with every library only that copy needed (its encoders: x265, SVT-AV1, x264...).
SHARED_FFMPEG = ("libavcodec", "libavformat", "libavutil", "libswresample", "libswscale")
FFMPEG_OWNER, FFMPEG_USER = "opencv_python_headless.libs", "av.libs"


def _needed(lib: Path) -> list[str]:
    import re
    import subprocess

    out = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.+?)\]", out)


def _lib_key(name: str) -> tuple[str, str] | None:
    """libavcodec-5e6b81c2.so.62.28.102 -> ('libavcodec', '62'): auditwheel's name and the ABI major."""
    import re

    m = re.match(r"(lib[A-Za-z0-9_+-]+?)-[0-9a-f]{8}\.so\.(\d+)", name)
    return (m.group(1), m.group(2)) if m else None


def _symbols(lib: Path, defined: bool) -> set[str]:
    import subprocess

    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", flag, "--with-symbol-versions", str(lib)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1].replace("@@", "@") for line in out.splitlines() if line.strip()}


def _missing_symbols(internal: Path, user: Path, linked: dict[str, Path]) -> set[str]:
    """FFmpeg libraries ('libavutil', ...) whose OpenCV copy lacks a symbol PyAV's code needs from it."""
    exported: set[str] = set()
    for target in set(linked.values()):
        exported |= _symbols(target, True)
    mine = [p for p in user.iterdir() if p.name not in linked and not p.is_symlink()]
    for p in mine:
        exported |= _symbols(p, True)
    lacking = set()
    for obj in [*(internal / "av").rglob("*.so"), *mine]:
        for sym in _symbols(obj, False):
            name, _, version = sym.partition("@")
            if version.startswith(("LIBAV", "LIBSW")) and sym not in exported:
                lacking.add(version.rsplit("_", 1)[0].lower())
    return lacking


def share_ffmpeg(internal: Path) -> tuple[int, list[str]]:
    """Make PyAV use OpenCV's FFmpeg in a collected Linux app; returns (bytes saved, what was done).

    PyAV's extension modules find their libraries by the file names auditwheel gave them, in av.libs
    (their RPATH). Each shared FFmpeg library there is replaced by a symbolic link to OpenCV's library of the
    same major version (and OpenCV's own dependencies are linked beside it, since $ORIGIN is the folder of
    the link); then every file of av.libs no remaining library needs is deleted. The binaries themselves
    are not modified. Nothing happens for a library whose major versions differ."""
    internal = Path(internal)
    owner, user = internal / FFMPEG_OWNER, internal / FFMPEG_USER
    if not owner.is_dir() or not user.is_dir():
        return 0, []
    theirs = {_lib_key(p.name): p for p in owner.iterdir() if _lib_key(p.name)}
    done, saved = [], 0
    linked: dict[str, Path] = {}
    for lib in sorted(user.iterdir()):
        key = _lib_key(lib.name)
        if lib.is_symlink() or key is None or key[0] not in SHARED_FFMPEG or key not in theirs:
            continue
        linked[lib.name] = theirs[key]
    # Same major version is not the whole story: a build may leave out optional parts (PyAV's libavfilter
    # calls AMF helpers its libavutil has and OpenCV's lacks). A library stays PyAV's own when anything of
    # PyAV's needs a symbol of it that OpenCV's copy does not export.
    for lacking in _missing_symbols(internal, user, linked):
        for name in [n for n in linked if _lib_key(n) and _lib_key(n)[0] == lacking]:
            del linked[name]
            done.append(f"{FFMPEG_USER}/{name} kept: OpenCV's {lacking} lacks symbols PyAV needs")
    # OpenCV's libraries that the linked ones need, found through the links' folder.
    todo = list(linked.values())
    while todo:
        for dep in _needed(todo.pop()):
            target = owner / dep
            if target.is_file() and dep not in linked and not (user / dep).exists():
                linked[dep] = target
                todo.append(target)
    for name, target in sorted(linked.items()):
        path = user / name
        if path.exists():
            saved += path.stat().st_size
            path.unlink()
        path.symlink_to(Path("..") / FFMPEG_OWNER / target.name)
        done.append(f"{FFMPEG_USER}/{name} -> {FFMPEG_OWNER}/{target.name}")
    if not done:
        return 0, []
    keep: set[str] = set()
    todo = [p for p in (internal / "av").rglob("*.so") if p.is_file()]
    while todo:
        for dep in _needed(todo.pop()):
            path = user / dep
            if path.exists() and dep not in keep:
                keep.add(dep)
                if not path.is_symlink():
                    todo.append(path)
    for path in sorted(user.iterdir()):
        if path.name not in keep and not path.is_symlink():
            saved += path.stat().st_size
            path.unlink()
            done.append(f"{FFMPEG_USER}/{path.name} removed (only PyAV's own FFmpeg needed it)")
    return saved, done


#: ICU's data library, which Qt Core loads (32 MB in PySide6 6.11): collation, calendar, currency,
#: language, region, unit and time-zone names for every locale ICU knows. The Linux build replaces it with
#: one that holds the same data minus the locale-specific parts of languages the app does not offer
#: (about 18 MB less); root and every non-locale item (converters, normalisation, break rules and their
#: dictionaries, time-zone rules) stay. ICU falls back to root for a locale whose data is absent, which only
#: changes sorting and names in languages the trainer does not show. Needs icupkg (Debian: icu-devtools)
#: and binutils (as, ld, nm, readelf).
ICU_DATA = "PySide6/Qt/lib/libicudata.so.*"
#: Items that end in .res but belong to no locale (must never be removed).
ICU_NON_LOCALE = {"res_index", "pool", "supplementalData", "supplementalMetadata", "tzdbNames", "likelySubtags",
                  "langInfo", "zoneinfo64", "metaZones", "timezoneTypes", "windowsZones", "keyTypeData",
                  "numberingSystems", "plurals", "pluralRanges", "dayPeriods", "genderList",
                  "grammaticalFeatures", "icuver", "icustd", "currencyNumericCodes", "units", "cnvalias"}


def icu_items_left_out(items: list[str], languages: list[str]) -> list[str]:
    """The ICU data items ('coll/de.res', 'de_AT.res', ...) of languages not in `languages` ('root' always
    stays); every other item stays."""
    keep = set(languages) | {"root"}
    out = []
    for item in items:
        stem, ext = os.path.splitext(item.rsplit("/", 1)[-1])
        lang = stem.split("_")[0]
        if ext == ".res" and stem not in ICU_NON_LOCALE and re.fullmatch(r"[a-z]{2,3}", lang) and lang not in keep:
            out.append(item)
    return out


def slim_icu_data(internal: Path, languages: list[str] | None = None) -> tuple[int, str]:
    """Replace Qt's ICU data library in a collected Linux app by one without the locale data of languages
    the app does not offer; returns (bytes saved, what was done). Same soname and data symbol
    (icudtNN_dat); the data package is rewritten by ICU's own icupkg and linked by the GNU assembler."""
    import subprocess
    import tempfile

    libs = [p for p in Path(internal).glob(ICU_DATA) if p.is_file() and not p.is_symlink()]
    if not libs:
        return 0, "no ICU data library in the bundle"
    if len(libs) > 1:
        raise SystemExit(f"bundle_data.ICU_DATA: several libraries match: {libs}")
    lib = libs[0]
    out = subprocess.run(["nm", "-D", "--defined-only", "-S", str(lib)], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^([0-9a-f]+) ([0-9a-f]+) R (icudt(\d+)_dat)$", out, re.M)
    if not m:
        raise SystemExit(f"{lib}: no icudtNN_dat symbol; the ICU layout changed, update slim_icu_data")
    addr, size, symbol, version = int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)
    sections = subprocess.run(["readelf", "-SW", str(lib)], capture_output=True, text=True, check=True).stdout
    blob = None
    for sm in re.finditer(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", sections):
        start, offset, length = (int(sm.group(i), 16) for i in (2, 3, 4))
        if start <= addr and addr + size <= start + length:
            with open(lib, "rb") as fh:
                fh.seek(offset + addr - start)
                blob = fh.read(size)
            break
    if blob is None or len(blob) != size:
        raise SystemExit(f"{lib}: cannot locate {symbol} in its sections")
    soname = re.search(r"\(SONAME\).*\[(.+?)\]",
                       subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True,
                                      check=True).stdout).group(1)
    languages = app_languages() if languages is None else languages
    with tempfile.TemporaryDirectory(prefix="icu-") as tmp:
        tmp = Path(tmp)
        full, slim = tmp / f"icudt{version}l.dat", tmp / "slim" / f"icudt{version}l.dat"
        slim.parent.mkdir()
        full.write_bytes(blob)
        items = subprocess.run(["icupkg", "-l", str(full)], capture_output=True, text=True,
                               check=True).stdout.split()
        drop = icu_items_left_out(items, languages)
        (tmp / "drop.txt").write_text("\n".join(drop) + "\n")
        subprocess.run(["icupkg", "-r", str(tmp / "drop.txt"), str(full), str(slim)], check=True,
                       capture_output=True)
        kept = subprocess.run(["icupkg", "-l", str(slim)], capture_output=True, text=True, check=True).stdout.split()
        if len(kept) != len(items) - len(drop):
            raise SystemExit(f"icupkg kept {len(kept)} of {len(items)} ICU items, expected {len(items) - len(drop)}")
        (tmp / "data.S").write_text(
            f".globl {symbol}\n.section .note.GNU-stack,\"\",%progbits\n.section .rodata\n.balign 16\n"
            f".type {symbol},%object\n.size {symbol}, {slim.stat().st_size}\n{symbol}:\n.incbin \"{slim}\"\n")
        subprocess.run(["as", "-o", str(tmp / "data.o"), str(tmp / "data.S")], check=True)
        subprocess.run(["ld", "-shared", "-soname", soname, "-o", str(tmp / soname), str(tmp / "data.o")], check=True)
        before = lib.stat().st_size
        lib.write_bytes((tmp / soname).read_bytes())
    return before - lib.stat().st_size, (f"{lib.name}: {len(drop)} of {len(items)} ICU items left out (locale "
                                         f"data of languages other than {', '.join(languages)})")


def _is_junk(path: Path) -> bool:
    return any(fnmatch.fnmatch(part, pat) for part in path.parts for pat in JUNK)


def data_files(root: Path | str = ROOT) -> list[tuple[str, str]]:
    """(source file, destination folder in the bundle) for every file under DATA_DIRS."""
    root = Path(root)
    out = []
    for top in DATA_DIRS:
        base = root / top
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not _is_junk(Path(d)))
            for name in sorted(filenames):
                src = Path(dirpath) / name
                rel = src.relative_to(root)
                if _is_junk(rel):
                    continue
                out.append((str(src), rel.parent.as_posix()))
    return out


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_dependencies(pyproject: Path | str = ROOT / "pyproject.toml") -> list[str]:
    """Normalised names of [project].dependencies."""
    import tomllib

    with open(pyproject, "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    return [normalise(re.split(r"[\s<>=!~;\[(]", d.strip(), maxsplit=1)[0]) for d in deps]


def collected_packages() -> list[str]:
    """Import names of the installed 'collect' dependencies (the spec collects their data and libraries).
    A 'collect' dependency that is listed here but not installed is skipped: it is not in pyproject yet."""
    from importlib import metadata

    by_dist: dict[str, set[str]] = {}
    for top, dists in metadata.packages_distributions().items():
        for d in dists:
            by_dist.setdefault(normalise(d), set()).add(top)
    out: list[str] = []
    for dist, how in DEPENDENCIES.items():
        if how == "collect":
            # packages_distributions() also lists stray top-level files (e.g. 'pkg/lib/libx'); keep packages.
            out.extend(sorted(t for t in by_dist.get(dist, ()) if t.isidentifier() and not t.startswith("_")))
    return out


def pruned(dest: str) -> str | None:
    """The reason a bundle path is dropped, or None when it stays."""
    dest = dest.replace("\\", "/")
    if dest in PRUNE_KEEP:
        return None
    for pattern, why in PRUNE:
        if fnmatch.fnmatch(dest, pattern):
            return why
    return None


def qt_plugin_left_out(plugin_type: str, filename: str) -> str | None:
    """The reason a Qt plugin is not collected, or None when it is."""
    name = f"{plugin_type}/{os.path.basename(filename)}"
    for pattern, why in QT_PLUGINS_LEFT_OUT:
        if fnmatch.fnmatch(name, pattern):
            return why
    return None


def strip_collected(internal: Path) -> list[Path]:
    """Strip the STRIP_AFTER_COLLECT files in a collected app's data root; returns the files stripped.
    A pattern that matches nothing is an error: the layout changed and the list needs updating."""
    import subprocess

    done = []
    for name, patterns, flag in (("STRIP_AFTER_COLLECT", STRIP_AFTER_COLLECT, "--strip-unneeded"),
                                 ("STRIP_DEBUG_AFTER_COLLECT", STRIP_DEBUG_AFTER_COLLECT, "--strip-debug")):
        for pattern in patterns:
            targets = sorted(p for p in Path(internal).glob(pattern) if p.is_file() and not p.is_symlink())
            if not targets:
                raise SystemExit(f"bundle_data.{name}: nothing matches {pattern} in {internal}")
            for target in targets:
                subprocess.run(["strip", flag, str(target)], check=True)
                done.append(target)
    return done
