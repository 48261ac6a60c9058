// Exchanges and bindings (the routing lesson, docs/exchanges.md): the raw path's direct, topic and
// fanout exchanges on the left, every binding from them as a line labelled with its key, and the
// queues bound on the right with what they hold — all as the broker has them now (GET /api/routing,
// from the management API), nothing drawn from our own idea of it. A job published to an exchange
// shows as a dot along each binding its key matches (a topic key can match two: two copies); a key
// that matched none flashes "returned" on its exchange. "Try a key" asks the same question before
// sending: which queues would this key reach? The exchanges card shows the same picture (lendBindings).

import { getJSON, oncePerFrame, setText, sleep, svgElement } from "./shared.js";
import { BINDINGS } from "./vocabulary.js";

const POLL_MS = 2000;  // the broker's own statistics change every 5 s
const VISIBLE_CHECK_MS = 500;
const DOT_MS = 1500;
const RETURNED_MS = 4000;
const drawer = document.getElementById("bindings-drawer");
const section = document.getElementById("bindings");
const svg = section.querySelector("svg");
const note = section.querySelector('[data-role="note"]');
const tryKey = section.querySelector('[data-role="try-key"]');
const tryAnswer = section.querySelector('[data-role="try-answer"]');
const lentNote = drawer.querySelector('[data-role="lent"]');
const seen = new Map();    // task number -> status last seen: each job's way is shown once
const returnedUntil = new Map();  // exchange -> when its "returned" flash ends (it outlives a redraw)
const anchors = new Map(); // "exchange:<name>" | "queue:<name>" -> { x, y, box }
let picture = { exchanges: [], bindings: [], queues: {} };
let drawnKey = "";
const dots = [];

// ---------- the broker's rules, written out (tests/test_browser_exchanges.py checks them against it)

