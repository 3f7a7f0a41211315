"""Rebuild NumPy and OpenCV for the Linux bundle without the parts the app never uses (issue 14, size).

    python packaging/lean_wheels.py --cache DIR            # in the build environment, after pip install
    python packaging/lean_wheels.py --cache DIR --check-decode VIDEO IMAGE --bundle-cv2 FILE

Run by `packaging/build_linux.sh --lean` with the build environment's Python, right after that environment
got the project's dependencies (the official NumPy and opencv-python-headless wheels). The development
environment and CI keep the official wheels; only the bundle differs (docs/packaging.md, "Size").

- NumPy: the same release built from its source without BLAS/LAPACK (NumPy's own lapack_lite serves
  numpy.linalg; the app's calls are 2x2 to 6x6 eigh/solve). The wheel's 64-bit OpenBLAS (25 MB) goes.
- OpenCV: the same release built from the opencv-python-headless source with only the modules the app
  calls (core, imgproc, imgcodecs with PNG and JPEG, videoio with V4L2 and FFmpeg), without LAPACK/OpenBLAS,
  IPP, OpenCL or the other image formats. Its FFmpeg backend is compiled against the FFmpeg headers of the
  release the official wheel ships (taken from Debian's source package of that FFmpeg version) and linked
  to the official wheel's own FFmpeg libraries, which stay installed: the bundle keeps one FFmpeg, the one
  PyAV already shares (bundle_data.share_ffmpeg), and decodes with the very same library code.
  The libraries the official cv2 needed and this one does not (OpenBLAS, gfortran, AVIF/AOM, libpng) are
  removed from opencv_python_headless.libs.

Everything built goes under --cache (default packaging/.cache, git-ignored) keyed by release and by a
hash of the build options, so a rebuild reuses it. A first build takes long on a small machine (compiles run at
nice 19; docs/packaging.md gives the measured time). Needs a C/C++ toolchain, cmake, ninja, pkg-config,
binutils, Python headers and apt-get (build_linux.sh installs them on Debian).

--check-decode compares the official wheel's cv2 (downloaded into the cache) with the given extension
module (the bundle's copy): the same frames decoded from VIDEO, the same image read from IMAGE, the same
results of the app's cvtColor and resize calls (packaging/video_digest.py). Exit status 1 on a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Debian suites whose source packages are searched for the FFmpeg release the OpenCV wheel ships.
DEBIAN_SUITES = ("trixie", "forky", "sid")
#: The OpenCV configuration (see the module docstring); anything not named here keeps OpenCV's default.
OPENCV_MODULES = "core,imgproc,imgcodecs,videoio,python3,python_bindings_generator"
OPENCV_OPTIONS = {
    "BUILD_SHARED_LIBS": "OFF", "BUILD_TESTS": "OFF", "BUILD_PERF_TESTS": "OFF", "BUILD_EXAMPLES": "OFF",
    "BUILD_DOCS": "OFF", "BUILD_opencv_apps": "OFF", "BUILD_JAVA": "OFF", "BUILD_opencv_python2": "OFF",
    "BUILD_opencv_python3": "ON", "PYTHON3_LIMITED_API": "ON", "OPENCV_PYTHON3_INSTALL_PATH": "python",
    "INSTALL_CREATE_DISTRIB": "ON",
    # video: FFmpeg linked directly (no plugin loading), V4L2 for webcams
    "WITH_FFMPEG": "ON", "VIDEOIO_ENABLE_PLUGINS": "OFF", "WITH_V4L": "ON", "WITH_GSTREAMER": "OFF",
    "WITH_1394": "OFF", "WITH_OBSENSOR": "OFF", "WITH_VA": "OFF", "WITH_VA_INTEL": "OFF",
    # images: PNG (self-test image, stored thumbnails) and JPEG (MJPEG webcams), both built in statically
    "WITH_PNG": "ON", "BUILD_PNG": "ON", "WITH_SPNG": "OFF", "WITH_JPEG": "ON", "BUILD_JPEG": "ON",
    "WITH_TIFF": "OFF", "WITH_WEBP": "OFF", "WITH_OPENJPEG": "OFF", "WITH_JASPER": "OFF", "WITH_OPENEXR": "OFF",
    "WITH_AVIF": "OFF", "WITH_JPEGXL": "OFF", "WITH_IMGCODEC_GIF": "OFF", "WITH_IMGCODEC_HDR": "OFF",
    "WITH_IMGCODEC_SUNRASTER": "OFF", "WITH_IMGCODEC_PXM": "OFF", "WITH_IMGCODEC_PFM": "OFF",
    # no linear algebra, accelerators or GUI
    "WITH_IPP": "OFF", "WITH_ITT": "OFF", "CV_TRACE": "OFF", "WITH_LAPACK": "OFF", "WITH_EIGEN": "OFF",
    "WITH_OPENCL": "OFF", "WITH_PROTOBUF": "OFF", "WITH_FLATBUFFERS": "OFF", "WITH_TBB": "OFF",
    "WITH_OPENMP": "OFF", "WITH_CUDA": "OFF", "WITH_VTK": "OFF", "WITH_GTK": "OFF", "WITH_QT": "OFF",
    "WITH_OPENGL": "OFF", "WITH_FREETYPE": "OFF", "WITH_KLEIDICV": "OFF", "WITH_FASTCV": "OFF",
    "WITH_CAROTENE": "OFF", "WITH_OPENVINO": "OFF", "WITH_ADE": "OFF", "WITH_QUIRC": "OFF", "WITH_ONNX": "OFF",
    "WITH_HAL_RVV": "OFF", "WITH_NDSRVP": "OFF", "ENABLE_PRECOMPILED_HEADERS": "OFF",
    # SIMD: the official wheel's SSE3 baseline (runs on any x86-64 CPU) plus AVX2 code paths; not its
    # SSE4.x, AVX and AVX-512 variants (compile time; AVX-512 CPUs run the AVX2 paths)
    "CPU_BASELINE": "SSE3", "CPU_DISPATCH": "AVX2",
    # the module finds the official wheel's FFmpeg libraries beside it, as the official cv2 does
    "CMAKE_INSTALL_RPATH": "$ORIGIN/../opencv_python_headless.libs", "CMAKE_BUILD_WITH_INSTALL_RPATH": "ON",
}
#: NumPy's build options (meson): no BLAS, no LAPACK (lapack_lite instead); SIMD code for the AVX2 level
#: besides the baseline, not also for the AVX-512 levels (those compile for hours on a small machine and
#: only speed up sorting and maths on AVX-512 CPUs); two compile jobs.
NUMPY_OPTIONS = ("-Csetup-args=-Dblas=none", "-Csetup-args=-Dlapack=none", "-Csetup-args=-Dallow-noblas=true",
                 "-Csetup-args=-Dcpu-dispatch=X86_V3", "-Ccompile-args=-j2")
CV_LIBS = "opencv_python_headless.libs"
FFMPEG_LIBS = ("libavcodec", "libavformat", "libavutil", "libswscale", "libswresample")


def log(msg: str) -> None:
    print(f"[lean] {msg}", flush=True)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, quiet_log: Path | None = None,
        nice: bool = False) -> None:
    """Run a command; compiles run at nice 19 (shared machines). With quiet_log, output goes there and its
    end is shown on failure."""
    if nice:
        cmd = ["nice", "-n", "19", *cmd]
    if quiet_log is None:
        subprocess.run(cmd, cwd=cwd, env=env, check=True)
        return
    with open(quiet_log, "ab") as out:
        result = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode:
        tail = quiet_log.read_text(errors="replace").splitlines()[-30:]
        raise SystemExit("\n".join(tail) + f"\n[lean] failed: {' '.join(cmd)} (log: {quiet_log})")


def pip(*args: str, log_to: Path | None = None) -> None:
    run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], quiet_log=log_to)


def stamp(recipe) -> str:
    """A short hash of a build's options: a cached build is reused only while they are unchanged."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:10]


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["platlib"])


