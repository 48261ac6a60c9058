// What the page's modules share: building elements without parsing HTML, showing an outcome,
// and fetching, posting and polling JSON.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Children may be nodes or plain strings; strings become text nodes, never parsed as HTML.
export function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

// The same for SVG (the flow and bindings diagrams): attributes as an object, children as for element().
export function svgElement(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
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

// The outcome of an action in its result line (or a row's note); `kind` is for CSS: ok | waiting | error.
// `plain`: the text as it is, backticks included (the send panels show the API's text so).
export function showOutcome(node, text, kind, { plain = false } = {}) {
  if (plain) node.textContent = text;
  else setTextWithCode(node, text);
  node.dataset.kind = kind;
  foldable(node, kind === "error");
}

// A long error shows its first lines (CSS clamps `.foldable`); a click, Enter or Space shows all of
// it, and again folds it. The whole text is also the element's title, for a hover.
export function foldable(node, on = true) {
  node.classList.toggle("foldable", on && node.textContent !== "");
  node.title = on ? node.textContent : "";
  node.tabIndex = on && node.textContent !== "" ? 0 : -1;
  node.dataset.open = "false";
}

export function startFolding() {
  const toggle = (event) => {
    const node = event.target.closest?.(".foldable");
    if (!node || (event.type === "keydown" && event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    node.dataset.open = String(node.dataset.open !== "true");
  };
  document.addEventListener("click", toggle);
  document.addEventListener("keydown", toggle);
}

// `fn` runs at most once per animation frame, however often the returned function is called meanwhile.
export function oncePerFrame(fn) {
  let requested = false;
  return () => {
    if (requested) return;
    requested = true;
    requestAnimationFrame(() => {
      requested = false;
      fn();
    });
  };
}

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// For the buttons that act: the caller needs the status *and* the body, because a 4xx/5xx answer
// carries an `error` written for the student. Throws only when the server could not be reached.
// Always JSON: the API refuses any other Content-Type on a write (415), so no form elsewhere can post.
export async function postJSON(url, payload, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body: JSON.stringify(payload),
  });
  const body = await response.json().catch(() => ({}));  // e.g. an HTML error page
  return { status: response.status, body };
}

// One request at a time, so a slow server never gets a pile of them; nothing while the tab is hidden.
export async function pollForever(url, everyMs, show, showFailure) {
  for (;;) {
    if (!document.hidden) {
      try {
        show(await getJSON(url));
      } catch (error) {
        showFailure(error);
      }
    }
    await sleep(everyMs);
  }
}
