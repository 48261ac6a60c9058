// The page's words in its language: the same catalogs as the template and the API (api/i18n.py).
// The server renders, into <script id="catalog">, this language's translation of every gettext() /
// ngettext() call in static/*.js (extracted like the rest: babel.cfg). A message the catalog lacks
// shows in English, never as a key. Values fill %(name)s; the result is text for textContent.

const catalog = JSON.parse(document.getElementById("catalog")?.textContent || "{}");
const messages = catalog.messages ?? {};
export const lang = catalog.lang ?? document.documentElement.lang ?? "en";
const pluralRules = new Intl.PluralRules(lang);

function fill(text, values) {
  if (!values) return text;
  return text.replace(/%\((\w+)\)s/g, (placeholder, name) => (
    Object.hasOwn(values, name) ? String(values[name]) : placeholder));
}

export function gettext(message, values) {
  const text = messages[message];
  return fill(typeof text === "string" && text ? text : message, values);
}

// Plural forms by CLDR category (one, few, many, other), as Intl.PluralRules names them; %(num)s is n.
export function ngettext(singular, plural, n, values = {}) {
  const forms = messages[singular];
  const category = pluralRules.select(n);
  const text = (forms && (forms[category] || forms.other || forms.many)) || (n === 1 ? singular : plural);
  return fill(text, { num: n.toLocaleString(lang), ...values });
}
