"""Three languages, one translation system: how the language is chosen, that the Russian and Ukrainian
catalogs are complete and current, and that no text a person reads bypasses them — in the template
(rendered in a marking pseudo-language) or in the page's scripts (every prose literal is a gettext call).
"""
from __future__ import annotations

import html.parser
import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from api import i18n

PROJECT = Path(__file__).resolve().parent.parent
TRANSLATED = ("ru", "uk")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def page_language(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.text).group(1)


# -- which language ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, cookie, accept, expected", [
    ("", None, None, "en"),                          # nothing named: English
    ("", None, "de-DE,de;q=0.9", "en"),              # a language we do not have: English
    ("", None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),     # the browser's
    ("", None, "uk,ru;q=0.8", "uk"),
    ("", "uk", "ru", "uk"),                          # the switcher's cookie beats the browser
    ("?lang=ru", "uk", "en", "ru"),                  # ?lang= beats both
    ("?lang=xx", "uk", "ru", "uk"),                  # an unknown ?lang= is ignored
])
def test_the_language_is_lang_then_cookie_then_accept_language_then_english(client, query, cookie, accept,
                                                                            expected):
    if cookie:
        client.set_cookie(i18n.COOKIE, cookie)
    response = client.get("/" + query, headers={"Accept-Language": accept} if accept else {})
    assert page_language(response) == expected


def test_the_switchers_choice_is_remembered(client):
    answer = client.get("/?lang=uk")
    assert "lang=uk" in answer.headers["Set-Cookie"] and "SameSite=Lax" in answer.headers["Set-Cookie"]
    assert page_language(client.get("/")) == "uk"
    assert 'hreflang="ru"' in answer.text and 'aria-current="true">Українська' in answer.text


def test_api_errors_speak_the_requests_language_and_english_when_it_names_none(client):
    bad = {"method": "celery", "seconds": 999}
    english = client.post("/api/tasks", json=bad).json
    russian = client.post("/api/tasks", json=bad, headers={"Accept-Language": "ru"}).json
    ukrainian = client.post("/api/tasks?lang=uk", json=bad).json
    assert english == {"error": "seconds must be from 0 to 300, got 999", "field": "seconds"}
    assert russian["field"] == ukrainian["field"] == "seconds"  # the field is the JSON key
    assert re.search("[а-яА-Я]", russian["error"]) and re.search("[іїєґ]", ukrainian["error"])
    assert "999" in russian["error"] and "999" in ukrainian["error"]


def test_the_scripts_get_their_strings_and_plural_forms_from_the_catalog(client):
    for language, pending in (("en", "PENDING"), ("ru", None), ("uk", None)):
        page = client.get(f"/?lang={language}").text
        catalog = __import__("json").loads(re.search(
            r'<script type="application/json" id="catalog">(.*?)</script>', page, re.S).group(1))
        assert catalog["lang"] == language
        assert set(catalog["messages"]) == {m if isinstance(m, str) else m[0] for m in i18n.script_messages()}
        if pending:
            assert catalog["messages"]["PENDING"] == pending
        else:
            assert catalog["messages"]["PENDING"] != "PENDING"
        rows = catalog["messages"]["%(num)s row"]
        expected = {"en": {"one", "other"}, "ru": {"one", "few", "many"}, "uk": {"one", "few", "many"}}[language]
        assert set(rows) == expected and all("%(num)s" in form for form in rows.values())


# -- the catalogs are complete and current --------------------------------------------------------

def catalog(language: str):
    with open(PROJECT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


def extracted_messages() -> set[str]:
    from babel.messages.frontend import parse_mapping_cfg

    with open(PROJECT / "babel.cfg") as config:  # what `make catalogs` extracts, read from its own file
        method_map, _options = parse_mapping_cfg(config)
    found = set()
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}  # as `make catalogs` extracts (-k lazy_gettext)
    for _file, _line, message, _comments, _context in extract_from_dir(str(PROJECT), method_map, keywords=keywords):
        found.add(message[0] if isinstance(message, (tuple, list)) else message)
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    messages = [m for m in catalog(language) if m.id]
    assert len(messages) > 300
    untranslated = [m.id for m in messages if not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:3]}"
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not fuzzy, f"{language}: fuzzy entries (check and unmark them): {fuzzy[:3]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_the_placeholders_and_plural_forms(language):
    for message in catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[0])) | set(PLACEHOLDER.findall(ids[-1]))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (3 if isinstance(message.id, tuple) else 1), message.id
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (language, message.id, string)
            assert string.count("<code>") == ids[0].count("<code>"), (language, message.id, string)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogs_hold_exactly_the_messages_of_the_code(language):
    """A text added to the code but not to the catalogs (run `make catalogs`), or one left behind."""
    in_catalog = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog(language) if m.id}
    in_code = extracted_messages()
    assert not in_code - in_catalog, f"not in the {language} catalog: {sorted(in_code - in_catalog)[:5]}"
    assert not in_catalog - in_code, f"no longer in the code: {sorted(in_catalog - in_code)[:5]}"


# -- no text bypasses the catalogs ------------------------------------------------------------------

