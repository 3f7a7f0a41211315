"""Session bundles: one file that carries sessions to another machine (debrief, peer review).

A bundle is a ZIP file (format in docs/bundle.md):

    manifest.json                      format, format_version, app_version, created_at, exported_from,
                                       includes_reflection, sessions [uuid...], members {name: sha256}
    sessions/<uuid>/session.json       the session row (without the local id), notes, ratings,
                                       reflection only when the learner chose to include it
    sessions/<uuid>/scenario.yaml      the scenario as it was played (when the store has it)
    sessions/<uuid>/frames.json        analysed frames, as column names + rows
    sessions/<uuid>/speech.json        speech segments
    sessions/<uuid>/events.json        scenario events, patient lines, notices, rubric
    sessions/<uuid>/recording.mkv      the consented video (store/recording.py), only when the learner
                                       chose to include it (manifest includes_video)

Import checks everything before writing anything: the ZIP's own CRCs, every member's SHA-256 against the
manifest, the format version, and the shape of every member; then it writes the recordings under temporary names, inserts all new sessions in one transaction and only
then gives the recordings their names (a failure removes them). A session whose uuid the store already has is skipped (importing twice adds nothing). The
checksums detect damage and accidental edits; they are not a signature against deliberate forgery.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from trainer.core.errors import StoreError
from trainer.core.i18n import _
from trainer.privacy import private_dir
from trainer.store.recording import recording_path

FORMAT = "trainer-session-bundle"
FORMAT_VERSION = 1
#: Session columns a bundle never carries as such: the local id, and the reflection (only on the learner's
#: say-so). "origin" travels: '' means the exporting machine made the session.
_LOCAL_COLUMNS = {"id", "reflection"}
_TABLES = {
    "frames": ("t", "face", "gaze", "yaw", "pitch", "roll", "expressivity", "smile", "nod", "smile_above"),
    "speech": ("speaker", "start", "end"),
    "events": ("t", "kind", "data"),
}
#: Columns of bundles written before a column was added (still imported; the missing column stays NULL).
_OLDER_COLUMNS = {"frames": ("t", "face", "gaze", "yaw", "pitch", "roll", "expressivity", "smile", "nod")}


class BundleError(StoreError):
    """A bundle that cannot be written or read; nothing was imported."""


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)  # new local session ids
    skipped: list[str] = field(default_factory=list)  # uuids the store already had

    def line(self) -> str:
        return (f"imported {len(self.added)} session(s)"
                + (f"; {len(self.skipped)} already in this store, left as they were" if self.skipped else ""))


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


RECORDING_MEMBER = "recording.mkv"


def export_sessions(store, session_ids: list[int], out: str | Path, *, include_reflection: bool = False,
                    include_video: bool = False) -> Path:
    """Write the sessions to a bundle at `out` (readable by its owner only) and return its path. The
    reflection and the video recording go only when asked for (`include_reflection`, `include_video`)."""
    from trainer import __version__

    if not session_ids:
        raise BundleError(_("Choose at least one session to export."))
    members: dict[str, bytes] = {}
    uuids = []
    con = store.connect()
    try:
        cols = _columns(con, "sessions")
        for sid in session_ids:
            row = con.execute("SELECT * FROM sessions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise BundleError(_("Session {n} does not exist.").format(n=sid))
            row = dict(row)
            uid = row["uuid"]
            uuids.append(uid)
            base = f"sessions/{uid}/"
            meta = {c: row[c] for c in cols if c not in _LOCAL_COLUMNS and c != "scenario_text"}
            if include_reflection and row.get("reflection"):
                meta["reflection"] = row["reflection"]
            meta["notes"] = [dict(r) for r in con.execute(
                "SELECT t, author, text, created_at FROM notes WHERE session_id = ? ORDER BY t, id", (sid,))]
            meta["ratings"] = [dict(r) for r in con.execute(
                "SELECT behaviour, level, comment, author, rated_at FROM ratings WHERE session_id = ?", (sid,))]
            members[base + "session.json"] = _json(meta)
            if row.get("scenario_text"):
                members[base + "scenario.yaml"] = row["scenario_text"].encode("utf-8")
            for table, tcols in _TABLES.items():
                quoted = ", ".join(f'"{c}"' for c in tcols)
                rows = [list(r) for r in con.execute(
                    f"SELECT {quoted} FROM {table} WHERE session_id = ? ORDER BY rowid", (sid,))]
                members[base + f"{table}.json"] = _json({"columns": list(tcols), "rows": rows})
            video = recording_path(store.path, uid) if include_video else None
            if video is not None and video.is_file():
                try:
                    members[base + RECORDING_MEMBER] = video.read_bytes()
                except OSError as exc:
                    raise BundleError(_("Cannot read the recording of session {n}: {error}").format(
                        n=sid, error=exc.strerror or exc)) from None
    finally:
        con.close()
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "exported_from": platform.node(), "includes_reflection": bool(include_reflection),
        "includes_video": any(n.endswith("/" + RECORDING_MEMBER) for n in members),
        "sessions": uuids,
        "members": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())},
    }
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # sessions are personal data
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", _json(manifest))
            for name, data in members.items():
                # Video is compressed already: stored as it is (deflate would only cost time).
                z.writestr(name, data, zipfile.ZIP_STORED if name.endswith(RECORDING_MEMBER) else zipfile.ZIP_DEFLATED)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(_("Cannot write the bundle {path}: {error}").format(path=out, error=exc.strerror or exc)) from None
    return out


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8")


def read_bundle(path: str | Path) -> tuple[dict, dict[str, bytes]]:
    """Read and check a bundle: (manifest, members). BundleError names what is wrong."""
    path = Path(path)
    damaged = (_("The bundle {name} is damaged or incomplete").format(name=path.name),
               _("Ask for the file again; nothing was imported."))
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if "manifest.json" not in names:
                raise BundleError(_("{name} is not a session bundle (no manifest.json).").format(name=path.name),
                                  hint=_("Choose a file made by Export."))
            data = {n: z.read(n) for n in names}  # checks each member's CRC
    except FileNotFoundError:
        raise BundleError(_("The bundle {path} does not exist.").format(path=path)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise BundleError(f"{damaged[0]} ({exc}).", hint=damaged[1]) from None
    except OSError as exc:
        raise BundleError(_("Cannot read {path}: {error}").format(path=path, error=exc.strerror or exc)) from None
    try:
        manifest = json.loads(data.pop("manifest.json"))
        fmt, version = manifest.get("format"), manifest.get("format_version")
    except (ValueError, AttributeError):
        raise BundleError(_("{damaged} (the manifest is not readable).").format(damaged=damaged[0]), hint=damaged[1]) from None
    if fmt != FORMAT or not isinstance(version, int):
        raise BundleError(_("{name} is not a session bundle.").format(name=path.name), hint=_("Choose a file made by Export."))
    if version > FORMAT_VERSION:
        raise BundleError(_("{name} was written in bundle format {version} by trainer {app}; this app reads format "
                            "{ours} and older.").format(name=path.name, version=version,
                                                        app=manifest.get("app_version", "?"), ours=FORMAT_VERSION),
                          hint=_("Update the trainer to import it; nothing was imported."))
    sums = manifest.get("members")
    if not isinstance(sums, dict) or set(sums) != set(data):
        raise BundleError(_("{damaged} (its members do not match the manifest).").format(damaged=damaged[0]), hint=damaged[1])
    for name, blob in data.items():
        if hashlib.sha256(blob).hexdigest() != sums[name]:
            raise BundleError(_("{damaged}: {name} does not match its checksum (altered after export).").format(
                damaged=damaged[0], name=name), hint=damaged[1])
    return manifest, data


def import_bundle(store, path: str | Path) -> ImportReport:
    """Add the bundle's sessions to the store, all or nothing; sessions already present are skipped."""
    manifest, data = read_bundle(path)
    try:
        parsed = [_parse_session(uid, data) for uid in manifest["sessions"]]
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"The bundle {Path(path).name} is damaged or incomplete (bad session data: {exc}).",
                          hint="Ask for the file again; nothing was imported.") from None
    origin_here = (f"{Path(path).name}, exported from {manifest.get('exported_from') or '?'} "
                   f"on {str(manifest.get('created_at', ''))[:10]}")
    report = ImportReport()
    videos: list[tuple[Path, Path]] = []  # (temporary, final) recordings of the sessions added
    con = store.connect()
    try:
        cols = set(_columns(con, "sessions"))
        con.execute("BEGIN IMMEDIATE")
        try:
            for meta, scenario_text, tables in parsed:
                uid = meta["uuid"]
                if con.execute("SELECT 1 FROM sessions WHERE uuid = ?", (uid,)).fetchone():
                    report.skipped.append(uid)
                    continue
                row = {k: v for k, v in meta.items() if k in cols and k not in ("id", "notes", "ratings")}
                row["origin"] = meta.get("origin") or origin_here  # an imported session keeps its first origin
                row["scenario_text"] = scenario_text
                names = list(row)
                cur = con.execute(f"INSERT INTO sessions ({', '.join(names)}) VALUES "
                                  f"({', '.join('?' * len(names))})", [row[n] for n in names])
                sid = int(cur.lastrowid)
                for table, (tcols, rows) in tables.items():
                    quoted = ", ".join(f'"{c}"' for c in tcols)
                    con.executemany(f"INSERT INTO {table} (session_id, {quoted}) VALUES "
                                    f"({', '.join('?' * (len(tcols) + 1))})", [(sid, *r) for r in rows])
                con.executemany("INSERT INTO notes (session_id, t, author, text, created_at) VALUES (?,?,?,?,?)",
                                [(sid, n["t"], n["author"], n["text"], n["created_at"]) for n in meta["notes"]])
                con.executemany("INSERT INTO ratings (session_id, behaviour, level, comment, author, rated_at) "
                                "VALUES (?,?,?,?,?,?)", [(sid, r["behaviour"], r["level"], r["comment"],
                                                          r["author"], r["rated_at"]) for r in meta["ratings"]])
                report.added.append(sid)
                video = data.get(f"sessions/{uid}/{RECORDING_MEMBER}")
                if video is not None:
                    videos.append(_stage_recording(store, uid, video))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        _discard(videos)
        raise BundleError(f"Importing {Path(path).name} failed: {exc}", hint="Nothing was imported.") from None
    except BaseException:
        _discard(videos)
        raise
    finally:
        con.close()
    for tmp, final in videos:  # the sessions are in: their recordings get their names
        os.replace(tmp, final)
    if report.added:
        store.announce("sessions_imported", report.added)
    return report


