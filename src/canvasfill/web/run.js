// Running: the page refuses what the server would, sends the request, follows the
// task's progress (the bar and the seconds), and Stop cancels it.
import { ApiError } from "./api.js";
import { checkParams, effectiveEngine, params, ranWithSeed } from "./engines.js";
import { clearFeedback, describe, setProgress, showError, startClock, stopClock } from "./feedback.js";
import { remember } from "./history.js";
import { NATIVE, SIDES, checkExpansion } from "./limits.js";
import { showResults, snapshotBefore } from "./results.js";
import { $, changed, state } from "./store.js";

/** Why the server would refuse the current request, or null. */
export function refusal() {
  const editor = state.editor;
  if (!state.api.key) return "paste an API key first";
  if (!state.input) return "open a photo first";
  if (state.mode === "expand") {
    const problem = checkExpansion(state.unit, state.sides, state.input.size);
    if (problem) return problem;
  } else {
    if (!state.input.size) return "this browser cannot show the image, so no mask can be painted on it";
    if (!editor.hasMask()) return "paint over what should be removed (or draw a rectangle) first";
    const boxes = editor.rectangles();
    if (boxes && boxes.length > NATIVE.maxRectangles) return `at most ${NATIVE.maxRectangles} rectangles; paint instead`;
    if (!boxes && editor.maskIsEmpty()) return "the mask marks no pixel to fill: everything painted was erased";
  }
  const engine = $("#engine").value;
  if (state.engines && engine !== "auto" && !effectiveEngine()?.available) return `engine ${engine} cannot run here`;
  return checkParams(params());
}

/** What a run sends, as plain values (also kept for the history entry). */
function request() {
  const request = { mode: state.mode, engine: $("#engine").value, ...params(), output_format: $("#p-format").value };
  if (state.mode === "expand") {
    request.unit = state.unit;
    request.sides = Object.fromEntries(SIDES.map((side) => [side, state.sides[side]]));
  }
  return request;
}

async function buildForm(sent) {
  const form = new FormData();
  form.append("image", state.input.blob, state.input.name);
  if (sent.mode === "expand") {
    form.append(sent.unit === "px" ? "pixels" : "ratios", JSON.stringify(sent.sides));
  } else {
    const boxes = state.editor.rectangles();
    if (boxes) form.append("rectangles", JSON.stringify(boxes));
    else form.append("mask", await state.editor.maskBlob(), "mask.png");
  }
  if (sent.engine !== "auto") form.append("engine", sent.engine);
  for (const [name, value] of Object.entries(params())) form.append(name, String(value));
  form.append("output_format", sent.output_format);
  return form;
}

function setRunning(running) {
  const button = $("#run");
  button.classList.toggle("running", running);
  button.textContent = running ? "Stop" : state.mode === "expand" ? "Expand" : "Remove";
}

/** Run (or, while a run is in flight, stop it). */
export async function run() {
  if (state.running) {
    state.running.abort();
    return;
  }
  // what the last run left (its error, "done", the seconds, a hint) goes first
  state.taskId = null;
  clearFeedback();
  const problem = refusal();
  if (problem) {
    showError(problem);
    return;
  }
  const controller = new AbortController();
  state.running = controller;
  setRunning(true);
  startClock();
  setProgress(0, "sending");
  const before = snapshotBefore();
  const sent = request();
  try {
    let task = await state.api.create(state.mode, await buildForm(sent), controller.signal);
    state.taskId = task.id;
    remember(task.id, sent);
    setProgress(task.progress || 0, task.status);
    task = await followTask(task, controller.signal);
    stopClock();
    if (task.status === "succeeded") {
      setProgress(100, "done");
      ranWithSeed(task.seed);
      showResults(task, before);
    } else if (task.status === "failed") {
      setProgress(task.progress || 0, "failed");
      showError(task.error ? task.error.message : "the task failed");
    } else {
      setProgress(0, task.status);
      showError(`the task was ${task.status}`);
    }
  } catch (error) {
    stopClock();
    if (error.name === "AbortError") {
      setProgress(0, "stopped");
      showError(await cancel(state.taskId));
    } else {
      setProgress(0, "");
      showError(describe(error));
    }
  } finally {
    state.running = null;
    setRunning(false);
    changed("run");
  }
}

/** Cancel the task (a running one stops at its engine's next step); what happened, in words. */
async function cancel(id) {
  if (!id) return "stopped before the request was sent";
  try {
    const task = await state.api.request("DELETE", `/v1/tasks/${encodeURIComponent(id)}`);
    if (task.status === "running") {
      settle(id);
      return "stopping: the task ends at its engine's next step";
    }
    return "canceled before it started";
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return "stopped waiting; the task had already finished (see History)";
    return describe(error);
  }
}

/** Follow a task asked to stop until it ends, then say how it ended (unless a new run
 * has started meanwhile) and refresh History. */
async function settle(id) {
  let task;
  try {
    task = await followTask({ id }, undefined, false);
  } catch {
    return;
  }
  if (state.running || state.taskId !== id) return;
  showError(task.status === "canceled" ? "stopped: the task was canceled and its credits returned" : `the task finished (${task.status}) before it could stop; see History`);
  changed("run");
}

/** Progress from the event stream; polling if the stream cannot be read. */
async function followTask(task, signal, show = true) {
  const report = (status, progress) => show && setProgress(progress, status);
  try {
    return await state.api.follow(task.id, (event) => report(event.status, event.progress), signal);
  } catch (error) {
    if (error.name === "AbortError" || (error instanceof ApiError && error.status)) throw error;
  }
  for (;;) {
    const fresh = await state.api.task(task.id);
    report(fresh.status, fresh.progress);
    if (["succeeded", "failed", "canceled"].includes(fresh.status)) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function init() {
  $("#run").addEventListener("click", run);
  // Ctrl+Enter (Cmd+Enter) runs from anywhere, the prompt included; it never stops a run
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.repeat) return;
    event.preventDefault();
    if (!state.running) run();
  });
}
