"""The simulated clinician: whole visits without a person, for tests, benchmarks and scripted checks.

It plays the clinician's side of a visit through the app's real code path (VisitRunner: the scenario
engine, the face and voice analysis with the echo guard fed with the patient's playback, the store
writer); only the person is simulated:

- `sources`: the source pair. `LoopingVideoSource` loops a video of a face as the camera, analysed at a
  stated rate (15 frames per second of session time by default, at least 10: every frame of a 25-30 fps
  clip would double the CPU for no gain in the measures); `VirtualMicrophone` delivers what the room
  sounds like at the clinician's seat in 64 ms blocks.
- `clinician`: `SimulatedClinician` listens to the visit's events and decides when to pick a card and
  when to speak, by `Profile` (attentive, silent, interrupter, monologue); `Room` mixes its speech with
  the patient's playback through a `SpeakerPath` (gain relative to the clinician's speech, delay) and
  seeded background noise.
- `voice`: the clinician's voice is real recorded speech given by the caller (`--voice FILE`; the app
  ships no recordings, the tests use the fixtures), cut into utterances by loudness; the end of what it
  says is the ground truth the end-of-turn latency is measured against.
- `run`: `simulate()` in real time (the live path: wall clock, ticker and playback threads, frame
  dropping) or stepped on a virtual clock (`--fast`, or held to `--speed N`), where the driver releases
  64 ms of session time at a time and waits until the pipeline has consumed it: nothing is dropped, and
  the same inputs store the same session. `run_headless()` is `trainer run --headless`.
- `report`: `summary.json` and `turns.csv` beside the stored session.

Layering: `trainer.sim` sits above `trainer.visit` and below `trainer.ui` (import-linter contract); only
`trainer.cli` uses it. No Qt.
"""
