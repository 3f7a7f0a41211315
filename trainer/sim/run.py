"""Driving a whole visit with the simulated clinician, and headless visits from recordings.

`simulate(...)` runs the real VisitRunner (engine, face and voice analysis with the echo guard fed with
the patient's playback, store writer) with the simulated source pair, in one of three paces:

- `speed=None`: real time, the live code path as a webcam visit runs it (session clock on the wall
  clock, the engine's ticker and the playback thread, frames dropped when analysis falls behind);
- `speed=0` (`--fast`): stepped on a virtual clock as fast as the CPU allows (64 ms steps, one
  microphone block each; see trainer.sim.sources); deterministic: same inputs, same session;
- `speed=N`: the same stepped run, held back to N times real time.

`run_headless(...)` is `trainer run --headless`: a visit from a camera and a microphone (files or
devices) without a window, in real time, writing the same summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.core.clock import ManualClock, SessionClock
from trainer.core.errors import TrainerError
from trainer.sim.clinician import Profile, Room, SimulatedClinician, SpeakerPath
from trainer.sim.report import session_report, write_report
from trainer.sim.sources import BLOCK, RATE, LoopingVideoSource, StepGate, VirtualMicrophone
from trainer.sim.voice import ClinicianVoice, active_level_db

STEP_S = BLOCK / RATE
STALL_S = 60.0  # wall seconds without progress in a stepped run before it is reported as stalled


class SimulationStalled(TrainerError):
    """The analysis stopped consuming the simulated sources."""

    title = "Simulation stalled"


@dataclass
class SimResult:
    session_id: int
    report: dict
    wall_s: float
    clinician: SimulatedClinician


def _max_session_s(scenario) -> float:
    from trainer.core.scenario import estimate_minutes

    try:
        _lo, hi = estimate_minutes(scenario)
    except Exception:  # noqa: BLE001 - only a safety cap
        hi = 10.0
    return max(600.0, 3 * hi * 60.0)


#: Camera frames analysed per second of session time. A stepped run (--fast, --speed) drops none, so 10,
#: the rate the face measures need (DESIGN.md section 4), is what every second stores; it is also what
#: keeps a fast run under a third of the visit's length on a 2-core machine (README figures). A
#: real-time run analyses 15, as the app does with a webcam, so that frames dropped under load still
#: leave at least 10.
FAST_FACE_FPS = 10.0
REALTIME_FACE_FPS = 15.0


def default_face_fps(stepped: bool) -> float:
    """The camera analysis rate of a simulated visit (FAST_FACE_FPS when stepped)."""
    return FAST_FACE_FPS if stepped else REALTIME_FACE_FPS


def simulate(scenario, store, *, profile: Profile, voice: ClinicianVoice | None, camera=None,
             speaker: SpeakerPath | None = None, face_fps: float | None = None, speed: float | None = 0.0,
             patient_voice=None, out_dir: Path | None = None, max_session_s: float | None = None,
             listener=None, on_runner=None, record_video: bool = False) -> SimResult:
    """Run one visit of `scenario` with a simulated clinician; returns the stored session's report
    (also written to out_dir as summary.json and turns.csv when given).

    `listener(event)` also receives every event of the visit (from worker threads), as a window's bridge
    would; `on_runner(runner)` is called with the VisitRunner before it starts (benchmarks/soak.py uses both
    to drive the real call window beside the simulated clinician)."""
    from trainer.capture.patient_voice import PatientVoice
    from trainer.visit import FramePreview, VisitRunner

    speaker = speaker or SpeakerPath()
    patient_voice = patient_voice or PatientVoice()
    # Rendered before the visit (the runner's own preparation then hits the cache), so the echo level is
    # set relative to the patient's real speaking level from the first block on.
    rendered = patient_voice.prepare(scenario)
    intent_voice = None
    if profile.says_intent:
        from trainer.sim.voice import IntentVoice

        intent_voice = IntentVoice(scenario, patient_voice)
    clin = SimulatedClinician(profile, voice, intent_voice)
    room = Room(clin, speaker)
    if rendered:
        from trainer.capture.audio import resample

        room.set_patient_level(active_level_db(np.concatenate(
            [resample(r.samples, r.rate, RATE) for r in rendered.values()])))
    stepped = speed is not None
    if face_fps is None:
        face_fps = default_face_fps(stepped)
    gate = StepGate() if stepped else None
    vclock = ManualClock(0.0) if stepped else None
    clock = SessionClock(vclock) if stepped else SessionClock()
    cam = LoopingVideoSource(camera, clock, fps=face_fps, gate=gate) if camera is not None else None
    mic = VirtualMicrophone(room.render, clock, gate=gate, before_block=None if stepped else clin.act)

    extra = listener

    def listener(ev):
        if extra is not None:
            extra(ev)
        if not isinstance(ev, FramePreview):
            clin.on_event(ev)

    # No LRS and the scenario's own turn time limits: a simulation never reports to a learning record
    # store and does not depend on the user's settings.
    runner = VisitRunner(scenario, store, camera=cam, mic=mic, listener=listener, realtime=not stepped,
                         voice=patient_voice, sound_output=False, calibration=None, lms=None,
                         turn_time_scale=1.0, clock=clock, stepped=stepped, on_playback=room.playback,
                         record_video=record_video, speech_to_text=profile.says_intent,
                         speak_freely=profile.says_intent)
    clin.runner = runner
    if on_runner is not None:
        on_runner(runner)
    cap = max_session_s or _max_session_s(scenario)
    setup0 = time.monotonic()
    session_id = runner.start()  # loads the models and opens the sources before t = 0
    wall0 = time.monotonic()
    try:
        if stepped:
            _run_stepped(runner, clin, gate, vclock, cap, speed)
        else:
            runner.finished.wait(cap)
    finally:
        # The runner first: it stops its sources as an ending visit does. Stopping the gate first ended the
        # microphone's stream while the pipeline still ran, which it rightly logs as a failed microphone, or
        # not, depending on thread timing (a fast run then stored different events on a loaded machine).
        runner.end()
        if gate is not None:
            gate.stop()
        wall = time.monotonic() - wall0  # the visit itself, from t = 0 to the session being closed
    report = session_report(store, session_id, speech=clin.spans(), end_of_turn_s=_end_of_turn_s(runner))
    report["simulation"] = {
        "profile": profile.name, "pace": "fast" if speed == 0 else (f"{speed:g}x" if stepped else "realtime"),
        "setup_s": round(wall0 - setup0, 2), "wall_s": round(wall, 2),
        "wall_per_session_s": round(wall / report["duration_s"], 3) if report["duration_s"] else None,
        "face_fps": face_fps if cam is not None else None, "camera": str(camera) if camera is not None else None,
        "speaker_path": {"on": speaker.on, "gain_db": speaker.gain_db, "delay_s": speaker.delay_s,
                         "noise_db": speaker.noise_db},
        "clinician_speech": clin.spans("turn"),
        "interruptions_simulated": [s for s, _e in clin.spans("interruption")],
    }
    if intent_voice is not None:
        report["simulation"]["intended_cards"] = dict(intent_voice.intended)
    if out_dir is not None:
        write_report(Path(out_dir), report)
    return SimResult(session_id, report, wall, clin)


def _end_of_turn_s(runner) -> float:
    voice = getattr(runner.pipeline, "_voice", None)
    seg = getattr(voice, "segmenter", None)
    return float(getattr(getattr(seg, "cfg", None), "end_of_turn_s", 0.7))


def _run_stepped(runner, clin, gate: StepGate, vclock: ManualClock, cap: float, speed: float) -> None:
    pipe = runner.pipeline
    wall0 = time.monotonic()
    k = 0
    while not runner.finished.is_set():
        k += 1
        t = round(k * STEP_S, 6)
        if t > cap:
            runner.notice("simulation_cap", f"The simulation stopped at {cap:.0f} s of session time before the "
                                            "visit reached its end.", level="error")
            break
        # Speaking freely, the visit holds a turn's end for its transcript, which is computed on wall time:
        # the virtual clock waits for it instead of running on to the hold's time limit.
        waited = time.monotonic()
        while runner.awaiting_words and not pipe.speech_to_text_idle and time.monotonic() - waited < STALL_S:
            time.sleep(0.005)
        vclock.t = t
        runner.advance()
        clin.act(t)
        gate.release(t)
        _wait_consumed(gate, t, mic=pipe.mic_ok, cam=pipe.camera_ok)
        if speed > 0:
            ahead = t / speed - (time.monotonic() - wall0)
            if ahead > 0:
                time.sleep(ahead)


def _wait_consumed(gate: StepGate, t: float, *, mic: bool, cam: bool) -> None:
    """Block until the pipeline has taken in everything released up to t: the microphone waits for a block
    after t, and the camera's oldest undelivered result is after t (a result counts as delivered once its
    FrameSample and FramePreview went to the visit; trainer.sim.sources)."""
    last = None
    since = time.monotonic()
    with gate.cond:
        while True:
            if (not mic or gate.parked_beyond("mic", t)) and (not cam or gate.parked_beyond("camera", t)):
                return
            state = tuple(sorted(gate.waiting.items()))
            if state != last:
                last, since = state, time.monotonic()
            elif time.monotonic() - since > STALL_S:
                raise SimulationStalled(f"The visit's analysis stopped consuming input at {t:.2f} s of session "
                                        "time (a worker thread failed; see the notices).")
            gate.cond.wait(0.5)


def run_headless(scenario, store, *, camera, mic, out_dir: Path, max_session_s: float | None = None,
                 listener=None, record_video: bool = False) -> dict:
    """`trainer run --headless`: the visit with these sources (files paced in real time, or devices),
    no window, no sound output; ends when the scenario ends. Writes summary.json and turns.csv."""
    from trainer.visit import VisitRunner

    runner = VisitRunner(scenario, store, camera=camera, mic=mic, listener=listener, realtime=True,
                         sound_output=False, record_video=record_video)
    cap = max_session_s or _max_session_s(scenario)
    runner.start()
    try:
        runner.finished.wait(cap)
    finally:
        runner.end()
    report = session_report(store, runner.session_id, end_of_turn_s=_end_of_turn_s(runner))
    write_report(Path(out_dir), report)
    return report


__all__ = ["simulate", "run_headless", "SimResult", "SimulationStalled"]