class MarkingTranslations:
    """A pseudo-language: every translated text comes out as ⟦text⟧, so what is left unmarked on the
    rendered page did not go through the catalog."""

    def gettext(self, message):
        return f"⟦{message}⟧"

    def ngettext(self, singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"

    ugettext, ungettext = gettext, ngettext

    def pgettext(self, context, message):
        return self.gettext(message)

    def npgettext(self, context, singular, plural, n):
        return self.ngettext(singular, plural, n)


# What is not a word to translate: numbers, symbols, code shown as code, and the column names p50/p95.
NOT_WORDS = re.compile(r"^[\s\d#—–·…→|/%*:;,.()+-]*$|^p50$|^p95$")


class UnmarkedText(html.parser.HTMLParser):
    READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    # Not read as text to translate: code, scripts, and the switcher's language names (each in its own
    # language, marked with hreflang).
    SKIPPED = ("script", "style", "code")

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside ⟦ … ⟧
        self.skip = 0   # inside a SKIPPED element or a language's own name
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED or (tag == "a" and dict(attrs).get("hreflang")):
            self.skip += 1
        for name, value in attrs:
            if name in self.READ_ATTRIBUTES and value and not NOT_WORDS.match(value) and not (
                    value.startswith("⟦") and value.endswith("⟧")):
                self.found.append(f"{tag}[{name}]={value!r}")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED or (tag == "a" and self.skip):
            self.skip -= 1

    def handle_data(self, data):
        if self.skip and not self.depth:
            return
        outside = []
        for part in re.split(r"([⟦⟧])", data):
            if part == "⟦":
                self.depth += 1
            elif part == "⟧":
                self.depth -= 1
            elif self.depth == 0:
                outside.append(part)
        text = " ".join(" ".join(outside).split())
        if text and not NOT_WORDS.match(text) and not self.skip:
            self.found.append(text)


def test_every_text_of_the_page_template_goes_through_the_catalog(client, monkeypatch):
    monkeypatch.setattr(flask_babel, "get_translations", lambda: MarkingTranslations())
    i18n._catalog_for.cache_clear()
    try:
        page = client.get("/").text
    finally:
        i18n._catalog_for.cache_clear()
    parser = UnmarkedText()
    parser.feed(page)
    assert parser.depth == 0
    assert not parser.found, f"text outside the catalog in templates/index.html: {parser.found}"
    assert page.count("⟦") > 150  # the check is not vacuous


# A string literal in a script is prose (something a person reads) when it holds a word of two letters
# or more next to another word, or starts with a capital — unless it is clearly code: a selector, a
# path, CSS, an attribute name. Prose must be the first argument of gettext()/ngettext() (or the second
# of ngettext), so the extractor finds it.
JS_LITERAL = re.compile(r"""(?P<quote>["'`])(?P<text>(?:\\.|(?!(?P=quote)).)*)(?P=quote)""", re.S)
CODE_LIKE = re.compile(r"[\[\]#=/{}<>]|^\.|^--|^[\w-]+([.-][\w-]+)+$|^\w+_\w+$|\$\{|^[a-z]+[A-Z]\w*$|^\s*$"
                       r"|^var\(|^\([a-z-]+:")  # … and CSS: var(--done), (prefers-reduced-motion: reduce)
PROSE = re.compile(r"[A-Za-z]{2,}[^A-Za-z]+[A-Za-z]{2,}|^[A-Z][a-z]+")
ALLOWED = {"Content-Type", "Accept", "Authorization", "Bearer", "EventSource", "Enter"}  # HTTP and DOM names (KeyboardEvent.key)


def prose_literals_outside_gettext(source: str) -> list[str]:
    # Comments out (a `//` that starts a line or follows a space: not the one in "http://")
    source = re.sub(r"(^|\s)//[^\n]*", r"\1", re.sub(r"/\*.*?\*/", "", source, flags=re.S))
    found = []
    for match in JS_LITERAL.finditer(source):
        text = match["text"]
        if match["quote"] == "`" or text in ALLOWED or CODE_LIKE.search(text) or not PROSE.search(text):
            continue
        before = source[:match.start()].rstrip()
        if re.search(r"\b(?:n?gettext)\($", before) or re.search(r"\bngettext\(\s*(['\"]).*?\1\s*,\s*$", before[-400:], re.S):
            continue
        if before.endswith("+"):  # a concatenated piece of a gettext() argument
            continue
        found.append(text)
    return found


@pytest.mark.parametrize("script", sorted(p.name for p in (PROJECT / "static").glob("*.js")))
def test_no_script_writes_prose_past_the_catalog(script):
    found = prose_literals_outside_gettext((PROJECT / "static" / script).read_text())
    assert not found, f"static/{script}: texts that do not go through gettext(): {found}"


@pytest.mark.parametrize("script", sorted(p.name for p in (PROJECT / "static").glob("*.js")))
def test_every_gettext_call_in_the_scripts_is_extracted(script):
    """The extractor does not see a gettext() nested in another's arguments: such a text would stay
    English on every page. Make it a constant first."""
    source = (PROJECT / "static" / script).read_text()
    called = set(re.findall(r'\bn?gettext\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]', source))
    extracted = {m if isinstance(m, str) else m[0] for m in i18n.script_messages()}
    assert not called - extracted, f"static/{script}: not extracted: {sorted(called - extracted)}"


def test_the_script_check_catches_a_forgotten_text():
    assert prose_literals_outside_gettext('setText(node, "could not load the workers");') == [
        "could not load the workers"]
    assert prose_literals_outside_gettext('x = gettext("could not load the workers");') == []
    assert prose_literals_outside_gettext('q("tr[data-task-num] .row-note"); el("div", "row-error");') == []
