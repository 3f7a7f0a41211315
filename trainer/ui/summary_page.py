"""Page 3: the end-of-visit summary, read back from the session store."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from trainer.core.scenario import BEHAVIOURS
from trainer.store.db import SessionSummary


RUBRIC_STATUS = {"met": "✓ shown", "not_met": "✗ not shown", "unknown": "could not be measured",
                 "needs_rating": "for your facilitator to rate", "met_pending_rating": "✓ shown (facilitator to confirm)"}


_RESULT = {True: "yes", False: "no", None: "not measured"}


def _evidence_text(e: dict) -> str:
    """One rubric check with its result and the measured numbers it rests on (the summary's numbers)."""
    quotes = e.get("measures") or {}
    result = e.get("result")
    if result is None and any(q.get("measured_s", 0) > 0 for q in quotes.values()):
        word = "not enough to judge"
    else:
        word = _RESULT.get(result, "?")
    nums = ", ".join(q["shown"] for q in quotes.values() if q.get("value") is not None)
    return f"{e.get('check')}: {word}" + (f" (measured {nums})" if nums else "")


class SummaryPage(QWidget):
    back_requested = Signal()
    history_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        rows = [("duration", "Visit length"), ("face", "Face visible to the camera"),
                ("eye", "Eye contact (into the lens)"), ("engaged", "Looking at the lens or the patient"),
                ("nods", "Nods while the patient spoke"),
                ("clinician", "You talked"), ("patient", "Patient talked"), ("share", "Your share of the talk"),
                ("interruptions", "Times you started while the patient was talking"),
                ("monologue", "Your longest stretch of talk"), ("latency", "Typical pause before you answered"),
                ("cues", "Emotional moments your face responded to"),
                ("frames", "Camera frames analysed")]
        for i, (key, label) in enumerate(rows):
            name = QLabel(label)
            value = QLabel("—")
            value.setObjectName("metricValue")
            self.grid.addWidget(name, i, 0)
            self.grid.addWidget(value, i, 1)
            self.values[key] = value
        self.behaviours = QLabel()
        self.behaviours.setWordWrap(True)
        self.notices = QLabel()
        self.notices.setWordWrap(True)
        self.notices.setObjectName("noticeBox")
        back = QPushButton("Choose another visit")
        back.setObjectName("primary")
        back.clicked.connect(self.back_requested)
        hist = QPushButton("Past sessions")
        hist.clicked.connect(self.history_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(hist)
        buttons.addStretch(1)
        buttons.addWidget(back)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addLayout(self.grid)
        lay.addWidget(self.behaviours)
        lay.addWidget(self.notices)
        lay.addStretch(1)
        lay.addLayout(buttons)
        self.back_button = back

    def show_summary(self, s: SessionSummary, behaviours: tuple[str, ...] = (), feedback: bool = True,
                     rubric: list[dict] | None = None) -> None:
        self.title.setText(f"Visit summary — {s.scenario_title}")
        status = {"completed": "Visit completed.", "ended_early": "You ended the call before the scenario finished.",
                  "interrupted": "This session was interrupted (the app closed before the visit ended)."}
        self.subtitle.setText(f"Session {s.session_id}. {status.get(s.status, s.status)}")
        self.values["duration"].setText(f"{s.duration_s:.0f} s")
        # Every number comes from core.measures (s.measures): the rubric below quotes the same ones, and
        # a measure covered too little of the visit reads "not enough to judge" (docs/measures.md).
        m = s.measures or {}

        def shown(mid: str) -> str:
            d = m.get(mid)
            if d is None:
                return "—"
            if d["value"] is None and d["measured_s"] > 0:
                return f"not enough to judge ({d['measured_s']:.0f} s of {d['base_s']:.0f} s measured)"
            return d["shown"]

        self.values["face"].setText(shown("face_present") if s.frames else "no camera")
        talk_s = m.get("clinician_talk_s", {}).get("value")
        self.values["clinician"].setText(shown("clinician_talk_s") if talk_s is None
                                         else f"{talk_s:.1f} s in {s.speech_segments} stretches")
        self.values["patient"].setText(shown("patient_talk_s"))
        self.values["share"].setText(shown("talk_share"))
        self.values["frames"].setText(str(s.frames))
        eye = m.get("eye_contact", {}).get("value")
        self.values["eye"].setText(shown("eye_contact") if eye is None else
                                   f"{shown('eye_contact')} (speaking {shown('eye_contact_speaking')}, "
                                   f"listening {shown('eye_contact_listening')})")
        self.values["engaged"].setText(shown("engaged"))
        self.values["nods"].setText(shown("nods_per_min"))
        ints = (s.talk or {}).get("interruptions") or []
        n_int = m.get("interruptions", {}).get("value")
        self.values["interruptions"].setText(
            shown("interruptions") if n_int is None else "none" if not n_int else
            ", ".join(f"{t:.0f} s" for t in ints[:6]) + (" …" if len(ints) > 6 else "") + f" ({n_int:.0f})")
        self.values["monologue"].setText(shown("longest_monologue_s"))
        self.values["latency"].setText(shown("response_latency_s"))
        judged = [c for c in s.cues if c.get("responded") is not None]
        cue = m.get("cue_response", {}).get("value")
        self.values["cues"].setText(f"{sum(1 for c in judged if c['responded'])} of {len(judged)}"
                                    if cue is not None and judged else shown("cue_response"))
        if not feedback:  # site policy: feedback mode "off" (the session is still stored for a facilitator)
            for key in ("face", "eye", "engaged", "nods", "clinician", "patient", "share", "interruptions",
                        "monologue", "latency", "cues"):
                self.values[key].setText("feedback off (site policy)")
        if rubric and feedback:
            rows = []
            for item in rubric:
                name = item.get("name") or BEHAVIOURS.get(item.get("behaviour"), item.get("behaviour", ""))
                status = RUBRIC_STATUS.get(item.get("status"), item.get("status", ""))
                evidence = "; ".join(_evidence_text(e) for e in item.get("evidence", []))
                rows.append(f"<tr><td><b>{name}</b></td><td>{status}</td><td>{evidence}</td></tr>")
            self.behaviours.setText("<b>The behaviours this visit practised:</b><table cellpadding='3'>" +
                                    "".join(rows) + "</table>")
        elif behaviours:
            self.behaviours.setText("<b>This visit practised:</b> " +
                                    ", ".join(BEHAVIOURS.get(b, b) for b in behaviours) + ".")
        else:
            self.behaviours.clear()
        if s.notices:
            self.notices.setText("<b>Notices during the visit:</b><br>" + "<br>".join(s.notices))
            self.notices.show()
        else:
            self.notices.hide()
        self.back_button.setFocus()
