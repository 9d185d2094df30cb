// History: the key's recent tasks. A run's parameters are kept in this browser by task
// id, so an entry restores them (and the engine and seed the server reports) with its
// result.
import { restoreParams, pickEngine } from "./engines.js";
import { setSides } from "./expand.js";
import { showResults } from "./results.js";
import { $, changed, on, state } from "./store.js";

const STORAGE = "canvasfill.runs";
const KEPT = 50;

function stored() {
  try {
    return JSON.parse(window.localStorage.getItem(STORAGE) || "{}");
  } catch {
    return {};
  }
}

/** Keep what task `id` was asked with (the newest KEPT runs). */
export function remember(id, sent) {
  const runs = stored();
  runs[id] = { ...sent, at: Date.now() };
  const newest = Object.entries(runs).sort((a, b) => b[1].at - a[1].at).slice(0, KEPT);
  try {
    window.localStorage.setItem(STORAGE, JSON.stringify(Object.fromEntries(newest)));
  } catch {
    /* storage may be off or full: the entry then restores what the server reports */
  }
}

/** Put task's parameters back and show its result. */
export function restore(task) {
  const sent = stored()[task.id] || {};
  const mode = task.operation === "remove" ? "remove" : "expand";
  if (state.mode !== mode) {
    state.mode = mode;
    changed("mode");
  }
  pickEngine(sent.engine && sent.engine !== "auto" ? sent.engine : task.engine);
  restoreParams({ ...sent, seed: task.seed, n: task.n });
  if (mode === "expand" && sent.sides) setSides(sent.sides, sent.unit);
  if (task.results.length) showResults(task, null);
}

export async function loadHistory() {
  if (!state.api.key) return;
  let page;
  try {
    page = await state.api.tasks(12);
  } catch {
    return; // the run's own error is what matters; the list refreshes next time
  }
  const list = $("#history");
  list.replaceChildren();
  if (!page.data.length) {
    const empty = document.createElement("li");
    empty.className = "muted small";
    empty.textContent = "No tasks yet.";
    list.append(empty);
  }
  for (const task of page.data) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const result = task.results[0];
    const thumb = document.createElement(result ? "img" : "span");
    thumb.className = "history-thumb";
    if (result) {
      thumb.src = result.url;
      thumb.alt = "";
    }
    const text = document.createElement("span");
    text.className = "history-text";
    const title = document.createElement("strong");
    title.textContent = `${task.operation} · ${task.engine || "?"}`;
    const meta = document.createElement("span");
    meta.className = "muted small";
    const when = task.created_at ? new Date(task.created_at).toLocaleTimeString() : "";
    meta.textContent = `${result ? `${result.width} × ${result.height} · ` : ""}${when}`;
    text.append(title, meta);
    const status = document.createElement("span");
    status.className = `status status-${task.status}`;
    status.textContent = task.status;
    button.append(thumb, text, status);
    button.disabled = !task.results.length;
    button.title = task.error ? task.error.message : task.results_expired ? "results expired" : "restore its parameters and result";
    button.addEventListener("click", () => restore(task));
    item.append(button);
    list.append(item);
  }
}

export function init() {
  $("#history-refresh").addEventListener("click", loadHistory);
  on("run", loadHistory);
}
