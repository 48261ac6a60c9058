// The Fault lab: a chooser of experiments beside the one chosen experiment's card. Everything about an
// experiment comes from GET /api/experiments (api/experiments.py): its texts, whether it has line
// counts or a kill form, and its presets — the exact POST /api/tasks bodies each button sends, or the
// name of one of the few things the page does itself (PAGE_ACTIONS below). Every text from the API
// goes in as text, never as HTML.
//
// Every card stays in the page (hidden but the chosen one), so `[data-experiment=id]` finds any of
// them, and a link to `#experiment-<id>` opens the drawer on that experiment. The choice is
// remembered in localStorage, so a reload comes back to it; the hash is only for links.

import {
  closeBrokerConnections, consumeLongLane, countUnreadResults, killWorkerOf, measureRate, runAction, setRateLimit,
  tuneCelery,
} from "./actions.js";
import { lendBindings } from "./bindings_diagram.js";
import { markClassControl } from "./class_controls.js";
import { withOwner } from "./preferences.js";
import { element, getJSON, postJSON, setText, setTextWithCode, showOutcome, sleep } from "./shared.js";
import { LAB, methodLabel, queued } from "./vocabulary.js";

const RETRY_LOAD_MS = 3000;  // the list is static; if the API is not up yet, ask again
const CHOSEN_KEY = "queue-lab.experiment";
const LINK_PREFIX = "#experiment-";  // a card's id is experiment-<id>: the link's target is the card

// ---------- what a preset may ask the page to do (api/experiments.py: PAGE_ACTIONS names these)

// `run(preset)` resolves to [text, kind] for the card's result line; `toggle(preset, button, show)`
// runs until the same button is pressed again; `classWide`: the instructor's only (class_controls.js).
const PAGE_ACTIONS = {
  "close-connections": { run: closeBrokerConnections, classWide: true },
  "slow-stream": { toggle: streamSlowJobs },
  "publish-stranger": { run: publishStranger },
  "register-own": { run: registerOwnJob },
  "count-results": { run: countUnreadResults },
  "pause-lane": { run: () => consumeLongLane(false), classWide: true },
  "resume-lane": { run: () => consumeLongLane(true), classWide: true },
  "rate-limit": { run: (preset) => setRateLimit(preset.options ?? {}), classWide: true },
  "measure-rate": { run: measureRate },
  "tune-celery": { run: (preset) => tuneCelery(preset.options ?? {}), classWide: true },
};


async function publishStranger() {
  const { status, body } = await postJSON("/api/experiments/publish-stranger", {});
  return status === 200 ? [LAB.strangerPublished(body.queue, body.parked_in), "ok"]
    : [body.error ?? LAB.shortStatus(status), "error"];
}

// The preset's one job, written PENDING and not published: the student's own producer sends it.
async function registerOwnJob(preset) {
  const { status, body } = await postJSON("/api/tasks", withOwner(preset.jobs[0].body));
  if (status !== 201) return [body.error ?? LAB.shortStatus(status), "error"];
  const [message] = body.messages;
  return [LAB.registered(message.task_num, message.code), "ok"];
}

// The slow stream: the preset's one job every second for a minute, more work than one consumer can do.
const STREAM = { every_ms: 1000, total: 60 };
let stream = null;  // { stop } while running

async function streamSlowJobs(preset, button, show) {
  if (stream) {
    stream.stop = true;
    return;
  }
  const mine = { stop: false };
  stream = mine;
  setText(button, LAB.stopStream);
  let sent = 0;
  try {
    while (!mine.stop && sent < STREAM.total) {
      const { status } = await postJSON("/api/tasks", withOwner(preset.jobs[0].body));
      if (status === 202) sent += 1;
      show(LAB.streaming(sent, STREAM.total), "waiting");
      await sleep(STREAM.every_ms);
    }
    show(LAB.streamed(sent), "ok");
  } catch (error) {
    show(LAB.streamed(sent), "error");
  } finally {
    stream = null;
    setText(button, preset.label);
  }
}

// Sends a preset's jobs one request at a time and sums up what happened, per kind of job:
// "RabbitMQ: queued #4 · Celery late ack: queued #5 · Celery early ack: queued #6".
async function sendJobs(jobs) {
  const outcomes = new Map();  // label -> { nums: [], errors: [] }, in the order of first sending
  for (const { body: job, as } of jobs) {
    const label = as ?? methodLabel(job.method);
    if (!outcomes.has(label)) outcomes.set(label, { nums: [], errors: [] });
    const outcome = outcomes.get(label);
    const { status, body } = await postJSON("/api/tasks", withOwner(job));
    if (status === 202) outcome.nums.push(...(body.task_nums ?? []));
    else if (!outcome.errors.includes(body.error)) outcome.errors.push(body.error ?? LAB.shortStatus(status));
  }
  let failed = false;
  const lines = [...outcomes].map(([label, { nums, errors }]) => {
    failed ||= errors.length > 0;
    return LAB.outcome(label, [...(nums.length ? [queued(nums)] : []), ...errors]);
  });
  return [LAB.outcomes(lines), failed ? "error" : "ok"];
}

