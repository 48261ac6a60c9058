// Who may use the class-wide controls: kill a worker, close the broker's connections, reset the class.
// CLASS_CONTROLS=everyone (make run): every browser. CLASS_CONTROLS=instructor (compose): only a browser
// that entered INSTRUCTOR_TOKEN, which is kept in sessionStorage — this tab's session only — and sent as
// `Authorization: Bearer …`. The API decides (403 with the reason); this only keeps the page honest:
// a student sees those buttons disabled, with the reason on one line.

import { getJSON, postJSON, setText, showOutcome } from "./shared.js";
import { CLASS, reasonOf, unreachable } from "./vocabulary.js";

const TOKEN_KEY = "queue-lab.instructor-token";
const CONFIRM_MS = 5000;  // "Reset the class?" waits this long for the second click

const box = document.getElementById("class-controls");
const unlockForm = box.querySelector('[data-role="unlock"]');
const lockButton = box.querySelector('[data-role="lock"]');
const resetButton = box.querySelector('[data-role="reset"]');
const reasonLine = box.querySelector('[data-role="reason"]');
const resultLine = box.querySelector('[data-role="result"]');
const mode = box.dataset.mode === "instructor" ? "instructor" : "everyone";
let allowed = mode === "everyone";
let reason = "";

const savedToken = () => sessionStorage.getItem(TOKEN_KEY) ?? "";
const bearer = (token) => (token ? { Authorization: `Bearer ${token}` } : {});

// Every class-wide request goes through here, with the token when there is one.
export function postAsClass(url, payload) {
  return postJSON(url, payload, bearer(savedToken()));
}

// A button that acts for the whole class: disabled, with the reason as its title, while not allowed.
export function markClassControl(button) {
  button.dataset.classControl = "";
  button.dataset.ownTitle = button.title;
  paintControl(button);
}

export const classControlLocked = (button) => "classControl" in button.dataset && !allowed;

function paintControl(button) {
  button.disabled = !allowed;
  button.title = allowed ? button.dataset.ownTitle ?? "" : reason;
}

function paintAll() {
  for (const button of document.querySelectorAll("[data-class-control]")) paintControl(button);
  box.dataset.allowed = String(allowed);
  reasonLine.hidden = allowed;
  setText(reasonLine, allowed ? "" : reason);
  unlockForm.hidden = mode !== "instructor" || allowed;
  lockButton.hidden = mode !== "instructor" || !allowed;
}

async function check(token) {
  const answer = await fetch("/api/class-controls", { headers: { Accept: "application/json", ...bearer(token) } });
  if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
  return answer.json();
}

async function unlock(event) {
  event.preventDefault();
  const input = unlockForm.elements.token;
  try {
    const answer = await check(input.value.trim());
    if (!answer.allowed) {
      showOutcome(resultLine, CLASS.wrongToken, "error");
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    allowed = true;
    showOutcome(resultLine, CLASS.unlocked, "ok");
    paintAll();
  } catch (error) {
    showOutcome(resultLine, unreachable(error), "error");
  }
}

function lock() {
  sessionStorage.removeItem(TOKEN_KEY);
  allowed = false;
  reason = CLASS.studentReason;
  showOutcome(resultLine, "", "ok");
  paintAll();
}

// Two clicks, no dialog: the first arms the button for a few seconds, the second resets.
let armed = null;
async function reset() {
  if (!armed) {
    setText(resetButton, CLASS.resetConfirm);
    armed = setTimeout(() => {
      armed = null;
      setText(resetButton, CLASS.resetButton);
    }, CONFIRM_MS);
    return;
  }
  clearTimeout(armed);
  armed = null;
  setText(resetButton, CLASS.resetButton);
  resetButton.disabled = true;
  try {
    const { status, body } = await postAsClass("/api/reset", {});
    showOutcome(resultLine, status === 200 ? CLASS.resetDone(body) : reasonOf(status, body),
      status === 200 ? "ok" : "error");
  } catch (error) {
    showOutcome(resultLine, unreachable(error), "error");
  } finally {
    paintControl(resetButton);
  }
}

export async function startClassControls() {
  markClassControl(resetButton);
  setText(resetButton, CLASS.resetButton);
  unlockForm.addEventListener("submit", unlock);
  lockButton.addEventListener("click", lock);
  resetButton.addEventListener("click", reset);
  if (mode === "instructor") {
    reason = CLASS.studentReason;
    try {
      const answer = await check(savedToken());
      allowed = Boolean(answer.allowed);
      if (!answer.token_set) reason = CLASS.noTokenSet;
      if (!allowed) sessionStorage.removeItem(TOKEN_KEY);  // e.g. the instructor changed the token
    } catch (error) {
      allowed = false;
    }
  }
  paintAll();
}
