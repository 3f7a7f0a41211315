"""Offline analysis of a recording: every frame through the same `FaceProcessor` the live visit uses.

`analyze_video(path, out_dir)` writes out_dir/frames.csv (DESIGN.md section 5) while it runs, so a crash
or a cancel leaves the rows so far, and returns the video keys of summary.json.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Callable, Iterable

from trainer.core.errors import SourceError, TrainerError
from trainer.core.face_metrics import cue_response, summarise_face

#: frames.csv columns: the DESIGN.md section 5 ones first, then quality flags ("|"-separated) and the
#: measured gaze direction (degrees from the optical axis) for anyone re-scoring or calibrating later.
COLUMNS = ("t", "face", "gaze", "yaw", "pitch", "roll", "expressivity", "smile", "nod", "quality",
           "gaze_yaw", "gaze_pitch")
#: Seconds between progress callbacks (and at least one per this many frames when decoding is slow).
PROGRESS_EVERY_S = 0.2


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


def analyze_video(path, out_dir, *, calibration=None, progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None,
                  speech_segments: Iterable[tuple[float, float]] | None = None,
                  patient_segments: Iterable[tuple[float, float]] | None = None,
                  cue_times: Iterable[float] | None = None, processor=None) -> dict:
    """Analyse every frame of a video file; write out_dir/frames.csv; return the summary dict.

    - `calibration`: a `Calibration` (else the default geometry; the result says calibrated false).
    - `progress(done_frames, total_frames)` is called a few times a second and at the end (total 0 when
      the container does not say); `cancel()` returning True stops early (result has "cancelled": true).
    - `speech_segments` (clinician speech) add eye contact while speaking/listening and the wait before
      speaking after each cue; `patient_segments` add nods per minute while the patient speaks;
      `cue_times` add a cue-response list.
    - `processor`: an already created face processor to use (and close); default: a new one.

    Raises SourceError when the file cannot be opened or decoded at all. A file that ends early
    (truncated, damaged) keeps the frames read so far; the result then has "truncated": true and a
    "message" saying so.
    """
    from trainer.analysis.face import create_face_processor
    from trainer.capture.video import VideoFileSource

    src = VideoFileSource(path, realtime=False)
    src.open()  # SourceError for missing / undecodable input, before anything is written
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fh = open(out / "frames.csv", "w", newline="", encoding="utf-8")
    except OSError as exc:
        src.close()
        raise TrainerError(f"Cannot write the results to {out}: {exc.strerror or exc}.",
                           hint="Choose an output folder you can write to.") from None
    proc = processor
    samples = []
    cancelled = False
    total = src.frame_count
    t_start = time.perf_counter()
    try:
        if proc is None:
            proc = create_face_processor(calibration=calibration)
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        last_report = t_start
        for frame in src.frames():
            if cancel is not None and cancel():
                cancelled = True
                break
            sample, obs = proc.process(frame)
            samples.append(sample)
            g = obs.gaze
            writer.writerow([
                round(sample.t, 4), _cell(sample.face), sample.gaze, _cell(sample.yaw), _cell(sample.pitch),
                _cell(sample.roll), _cell(sample.expressivity), _cell(sample.smile), _cell(sample.nod),
                "|".join(sample.quality), "" if g is None else round(g.yaw, 2),
                "" if g is None else round(g.pitch, 2)])
            now = time.perf_counter()
            if progress is not None and now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                progress(len(samples), total)
        elapsed = time.perf_counter() - t_start
    finally:
        fh.close()
        src.close()
        if proc is not None:
            proc.close()
    if not samples and not cancelled:
        raise SourceError(f"No frame of {Path(path).name} could be analysed.", hint="The file may be damaged.")
    if progress is not None:
        progress(len(samples), total if (cancelled or src.error) else max(total, len(samples)))
    speech = list(speech_segments) if speech_segments is not None else None
    result = summarise_face(samples, nod_times=[n.onset for n in proc.nods],
                            smiles=[(s.start, s.end) for s in proc.smiles], speech_segments=speech,
                            patient_segments=list(patient_segments) if patient_segments is not None else None)
    result.update({
        "processing_fps": round(len(samples) / elapsed, 1) if elapsed > 0 else None,
        "calibrated": bool(proc.calibrated),
        "quality": quality_shares(samples),
        "nod_onsets_s": [round(n.onset, 3) for n in proc.nods],
        "smile_events": [[round(s.start, 3), None if s.end is None else round(s.end, 3)] for s in proc.smiles],
        "video": {"file": Path(path).name, "width": src.size[0], "height": src.size[1],
                  "fps": round(src.fps, 3), "frames_in_container": total},
    })
    if cue_times is not None:
        result["cue_responses"] = [c.to_dict() for c in cue_response(cue_times, samples,
                                                                     speech_segments=speech)]
    result["_samples"] = samples  # for core.measures in trainer.analysis.offline; not written
    if src.error:
        result["truncated"] = True
        result["message"] = f"{src.error}; the results cover the first {result['duration_s']:.1f} s."
    if cancelled:
        result["cancelled"] = True
        result["message"] = f"Analysis cancelled after {len(samples)} frames; the results cover those."
    return result


def quality_shares(samples) -> dict[str, float]:
    """Share of frames on which each quality flag was in force (flags never raised are left out)."""
    counts: dict[str, int] = {}
    for s in samples:
        for q in s.quality:
            counts[q] = counts.get(q, 0) + 1
    n = len(samples) or 1
    return {k: round(v / n, 3) for k, v in sorted(counts.items())}
