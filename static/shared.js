// What app.js, panels.js and experiments.js share: building elements without parsing HTML,
// fetching and posting JSON, and the few formats that appear in more than one panel.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Children may be nodes or plain strings; strings become text nodes, never parsed as HTML.
export function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

// Only write when the text really changed, so unchanged cells cost nothing.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// The API's messages name commands in `backticks`: show those as code, still as plain text nodes.
export function setTextWithCode(node, text) {
  node.replaceChildren(...String(text).split("`").map((part, i) => (i % 2 ? element("code", "", part) : part)));
}

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// For the buttons that act: the caller needs the status *and* the body, because a 4xx/5xx answer
// carries an `error` written for the student. Throws only when the server could not be reached.
export async function postJSON(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(payload),
  });
  const body = await response.json().catch(() => ({}));  // e.g. an HTML error page
  return { status: response.status, body };
}

// "42 s", "5 min", "1 min 30 s"
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60), rest = s % 60;
  if (minutes >= 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

// "#12–#16" for a run, "#12" for one, and a short form when other tabs interleaved numbers.
export function describeTaskNums(nums) {
  if (!nums || nums.length === 0) return "nothing";
  const sorted = [...nums].sort((a, b) => a - b);
  const first = sorted[0], last = sorted[sorted.length - 1];
  if (sorted.length === 1) return `#${first}`;
  if (last - first === sorted.length - 1) return `#${first}–#${last}`;
  return `${sorted.length} jobs, #${first} … #${last}`;
}
