"""The page and the API speak English, Russian or Ukrainian (Flask-Babel; catalogs in translations/).

Which language, in this order: `?lang=` (the page's switcher links to it, and the answer remembers it
in a cookie), then that cookie, then the browser's Accept-Language, then English — so a `curl` that
names no language reads English errors. The API keeps its data in English (PENDING, DONE …); only
what a person reads is translated.

One translation system for the page and its scripts: every `gettext("…")` / `ngettext("…", "…", n)`
in static/*.js is extracted into the same catalogs as the templates and Python (babel.cfg), and the
page carries this language's translations of exactly those strings as JSON (`page_catalog`). Plurals
travel as one text per CLDR plural category (one, few, many, other), which the script picks with
`Intl.PluralRules` — the same rules the catalogs' Plural-Forms follow.
"""
from __future__ import annotations

import functools
from pathlib import Path

from babel import Locale
from babel.messages.extract import extract_from_file
from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_translations

from queue_lab import PROJECT_ROOT

LANGUAGES = {"en": "English", "ru": "Русский", "uk": "Українська"}
DEFAULT = "en"
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
TRANSLATIONS = PROJECT_ROOT / "translations"
SCRIPTS = PROJECT_ROOT / "static"


def select_locale() -> str:
    """?lang=, then the cookie the switcher set, then Accept-Language, then English."""
    if not has_request_context():  # a `flask --app api …` command: English, like its other output
        return DEFAULT
    for asked in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if asked in LANGUAGES:
            return asked
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def remember_language(response):
    """The switcher's `?lang=ru` is remembered for the next visits (and the API calls they make)."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE_S, samesite="Lax")
    return response


@functools.cache
def script_messages() -> tuple:
    """Every message the page's scripts ask for: a msgid, or a (singular, plural) pair."""
    found = []
    for path in sorted(Path(SCRIPTS).glob("*.js")):
        for _line, message, _comments, _context in extract_from_file("javascript", str(path)):
            message = tuple(message[:2]) if isinstance(message, (list, tuple)) else message
            if message not in found:
                found.append(message)
    return tuple(found)


@functools.cache
def plural_samples(language: str) -> dict[str, int]:
    """One whole number per CLDR plural category of the language: {"one": 1, "few": 2, "many": 0}."""
    locale, samples = Locale.parse(language), {}
    for n in range(200):
        samples.setdefault(locale.plural_form(n), n)
    return samples


@functools.cache
def _catalog_for(language: str) -> dict:
    messages = {}
    with force_locale(language):
        catalog = get_translations()  # the raw texts: the script fills in %(name)s itself
        for message in script_messages():
            if isinstance(message, tuple):
                singular, plural = message
                messages[singular] = {category: catalog.ngettext(singular, plural, n)
                                      for category, n in plural_samples(language).items()}
            else:
                messages[message] = catalog.gettext(message)
    return {"lang": language, "messages": messages}


def page_catalog() -> dict:
    """This request's language and its translations of the scripts' messages (rendered as JSON)."""
    return _catalog_for(str(get_locale()))


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.after_request(remember_language)
    app.jinja_env.globals.update(page_catalog=page_catalog, languages=LANGUAGES, current_language=lambda: str(get_locale()))
