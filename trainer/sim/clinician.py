"""The simulated clinician: profiles, the clinician's decisions, and the room its microphone is in.

`SimulatedClinician` listens to the visit's events (the VisitRunner listener) and decides, on the
session clock, when to pick an intent card and when to speak; `Room.render(i0, n)` is what the virtual
microphone hears for samples i0 .. i0+n (16 kHz, session clock): the clinician's speech, the patient's
playback through the speaker path (delay, gain) and background noise.

Decisions are made in `act(now)`, called by whoever drives the clock (the stepped driver between steps,
or the virtual microphone's thread before each block in real time); events only queue up in the
listener, so the clinician never calls back into the runner while it holds its lock. Every decision is
about the future (a pause after the turn opens, an offset into a patient line), so the microphone never
has to render speech decided after its samples were due.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from trainer.sim.voice import RATE, SPEECH_LEVEL_DB, ClinicianVoice


@dataclass(frozen=True)
class Profile:
    """How a simulated clinician behaves.

    speaks: says anything at all; pause_s / cue_pause_s: from the turn opening to the first word (after a
    patient line marked as an emotional cue: the wait the scenarios reward); talk_s: speech per turn (at
    least; utterances are joined until reached); pick_card: picks the turn's first intent card
    card_delay_s into the turn; interrupt_every: starts talking over every n-th patient line that lasts
    at least interrupt_min_line_s (0: never), interrupt_after_s into the line, for up to interrupt_talk_s
    and always stopping 0.4 s before the line ends. says_intent (speaking freely): presses no card but
    says the intent of the turn aloud (trainer.sim.voice.IntentVoice: the card the words should choose,
    in a text-to-speech voice unlike the patient's); the visit then runs with speech-to-text and speak
    freely on, so the words alone choose the branches."""

    name: str
    speaks: bool = True
    pause_s: float = 0.8
    cue_pause_s: float = 2.0
    talk_s: float = 4.0
    pick_card: bool = True
    card_delay_s: float = 0.3
    interrupt_every: int = 0
    interrupt_min_line_s: float = 3.0
    interrupt_after_s: float = 1.0
    interrupt_talk_s: float = 2.5
    says_intent: bool = False


PROFILES: dict[str, Profile] = {
    # Answers every turn after a short pause (a longer one after an emotional cue), picks a card.
    "attentive": Profile("attentive"),
    # Picks cards but never says a word: must earn no credit.
    "silent": Profile("silent", speaks=False),
    # Answers like the attentive one, and starts talking over every second long patient line.
    "interrupter": Profile("interrupter", interrupt_every=2),
    # Talks for 45 s whenever it is its turn.
    "monologue": Profile("monologue", talk_s=45.0),
    # Says each turn's intent (the first card's first phrasing) aloud and presses nothing.
    "speak-freely": Profile("speak-freely", pick_card=False, says_intent=True),
}


@dataclass
class Speech:
    """Speech the clinician has planned: samples from session sample index `start`; `kind` is 'turn'
    or 'interruption'."""

    start: int
    samples: np.ndarray
    kind: str

    @property
    def t0(self) -> float:
        return self.start / RATE

    @property
    def t1(self) -> float:
        return (self.start + len(self.samples)) / RATE


@dataclass
class _Pending:
    t: float
    action: str  # "card"
    arg: str


def _field(ev, name, default=None):
    """A field of a scenario event, typed (attribute) or kind+data form."""
    v = getattr(ev, name, None)
    if v is not None:
        return v
    data = getattr(ev, "data", None)
    return data.get(name, default) if isinstance(data, dict) else default


class SimulatedClinician:
    """Decides what the clinician does (see the module docstring)."""

    def __init__(self, profile: Profile, voice: ClinicianVoice | None, intent_voice=None):
        if profile.says_intent and intent_voice is None:
            raise ValueError(f"profile {profile.name} says its intents: it needs an IntentVoice")
        if profile.speaks and not profile.says_intent and voice is None:
            raise ValueError(f"profile {profile.name} speaks: it needs a ClinicianVoice")
        self.profile = profile
        self.intent_voice = intent_voice
        self.voice = voice.fresh() if voice is not None else None
        self._lock = threading.Lock()
        self._inbox: list = []
        self.speech: list[Speech] = []  # everything said or planned, in order
        self._pending: list[_Pending] = []
        self._last_cue_end: float | None = None
        self._long_lines = 0
        self._cue_line = False
        self.finished = False
        self.runner = None  # set by the driver: choose_card goes through it

    # -- listening (runner's worker threads) ----------------------------------------------------------
    def on_event(self, ev) -> None:
        kind = getattr(ev, "kind", None)
        if kind in ("clinician_turn", "patient_line", "patient_line_end", "visit_end"):
            with self._lock:
                self._inbox.append(ev)

    # -- deciding (the clock's driver) -----------------------------------------------------------------
    def act(self, now: float) -> None:
        """Take in the events heard so far and carry out the actions due by `now` (card picks)."""
        with self._lock:
            inbox, self._inbox = self._inbox, []
        for ev in inbox:
            self._decide(ev)
        due = [p for p in self._pending if p.t <= now + 1e-9]
        self._pending = [p for p in self._pending if p.t > now + 1e-9]
        for p in due:
            if p.action == "card" and self.runner is not None and not self.finished:
                self.runner.choose_card(p.arg)

    def busy_until(self) -> float:
        return max((s.t1 for s in self.speech), default=0.0)

    def _say(self, t: float, samples: np.ndarray, kind: str) -> None:
        self.speech.append(Speech(int(round(t * RATE)), samples, kind))

    def _decide(self, ev) -> None:
        p = self.profile
        kind, t = ev.kind, float(ev.t)
        if kind == "visit_end":
            self.finished = True
            self._pending.clear()
            return
        if self.finished:
            return
        if kind == "patient_line_end":
            if self._cue_line:
                self._last_cue_end = t
            return
        if kind == "patient_line":
            self._cue_line = bool(_field(ev, "cue", False))
            dur = float(_field(ev, "duration", 0.0) or 0.0)
            if p.speaks and p.interrupt_every and dur >= p.interrupt_min_line_s:
                self._long_lines += 1
                if self._long_lines % p.interrupt_every == 0 and self.busy_until() < t:
                    start = t + p.interrupt_after_s
                    room = t + dur - 0.4 - start
                    talk = min(p.interrupt_talk_s, room)
                    if talk >= 1.0:
                        self._say(start, self.voice.take(talk, talk), "interruption")
            return
        if kind == "clinician_turn":
            cards = _field(ev, "cards", ()) or ()
            if p.pick_card and cards:
                first = cards[0]
                card_id = first.get("id") if isinstance(first, dict) else getattr(first, "id", None)
                if card_id:
                    self._pending.append(_Pending(t + p.card_delay_s, "card", card_id))
            if not p.speaks or self.busy_until() > t:
                return  # silent, or still talking as the turn opens (that speech is the answer)
            after_cue = self._last_cue_end is not None and t - self._last_cue_end < 0.5
            start = t + (p.cue_pause_s if after_cue else p.pause_s)
            if p.says_intent:
                words = self.intent_voice.speech(_field(ev, "step", ""))
                if words is not None:
                    self._say(start, words, "turn")
                return
            self._say(start, self.voice.take(p.talk_s), "turn")

    # -- speaking (the microphone) ---------------------------------------------------------------------
    def samples(self, i0: int, n: int) -> np.ndarray:
        """The clinician's voice for session samples i0 .. i0+n."""
        out = np.zeros(n, np.float32)
        for s in self.speech:
            a, b = max(i0, s.start), min(i0 + n, s.start + len(s.samples))
            if b > a:
                out[a - i0:b - i0] += s.samples[a - s.start:b - s.start]
        return out

    def spans(self, kind: str | None = None) -> list[tuple[float, float]]:
        """(start, end) session seconds of what was said (or planned), optionally of one kind."""
        return [(round(s.t0, 3), round(s.t1, 3)) for s in self.speech if kind is None or s.kind == kind]


@dataclass
class SpeakerPath:
    """How the patient's playback reaches the microphone: `gain_db` relative to the clinician's speech
    level, `delay_s` after it was played; `noise_db` background noise relative to the speech level.
    `on=False` is a headset (no echo; noise stays)."""

    on: bool = True
    gain_db: float = -12.0
    delay_s: float = 0.06
    noise_db: float = -40.0
    seed: int = 0


class Room:
    """What the virtual microphone hears (module docstring). The patient's playback comes in through
    `playback(t, samples, rate)` (VisitRunner's `on_playback`)."""

    def __init__(self, clinician: SimulatedClinician, path: SpeakerPath, patient_level_db: float | None = None,
                 noise: np.ndarray | None = None):
        from trainer.analysis.echo import ReferenceTrack

        self.clinician = clinician
        self.path = path
        self._track = ReferenceTrack(keep_s=4.0)
        self._patient_level_db = patient_level_db
        rng = np.random.default_rng(path.seed)
        if noise is None:
            # Ten seconds of seeded noise, tilted towards low frequencies like room and fan noise.
            white = rng.standard_normal(10 * RATE)
            noise = np.convolve(white, np.ones(8) / 8, mode="same")
        noise = np.asarray(noise, np.float64)
        noise_rms = float(np.sqrt(np.mean(noise ** 2))) or 1.0
        self._noise = (noise / noise_rms * 10 ** ((SPEECH_LEVEL_DB + path.noise_db) / 20)).astype(np.float32)
        self._echo_scale: float | None = None

    def set_patient_level(self, db: float) -> None:
        """Active speech level of the patient's playback (dBFS), so the echo sits `gain_db` below the
        clinician's speech level."""
        self._patient_level_db = db

    def playback(self, t: float, samples, rate: int) -> None:
        self._track.add(t, samples, rate)

    def render(self, i0: int, n: int) -> np.ndarray:
        """Microphone samples i0 .. i0+n (16 kHz, session clock)."""
        x = self.clinician.samples(i0, n)
        if self.path.on and self._track.fed_any:
            if self._echo_scale is None:
                lvl = self._patient_level_db if self._patient_level_db is not None else SPEECH_LEVEL_DB
                self._echo_scale = 10 ** ((SPEECH_LEVEL_DB + self.path.gain_db - lvl) / 20)
            d = int(round(self.path.delay_s * RATE))
            x = x + self._echo_scale * self._track.get(i0 - d, n)
        idx = (np.arange(i0, i0 + n) % len(self._noise))
        x = x + self._noise[idx]
        return np.clip(x, -1.0, 1.0).astype(np.float32)


__all__ = ["Profile", "PROFILES", "SimulatedClinician", "SpeakerPath", "Room", "Speech"]
