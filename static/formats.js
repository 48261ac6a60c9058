// How numbers, durations and times look on the page.

// "42 s", "5 min", "1 min 30 s"
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60), rest = s % 60;
  if (minutes >= 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

// A job's waited/ran and the summary's means: "340 ms", "4.2 s", "2 m 05 s".
export function formatSeconds(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;  // queue waits are often milliseconds: show them
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
}

// "0.42 ms", "3.4 ms", "120 ms", "1.25 s": enqueueing a job takes milliseconds, so keep a decimal.
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatRate(perSecond) {
  if (!Number.isFinite(perSecond)) return "—";
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

export const formatCount = (value) => (Number.isFinite(value) ? value.toLocaleString() : "—");

export const clockTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
