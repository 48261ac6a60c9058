// This browser's own choices: the student's name (sent with each job, for the "mine" filter) and
// presenter mode (larger type for a projector). The name lives in localStorage; presenter mode in a
// cookie, so the server renders the page in it from the first paint (also `?present=1`).

const NAME_KEY = "queue-lab.owner";
const nameInput = document.getElementById("owner-name");
const presenterButton = document.getElementById("presenter");
const nameListeners = [];

export const ownerName = () => (localStorage.getItem(NAME_KEY) ?? "").trim();

// The name the jobs sent from here carry: `{ owner }`, or nothing when no name was given.
export const withOwner = (job) => (ownerName() ? { ...job, owner: ownerName() } : job);

export function onOwnerChange(listener) {
  nameListeners.push(listener);
}

function saveName() {
  const name = nameInput.value.split(/\s+/).filter(Boolean).join(" ");  // as the API keeps it
  if (name) localStorage.setItem(NAME_KEY, name);
  else localStorage.removeItem(NAME_KEY);
  for (const listener of nameListeners) listener(name);
}

function togglePresenter() {
  const on = !document.documentElement.classList.contains("present");
  document.documentElement.classList.toggle("present", on);
  presenterButton.setAttribute("aria-pressed", String(on));
  document.cookie = `present=${on ? 1 : 0}; path=/; max-age=31536000; SameSite=Lax`;
  window.dispatchEvent(new Event("resize"));  // the race chart redraws at the new size
}

export function startPreferences() {
  nameInput.value = ownerName();
  nameInput.addEventListener("change", saveName);
  presenterButton.addEventListener("click", togglePresenter);
}
