// What the page tells the user: the error line and the progress bar, which shows the
// task's progress and the time since the run started.
import { ApiError } from "./api.js";
import { $ } from "./store.js";

export function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

export function describe(error) {
  if (error instanceof ApiError) return error.message;
  return error && error.message ? error.message : String(error);
}

const clock = { started: null, stopped: null, timer: null, percent: 0, label: "" };

function seconds() {
  if (clock.started === null) return null;
  return ((clock.stopped ?? performance.now()) - clock.started) / 1000;
}

function paint() {
  const bar = $("#progress");
  const elapsed = seconds();
  bar.setAttribute("aria-valuenow", String(clock.percent));
  bar.querySelector(".progress-bar").style.width = `${clock.percent}%`;
  const parts = [clock.label];
  if (clock.label && clock.label !== "done" && clock.percent > 0 && clock.percent < 100) parts.push(`${Math.round(clock.percent)}%`);
  if (elapsed !== null && clock.label) parts.push(`${elapsed.toFixed(1)} s`);
  bar.querySelector(".progress-label").textContent = parts.filter(Boolean).join(" · ");
  bar.dataset.state = clock.label || "";
  bar.dataset.elapsed = elapsed === null ? "" : elapsed.toFixed(1);
}

export function setProgress(percent, label) {
  clock.percent = percent || 0;
  clock.label = label || "";
  paint();
}

/** Start counting from now (a run was asked for); the label shows the seconds. */
export function startClock() {
  stopClock();
  clock.started = performance.now();
  clock.stopped = null;
  clock.timer = setInterval(paint, 100);
}

/** Stop counting; the label keeps the time the run took. */
export function stopClock() {
  clearInterval(clock.timer);
  if (clock.timer !== null) clock.stopped = performance.now();
  clock.timer = null;
  paint();
}

/** No run: an empty bar, no time (a new run, or one the page refused). */
export function resetProgress() {
  stopClock();
  clock.started = null;
  setProgress(0, "");
}

/** What the last run or the other mode left goes: its error, "done" and its seconds,
 * and the hints (a detector's status). A new run and a switch of mode both start clean. */
export function clearFeedback() {
  showError("");
  resetProgress();
  for (const hint of document.querySelectorAll(".hint-line")) hint.hidden = true;
}
