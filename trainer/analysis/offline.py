"""`trainer analyze`: offline analysis of a recording, with the same per-frame and per-block code the
live visit uses (DESIGN.md section 5).

A video file gives `frames.csv` (trainer.analysis.offline_video); any file with sound gives `voice.csv`
(trainer.analysis.offline_voice); both contribute keys to `summary.json`, which this module writes.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Callable, Sequence

from trainer.core.errors import SourceError

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def probe_streams(path: str | os.PathLike) -> tuple[bool, bool]:
    """(has_video, has_audio) for a media file; SourceError when FFmpeg cannot open it."""
    import av

    p = Path(path)
    if not p.is_file():
        raise SourceError(f"Input file not found: {p}")
    try:
        with av.open(str(p)) as c:
            # A still-image "video" stream inside an audio file (cover art) is not a camera recording;
            # FFmpeg marks it as an attached picture. (A genuine one-frame video still counts.)
            has_video = any(s.type == "video" and not _attached_picture(s) for s in c.streams)
            has_audio = any(s.type == "audio" for s in c.streams)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise SourceError(f"Cannot read {p}: it is not a video or audio file this app can decode ({exc}).",
                          hint="Use an MP4/WebM/AVI video or a WAV/FLAC/MP3 recording.") from None
    if not has_video and not has_audio:
        raise SourceError(f"{p.name} contains neither video nor audio.")
    return has_video, has_audio


def _attached_picture(stream) -> bool:
    import av

    flag = getattr(getattr(av.stream, "Disposition", None), "attached_pic", None)
    if flag is None:  # older PyAV: fall back to the frame count of cover art
        return (stream.frames or 0) == 1
    return bool(stream.disposition & flag)


def _finite(value):
    """`value` with every non-finite float (NaN, ±inf) replaced by None, through dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def analyze_recording(path: str | os.PathLike, out_dir: str | os.PathLike, *,
                      patient_segments: str | os.PathLike | None = None,
                      patient_audio: str | os.PathLike | None = None,
                      progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
                      transcribe: bool = False, patient_names: Sequence[str] = (),
                      keep_text: bool | None = None) -> dict:
    """Analyse a recording into out_dir (frames.csv, voice.csv, summary.json); returns the summary.

    With `transcribe`, the clinician's speech segments are also transcribed offline and labelled into
    utterances.csv (the words kept when `keep_text`, by default when the site policy allows
    transcripts; otherwise only the labels)."""
    from trainer.analysis.offline_video import analyze_video
    from trainer.analysis.offline_voice import analyze_voice

    has_video, has_audio = probe_streams(path)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SourceError(f"--out {out} is a file; give a folder for frames.csv, voice.csv and summary.json.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(f"The output folder {out} cannot be created: {exc.strerror or exc}.") from None
    summary: dict = {"input": Path(path).name}  # the name only: full paths can say more than needed
    speech_segments = None
    if has_audio:
        voice = analyze_voice(path, out, patient_segments=patient_segments, patient_audio=patient_audio,
                              progress=(lambda d, t: progress("voice", d, t)) if progress else None)
        summary.update(voice)
        speech_segments = voice.get("_segments")
    elif patient_segments or patient_audio:
        raise SourceError(f"{Path(path).name} has no audio track, so talk-time balance cannot be computed.")
    if transcribe:
        if not has_audio:
            raise SourceError(f"{Path(path).name} has no audio track: there is no speech to transcribe.")
        from trainer.analysis.offline_transcript import transcribe_recording

        if keep_text is None:
            from trainer.core.policy import effective_settings

            keep_text = effective_settings().allow_transcripts
        summary.update(transcribe_recording(path, speech_segments or [], out, patient_names=patient_names,
                                            keep_text=keep_text,
                                            progress=(lambda d, t: progress("words", d, t)) if progress else None))
    if has_video:
        video = analyze_video(path, out, speech_segments=speech_segments,
                              progress=(lambda d, t: progress("video", d, t)) if progress else None,
                              cancel=cancel)
        summary.update(video)
    summary["measures"] = _measures(summary, has_audio)
    summary = {k: v for k, v in summary.items() if not k.startswith("_")}
    # Strict JSON: a value that is not a finite number (no data for a ratio) is written as null, never as
    # NaN/Infinity, which other JSON readers reject.
    (out / "summary.json").write_text(json.dumps(_finite(summary), indent=2, sort_keys=True, allow_nan=False)
                                      + "\n", encoding="utf-8")
    return summary


def _measures(summary: dict, has_audio: bool) -> dict:
    """core.measures over the recording, with coverage, as the live summary has them (docs/measures.md).
    The recording's length is the visit; the microphone covers the audio track minus its gaps."""
    from trainer.core.measures import VisitRecord, measure_all

    end_s = max(float(summary.get("audio_duration_s") or 0.0), float(summary.get("duration_s") or 0.0))
    rec = VisitRecord(frames=list(summary.get("_samples") or []), clinician=list(summary.get("_segments") or []),
                      patient=list(summary.get("_patient") or []), end_s=end_s,
                      mic=summary.get("_mic") if has_audio else [])
    return {k: m.as_dict() for k, m in measure_all(rec).items()}