# -- NumPy -------------------------------------------------------------------------------------------------

def numpy_blas(python: str = sys.executable) -> str:
    code = "import numpy; print(numpy.show_config('dicts')['Build Dependencies']['blas'].get('name'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def lean_numpy(cache: Path) -> None:
    version = md.version("numpy")
    folder = cache / f"numpy-{version}-noblas-{stamp(NUMPY_OPTIONS)}"
    wheels = sorted(folder.glob("numpy-*.whl"))
    if not wheels:
        folder.mkdir(parents=True, exist_ok=True)
        log(f"building NumPy {version} without BLAS from its source (first time only)")
        t0 = time.time()
        run([sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps",
             "--no-binary", "numpy", f"numpy=={version}", "-w", str(folder), *NUMPY_OPTIONS],
            nice=True, quiet_log=folder / "build.log")
        log(f"NumPy built in {time.time() - t0:.0f} s")
        wheels = sorted(folder.glob("numpy-*.whl"))
    pip("install", "--quiet", "--force-reinstall", "--no-deps", str(wheels[-1]))
    blas = numpy_blas()
    if blas not in ("none", "None", ""):
        raise SystemExit(f"[lean] NumPy still uses BLAS {blas!r}")
    log(f"NumPy {version} without BLAS installed ({wheels[-1].name})")


