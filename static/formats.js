// How numbers, durations and times look on the page, in its language (the units are in vocabulary.js).

import { lang } from "./i18n.js";
import { UNITS } from "./vocabulary.js";

const decimal = (value, digits) => value.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });

// "42 s", "5 min", "1 min 30 s"
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return UNITS.s(s);
  const minutes = Math.floor(s / 60), rest = s % 60;
  if (minutes >= 60) return UNITS.hMin(Math.floor(minutes / 60), minutes % 60);
  return rest ? UNITS.minS(minutes, rest) : UNITS.min(minutes);
}

// A job's waited/ran and the summary's means: "340 ms", "4.2 s", "2 m 05 s".
export function formatSeconds(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 1) return UNITS.ms(Math.round(s * 1000));  // queue waits are often milliseconds: show them
  if (s < 60) return UNITS.s(decimal(s, 1));
  return UNITS.minS(Math.floor(s / 60), String(Math.floor(s % 60)).padStart(2, "0"));
}

// "0.42 ms", "3.4 ms", "120 ms", "1.25 s": enqueueing a job takes milliseconds, so keep a decimal.
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1) return UNITS.ms(decimal(ms, 2));
  if (ms < 100) return UNITS.ms(decimal(ms, 1));
  if (ms < 1000) return UNITS.ms(Math.round(ms));
  return UNITS.s(decimal(ms / 1000, 2));
}

export function formatRate(perSecond) {
  if (!Number.isFinite(perSecond)) return "—";
  return perSecond < 10 ? decimal(perSecond, 1) : Math.round(perSecond).toLocaleString(lang);
}

export const formatCount = (value) => (Number.isFinite(value) ? value.toLocaleString(lang) : "—");

// A 24-hour clock in every language: "15:29:51" fits the table's last column, "03:29:51 PM" did not.
export const clockTime = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