// ---------- a card

function buildPresetButton(preset, show) {
  const label = String(preset.label);
  const button = element("button", "", label);
  button.type = "button";
  button.dataset.preset = String(preset.id);
  const action = preset.action == null ? null : PAGE_ACTIONS[preset.action];
  if (preset.action != null && !action) button.disabled = true;  // a server newer than this page
  if (action?.classWide) markClassControl(button);
  button.addEventListener("click", () => (action?.toggle ? action.toggle(preset, button, show)
    : runAction(button, show, LAB.running(label), () => (action ? action.run(preset) : sendJobs(preset.jobs)))));
  return button;
}

function buildCard(experiment) {
  const card = element("section", "experiment");
  card.dataset.experiment = String(experiment.id);
  if (experiment.figure) card.dataset.figure = String(experiment.figure);
  card.id = `experiment-${experiment.id}`;
  card.setAttribute("role", "tabpanel");
  card.setAttribute("aria-labelledby", `experiment-tab-${experiment.id}`);
  card.append(element("h3", "", String(experiment.title ?? experiment.id)));
  if (experiment.lines) card.append(buildLineCounts(experiment.lines, experiment.lesson));

  const steps = element("dl", "steps");
  for (const [key, heading] of Object.entries(LAB.steps)) {
    if (experiment[key] == null) continue;
    const text = element("dd", "");
    setTextWithCode(text, experiment[key]);
    text.dataset.role = key;
    steps.append(element("dt", "", heading), text);
  }
  card.append(steps);
  // The explanation folds out: it is the longest text, and best read after watching it happen.
  if (experiment.because != null) {
    const because = element("details", "because", element("summary", "", LAB.because));
    const text = element("p", "");
    setTextWithCode(text, experiment.because);
    because.append(text);
    because.dataset.role = "because";
    card.append(because);
  }
  if (experiment.code) card.append(buildCodePair(experiment.code));

  const resultLine = element("p", "result");
  resultLine.dataset.role = "result";
  resultLine.setAttribute("aria-live", "polite");
  const show = (text, kind) => showOutcome(resultLine, text, kind);
  const presets = experiment.presets ?? [];
  // A card with a figure puts its buttons and result beside it (.card-work), so all fit one screen.
  const work = experiment.figure ? element("div", "card-controls") : card;
  if (presets.length > 0) work.append(element("div", "presets", ...presets.map((preset) => buildPresetButton(preset, show))));
  if (experiment.kill_form) work.append(buildKillForm(show, Boolean(experiment.kill_form.whole)));
  work.append(resultLine);
  if (experiment.figure) card.append(element("div", "card-work", work, element("div", "card-figure")));
  return card;
}

// A card with a figure (the exchanges card: the bindings picture) holds it while it is the chosen one.
const FIGURES = { bindings: lendBindings };

function lendFigures(chosenCard) {
  for (const [name, lend] of Object.entries(FIGURES)) {
    const holder = chosenCard?.dataset.figure === name ? chosenCard.querySelector(".card-figure") : null;
    lend(holder);
  }
}

// A lesson in two numbers, counted from the marked source at run time by the API.
function buildLineCounts(lines, lesson) {
  const count = (method) => element("span", "line-count", LAB.lineCount(LAB.lineLabels[method]),
    element("strong", "", LAB.lines(lines[method])));
  const block = element("p", "line-counts", count("celery"), element("span", "dot", LAB.lineSeparator), count("rabbitmq"));
  block.dataset.role = "line-counts";
  block.title = LAB.lineCountsTitle(String(lesson));
  return block;
}

// ...and the code those numbers count, folded: Celery's beside the hand-written, file by file, as the
// source has it between the markers (so the quote is the code that runs).
function buildCodePair(code) {
  const column = (method) => {
    const parts = (code[method] ?? []).filter((part) => part.text);
    return element("div", `code-column ${method}`, element("h4", "", LAB.lineLabels[method]),
      ...parts.flatMap((part) => [element("p", "code-path", `${part.path} · ${LAB.lines(part.lines)}`),
        element("pre", "", element("code", "", String(part.text)))]));
  };
  const pair = element("details", "code-pair", element("summary", "", LAB.codeSideBySide),
    element("div", "code-columns", column("celery"), column("rabbitmq")));
  pair.dataset.role = "code";
  return pair;
}