# -- FFmpeg headers ----------------------------------------------------------------------------------------

def ffmpeg_versions(libs: Path) -> dict[str, tuple[int, int, int]]:
    """{'libavcodec': (62, 28, 101), ...} from the wheel's library file names."""
    out = {}
    for p in libs.iterdir():
        m = re.match(r"(lib[a-z]+)-[0-9a-f]{8}\.so\.(\d+)\.(\d+)\.(\d+)$", p.name)
        if m and m.group(1) in FFMPEG_LIBS:
            out[m.group(1)] = tuple(int(x) for x in m.group(2, 3, 4))
    missing = set(FFMPEG_LIBS) - set(out)
    if missing:
        raise SystemExit(f"[lean] the OpenCV wheel ships no {sorted(missing)} in {libs}")
    return out


def pick_ffmpeg_source(showsrc: str, avcodec_major: int) -> str | None:
    """The newest Debian ffmpeg source version (from `apt-cache showsrc ffmpeg`) that builds
    libavcodec<major>, i.e. the FFmpeg release series the OpenCV wheel was built with."""
    found = []
    for para in showsrc.split("\n\n"):
        version = re.search(r"^Version: (\S+)", para, re.M)
        binary = re.search(r"^Binary: (.+(?:\n .+)*)", para, re.M)  # a long field goes on indented lines
        if version and binary and f"libavcodec{avcodec_major}" in re.split(r"[,\s]+", binary.group(1)):
            found.append(version.group(1))
    if not found:
        return None
    upstream = [tuple(int(x) for x in re.findall(r"\d+", v.split(":")[-1].split("-")[0])) for v in found]
    return found[max(range(len(found)), key=lambda i: upstream[i])]


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive this machine's apt already uses (its own mirror, if IT set one), or
    $TRAINER_DEBIAN_MIRROR."""
    if os.environ.get("TRAINER_DEBIAN_MIRROR"):
        return os.environ["TRAINER_DEBIAN_MIRROR"]
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list")),
             *sorted((apt_dir / "sources.list.d").glob("*.sources"))]
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        # one-line format: deb [options] URI suite components; deb822: URIs: URI ...
        uris = re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M)
        uris += [u for line in re.findall(r"^URIs:\s*(.+)$", text, re.M) for u in line.split()]
        for uri in uris:
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    raise SystemExit("[lean] no Debian archive in the apt sources; set TRAINER_DEBIAN_MIRROR to one")


def ffmpeg_headers(cache: Path, versions: dict[str, tuple[int, int, int]]) -> Path:
    """Installed headers of the FFmpeg release the wheel's libraries come from (same major versions)."""
    key = ".".join(str(versions[n][0]) for n in FFMPEG_LIBS)
    prefix = cache / f"ffmpeg-headers-{key}"
    if (prefix / "include" / "libavcodec" / "avcodec.h").is_file():
        return prefix / "include"
    apt = cache / "apt"
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    (apt / "sources.list").write_text("".join(f"deb-src {mirror} {s} main\n" for s in DEBIAN_SUITES))
    # A private apt configuration: the machine's own sources and state stay untouched.
    opts = ["-o", f"Dir::Etc::SourceList={apt / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={apt / 'lists'}", "-o", f"Dir::Cache={apt}",
            "-o", "Dir::State::status=/dev/null", "-o", "APT::Sandbox::User=root"]
    log("looking up Debian's FFmpeg source packages")
    run(["apt-get", *opts, "-qq", "update"], quiet_log=apt / "apt.log")
    showsrc = subprocess.run(["apt-cache", *opts, "showsrc", "ffmpeg"], capture_output=True, text=True,
                             check=True).stdout
    major = versions["libavcodec"][0]
    version = pick_ffmpeg_source(showsrc, major)
    if version is None:
        raise SystemExit(f"[lean] Debian ({', '.join(DEBIAN_SUITES)}) has no FFmpeg source with libavcodec "
                         f"{major}, the version the OpenCV wheel ships; cannot build the lean OpenCV")
    src = cache / "ffmpeg-src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    log(f"downloading the source of Debian's ffmpeg {version}")
    run(["apt-get", *opts, "-qq", "source", "--download-only", f"ffmpeg={version}"], cwd=src,
        quiet_log=apt / "apt.log")
    orig = next(src.glob("ffmpeg_*.orig.tar.*"))
    with tarfile.open(orig) as t:
        t.extractall(src, filter="data")
    tree = next(p for p in src.iterdir() if p.is_dir())
    # Only the headers are wanted; configure generates the two that are not in the source (avconfig.h,
    # ffversion.h).
    run(["./configure", f"--prefix={prefix}", "--disable-everything", "--disable-programs", "--disable-doc",
         "--disable-x86asm", "--disable-autodetect"], cwd=tree, quiet_log=src / "configure.log", nice=True)
    run(["make", "install-headers"], cwd=tree, quiet_log=src / "configure.log", nice=True)
    header = (prefix / "include" / "libavcodec" / "version_major.h").read_text()
    got = int(re.search(r"LIBAVCODEC_VERSION_MAJOR\s+(\d+)", header).group(1))
    if got != major:
        raise SystemExit(f"[lean] FFmpeg headers are libavcodec {got}, the wheel's library {major}")
    shutil.rmtree(src)
    log(f"FFmpeg headers of Debian's ffmpeg {version} in {prefix}")
    return prefix / "include"


