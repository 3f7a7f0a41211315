"""The main window: scenario list -> visit -> summary, and the history of past sessions.

The window owns the app's one SessionStore; pages read it off the main thread through ui.store_data.StoreData
and reload themselves when it announces a change (a visit saved, an import, a delete, a note or a rating):
Past sessions, the summary, progress and the replay's notes stay current without a manual refresh.

Scenarios are loaded and checked off the main thread (`reload_scenarios`, through trainer.ui.tasks): a
large pack takes seconds to check, and the window shows at once with "Loading scenarios..." in the list.
`scenarios_loaded` is emitted (and `scenarios_ready` set) when the list is filled; what needs the list
(`trainer run SCENARIO`) waits for it with `when_scenarios_loaded`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QScrollArea, QStackedWidget, QVBoxLayout)

from trainer.core.errors import ScenarioError, TrainerError
from trainer.core.i18n import _, localized
from trainer.core.policy import effective_settings
from trainer.store.user_settings import load_user_settings
from trainer.core.scenario import Scenario, discover_scenarios, load_scenario
from trainer.resources import builtin_scenarios_dir
from trainer.core.i18n import _
from trainer.core.visit_state import clock_text
from trainer.store.bundle import export_sessions, import_bundle
from trainer.store.db import SessionStore
from trainer.store.paths import default_db_path
from trainer.ui.about_dialog import add_about_action
from trainer.ui.bridge import EventBridge
from trainer.ui.history_page import HistoryPage
from trainer.ui.precheck_page import PrecheckPage
from trainer.ui.progress_page import ProgressPage
from trainer.ui.scenario_page import ScenarioPage
from trainer.ui.style import STYLE
from trainer.ui.store_data import StoreData, concerns
from trainer.ui.summary_page import SummaryPage
from trainer.ui.tasks import run_task
from trainer.ui.visit_page import VisitPage, close_visit_page
from trainer.visit import VisitRunner


class _PageStack(QStackedWidget):
    """A stack whose size needs are those of the page on show (QStackedWidget takes the largest of all
    pages, so one page's minimum width made every page, and the window, wider than a small screen)."""

    def __init__(self):
        super().__init__()
        self.currentChanged.connect(lambda _i: self.updateGeometry())

    def minimumSizeHint(self):
        page = self.currentWidget()
        return page.minimumSizeHint().expandedTo(page.minimumSize()) if page is not None else super().minimumSizeHint()

    def sizeHint(self):
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def heightForWidth(self, width: int) -> int:
        # The window's scroll area asks this: the page on show's *smallest* height at this width (a layout's
        # own answer uses its widgets' preferred heights, which made roomy pages scroll for no reason).
        page = self.currentWidget()
        if page is None:
            return super().heightForWidth(width)
        return page.minimumSizeHint().expandedTo(page.minimumSize()).height()


class ExportChoices(QDialog):
    """What the learner lets go with an exported bundle: both are left out unless ticked."""

    def __init__(self, videos: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Export"))
        self.reflection = QCheckBox(_("Include my self-reflection"))
        if videos == 1:
            text = _("Include my video recording (one of the selected sessions has one)")
        elif videos:
            text = _("Include my video recordings ({n} of the selected sessions have one)").format(n=videos)
        else:
            text = _("Include my video recordings (none of the selected sessions has one)")
        self.video = QCheckBox(text)
        self.video.setEnabled(videos > 0)
        text = QLabel(_("The bundle carries the measures, events, the patient's lines, notes and ratings. "
                        "Your reflection and your video go only if you tick them."))
        text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText(_("Export"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (text, self.reflection, self.video, buttons):
            lay.addWidget(w)


class MainWindow(QMainWindow):
    scenarios_loaded = Signal()  # the scenario list was (re)filled
    def __init__(self, camera=None, mic=None, store: SessionStore | None = None, settings=None,
                 captions: bool = False):
        super().__init__()
        self.captions = captions  # start visits with the clinician's live captions on
        # Site policy and defaults (docs/policy.md); an unreadable policy raises PolicyError to run_gui.
        self.settings = settings if settings is not None else effective_settings(user=load_user_settings())
        self.setWindowTitle(_("Video-Visit Trainer"))
        self.setStyleSheet(STYLE)
        # Defaults: the first webcam and the default microphone.
        self.camera = camera if camera is not None else 0
        self.mic = mic if mic is not None else "default"
        self.store = store or SessionStore(default_db_path())
        if self.settings.retention_days:
            self.store.delete_older_than(self.settings.retention_days)
        self.data = StoreData(self.store, self)
        self.data.changed.connect(self._store_changed)
        self.runner: VisitRunner | None = None
        self.bridge: EventBridge | None = None
        self.visit_page: VisitPage | None = None
        self.replay_page = None
        self.last_session_id: int | None = None
        self._ending = False
        self._starting = False
        self._end_after_start = False
        self.scenarios_ready = False
        self._scenario_load = 0  # generation of the newest reload: an older one finishing late is ignored
        self._after_scenarios: list = []

        self.stack = _PageStack()
        # On a small screen or at a large scaling a page that cannot shrink enough scrolls instead of pushing
        # its buttons off the screen (the window itself never grows beyond what it was given).
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QScrollArea.NoFrame)
        scroller.setWidget(self.stack)
        self.setCentralWidget(scroller)
        self.scenario_page = ScenarioPage()
        self.summary_page = SummaryPage()
        self.history_page = HistoryPage()
        self.precheck_page = PrecheckPage()
        self.progress_page = ProgressPage()
        self._chosen: Scenario | None = None
        for page in (self.scenario_page, self.summary_page, self.history_page, self.precheck_page,
                     self.progress_page):
            self.stack.addWidget(page)
        self.scenario_page.start_requested.connect(self.request_visit)
        self.precheck_page.start_requested.connect(lambda: self._chosen and self.start_visit(self._chosen))
        self.precheck_page.back_requested.connect(self.show_scenarios)
        self.scenario_page.history_requested.connect(self.show_history)
        self.scenario_page.calibrate_requested.connect(self.calibrate)
        self.summary_page.back_requested.connect(self.show_scenarios)
        self.summary_page.history_requested.connect(self.show_history)
        self.summary_page.reflection_saved.connect(self._save_reflection)
        self.history_page.back_requested.connect(self.show_scenarios)
        self.history_page.open_requested.connect(self.show_summary)
        self.history_page.replay_requested.connect(self.show_replay)
        self.summary_page.replay_requested.connect(self.show_replay)
        self.history_page.delete_requested.connect(self.delete_session)
        self.history_page.progress_requested.connect(self.show_progress)
        self.history_page.progress_button.show()
        self.progress_page.back_requested.connect(self.show_history)
        self.progress_page.filters_changed.connect(self._refresh_progress)
        self._build_menu()
        self.prewarm_enabled = False
        self._quitting = False
        self._closed = False
        # Started once the event loop runs, so the window is shown before the check competes with start-up.
        self.scenario_page.set_loading()
        QTimer.singleShot(0, self, self.reload_scenarios)  # with the window as context: not after it is gone
        self.scenario_page.set_learners(self.store.learners())
        self.update_calibration_status()
        self._offer_recording()
        self.scenario_page.set_devices_text(
            _("Camera: {camera}   ·   Microphone: {mic}").format(camera=_describe_input(self.camera, "webcam"),
                                                                   mic=_describe_input(self.mic, "mic")))
        self.send_results()  # a backlog from an offline period goes as soon as the app starts
        if self.store.set_aside is not None:
            self.statusBar().showMessage(
                _("The session store was damaged. It was set aside as {path} (nothing was deleted) and a new "
                  "one was started.").format(path=self.store.set_aside))

    def _build_menu(self) -> None:
        m = self.menuBar().addMenu(_("&Session"))
        a = QAction(_("&Scenarios"), self, shortcut=QKeySequence("Ctrl+1"), triggered=self.show_scenarios)
        m.addAction(a)
        a = QAction(_("&Past sessions"), self, shortcut=QKeySequence("Ctrl+H"), triggered=self.show_history)
        m.addAction(a)
        m.addAction(QAction(_("P&rogress"), self, shortcut=QKeySequence("Ctrl+P"), triggered=self.show_progress))
        m.addSeparator()
        # Bundles (store/bundle.py): carry sessions to a facilitator's machine and bring theirs in.
        self.export_action = QAction(_("&Export selected sessions…"), self, shortcut=QKeySequence("Ctrl+E"),
                                     triggered=self.export_selected)
        m.addAction(self.export_action)
        m.addAction(QAction(_("&Import session bundle…"), self, shortcut=QKeySequence("Ctrl+I"),
                            triggered=self.import_dialog))
        m.addSeparator()
        m.addAction(QAction(_("&Quit"), self, shortcut=QKeySequence.Quit, triggered=self.close))
        self.help_menu = self.menuBar().addMenu(_("&Help"))
        add_about_action(self, self.help_menu)  # version, data folder, site policy and locked settings

    def prewarm(self, voice: bool = False) -> None:
        """Get the slow parts of a visit's start ready in the background while the clinician is busy
        elsewhere (choosing a visit, doing the pre-visit check, reading a summary): the patient's
        synthesiser and a spare face landmarker. Then Start plays the first line within about 3 s
        (benchmarks/bench_first_line.py). Off unless `prewarm_enabled` (run_gui sets it; tests that build
        many windows leave it off). Not run_task (nothing comes back to the UI) but start_background, so the
        quit path waits for it; it skips the landmarker if the app is quitting by then."""
        if not self.prewarm_enabled:
            return
        from trainer.analysis import face
        from trainer.capture.patient_voice import warm_up
        from trainer.ui.tasks import start_background

        def work():
            if voice:
                warm_up()
            if not self._quitting:
                face.prewarm()

        start_background(work, "visit-prewarm")

    def shutdown(self, timeout_s: float = 20.0) -> bool:
        """The end of every way of quitting (window closed, Session > Quit, Ctrl+C/SIGTERM, the cold-start
        test's --exit-after-first-window): run_gui calls it once the event loop has ended. Hides the window,
        closes it the usual way (a visit under way is saved) unless that was done, then waits up to
        timeout_s for background work, which is let finish rather than cut off inside native code (see
        trainer/ui/tasks.py). True if it all finished in time."""
        from trainer.ui.tasks import wait_for_background

        self._quitting = True
        self.hide()
        if not self._closed:
            self._close_confirmed = True  # quitting is already decided: no question
            self.close()
        return wait_for_background(timeout_s)

    def _captions_chosen(self, on: bool) -> None:
        """The captions button was toggled during a visit: remember the choice for this user (unless the
        site policy fixes it), so the next visit starts the same way."""
        from trainer.store.user_settings import save_user_setting

        if self.settings.is_locked("live_captions") or bool(self.settings.value("live_captions")) == on:
            return
        try:
            save_user_setting("live_captions", on)
        except TrainerError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return
        self.reload_settings()

    def reload_settings(self) -> None:
        """Re-read policy and user settings (after the user changed one); applies from the next visit."""
        self.settings = effective_settings(user=load_user_settings())

    # -- calibration ----------------------------------------------------------------------------------
    def update_calibration_status(self) -> None:
        from trainer.analysis.calibration import load_calibration
        from trainer.visit import camera_key, current_user

        key = camera_key(self.camera)
        try:
            cal = load_calibration(current_user(), key)
        except TrainerError as exc:
            text = _("Eye contact: the saved calibration cannot be used ({error}); calibrate again.").format(
                error=exc.message)
        else:
            text = (_("Eye contact: calibrated for {camera} ({date}).").format(camera=key, date=cal.created[:10])
                    if cal is not None else
                    _("Eye contact: not calibrated; a default camera position (above the screen) is assumed."))
        self.scenario_page.calibration_status.setText(text)

    def _offer_recording(self) -> None:
        """The recording tick-box: enabled when the site policy allows recording, else disabled with why."""
        if self.settings.allow_video_recording:
            self.scenario_page.set_recording_allowed(True)
            return
        self.scenario_page.set_recording_allowed(False, _("Recording is not allowed on this computer.") + " " +
                                                 self.settings["allow_video_recording"].explanation())

    def calibrate(self) -> None:
        from trainer.ui.calibration_dialog import CalibrationDialog

        dialog = CalibrationDialog(self.camera, self)
        self.calibration_dialog = dialog
        dialog.finished_with.connect(lambda _text: self.update_calibration_status())
        screen = self.screen() or self.windowHandle().screen()
        if screen is not None:
            dialog.setGeometry(screen.geometry())  # without a window manager showFullScreen alone keeps the size
        dialog.showFullScreen()
        # Open the camera and load the model off the main thread, then run the targets.
        run_task(lambda progress, cancelled: dialog.pipeline.prepare(), on_done=lambda _r: dialog.start(),
                 on_error=lambda exc: dialog._finish(str(exc)))

    # -- navigation ---------------------------------------------------------------------------------
    def reload_scenarios(self) -> None:
        """Load and check the built-in scenarios and the policy's packs in the background (checking is
        linear in the steps, but a 5,000-step pack still takes seconds on a busy machine); the page says
        "Loading scenarios..." until the list is filled."""
        folders = [builtin_scenarios_dir(), *(Path(p) for p in self.settings.scenario_packs)]
        self._scenario_load += 1
        generation = self._scenario_load
        self.scenarios_ready = False
        self.scenario_page.set_loading()
        # Bound methods of this window: the connections end with it if it closes first.
        self._scenario_task = run_task(lambda progress, cancelled: (generation, *discover_scenarios(folders)),
                                       on_done=self._scenarios_found, on_error=self._scenarios_failed)

    def _scenarios_found(self, result) -> None:
        generation, scenarios, errors = result
        if generation != self._scenario_load:
            return
        self.scenario_page.set_scenarios(scenarios, errors)
        self.scenarios_ready = True
        waiting, self._after_scenarios = self._after_scenarios, []
        for fn in waiting:
            fn()
        self.scenarios_loaded.emit()

    def _scenarios_failed(self, exc: BaseException) -> None:
        self._scenarios_found((self._scenario_load, [], [f"Scenarios could not be loaded: {exc}"]))

    def when_scenarios_loaded(self, fn) -> None:
        """Call fn() once the scenario list is filled (now if it already is)."""
        if self.scenarios_ready:
            fn()
        else:
            self._after_scenarios.append(fn)

    def show_scenarios(self) -> None:
        if self.runner is None:
            self.stack.setCurrentWidget(self.scenario_page)
            self.scenario_page.list.setFocus()

    def show_history(self) -> None:
        if self.runner is not None:
            return
        self._load_history(self.scenario_page.learner(), show=True)

    def _load_history(self, learner: str | None, show: bool) -> None:
        """Read Past sessions in the background, then fill the page (and show it when `show`)."""
        def loaded(rows) -> None:
            self.history_page.set_rows(self._localized_titles(rows), learner=learner)
            if show and self.runner is None:
                self.stack.setCurrentWidget(self.history_page)

        self.data.read("history", lambda store: store.history(), loaded, on_error=self._read_failed)

    def _read_failed(self, exc: BaseException) -> None:
        QMessageBox.critical(self, getattr(exc, "heading", None) or _("The session store cannot be read"), str(exc))

    def _store_changed(self, change) -> None:
        """The store says something changed: reload what is on show and concerned (off the main thread)."""
        if change.kind == "session_started":
            return  # the visit's own window shows it; Past sessions lists it once it is saved
        if change.kind == "sessions_deleted" and self.replay_page is not None and \
                concerns(change, self.replay_page.timeline.session_id):
            self._close_replay()  # the session is gone (deleted elsewhere, or by retention): back to the list
            return
        if change.kind in ("session_saved", "sessions_deleted", "sessions_imported"):
            self.data.read("learners", lambda store: store.learners(), self.scenario_page.set_learners,
                           on_error=self._read_failed)
        current = self.stack.currentWidget()
        if current is self.history_page:
            self._load_history(self.history_page.learner_filter.currentData(), show=False)
        elif current is self.summary_page and concerns(change, self.summary_page.session_id):
            if change.kind == "sessions_deleted":
                self.show_history()
            elif change.kind in ("notes", "ratings"):
                sid = self.summary_page.session_id
                self.data.read("summary", lambda store: store.debrief(sid),
                               lambda d: self.summary_page.session_id == sid and self.summary_page.refresh(d),
                               on_error=self._read_failed)
        elif current is self.progress_page and change.kind != "reflection":
            self._refresh_progress()

    def _localized_titles(self, rows: list[dict]) -> list[dict]:
        """Stored session rows, each scenario's title in the app's language when it is installed."""
        titles = {s.id: localized(s, "title") for s in self.scenario_page.scenarios}
        return [dict(r, scenario_title=titles.get(r["scenario_id"], r["scenario_title"])) for r in rows]

    def show_progress(self) -> None:
        """Trends across the chosen learner's sessions (the learner of the history filter, else the one
        chosen at start)."""
        if self.runner is not None:
            return
        learner = self.scenario_page.learner() if self.stack.currentWidget() is not self.history_page else \
            self.history_page.learner_filter.currentData()

        def gather(store):
            return store.learners(), sorted({(r["scenario_id"], r["scenario_title"]) for r in store.history(limit=1000)},
                                            key=lambda x: x[1].casefold())

        def gathered(result) -> None:
            learners, scenarios = result
            titles = {s.id: localized(s, "title") for s in self.scenario_page.scenarios}
            scenarios = sorted(((sid, titles.get(sid, title)) for sid, title in scenarios), key=lambda x: x[1].casefold())
            chosen = learner if learner in learners else (learners[0] if learners else None)
            self.progress_page.set_filters(learners, scenarios, chosen, None)
            self._refresh_progress(show=True)

        self.data.read("progress-filters", gather, gathered, on_error=self._read_failed)

    def _refresh_progress(self, show: bool = False) -> None:
        learner, scenario = self.progress_page.learner(), self.progress_page.scenario()

        def loaded(data) -> None:
            self.progress_page.show_progress(data)
            if show and self.runner is None:
                self.stack.setCurrentWidget(self.progress_page)

        self.data.read("progress", lambda store: store.progress(learner, scenario), loaded, on_error=self._read_failed)

    def delete_session(self, session_id: int) -> None:
        """Delete a session the user confirmed on the history page (the store's change announcement then
        reloads the list and the learners)."""
        try:
            self.store.delete_session(session_id)
        except TrainerError as exc:
            QMessageBox.critical(self, exc.heading, str(exc))

    def confirm(self, title: str, text: str, yes: str, no: str) -> bool:
        """Ask before something that cannot be taken back; the safe answer is the default."""
        box = QMessageBox(QMessageBox.Question, title, text, parent=self)
        ok = box.addButton(yes, QMessageBox.AcceptRole)
        keep = box.addButton(no, QMessageBox.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is ok

    def request_end_visit(self) -> None:
        """End call (button or Ctrl+E): ask first, the scenario is not over."""
        if self.runner is None or self._ending:
            return
        if self.confirm(_("End the call?"), _("End the call now? The visit is saved as ended early and its "
                                              "summary covers what happened so far."), _("End call"), _("Keep going")):
            self.end_visit()

    def show_summary(self, session_id: int) -> None:
        """Read the session's debrief in the background, then show it on the summary page."""
        def loaded(debrief) -> None:
            # The scenario's own title in the app's language (the store keeps the English one it was played with).
            debrief["title"] = next((localized(s, "title") for s in self.scenario_page.scenarios
                                     if s.title == debrief.get("title")), debrief.get("title", ""))
            self.summary_page.show_debrief(session_id, debrief, feedback=self.settings.default_feedback_mode != "off")
            if self.runner is None:
                self.stack.setCurrentWidget(self.summary_page)

        self.data.read("summary", lambda store: store.debrief(session_id), loaded, on_error=self._read_failed)

    # -- replay -------------------------------------------------------------------------------------
    def show_replay(self, session_id: int, at: float = 0.0, screenshot: str | None = None) -> None:
        """Open the replay of a stored session (read off the main thread), at session time `at`."""
        if self.runner is not None:
            return
        from trainer.store.timeline import load_timeline

        store = self.store

        def load(progress, cancelled):
            timeline = load_timeline(store, session_id)
            try:  # the scenario as it was played, stored with the session (an imported one needs no pack)
                stored = store.stored_scenario(session_id)
            except TrainerError:
                stored = None
            return timeline, stored, self._moments(session_id), self._recording(session_id)

        def opened(loaded) -> None:
            if not self.scenarios_ready:  # the installed scenario (with its media) is wanted: wait for the list
                self.when_scenarios_loaded(lambda: opened(loaded))
                return
            timeline, stored, moments, recording = loaded
            # The installed scenario has its media at hand; the stored text (what was played) replays the rest,
            # e.g. a session imported from a machine with another pack.
            scenario = next((s for s in self.scenario_page.scenarios if s.id == timeline.scenario_id), None) \
                or stored
            if scenario is None:
                QMessageBox.critical(self, _("Cannot replay this session"),
                                     _("The visit '{title}' is not installed on this computer, so its patient "
                                       "cannot be shown. Install its scenario pack and try again.").format(
                                         title=timeline.title))
                return
            from trainer.ui.replay_page import ReplayPage

            from trainer.visit import current_user

            page = ReplayPage(timeline, scenario, moments=moments, store=self.store, author=current_user(),
                              data=self.data, recording=recording)
            page.back_requested.connect(self._close_replay)
            if self.replay_page is not None:
                self._close_replay()
            self.replay_page = page
            self.stack.addWidget(page)
            self.stack.setCurrentWidget(page)
            page.seek(at)
            page.setFocus()
            if screenshot:
                def grab():
                    ok = self.grab().save(screenshot)
                    print(f"screenshot {'saved' if ok else 'FAILED'}: {screenshot}", flush=True)
                    self.close()
                QTimer.singleShot(1500, grab)

        run_task(load, on_done=opened,
                 on_error=lambda exc: QMessageBox.critical(self, getattr(exc, "heading", None) or _("Cannot replay"), str(exc)))

    def _moments(self, session_id: int) -> list[tuple[float, str]]:
        """The summary's instructive moments (core.debrief), for the replay's moments list (read on the
        replay's loading thread)."""
        try:
            return [(mo["t"], mo["text"]) for mo in self.store.debrief(session_id)["moments"]]
        except TrainerError:
            return []

    def _close_replay(self) -> None:
        page, self.replay_page = self.replay_page, None
        if page is not None:
            self.stack.removeWidget(page)
            page.deleteLater()
        self.show_history()

    def _save_reflection(self, session_id: int, reflection: dict) -> None:
        try:
            self.store.set_reflection(session_id, reflection)
        except TrainerError as exc:
            QMessageBox.critical(self, exc.heading, str(exc))

    # -- bundles ------------------------------------------------------------------------------------
    def selected_session_ids(self) -> list[int]:
        """The sessions selected in Past sessions, in table order."""
        table = self.history_page.table
        rows = sorted({i.row() for i in table.selectionModel().selectedRows()})
        return [int(table.item(r, 0).data(Qt.UserRole)) for r in rows if table.item(r, 0) is not None]

    def export_selected(self) -> None:
        """Ask where to write the selected sessions, and whether the learner's reflection and video go with them."""
        if self.runner is not None:
            return
        if self.stack.currentWidget() is not self.history_page:
            self.show_history()
        ids = self.selected_session_ids()
        if not ids:
            QMessageBox.information(self, _("Export"), _("Select one or more sessions in Past sessions first."))
            return
        path, _filter = QFileDialog.getSaveFileName(self, _("Export sessions"),
                                                    str(Path.home() / "sessions.trainerbundle"),
                                                    _("Session bundles (*.trainerbundle);;All files (*)"))
        if not path:
            return
        choices = ExportChoices(sum(1 for sid in ids if self._has_recording(sid)), self)
        if choices.exec() != QDialog.Accepted:
            return
        self._report_bundle(*self.export_to(path, ids, include_reflection=choices.reflection.isChecked(),
                                            include_video=choices.video.isChecked()))

    def _recording(self, session_id: int):
        """The session's consented video recording, or None."""
        try:
            return self.store.recording(session_id)
        except TrainerError:
            return None

    def _has_recording(self, session_id: int) -> bool:
        return self._recording(session_id) is not None

    def export_to(self, path: str, ids: list[int], include_reflection: bool = False,
                  include_video: bool = False) -> tuple[bool, str]:
        """Write a bundle; (ok, message for the user)."""
        try:
            out = export_sessions(self.store, ids, path, include_reflection=include_reflection,
                                  include_video=include_video)
        except TrainerError as exc:
            return False, str(exc)
        return True, _("Exported {n} session(s) to {path}.").format(n=len(ids), path=out)

    def import_dialog(self) -> None:
        if self.runner is not None:
            return
        path, _filter = QFileDialog.getOpenFileName(self, _("Import session bundle"), str(Path.home()),
                                                    _("Session bundles (*.trainerbundle *.zip);;All files (*)"))
        if not path:
            return
        # Checked and written on a worker (a bundle with a video takes a while); the window stays responsive.
        self.statusBar().showMessage(_("Importing {name}…").format(name=Path(path).name))

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, TrainerError):
                raise exc
            self._report_bundle(False, str(exc))

        self.data.read("import", lambda store: import_bundle(store, path),
                       lambda report: self._report_bundle(*self._imported(report)), on_error=failed)

    def import_from(self, path: str) -> tuple[bool, str]:
        """Import a bundle (all or nothing) here and now, and show Past sessions; (ok, message for the user)."""
        try:
            report = import_bundle(self.store, path)
        except TrainerError as exc:
            return False, str(exc)
        return self._imported(report)

    def _imported(self, report) -> tuple[bool, str]:
        """Show Past sessions after an import; (True, what was imported in words)."""
        self.show_history()  # the imported sessions (the store's announcement reloads the list if it is on show)
        if report.added:
            return True, _("Imported {n} session(s); they are marked with where they came from.").format(
                n=len(report.added)) + (" " + _("{k} were already here.").format(k=len(report.skipped))
                                        if report.skipped else "")
        return True, _("Nothing new: this store already has every session in the bundle.")

    def _report_bundle(self, ok: bool, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        if not ok:
            QMessageBox.warning(self, _("Session bundle"), message)

    # -- the visit ----------------------------------------------------------------------------------
    def start_visit_by_ref(self, ref: str) -> None:
        """`trainer run SCENARIO`: a scenario id from the list or a path to a .yaml file."""
        try:
            if ref.endswith((".yaml", ".yml")) or Path(ref).is_file():
                scenario = load_scenario(ref)
            elif not self.scenarios_ready:
                self.when_scenarios_loaded(lambda: self.start_visit_by_ref(ref))
                return
            else:
                scenario = next((s for s in self.scenario_page.scenarios if s.id == ref), None)
                if scenario is None:
                    known = ", ".join(s.id for s in self.scenario_page.scenarios)
                    raise ScenarioError(ref, _("no scenario has this id (known: {ids})").format(ids=known))
        except TrainerError as exc:
            QMessageBox.critical(self, exc.heading, str(exc))
            return
        self.start_visit(scenario)

    def request_visit(self, scenario: Scenario) -> None:
        """Start pressed on the scenario page: the pre-visit check first (skippable once passed today)."""
        from trainer.store.user_settings import precheck_passed_today
        from trainer.visit import camera_key

        if self.runner is not None:
            return
        self._chosen = scenario
        self.precheck_page.prepare(self.camera, self.mic, precheck_passed_today(camera_key(self.camera), str(self.mic)))
        self.stack.setCurrentWidget(self.precheck_page)
        self.precheck_page.run_check()  # takes the spare landmarker, if ready...
        self.prewarm()  # ...and the next is built for the visit while the check runs

    def start_visit(self, scenario: Scenario) -> None:
        if self.runner is not None:
            return
        self.bridge = EventBridge(self)
        b = self.bridge
        self._ending = False
        try:
            self.runner = VisitRunner(scenario, self.store, camera=self.camera, mic=self.mic, listener=b.post,
                                      learner=self.scenario_page.learner(), speech_to_text=True,
                                      speak_freely=True,
                                      record_video=self.scenario_page.take_recording_consent())
        except TrainerError as exc:
            self._abort_visit(exc)
            return
        runner = self.runner
        page = VisitPage(scenario, feedback_mode=self.settings.default_feedback_mode,
                         line_audio=runner.patient_line_audio, overrides=runner.available_overrides(),
                         caption_scale=self.settings.caption_scale,
                         caption_contrast=self.settings.value("caption_contrast"))
        self.visit_page = page
        # Live captions: as the user last chose them (saved per user), or on with --captions.
        page.captions_button.setChecked(self.captions or bool(self.settings.value("live_captions")))
        page.captions_button.toggled.connect(self._captions_chosen)
        page.set_speak_freely(runner.speak_freely and runner.mic_spec is not None)
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        if self.mic is None:
            page.state.has_mic = False
        page.attach(b, runner)
        b.scenario_event.connect(self._on_scenario_event)
        page.end_requested.connect(self.request_end_visit)
        page.note_requested.connect(self.live_note)
        runner = self.runner
        self._starting, self._end_after_start = True, False
        # Opening devices and loading the face model takes a moment: off the main thread.
        # What is being prepared shows in the call window's prompt while it takes (normally under 3 s).
        run_task(lambda progress, cancelled: runner.start(progress), on_done=lambda _sid: self._visit_started(page),
                 on_error=self._abort_visit,
                 on_progress=lambda done, total, text: self._start_progress(page, done, total, text))

    def live_note(self, t: float):
        """Facilitator › Add note… during the visit: ask for the note (the visit keeps running) and store it
        at session time `t`, when it was asked for. Returns the dialog (None before the session exists)."""
        runner = self.runner
        if runner is None or runner.session_id is None:
            return None
        from trainer.ui.note_dialog import NoteDialog
        from trainer.visit import current_user

        dialog = NoteDialog(t, current_user(), self)
        sid = runner.session_id

        def save() -> None:
            try:
                self.store.add_note(sid, dialog.t, dialog.note_text(), dialog.author_name())
            except TrainerError as exc:
                QMessageBox.warning(self, exc.heading, str(exc))
            else:
                self.statusBar().showMessage(_("Note saved at {time}.").format(time=clock_text(dialog.t)), 5000)

        dialog.accepted.connect(save)
        dialog.finished.connect(dialog.deleteLater)
        self.note_dialog = dialog
        dialog.open()  # window-modal, not blocking: the visit and its clock go on while the note is typed
        return dialog

    def _start_progress(self, page, done: int, total: int, text: str) -> None:
        if self.visit_page is page and self._starting:
            page.prompt_label.setText(_("Connecting… {step} ({n}/{total})").format(step=text, n=done + 1,
                                                                                   total=total))

    def _abort_visit(self, exc: BaseException) -> None:
        self._starting = False
        title = getattr(exc, "heading", None) or _("Could not start the visit")
        QMessageBox.critical(self, title, str(exc))
        self._teardown_visit()
        self.show_scenarios()

    def _on_scenario_event(self, ev) -> None:
        if ev.kind == "visit_end" and ev.reason == "completed":
            # Let the last line settle on screen, then close the session and show the summary.
            QTimer.singleShot(1500, self, self.end_visit)

    def end_visit(self) -> None:
        if self.runner is None or self._ending:
            return
        if self._starting:
            self._end_after_start = True
            if self.visit_page is not None:
                self.visit_page.show_status(_("Ending the call…"))
            return
        self._ending = True
        runner = self.runner
        if self.visit_page is not None:
            self.visit_page.end_button.setEnabled(False)
            self.visit_page.show_status(_("Ending the call and saving the session…"))
        run_task(lambda progress, cancelled: runner.end(), on_done=self._visit_saved, on_error=self._save_failed)

    def send_results(self) -> None:
        """Send queued xAPI statements in the background, only when the site policy names an LRS
        (docs/xapi.md). A failure leaves them queued and says why in the status bar; About shows the queue."""
        lms = self.settings.lms
        if lms is None:
            return
        store = self.store

        def send(progress, cancelled):
            from trainer.lms import send_pending  # the one package that opens a network connection

            return send_pending(store, lms)

        def done(report) -> None:
            if report.sent:
                self.statusBar().showMessage(_("Results sent to your programme ({n} statements).").format(
                    n=report.sent), 10000)

        def failed(exc: BaseException) -> None:
            self.statusBar().showMessage(str(exc).replace("\n", " "))

        run_task(send, on_done=done, on_error=failed)

    def _visit_saved(self, session_id: int) -> None:
        self.last_session_id = session_id
        self._teardown_visit()
        self.send_results()
        self.prewarm()
        self.show_summary(session_id)  # the learners list follows the store's "session saved" announcement
        self.activateWindow()  # keyboard users continue from the summary without clicking

    def _save_failed(self, exc: BaseException) -> None:
        QMessageBox.critical(self, getattr(exc, "heading", None) or _("Saving the session failed"), str(exc))
        self._teardown_visit()
        self.show_scenarios()

    def _teardown_visit(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge.deleteLater()
            self.bridge = None
        if self.visit_page is not None:
            close_visit_page(self.stack, self.visit_page)
            self.visit_page = None
        self.runner = None

    def screenshot_after_visit_start(self, path: str, delay_ms: int = 4000, then_quit: bool = True) -> None:
        """Save a PNG of the window `delay_ms` after the visit has started (docs and visual checks), then
        end the visit and quit."""
        self._pending_screenshot = (path, delay_ms, then_quit)

    def _visit_started(self, page) -> None:
        self._starting = False
        if self._end_after_start:
            # End was asked for while devices were still opening: do it now that start() has returned.
            self.end_visit()
            return
        page.visit_started(recording=self.runner is not None and self.runner.recorder is not None)
        pending, self._pending_screenshot = getattr(self, "_pending_screenshot", None), None
        if pending is None:
            return
        from PySide6.QtWidgets import QApplication

        path, delay_ms, then_quit = pending

        def grab():
            ok = self.grab().save(path)
            print(f"screenshot {'saved' if ok else 'FAILED'}: {path}", flush=True)
            if then_quit:
                self._close_confirmed = True  # asked for on the command line: no question
                self.close()
                QApplication.instance().quit()
        QTimer.singleShot(delay_ms, grab)

    def closeEvent(self, event) -> None:
        if self.runner is not None and not self._ending and not getattr(self, "_close_confirmed", False):
            if not self.confirm(_("Close during the visit?"), _("A visit is in progress. Close the app anyway? "
                                                                "The visit is saved as ended early."),
                                _("Close"), _("Keep going")):
                event.ignore()
                return
        if self._starting:
            from PySide6.QtCore import QThreadPool

            QThreadPool.globalInstance().waitForDone(15000)  # let start() return before ending the visit
        if self.runner is not None:
            # Closing mid-visit (or while End call is still saving): save what we have (the session stays
            # marked as ended early); speech not yet transcribed is stored as such instead of waited for,
            # and the decoding under way is let finish (ending the process under it aborts it).
            try:
                self.runner.end(hurry=True)
            except TrainerError as exc:
                QMessageBox.critical(self, exc.heading, str(exc))
            self._teardown_visit()
        self.data.close()
        self._closed = True
        event.accept()


def _describe_input(spec, kind: str) -> str:
    if isinstance(spec, str) and not spec.isdigit() and spec != "default":
        return _("file {name}").format(name=Path(spec).name)
    if kind == "webcam":
        return _("webcam {n}").format(n=spec)
    return _("system default") if spec == "default" else _("device {n}").format(n=spec)