// "Kill the worker of job #[ ] [Kill]  [ ] the whole worker": a form, so Enter works too.
// `whole`: the box is ticked at first (the Redis card's lesson is the whole worker).
function buildKillForm(show, whole) {
  const input = element("input");
  Object.assign(input, { type: "number", name: "task_num", min: 1, step: 1, required: true, placeholder: "12" });
  const button = element("button", "danger", LAB.killButton);
  button.type = "submit";
  markClassControl(button);
  const wholeBox = element("input");
  Object.assign(wholeBox, { type: "checkbox", name: "whole", checked: whole });
  const wholeLabel = element("label", "whole", wholeBox, LAB.killWhole);
  wholeLabel.title = LAB.killWholeTitle;
  const form = element("form", "kill-form", element("label", "", LAB.killLabel, input), button, wholeLabel);
  form.dataset.role = "kill-form";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const num = input.valueAsNumber;
    runAction(button, show, LAB.killingWorkerOf(num), () => killWorkerOf(num, wholeBox.checked));
  });
  return form;
}

// ---------- the chooser: a vertical tab list, one tab per experiment

const drawer = document.getElementById("experiments-drawer");
const panel = document.getElementById("experiments");
const chooser = panel.querySelector('[data-role="chooser"]');
const cardList = panel.querySelector('[data-role="cards"]');
const loadError = panel.querySelector('[data-role="error"]');

// Where each key moves the focus along the list of `count` tabs (read top to bottom; it wraps round).
const KEY_MOVES = {
  ArrowDown: (here) => here + 1, ArrowRight: (here) => here + 1,
  ArrowUp: (here) => here - 1, ArrowLeft: (here) => here - 1,
  Home: () => 0, End: (here, count) => count - 1,
};

const tabs = () => [...chooser.querySelectorAll('[role="tab"]')];

function buildTab(experiment) {
  const tab = element("button", "experiment-tab", String(experiment.title ?? experiment.id));
  Object.assign(tab, { type: "button", id: `experiment-tab-${experiment.id}` });
  tab.setAttribute("role", "tab");
  tab.setAttribute("aria-controls", `experiment-${experiment.id}`);
  tab.dataset.choose = String(experiment.id);
  tab.addEventListener("click", () => choose(tab.dataset.choose));
  return tab;
}

// Shows the one card, marks its tab (the only one Tab stops at), and remembers the choice.
function choose(id) {
  for (const tab of tabs()) {
    const chosen = tab.dataset.choose === id;
    tab.setAttribute("aria-selected", String(chosen));
    tab.tabIndex = chosen ? 0 : -1;
    if (chosen) tab.scrollIntoView({ block: "nearest" });  // the list scrolls: keep the chosen one in it
  }
  for (const card of cardList.children) card.hidden = card.dataset.experiment !== id;
  lendFigures(document.getElementById(`experiment-${id}`));
  localStorage.setItem(CHOSEN_KEY, id);
}

// Arrows move along the list and choose as they go; Home and End go to the first and the last.
function moveAlong(event) {
  const all = tabs();
  const here = all.indexOf(document.activeElement);
  if (here < 0 || !Object.hasOwn(KEY_MOVES, event.key)) return;
  event.preventDefault();
  const next = all[(KEY_MOVES[event.key](here, all.length) + all.length) % all.length];
  next.focus();
  choose(next.dataset.choose);
}

const known = (id) => tabs().some((tab) => tab.dataset.choose === id);

// A link to #experiment-<id>: open the drawer on that card, and show it.
function followLink() {
  const id = location.hash.startsWith(LINK_PREFIX) ? decodeURIComponent(location.hash.slice(LINK_PREFIX.length)) : null;
  if (!id || !known(id)) return false;
  choose(id);
  drawer.open = true;
  document.getElementById(`experiment-${id}`).scrollIntoView({ block: "nearest" });
  return true;
}

// ---------- start

export async function startExperiments() {
  let experiments;
  for (;;) {
    try {
      ({ experiments = [] } = await getJSON("/api/experiments"));
      break;
    } catch (error) {
      loadError.hidden = false;
      setText(loadError, LAB.loadFailed(error));
      await sleep(RETRY_LOAD_MS);
    }
  }
  loadError.hidden = true;
  chooser.replaceChildren(...experiments.map(buildTab));
  cardList.replaceChildren(...experiments.map(buildCard));
  chooser.addEventListener("keydown", moveAlong);
  window.addEventListener("hashchange", followLink);
  if (experiments.length === 0) return;
  if (!followLink()) {
    const remembered = localStorage.getItem(CHOSEN_KEY);
    choose(known(remembered) ? remembered : String(experiments[0].id));
  }
}