def _stage_recording(store, uid: str, blob: bytes) -> tuple[Path, Path]:
    """Write an imported recording under a temporary name beside where it belongs (private)."""
    final = recording_path(store.path, uid)
    private_dir(final.parent, root=final.parent.parent)
    tmp = final.with_name(final.name + ".part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"Cannot write the recording of session {uid}: {exc.strerror or exc}",
                          hint="Nothing was imported.") from None
    return tmp, final


def _discard(videos: list[tuple[Path, Path]]) -> None:
    for tmp, _final in videos:
        tmp.unlink(missing_ok=True)


def _parse_session(uid: str, data: dict[str, bytes]):
    base = f"sessions/{uid}/"
    meta = json.loads(data[base + "session.json"])
    if meta.get("uuid") != uid or not isinstance(meta.get("scenario_id"), str):
        raise ValueError(f"session {uid} has no matching id")
    for n in meta["notes"]:
        float(n["t"]), str(n["author"]), str(n["text"])
    for r in meta["ratings"]:
        str(r["behaviour"]), str(r["level"])
    scenario = data.get(base + "scenario.yaml")
    video = data.get(base + RECORDING_MEMBER)
    if video is not None and not video.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska's EBML header
        raise ValueError(f"the recording of session {uid} is not a video file")
    tables = {}
    for table, tcols in _TABLES.items():
        t = json.loads(data[base + f"{table}.json"])
        cols = tuple(t["columns"])
        if cols not in (tcols, _OLDER_COLUMNS.get(table)) or any(len(r) != len(cols) for r in t["rows"]):
            raise ValueError(f"{table} of session {uid} has unexpected columns")
        tables[table] = (cols, t["rows"])
    return meta, scenario.decode("utf-8") if scenario is not None else None, tables
