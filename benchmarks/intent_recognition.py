"""Speak freely: how well the built-in scenarios' intents are recognised from the words said.

    .venv/bin/python benchmarks/intent_recognition.py [--errors]

For every card of every clinician turn of the built-in scenarios and every one of its `say:` phrasings,
the phrasing is taken out of the card (leave-one-out: the card keeps its other phrasings, detail and
label) and recognised among the turn's cards. Prints right / wrong / unsure (left to the cards) counts.

With --spoken: each card's first phrasing is spoken by the hibari TTS voice, transcribed by the shipped
speech-to-text model and recognised among the turn's full cards (the speak-freely path end to end, minus
the microphone): right / wrong / unsure, and the word error rate of the transcripts.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.core.intents import recognise_intent  # noqa: E402
from trainer.core.scenario import ClinicianTurn, discover_scenarios  # noqa: E402
from trainer.resources import builtin_scenarios_dir  # noqa: E402


def leave_one_out():
    """(scenario id, step id, card id, phrasing, IntentMatch) for every phrasing."""
    for sc in discover_scenarios([builtin_scenarios_dir()])[0]:
        for st in sc.steps:
            if not isinstance(st, ClinicianTurn) or not st.cards:
                continue
            for card in st.cards:
                for i, p in enumerate(card.say):
                    held = replace(card, say=card.say[:i] + card.say[i + 1:])
                    cards = [held if c.id == card.id else c for c in st.cards]
                    yield sc.id, st.id, card.id, p, recognise_intent(p, cards, patient_names=(sc.patient.name,))


def spoken(show_errors: bool) -> None:
    from trainer.analysis.stt import SpeechRecognizer, word_errors
    from trainer.capture.patient_voice import TTS_RATE, HibariEngine, resample

    tts, rec = HibariEngine(), SpeechRecognizer()
    right = wrong = unsure = errs = words = 0
    for sc in discover_scenarios([builtin_scenarios_dir()])[0]:
        for st in sc.steps:
            if not isinstance(st, ClinicianTurn) or not st.cards:
                continue
            for card in st.cards:
                if not card.say:
                    continue
                audio = resample(tts.synthesize(card.say[0], 1.0), TTS_RATE, 16000)
                text = rec.transcribe(audio).text
                e, n = word_errors(card.say[0], text)
                errs, words = errs + e, words + n
                m = recognise_intent(text, st.cards, patient_names=(sc.patient.name,))
                if m.card == card.id:
                    right += 1
                elif m.card is None:
                    unsure += 1
                else:
                    wrong += 1
                if show_errors and m.card != card.id:
                    print(f"{sc.id}/{st.id}/{card.id} -> {m.card}: {text!r} {m.scores}")
    n = right + wrong + unsure
    print(f"spoken: {n} cards, right {right} ({right / n:.0%}), wrong {wrong}, unsure {unsure}; "
          f"transcript WER {errs / words:.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--spoken", action="store_true", help="speak, transcribe, then recognise (slow)")
    args = ap.parse_args()
    if args.spoken:
        spoken(args.errors)
        return
    right = wrong = unsure = 0
    for sid, step, cid, p, m in leave_one_out():
        if m.card == cid:
            right += 1
        elif m.card is None:
            unsure += 1
            if args.errors:
                print(f"unsure {sid}/{step}/{cid}: {p!r} {m.scores}")
        else:
            wrong += 1
            if args.errors:
                print(f"WRONG  {sid}/{step}/{cid} -> {m.card}: {p!r} {m.scores}")
    n = right + wrong + unsure
    print(f"{n} phrasings: right {right} ({right / n:.0%}), wrong {wrong} ({wrong / n:.0%}), "
          f"unsure {unsure} ({unsure / n:.0%})")


if __name__ == "__main__":
    main()
