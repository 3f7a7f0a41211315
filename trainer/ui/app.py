"""GUI start-up: display check, QApplication, exception hooks, the main window."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

_T0 = time.perf_counter()


def _no_display_message() -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("No screen found: DISPLAY and WAYLAND_DISPLAY are not set.\n"
            "Run the trainer from a desktop session, or on a headless machine use scripts/run-app.sh "
            "(it starts a virtual screen) or `xvfb-run -a trainer`.")


def install_exception_hooks(show) -> None:
    """Route uncaught exceptions (main thread and worker threads) to `show(title, text)` on the main thread
    and to stderr. Never swallowed."""
    from PySide6.QtCore import QMetaObject, QObject, Qt, Signal

    class _Relay(QObject):
        raised = Signal(str, str)

    relay = _Relay()
    relay.raised.connect(show, Qt.QueuedConnection)
    install_exception_hooks._relay = relay  # keep alive

    def report(exc_type, exc, tb, where: str):
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(f"[{where}] {text}")
        from trainer.core.errors import TrainerError
        from trainer.core.i18n import _

        if isinstance(exc, TrainerError):
            relay.raised.emit(exc.heading, str(exc))
        else:
            relay.raised.emit(_("Unexpected error"), f"{exc_type.__name__}: {exc}\n\n"
                               + _("Details were written to the terminal/log."))

    sys.excepthook = lambda t, e, tb: report(t, e, tb, "main")
    threading.excepthook = lambda args: report(args.exc_type, args.exc_value, args.exc_traceback,
                                               f"thread {args.thread.name if args.thread else '?'}")
    del QMetaObject


def apply_language(lang: str | None = None) -> str:
    """Set the app's language (the `language` setting unless given) before any window is built, and load
    Qt's own translation for its standard buttons. Returns the language in use."""
    from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

    from trainer.core.i18n import set_language

    if lang is None:
        from trainer.core.policy import effective_settings
        from trainer.store.user_settings import load_user_settings

        lang = effective_settings(user=load_user_settings()).language
    lang = set_language(lang)
    app = QCoreApplication.instance()
    old = getattr(apply_language, "_translator", None)
    if old is not None:
        app.removeTranslator(old)
        apply_language._translator = None
    if lang != "en":
        translator = QTranslator(app)
        if translator.load(QLocale(lang), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.TranslationsPath)):
            app.installTranslator(translator)
            apply_language._translator = translator
    # Always, English included: switching back from French must not leave French number and date formats
    # (and Qt's French standard dialogs) behind.
    QLocale.setDefault(QLocale(lang))
    return lang


def install_quit_signals(app, window) -> None:
    """Ctrl+C (SIGINT) and SIGTERM end a running visit like End call (the session is closed and its
    summary stored), then quit. Qt's event loop runs in C++, where Python's handlers cannot run, so the
    signal is also written to a pipe whose notifier wakes the loop; the handler itself only
    schedules the close, so the signal never surfaces as KeyboardInterrupt inside some Qt slot. A second
    signal while closing quits at once."""
    import signal

    from PySide6.QtCore import QSocketNotifier, QTimer

    if threading.current_thread() is not threading.main_thread() or os.name != "posix":
        return
    rfd, wfd = os.pipe()  # a pipe, not a socket: the UI opens no socket of any kind
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
    notifier = QSocketNotifier(rfd, QSocketNotifier.Read)

    def drain() -> None:
        try:
            os.read(rfd, 64)
        except OSError:
            pass
    notifier.activated.connect(drain)
    state = {"closing": False}

    def close_gracefully() -> None:
        window._close_confirmed = True  # the signal is the decision: no "close during the visit?" question
        window.close()  # closeEvent ends the visit like End call and stores it
        app.quit()

    def handler(signum, frame) -> None:
        if state["closing"]:
            app.quit()
            return
        state["closing"] = True
        sys.stderr.write(f"{signal.Signals(signum).name}: ending the visit and quitting\n")
        QTimer.singleShot(0, close_gracefully)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    install_quit_signals._keep = (rfd, wfd, notifier)  # alive as long as the app


def run_gui(args) -> int:
    """Open the main window (and, for `trainer run`, go straight into the visit)."""
    msg = _no_display_message()
    if msg:
        sys.stderr.write(msg + "\n")
        return 3
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from trainer.ui.main_window import MainWindow

    from trainer.core.errors import TrainerError

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Video-Visit Trainer")
    app.setOrganizationName("VideoVisitTrainer")
    try:
        apply_language()
        window = MainWindow(camera=getattr(args, "camera", None), mic=getattr(args, "mic", None),
                            captions=bool(getattr(args, "captions", False)))
    except TrainerError as exc:  # e.g. the session store cannot be opened
        sys.stderr.write(f"error: {exc}\n")
        QMessageBox.critical(None, exc.heading, str(exc))
        return 1

    def show_error(title: str, text: str) -> None:
        QMessageBox.critical(window, title, text)

    install_exception_hooks(show_error)
    install_quit_signals(app, window)
    window.prewarm_enabled = True
    if getattr(args, "command", None) != "run":  # `trainer run` starts its visit at once: nothing to get ahead of
        window.prewarm(voice=True)
    window.resize(1200, 780)
    window.show()
    if getattr(args, "exit_after_first_window", False):
        def first_window():
            print(f"first-window {time.perf_counter() - _T0:.3f}s after trainer.ui.app import", flush=True)
            app.quit()
        QTimer.singleShot(0, first_window)
    if getattr(args, "command", None) == "replay":
        QTimer.singleShot(0, lambda: window.show_replay(args.session, at=args.at, screenshot=args.screenshot))
    if getattr(args, "command", None) == "run":
        if getattr(args, "record_video", False):  # the learner's tick, given on the command line
            window.scenario_page.record_box.setChecked(True)
        QTimer.singleShot(0, lambda: window.start_visit_by_ref(args.scenario))
        if getattr(args, "screenshot", None):
            window.screenshot_after_visit_start(args.screenshot, int(args.screenshot_delay * 1000))
    code = app.exec()
    if not window.shutdown():
        # Still inside a model load after the wait: ending the process now is cleaner than letting the
        # interpreter's finalisation abort it (see trainer/ui/tasks.py). The store was closed above.
        sys.stderr.write("Background work did not finish in time; quitting without waiting for it.\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