# -- OpenCV ------------------------------------------------------------------------------------------------

def opencv_version() -> str:
    return md.version("opencv-python-headless")


def needed(lib: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.+?)\]", out)


def closure(start: Path, folder: Path) -> set[str]:
    """Names of the libraries in `folder` that `start` needs, directly or through each other."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in needed(todo.pop()):
            if dep not in seen and (folder / dep).is_file():
                seen.add(dep)
                todo.append(folder / dep)
    return seen


def build_opencv(cache: Path, version: str, libs: Path) -> Path:
    """cv2.abi3.so of `version` built as described above; cached."""
    out = cache / f"opencv-{version}-lean-{stamp([OPENCV_MODULES, OPENCV_OPTIONS])}"
    module = out / "cv2.abi3.so"
    if module.is_file():
        return module
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    include = ffmpeg_headers(cache, ffmpeg_versions(libs))
    sdists = cache / "sdist"
    sdists.mkdir(exist_ok=True)
    name = f"opencv_python_headless-{version}"
    if not (sdists / f"{name}.tar.gz").is_file():
        log(f"downloading the opencv-python-headless {version} source")
        pip("download", "--quiet", "--no-deps", "--no-binary", "opencv-python-headless",
            f"opencv-python-headless=={version}", "-d", str(sdists), log_to=out / "build.log")
    if not (sdists / name / "opencv" / "CMakeLists.txt").is_file():
        with tarfile.open(sdists / f"{name}.tar.gz") as t:
            t.extractall(sdists, filter="data")
    # pkg-config files that name the wheel's FFmpeg libraries (linked by their SONAME, as the official
    # cv2 is) and the headers above.
    ff = out / "ffmpeg"
    (ff / "pkgconfig").mkdir(parents=True, exist_ok=True)
    for lib in libs.iterdir():
        m = re.match(r"(lib[a-z]+)-[0-9a-f]{8}\.so\.(\d+\.\d+\.\d+)$", lib.name)
        if not m or m.group(1) not in FFMPEG_LIBS:
            continue
        base = m.group(1)
        link = ff / f"{base}.so"
        link.unlink(missing_ok=True)
        link.symlink_to(lib)
        (ff / "pkgconfig" / f"{base}.pc").write_text(
            f"Name: {base}\nDescription: FFmpeg {base} of the opencv-python-headless wheel\n"
            f"Version: {m.group(2)}\nLibs: -L{ff} -l{base[3:]}\nCflags: -I{include}\n")
    py = sys.executable
    paths = sysconfig.get_paths()
    libpython = Path(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("LDLIBRARY") or "")
    import numpy

    build = cache / f"opencv-{version}-build"
    defs = {**OPENCV_OPTIONS, "CMAKE_BUILD_TYPE": "Release", "BUILD_LIST": OPENCV_MODULES,
            "PYTHON3_EXECUTABLE": py, "PYTHON_DEFAULT_EXECUTABLE": py, "PYTHON3_INCLUDE_DIR": paths["include"],
            "PYTHON3_LIBRARY": str(libpython), "PYTHON3_NUMPY_INCLUDE_DIRS": numpy.get_include()}
    for kind in ("SHARED", "MODULE", "EXE"):
        defs[f"CMAKE_{kind}_LINKER_FLAGS"] = f"-Wl,-rpath-link,{libs}"
    env = {**os.environ, "PKG_CONFIG_PATH": str(ff / "pkgconfig"), "PKG_CONFIG_LIBDIR": str(ff / "pkgconfig")}
    log(f"building OpenCV {version} (core, imgproc, imgcodecs, videoio) from its source (first time only)")
    build.mkdir(exist_ok=True)
    run(["cmake", "-G", "Ninja", str(sdists / name / "opencv"), *(f"-D{k}={v}" for k, v in defs.items())],
        cwd=build, env=env, quiet_log=out / "build.log", nice=True)
    info = (out / "build.log").read_text(errors="replace")
    for want in (r"FFMPEG:\s+YES", r"v4l/v4l2:\s+YES", r"To be built:\s+core .*python3"):
        if not re.search(want, info):
            raise SystemExit(f"[lean] OpenCV's configuration lacks {want!r} (log: {out / 'build.log'})")
    run(["ninja", "-j2", "opencv_python3"], cwd=build, env=env, quiet_log=out / "build.log", nice=True)
    built = next((build / "lib" / "python3").glob("cv2*.so"))
    shutil.copy2(built, out / "cv2.tmp")
    run(["strip", "--strip-unneeded", str(out / "cv2.tmp")])
    (out / "cv2.tmp").rename(module)
    log(f"OpenCV built in {time.time() - t0:.0f} s ({module.stat().st_size / 1e6:.1f} MB)")
    return module


def lean_opencv(cache: Path) -> None:
    version = opencv_version()
    site = site_packages()
    libs = site / CV_LIBS
    installed = next((site / "cv2").glob("cv2*.so"))
    module = build_opencv(cache, version, libs)
    reference = cache / f"opencv-{version}-wheel"
    official_wheel(reference, version)
    before = sum(p.stat().st_size for p in libs.iterdir()) + installed.stat().st_size
    shutil.copy2(module, installed)
    keep = closure(installed, libs)
    for lib in sorted(libs.iterdir()):
        if lib.name not in keep:
            lib.unlink()
            log(f"removed {CV_LIBS}/{lib.name} (only the official cv2 needed it)")
    after = sum(p.stat().st_size for p in libs.iterdir()) + installed.stat().st_size
    info = subprocess.run([sys.executable, "-c", "import cv2; print(cv2.getBuildInformation())"],
                          capture_output=True, text=True, check=True).stdout
    for want in (r"FFMPEG:\s+YES", r"v4l/v4l2:\s+YES"):
        if not re.search(want, info):
            raise SystemExit(f"[lean] the installed OpenCV lacks {want!r}")
    log(f"OpenCV {version} lean build installed: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
        f"(module and {CV_LIBS})")


def official_wheel(folder: Path, version: str) -> Path:
    """The official opencv-python-headless wheel, unpacked (the reference for --check-decode)."""
    if (folder / "cv2" / "__init__.py").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    pip("download", "--quiet", "--no-deps", "--only-binary", ":all:", f"opencv-python-headless=={version}",
        "-d", str(folder), log_to=folder / "download.log")
    wheel = next(folder.glob("opencv_python_headless-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(folder)
    for p in (folder / CV_LIBS).iterdir():
        p.chmod(0o755)
    for p in (folder / "cv2").glob("cv2*.so"):
        p.chmod(0o755)
    wheel.unlink()
    return folder


def digest_differences(ref: dict, got: dict) -> list[str]:
    """Keys of two video_digest.py results that differ (the OpenCV version string may)."""
    return sorted(k for k in set(ref) | set(got) if k != "opencv" and ref.get(k) != got.get(k))


def check_decode(cache: Path, video: str, image: str, bundle_cv2: str) -> int:
    """Compare the official wheel's OpenCV with the bundle's on VIDEO and IMAGE (see the docstring)."""
    reference = official_wheel(cache / f"opencv-{opencv_version()}-wheel", opencv_version())
    digest = [sys.executable, str(HERE / "video_digest.py"), video, image]
    env = {**os.environ, "PYTHONPATH": str(reference)}
    ref = json.loads(subprocess.run(digest, env=env, capture_output=True, text=True, check=True).stdout)
    got = json.loads(subprocess.run([*digest, "--module", bundle_cv2], capture_output=True, text=True,
                                    check=True).stdout)
    differs = digest_differences(ref, got)
    print(f"[build]   official wheel: OpenCV {ref['opencv']}, {ref['frames']} frames {ref['shape']}; "
          f"bundle: OpenCV {got['opencv']}, {got['frames']} frames", file=sys.stderr)
    if ref["frames"] == 0:
        print("[build]   the official wheel decoded no frame", file=sys.stderr)
        return 1
    if differs:
        print(f"[build]   DIFFERENT from the official wheel: {differs}", file=sys.stderr)
        return 1
    print("[build]   every decoded frame, the PNG read, cvtColor and resize results are identical",
          file=sys.stderr)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=HERE / ".cache")
    ap.add_argument("--check-decode", nargs=2, metavar=("VIDEO", "IMAGE"))
    ap.add_argument("--bundle-cv2", help="the bundle's OpenCV extension module (with --check-decode)")
    args = ap.parse_args()
    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    if args.check_decode:
        return check_decode(cache, *args.check_decode, args.bundle_cv2)
    lean_numpy(cache)
    lean_opencv(cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