// A topic binding's pattern against a routing key: words between dots, `*` exactly one, `#` any number.
export function topicMatches(pattern, key) {
  const p = pattern.split("."), k = key.split(".");
  const match = (i, j) => {
    if (i === p.length) return j === k.length;
    if (p[i] === "#") return match(i + 1, j) || (j < k.length && match(i, j + 1));
    return j < k.length && (p[i] === "*" || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

// Does a binding of this exchange type take a message with this key? (fanout: every binding does)
export function bindingTakes(type, bindingKey, key) {
  if (type === "fanout") return true;
  return type === "topic" ? topicMatches(bindingKey, key) : bindingKey === key;
}

// The queues a message published to `exchange` with `key` reaches, as the broker's bindings stand.
export function routes(exchange, key, answer = picture) {
  const type = answer.exchanges.find((e) => e.name === exchange)?.type;
  return [...new Set(answer.bindings.filter((b) => b.exchange === exchange && bindingTakes(type, b.key, key))
    .map((b) => b.queue))];
}

// ---------- drawing

// Writes `text` into an SVG <text>, cut with "…" until the browser measures it within `width`: the
// whole of it is in the tooltip. Names are cut at the front (their end tells them apart), sentences
// at the end. Measured, not guessed: the page's three languages and two fonts differ.
function fitInto(node, text, width, { front = false } = {}) {
  node.textContent = text;
  if (!node.isConnected) return;  // not drawn yet: measured once it is
  for (let keep = text.length - 1; keep > 3 && node.getComputedTextLength() > width; keep -= 1) {
    node.textContent = front ? `…${text.slice(-keep)}` : `${text.slice(0, keep)}…`;
  }
}

function box(id, x, y, width, height, label, kind, title) {
  const group = svgElement("g", { class: `node ${kind}`, "data-node": id });
  group.append(svgElement("rect", { x, y, width, height, rx: 6 }), svgElement("title", {}, title));
  const f = fontSize(), inside = width - 1.2 * f;
  const text = svgElement("text", { x: x + 0.6 * f, y: y + 1.1 * f });
  text.dataset.fit = JSON.stringify([label, inside, true]);
  const stats = svgElement("text", { x: x + 0.6 * f, y: y + 2.15 * f, class: "stats", "data-width": inside });
  group.append(text, stats);
  const anchor = { x: kind === "exchange" ? x + width : x, y: y + height / 2, group, stats };
  anchor.say = (line) => {  // the box's second line
    if (stats.dataset.line !== line) fitInto(stats, line, inside);
    stats.dataset.line = line;
  };
  anchors.set(id, anchor);
  return group;
}

const fontSize = () => parseFloat(getComputedStyle(svg).fontSize) || 12;

// Three columns: exchanges | one pill per binding, with its key | queues. Bindings are sorted by
// queue, so each queue's pills sit beside it; a line runs exchange → binding → queue.
function draw() {
  const f = fontSize();
  const width = Math.max(svg.getBoundingClientRect().width, 40 * f);
  const typeOf = (name) => picture.exchanges.find((e) => e.name === name)?.type;
  const queues = [...new Set(picture.bindings.map((b) => b.queue))];
  const bindings = [...picture.bindings].sort((a, b) => queues.indexOf(a.queue) - queues.indexOf(b.queue));
  const rowH = 2.9 * f, rows = Math.max(picture.exchanges.length, bindings.length, 1);
  const height = rows * rowH + 0.6 * f;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.height = `${height}px`;
  svg.replaceChildren();
  anchors.clear();
  const exchangeW = Math.min(18 * f, width * 0.23), queueW = Math.min(26 * f, width * 0.4), pillW = Math.min(10 * f, width * 0.14);
  const queueX = width - queueW - 2, pillX = (exchangeW + queueX) / 2 - pillW / 2, boxH = 2.6 * f, pillH = 1.6 * f;
  const centre = (count, i) => (rows * rowH) / Math.max(count, 1) * (i + 0.5) + 0.3 * f;
  picture.exchanges.forEach((exchange, i) => {
    svg.append(box(`exchange:${exchange.name}`, 2, centre(picture.exchanges.length, i) - boxH / 2, exchangeW, boxH,
      shortName(exchange.name), "exchange", `${exchange.name} (${exchange.type}): ${BINDINGS.kinds[exchange.type] ?? ""}`));
  });
  paintReturned();
  const pillY = (i) => centre(bindings.length, i);
  queues.forEach((queue) => {  // each queue beside its own pills
    const mine = bindings.map((b, i) => [b, i]).filter(([b]) => b.queue === queue).map(([, i]) => pillY(i));
    const y = (Math.min(...mine) + Math.max(...mine)) / 2;
    const depth = picture.queues[queue] ?? {};
    svg.append(box(`queue:${queue}`, queueX, y - boxH / 2, queueW, boxH, shortName(queue), "queue", queue));
    const { say, group } = anchors.get(`queue:${queue}`);
    say(BINDINGS.depth(depth.messages_ready ?? 0, depth.messages_unacknowledged ?? 0, depth.consumers ?? 0));
    group.classList.toggle("unconsumed", !depth.consumers);
  });
  const lines = svgElement("g", { class: "bindings-lines" });
  bindings.forEach((binding, i) => {
    const from = anchors.get(`exchange:${binding.exchange}`), to = anchors.get(`queue:${binding.queue}`);
    if (!from || !to) return;
    const y = pillY(i);
    // a fanout exchange ignores the key (pika binds with the queue's name): said, not shown
    const key = typeOf(binding.exchange) === "fanout" ? BINDINGS.anyKey : binding.key;
    const pill = svgElement("g", { class: "binding", "data-exchange": binding.exchange, "data-queue": binding.queue },
      svgElement("rect", { x: pillX, y: y - pillH / 2, width: pillW, height: pillH, rx: pillH / 2 }),
      svgElement("title", {}, BINDINGS.bindingTitle(binding.exchange, binding.key, binding.queue)));
    const label = svgElement("text", { x: pillX + pillW / 2, y: y + 0.35 * f, "text-anchor": "middle", class: "binding-key" });
    label.dataset.fit = JSON.stringify([key, pillW - 0.4 * f, false]);
    pill.append(label);
    lines.append(svgElement("polyline", { points: `${from.x},${from.y} ${pillX},${y} ${pillX + pillW},${y} ${to.x},${to.y}`,
      class: "edge" }), pill);
    anchors.set(`binding:${binding.exchange}:${binding.queue}:${binding.key}`, { x: pillX, y, x2: pillX + pillW });
  });
  svg.prepend(lines);
  for (const node of svg.querySelectorAll("text[data-fit]")) {  // now in the page: measurable
    const [text, width, front] = JSON.parse(node.dataset.fit);
    fitInto(node, text, width, { front });
  }
  for (const { stats } of anchors.values()) {
    if (stats?.dataset.line) fitInto(stats, stats.dataset.line, Number(stats.dataset.width));
  }
  drawnKey = JSON.stringify([picture.exchanges, picture.bindings, picture.queues, width, f]);
}

// A queue or exchange name without this lab's prefix (Q.routed.emails → …routed.emails); whole in its tooltip.
function shortName(name) {
  const parts = String(name).split(".");
  return parts.length > 3 ? `…${parts.slice(-2).join(".")}` : String(name);
}

function showPicture(answer) {
  picture = { exchanges: answer.exchanges ?? [], bindings: answer.bindings ?? [], queues: answer.queues ?? {} };
  setText(note, answer.error ?? (picture.bindings.some((b) => picture.exchanges.find((e) => e.name === b.exchange)?.type !== "fanout")
    ? "" : BINDINGS.noneBound));
  note.hidden = note.textContent === "";
  const key = JSON.stringify([picture.exchanges, picture.bindings, picture.queues, svg.getBoundingClientRect().width, fontSize()]);
  if (key !== drawnKey) draw();
  answerTryKey();
}

// ---------- the jobs' way: a dot along each binding their key matched, or "returned"

export function receiveBindingRows(tasks) {
  for (const task of tasks) {
    if (!task.routing_key) continue;
    const before = seen.get(task.task_num);
    seen.set(task.task_num, task.task_status);
    if (!visible() || before === task.task_status) continue;
    if (task.task_status === "ERROR" && !task.started_at) returned(task.queue);  // 312 NO_ROUTE: never queued
    else if (before === undefined) for (const binding of matching(task.queue, task.routing_key)) dot(binding);
  }
}

// The bindings of `exchange` that take `key`: a dot goes along each.
function matching(exchange, key) {
  const type = picture.exchanges.find((e) => e.name === exchange)?.type;
  return picture.bindings.filter((b) => b.exchange === exchange && bindingTakes(type, b.key, key));
}

function dot(binding) {
  const from = anchors.get(`exchange:${binding.exchange}`), to = anchors.get(`queue:${binding.queue}`);
  const pill = anchors.get(`binding:${binding.exchange}:${binding.queue}:${binding.key}`);
  if (!from || !to || !pill || matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  const circle = svgElement("circle", { r: 0.45 * fontSize(), cx: from.x, cy: from.y, class: "dot" });
  svg.append(circle);
  dots.push({ circle, points: [from, { x: pill.x, y: pill.y }, { x: pill.x2, y: pill.y }, to], started: performance.now() });
  tick();
}

function returned(exchange) {
  returnedUntil.set(exchange, performance.now() + RETURNED_MS);
  paintReturned();
  setTimeout(paintReturned, RETURNED_MS + 50);
}

function paintReturned() {
  for (const exchange of picture.exchanges) {
    const anchor = anchors.get(`exchange:${exchange.name}`);
    if (!anchor) continue;
    const on = (returnedUntil.get(exchange.name) ?? 0) > performance.now();
    anchor.group.classList.toggle("returned", on);
    anchor.say(on ? BINDINGS.returned : exchange.type);
  }
}

// A dot's place along its polyline at time fraction t (each of the three legs takes a third).
function along(points, t) {
  const legs = points.length - 1, leg = Math.min(legs - 1, Math.floor(t * legs)), u = t * legs - leg;
  const a = points[leg], b = points[leg + 1];
  return { x: a.x + (b.x - a.x) * u, y: a.y + (b.y - a.y) * u };
}

const tick = oncePerFrame(() => {
  const now = performance.now();
  for (let i = dots.length - 1; i >= 0; i -= 1) {
    const { circle, points, started } = dots[i];
    const t = Math.min(1, (now - started) / DOT_MS);
    const { x, y } = along(points, t);
    circle.setAttribute("cx", x);
    circle.setAttribute("cy", y);
    if (t >= 1) {
      circle.remove();
      dots.splice(i, 1);
    }
  }
  if (dots.length) tick();
});

// ---------- "try a key": where would it go?

function answerTryKey() {
  const key = tryKey.value.trim();
  if (!key) return setText(tryAnswer, BINDINGS.tryHint);
  const lines = picture.exchanges.filter((e) => e.type !== "fanout").map((exchange) => {
    const reached = routes(exchange.name, key);
    return BINDINGS.wouldReach(exchange.type, reached.map(shortName));
  });
  setText(tryAnswer, lines.join(" · "));
  for (const [id, anchor] of anchors) {
    if (!id.startsWith("queue:")) continue;
    const queue = id.slice("queue:".length);
    const hit = picture.exchanges.some((e) => e.type !== "fanout" && routes(e.name, key).includes(queue));
    anchor.group.classList.toggle("would-reach", hit);
  }
}

// The exchanges card borrows the picture while it is the chosen card (experiments.js), so a class
// sees the buttons and the bindings on one screen; any other card, and it is back in its drawer.
export function lendBindings(container) {
  if (container) {
    container.append(section);
    lentNote.hidden = false;
  } else {
    drawer.append(section);
    lentNote.hidden = true;
  }
}

// On screen: in the open drawer, or in the chosen card of the open fault lab (a closed <details>
// renders nothing: no offsetParent).
const visible = () => section.offsetParent !== null;

export function startBindingsDiagram() {
  tryKey.addEventListener("input", answerTryKey);
  new ResizeObserver(oncePerFrame(() => { if (visible()) draw(); })).observe(svg);
  (async () => {
    for (;;) {  // only while it is on screen: out of sight it costs the broker nothing
      if (visible()) await pollOnce();
      else await sleep(VISIBLE_CHECK_MS);
    }
  })();
}

async function pollOnce() {
  try {
    showPicture(await getJSON("/api/routing"));
  } catch (error) {
    setText(note, BINDINGS.loadFailed(error));
    note.hidden = false;
  }
  await sleep(POLL_MS);
}
