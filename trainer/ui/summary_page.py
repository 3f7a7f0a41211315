"""Page 3: the end-of-visit summary, read back from the session store."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from trainer.core.scenario import BEHAVIOURS
from trainer.store.db import SessionSummary


RUBRIC_STATUS = {"met": "✓ shown", "not_met": "✗ not shown", "unknown": "could not be measured",
                 "needs_rating": "for your facilitator to rate", "met_pending_rating": "✓ shown (facilitator to confirm)"}


_RESULT = {True: "yes", False: "no", None: "not measured"}


def _fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r * 100:.0f} %"


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
        self.values["face"].setText(_fmt_ratio(s.face_present_ratio) if s.frames else "no camera")
        self.values["clinician"].setText(f"{s.clinician_talk_s:.1f} s in {s.speech_segments} stretches")
        self.values["patient"].setText(f"{s.patient_talk_s:.1f} s")
        total = s.clinician_talk_s + s.patient_talk_s
        self.values["share"].setText(_fmt_ratio(s.clinician_talk_s / total) if total > 0 else "—")
        self.values["frames"].setText(str(s.frames))
        face, talk = s.face or {}, s.talk or {}
        eye, speak, listen = (face.get("eye_contact_ratio"), face.get("eye_contact_ratio_speaking"),
                              face.get("eye_contact_ratio_listening"))
        self.values["eye"].setText("—" if eye is None else f"{_fmt_ratio(eye)} (speaking {_fmt_ratio(speak)}, "
                                                          f"listening {_fmt_ratio(listen)})")
        self.values["engaged"].setText(_fmt_ratio(face.get("engaged_ratio")))
        npm = face.get("nods_per_min_patient_speaking")
        self.values["nods"].setText("—" if npm is None else f"{npm:.1f} per minute")
        ints = talk.get("interruptions")
        self.values["interruptions"].setText("—" if ints is None else
                                             (", ".join(f"{t:.0f} s" for t in ints[:6]) + (" …" if len(ints) > 6 else "")
                                              if ints else "none") + (f" ({len(ints)})" if ints else ""))
        mono = talk.get("longest_monologue_s")
        self.values["monologue"].setText("—" if mono is None else f"{mono:.0f} s")
        lats = sorted(talk.get("response_latencies_s") or [])
        self.values["latency"].setText(f"{lats[len(lats) // 2]:.1f} s" if lats else "—")
        judged = [c for c in s.cues if c.get("responded") is not None]
        self.values["cues"].setText(f"{sum(1 for c in judged if c['responded'])} of {len(judged)}"
                                    if judged else "—")
        if not feedback:  # site policy: feedback mode "off" (the session is still stored for a facilitator)
            for key in ("face", "eye", "engaged", "nods", "clinician", "patient", "share", "interruptions",
                        "monologue", "latency", "cues"):
                self.values[key].setText("feedback off (site policy)")
        if rubric and feedback:
            rows = []
            for item in rubric:
                name = item.get("name") or BEHAVIOURS.get(item.get("behaviour"), item.get("behaviour", ""))
                status = RUBRIC_STATUS.get(item.get("status"), item.get("status", ""))
                evidence = "; ".join(f"{e.get('check')}: {_RESULT.get(e.get('result'), '?')}" for e in item.get("evidence", []))
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
