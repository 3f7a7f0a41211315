"""Translations: gettext catalogues (`.po` files) read at start-up, and the language in use.

Why gettext and not Qt's .ts/.qm: user-visible text is made in every layer (error messages in core, notices
in the visit, the UI), and only `trainer.ui` may import Qt. A `.po` file is the format translators' tools
(Poedit, Weblate, Lokalize) edit, and it is plain text in the repository; it is read directly by
`read_po` below, so there is no compile step and no binary catalogue to keep in sync. Qt's own dialogs
(standard buttons) use Qt's shipped `qtbase_fr.qm`, loaded by the UI.

Catalogues: `assets/locale/<lang>.po` (e.g. `fr_CA.po`). Mark a string with `_("...")`; use
`{name}` placeholders and `.format()` after translating, never string concatenation, so a translator can
move words around. `docs/translation.md` explains how to add strings and languages.

The language: the `language` setting (user setting or site-policy default, `trainer.core.policy`):
`system` follows the operating system (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), `en` or `fr_CA` force one.
"""

from __future__ import annotations

import os
from pathlib import Path

LANGUAGES = {"en": "English", "fr_CA": "Français (Canada)"}
SOURCE_LANGUAGE = "en"

_catalog: dict[str, str] = {}
_language = SOURCE_LANGUAGE


def locale_dir() -> Path:
    from trainer.resources import assets_dir

    return assets_dir() / "locale"


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise ValueError(f"expected a quoted string, got {s!r}")
    out, i, body = [], 0, s[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def read_po(path: str | Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file; untranslated (empty) and `fuzzy` entries are left out, as gettext does."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    field = None
    fuzzy = next_fuzzy = False

    def flush():
        if msgid and msgstr and not fuzzy:
            entries[msgid] = msgstr

    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        try:
            if not line:
                continue
            if line.startswith("#,"):
                next_fuzzy = "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid "):
                flush()
                msgid, msgstr, field, fuzzy, next_fuzzy = _unquote(line[6:]), None, "id", next_fuzzy, False
            elif line.startswith("msgstr "):
                msgstr, field = _unquote(line[7:]), "str"
            elif line.startswith('"'):
                if field == "id":
                    msgid += _unquote(line)
                elif field == "str":
                    msgstr += _unquote(line)
                else:
                    raise ValueError("a continuation line outside an entry")
            else:
                raise ValueError(f"unexpected line {line[:40]!r}")
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {exc}") from None
    flush()
    return entries


def system_language(environ=None) -> str:
    """The operating system's language as one of LANGUAGES (French of any region -> fr_CA, else English)."""
    env = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            first = value.split(":")[0].lower()
            return "fr_CA" if first.startswith("fr") else "en"
    if os.name == "nt":
        import locale

        try:
            lang = locale.getlocale()[0] or ""
        except ValueError:
            lang = ""
        return "fr_CA" if lang.lower().startswith("fr") else "en"
    return "en"


def resolve_language(setting: str) -> str:
    """The `language` setting ('system', 'en', 'fr_CA') -> the language to use."""
    return system_language() if setting == "system" else setting


def set_language(lang: str) -> str:
    """Use `lang` ('en', 'fr_CA' or 'system') from now on; returns the language in use."""
    global _catalog, _language
    lang = resolve_language(lang)
    if lang not in LANGUAGES:
        lang = SOURCE_LANGUAGE
    _catalog = {} if lang == SOURCE_LANGUAGE else read_po(locale_dir() / f"{lang}.po")
    _language = lang
    return lang


def language() -> str:
    """The language in use ('en' or 'fr_CA')."""
    return _language


def is_french() -> bool:
    return _language.startswith("fr")


def _(text: str) -> str:
    """The translation of `text` in the current language (the text itself when there is none)."""
    return _catalog.get(text, text) if _catalog else text


def N_(text: str) -> str:
    """Marks a string for translation where it is defined (tables, constants); translate it where shown."""
    return text


#: The space French puts between a number and its unit or a percent sign (non-breaking, so "80 %" never
#: wraps between the two); English keeps the app's ordinary space.
NBSP = "\u00a0"


def number(value: float, digits: int | None = 1) -> str:
    """`value` with `digits` decimals (None: as few as it needs, "1.5", "2") as the language writes it:
    "1.5" in English, "1,5" in French."""
    text = f"{value:g}" if digits is None else f"{value:.{digits}f}"
    return text.replace(".", ",") if is_french() else text


def with_unit(amount: str, unit: str) -> str:
    """An already formatted amount and its unit ("s", "%", "dB"): "1.5 s"; in French "1,5 s" with a
    non-breaking space, as French (Canada) writes it."""
    return f"{amount}{NBSP if is_french() else ' '}{unit}"


def percent(ratio: float, digits: int = 0) -> str:
    """A ratio (0..1) as a percentage: "80 %" (French: "80 %" with a non-breaking space)."""
    return with_unit(number(ratio * 100, digits), "%")


def seconds(value: float, digits: int = 1) -> str:
    """Seconds with their unit: "1.5 s" / "1,5 s"."""
    return with_unit(number(value, digits), "s")


def later(msgid: str, **args) -> dict:
    """Text worded when it is read, not when it is made: {"msgid", "args"} (JSON-ready), for what is stored
    and read back later, perhaps in another language (a visit's notices). An argument may itself be
    `later(...)` (translated too) or `figure(...)` (a number written the reader's way); anything else is
    data (a time "0:29", a device name). `wording()` gives the text in the language in use."""
    return {"msgid": msgid, "args": args}


def figure(value: float, digits: int | None = 1) -> dict:
    """A number inside `later(...)`, written as the reader's language writes it (`number`)."""
    return {"number": float(value), "digits": digits}


def wording(form) -> str:
    """The text of a `later(...)` form (or a `figure`) in the language in use; other values as they are."""
    if isinstance(form, dict):
        if "msgid" in form:
            return _(form["msgid"]).format(**{k: wording(v) for k, v in (form.get("args") or {}).items()})
        if "number" in form:
            return number(form["number"], form.get("digits", 1))
    return str(form)


def localized(obj, name: str, lang: str | None = None) -> str:
    """A scenario text (`obj.<name>`: a line's text, a prompt, a card's label...) in the language in use:
    its French version (`obj.fr`, from the file's `<key>_fr`) in French when the file gives one, else English."""
    lang = lang or _language
    if lang.startswith("fr"):
        fr = dict(getattr(obj, "fr", ()) or ())
        if fr.get(name):
            return fr[name]
    return getattr(obj, name)
