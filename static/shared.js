// What app.js and panels.js both use: building elements without parsing HTML, and fetching JSON.

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

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}
