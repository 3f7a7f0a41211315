"""Session reports: PDF (Qt) and HTML (inline SVG timeline) with the summary's measures, the rubric, notes
and ratings; `trainer report`."""

from conftest import played_session
from PySide6.QtPdf import QPdfDocument

from trainer.cli import main
from trainer.store.db import SessionStore
from trainer.ui.report_pdf import write_report


def _pdf_text(path) -> list[str]:
    doc = QPdfDocument()
    doc.load(str(path))
    return [doc.getAllText(i).text() for i in range(doc.pageCount())]


def test_pdf_and_html_report_carry_measures_timeline_notes_and_ratings(qapp, tmp_path):
    store = SessionStore(tmp_path / "s.db")
    sid = played_session(store)
    shown = store.summary(sid).measures["eye_contact_listening"]["shown"]
    pages = _pdf_text(write_report(store, sid, tmp_path / "r.pdf"))
    assert 1 <= len(pages) <= 2
    text = " ".join(" ".join(pages).split())
    for expected in ("Visit report — First check-in", "eye contact while listening", shown, "Timeline", "Gaze",
                     "Facilitator notes", "Good pause after the worry.", "Dr Facil", "partly shown",
                     "looked down at notes", "Overall (1 = needs work, 5 = excellent)"):
        assert expected in text, expected
    # The summary's moments, with their times (they were once silently left out).
    assert "0:03 the patient said “Hello doctor, I have been worried.”, and you nodded." in text
    html = write_report(store, sid, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<li>0:03 the patient said" in html
    assert "<svg" in html and "Facilitator notes" in html and "Check the jargon here." in html
    assert html.count("<rect") > 20  # the lanes' spans are drawn


def test_cli_report(tmp_path, monkeypatch, capsys, qapp):
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path))
    from trainer.store.paths import default_db_path

    sid = played_session(SessionStore(default_db_path()))
    assert main(["report", str(sid), "--out", str(tmp_path / "x.pdf")]) == 0
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF")
    assert main(["report", str(sid + 5), "--out", str(tmp_path / "y.pdf")]) == 1
    assert "does not exist" in capsys.readouterr().err
