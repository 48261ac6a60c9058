// Times are epoch seconds on the *server* clock; every answer carries the server's `now`, so the
// page's ages and countdowns tick on that clock even if this browser's clock is off.

// The jobs feed's clock (the table, the race): the offset from the newest answer's `now`.
let clockSkew = 0;

export const serverNow = () => Date.now() / 1000 + clockSkew;

export function noteServerClock(now) {
  if (Number.isFinite(now)) clockSkew = now - Date.now() / 1000;
}

// A polled panel's own clock: the answer's `now` plus the time since it arrived, so "last seen 3 s
// ago" keeps ticking between polls.
export function clockFrom(answerNow) {
  const arrived = performance.now();
  const base = Number.isFinite(answerNow) ? answerNow : Date.now() / 1000;
  return () => base + (performance.now() - arrived) / 1000;
}
