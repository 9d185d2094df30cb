// The playground: wires the editor, the parameters, runs and results to the public API.
import { Api, ApiError, adoptKeyFromFragment, saveKey } from "./api.js";
import { curlCommands, fileName } from "./codegen.js";
import { Editor } from "./editor.js";
import { NATIVE, SIDES, checkExpansion, checkImage, outputSize, presetPixels, sidePixels } from "./limits.js";

const PARAMS = ["prompt", "negative_prompt", "seed", "steps", "strength", "guidance_scale", "n"];
const $ = (selector) => document.querySelector(selector);
const $$ = (selector) => Array.from(document.querySelectorAll(selector));

const state = {
  api: new Api(""),
  input: null, // {blob, name, bitmap, size, head (first bytes)}
  mode: "expand",
  unit: "ratio",
  sides: { left: 0, right: 0, top: 0, bottom: 0 },
  engines: null, // the /v1/engines answer
  running: null, // AbortController of the run in flight
  results: [],
  before: null, // what the results are compared with: {bitmap, size, offset, canvas}
  selected: 0,
  maskUrl: null,
};

const editor = new Editor($("#stage"), {
  onHandleDrag: (side, pixels) => {
    state.dragging = true;
    const value = state.unit === "px" ? Math.round(pixels) : Math.round((pixels / sideLength(side)) * 100) / 100;
    state.sides[side] = Math.min(value, state.unit === "px" ? NATIVE.maxSidePixels : NATIVE.maxRatio);
    syncSides();
  },
  onHandleDone: () => {
    state.dragging = false;
    syncSides();
  },
  onMaskChange: () => updateMaskState(),
  onZoom: (scale) => {
    $("#zoom-fit").textContent = `${Math.round(scale * 100)}%`;
  },
});

function sideLength(side) {
  const [w, h] = state.input?.size || [1, 1];
  return side === "left" || side === "right" ? w : h;
}

// --- errors --------------------------------------------------------------------------

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

function describe(error) {
  if (error instanceof ApiError) return error.message;
  return error && error.message ? error.message : String(error);
}

// --- the key -------------------------------------------------------------------------

function setKey(key) {
  state.api = new Api(key);
  $("#api-key").value = key;
  $("#key-notice").hidden = Boolean(key);
  document.body.classList.toggle("no-key", !key);
  if (key) {
    loadEngines();
    loadHistory();
  }
  updateCode();
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("#api-key").blur();
});
$("#api-key").addEventListener("change", (event) => {
  const key = event.target.value.trim();
  saveKey(key);
  showError("");
  setKey(key);
});

// --- input ---------------------------------------------------------------------------

async function openFile(blob, name) {
  showError("");
  const head = new Uint8Array(await blob.slice(0, 32).arrayBuffer());
  let bitmap = null;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    bitmap = null; // the server says what is wrong with it, when asked
  }
  const size = bitmap ? [bitmap.width, bitmap.height] : null;
  const problem = checkImage(head, blob.size, size);
  if (problem) {
    showError(problem);
    return;
  }
  state.input = { blob, name: name || "image.png", bitmap, size, head };
  state.sides = { left: 0, right: 0, top: 0, bottom: 0 };
  $("#dropzone").hidden = true;
  $("#toolbar").hidden = false;
  showEditor();
  editor.setImage(bitmap, size || [512, 512]);
  const info = $("#image-info");
  info.hidden = false;
  info.textContent = size
    ? `${state.input.name} · ${size[0]} × ${size[1]}`
    : `${state.input.name} · this browser cannot show it; the server will check it`;
  syncSides({ refit: true });
  updateMaskState();
}

for (const input of [$("#file-input"), $("#file-input-2")]) {
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (file) openFile(file, file.name);
    input.value = "";
  });
}

const stage = $("#stage");
let dragDepth = 0;
document.addEventListener("dragenter", (event) => {
  if (!event.dataTransfer?.types.includes("Files")) return;
  dragDepth += 1;
  stage.classList.add("dragover");
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) stage.classList.remove("dragover");
});
document.addEventListener("dragover", (event) => event.preventDefault());
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  stage.classList.remove("dragover");
  const file = event.dataTransfer?.files[0];
  if (file) openFile(file, file.name);
});
document.addEventListener("paste", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
  const item = Array.from(event.clipboardData?.items || []).find((entry) => entry.kind === "file" && entry.type.startsWith("image/"));
  if (!item) return;
  const file = item.getAsFile();
  const ext = { "image/jpeg": "jpg", "image/webp": "webp" }[file.type] || "png";
  openFile(file, file.name && file.name !== "image.png" ? file.name : `pasted.${ext}`);
});

// --- modes ---------------------------------------------------------------------------

function setMode(mode) {
  state.mode = mode;
  document.body.dataset.mode = mode;
  for (const button of $$("button[data-mode]")) button.setAttribute("aria-selected", String(button.dataset.mode === mode));
  $("#run").textContent = mode === "expand" ? "Expand" : "Remove";
  showEditor();
  editor.setMode(mode);
  showError("");
  updateParams();
  updateCode();
}

for (const button of $$("button[data-mode]")) button.addEventListener("click", () => setMode(button.dataset.mode));

// --- expand sides --------------------------------------------------------------------

function setUnit(unit) {
  if (unit === state.unit) return;
  const size = state.input?.size;
  if (size) {
    const px = sidePixels(state.unit, state.sides, size);
    for (const side of SIDES) {
      state.sides[side] = unit === "px" ? px[side] : Math.round((px[side] / sideLength(side)) * 10000) / 10000;
    }
  } else {
    state.sides = { left: 0, right: 0, top: 0, bottom: 0 };
  }
  state.unit = unit;
  for (const button of $$("[data-unit]")) button.setAttribute("aria-pressed", String(button.dataset.unit === unit));
  for (const input of $$(".sides input")) input.step = unit === "px" ? "1" : "0.01";
  syncSides();
}

for (const button of $$("[data-unit]")) button.addEventListener("click", () => setUnit(button.dataset.unit));

/** Fields, handles, output size and code from state.sides. */
function syncSides({ refit = false } = {}) {
  for (const input of $$(".sides input")) {
    const value = state.sides[input.dataset.side];
    if (document.activeElement !== input || Number(input.value) !== value) input.value = String(value);
  }
  const size = state.input?.size;
  const problem = size || state.input ? checkExpansion(state.unit, state.sides, size) : null;
  if (size) {
    editor.setSides(sidePixels(state.unit, state.sides, size), { refit });
    if (!refit && !state.dragging && !editor.fits()) editor.fit();
    const [w, h] = outputSize(state.unit, state.sides, size);
    $("#output-size").textContent = `${w} × ${h}`;
  } else {
    $("#output-size").textContent = "–";
  }
  $("#expand-card").classList.toggle("invalid", Boolean(problem && SIDES.some((side) => state.sides[side] !== 0)));
  updateCode();
}

for (const input of $$(".sides input")) {
  input.addEventListener("input", () => {
    const value = input.value === "" ? 0 : Number(input.value);
    state.sides[input.dataset.side] = Number.isFinite(value) ? value : 0;
    syncSides();
  });
  input.addEventListener("change", () => syncSides({ refit: !editor.fits() }));
}

for (const button of $$("[data-aspect]")) {
  button.addEventListener("click", () => {
    const size = state.input?.size;
    if (!size) return showError("open a photo first");
    showError("");
    if (button.dataset.aspect === "reset") {
      state.sides = { left: 0, right: 0, top: 0, bottom: 0 };
    } else {
      const [a, b] = button.dataset.aspect.split(":").map(Number);
      const px = presetPixels(a / b, size);
      for (const side of SIDES) {
        state.sides[side] = state.unit === "px" ? px[side] : Math.round((px[side] / sideLength(side)) * 10000) / 10000;
      }
    }
    syncSides({ refit: true });
  });
}

// --- remove tools --------------------------------------------------------------------

function setTool(tool) {
  editor.tool = tool;
  for (const button of $$("[data-tool]")) button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
  stage.dataset.tool = tool;
}

for (const button of $$("[data-tool]")) button.addEventListener("click", () => setTool(button.dataset.tool));

function setBrush(size) {
  editor.brush = Math.max(4, Math.min(200, Math.round(size)));
  $("#brush-size").value = String(editor.brush);
  $("#brush-size-value").textContent = String(editor.brush);
}

$("#brush-size").addEventListener("input", (event) => setBrush(Number(event.target.value)));
$("#undo").addEventListener("click", () => editor.undo());
$("#redo").addEventListener("click", () => editor.redo());
$("#clear").addEventListener("click", () => editor.clear());
$("#zoom-in").addEventListener("click", () => editor.zoomAt(1.25));
$("#zoom-out").addEventListener("click", () => editor.zoomAt(0.8));
$("#zoom-fit").addEventListener("click", () => editor.fit());

function updateMaskState() {
  $("#undo").disabled = !editor.ops.length;
  $("#redo").disabled = !editor.undone.length;
  $("#clear").disabled = !editor.hasMask();
  const boxes = editor.rectangles();
  $("#mask-state").textContent = !editor.hasMask() ? "empty" : boxes ? `${boxes.length} rectangle${boxes.length > 1 ? "s" : ""}` : "painted";
  updateCode();
}

document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target instanceof HTMLInputElement && target.type !== "range" || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
  if (typing) return;
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key.toLowerCase() === "z") {
    event.preventDefault();
    if (event.shiftKey) editor.redo();
    else editor.undo();
  } else if (mod && event.key.toLowerCase() === "y") {
    event.preventDefault();
    editor.redo();
  } else if (mod) {
    return;
  } else if (event.key === "[") {
    setBrush(editor.brush / 1.2);
  } else if (event.key === "]") {
    setBrush(editor.brush * 1.2);
  } else if (event.key === " ") {
    event.preventDefault();
    editor.spaceDown = true;
    stage.classList.add("pan-ready");
  } else if (event.key === "b") setTool("brush");
  else if (event.key === "e") setTool("eraser");
  else if (event.key === "r") setTool("rect");
  else if (event.key === "0") editor.fit();
  else if (event.key === "+" || event.key === "=") editor.zoomAt(1.25);
  else if (event.key === "-") editor.zoomAt(0.8);
});
document.addEventListener("keyup", (event) => {
  if (event.key === " ") {
    editor.spaceDown = false;
    stage.classList.remove("pan-ready");
  }
});

// --- engines and parameters ----------------------------------------------------------

async function loadEngines() {
  try {
    state.engines = await state.api.engines();
  } catch (error) {
    showError(describe(error));
    return;
  }
  const select = $("#engine");
  const previous = select.value;
  select.replaceChildren();
  const auto = document.createElement("option");
  auto.value = "auto";
  auto.textContent = "auto (best available)";
  select.append(auto);
  for (const engine of state.engines.data) {
    const option = document.createElement("option");
    option.value = engine.name;
    option.textContent = engine.available ? `${engine.name} · ${engine.hardware}` : `${engine.name} · unavailable`;
    option.disabled = !engine.available;
    option.title = engine.available ? engine.summary : engine.reason;
    select.append(option);
  }
  const names = state.engines.data.filter((engine) => engine.available).map((engine) => engine.name);
  const wanted = [previous, state.engines.default].find((name) => name === "auto" || names.includes(name));
  select.value = wanted || "auto";
  updateParams();
}

/** The engine a run would use: the one picked, or what auto picks for this operation. */
function effectiveEngine() {
  if (!state.engines) return null;
  const picked = $("#engine").value;
  const name = picked === "auto" ? state.engines.auto[state.mode] : picked;
  return state.engines.data.find((engine) => engine.name === name) || null;
}

function honoured() {
  const engine = effectiveEngine();
  return new Set(engine ? engine.honours[state.mode] : []);
}

function updateParams() {
  const engine = effectiveEngine();
  const picked = $("#engine").value;
  const summary = $("#engine-summary");
  if (!state.engines) summary.textContent = "";
  else if (!engine) summary.textContent = "No engine on this server can run this operation.";
  else summary.textContent = picked === "auto" ? `auto picks ${engine.name} here: ${engine.summary}` : engine.summary;
  const allowed = honoured();
  for (const row of $$("[data-param]")) row.hidden = !allowed.has(row.dataset.param);
  for (const row of $$(".param-row")) row.hidden = Array.from(row.children).every((child) => child.hidden);
  updateCode();
}

$("#engine").addEventListener("change", updateParams);

const strength = $("#p-strength");
strength.addEventListener("input", () => {
  strength.dataset.unset = "false";
  $("#strength-value").textContent = Number(strength.value).toFixed(2);
  updateCode();
});
$("#seed-lock").addEventListener("click", () => {
  const lock = $("#seed-lock");
  const locked = lock.getAttribute("aria-pressed") !== "true";
  lock.setAttribute("aria-pressed", String(locked));
  lock.textContent = locked ? "Locked" : "Lock";
  updateCode();
});
for (const name of PARAMS) $(`#p-${name}`).addEventListener("input", updateCode);
$("#p-format").addEventListener("change", updateCode);

/** The honoured parameters the user set, as the API's field names. */
function params() {
  const allowed = honoured();
  const values = {};
  const text = (name) => $(`#p-${name}`).value.trim();
  if (allowed.has("prompt") && text("prompt")) values.prompt = text("prompt");
  if (allowed.has("negative_prompt") && text("negative_prompt")) values.negative_prompt = text("negative_prompt");
  if (allowed.has("seed") && $("#seed-lock").getAttribute("aria-pressed") === "true" && text("seed") !== "") values.seed = Number(text("seed"));
  if (allowed.has("steps") && text("steps") !== "") values.steps = Number(text("steps"));
  if (allowed.has("guidance_scale") && text("guidance_scale") !== "") values.guidance_scale = Number(text("guidance_scale"));
  if (allowed.has("strength") && strength.dataset.unset !== "true") values.strength = Number(strength.value);
  values.n = allowed.has("n") && text("n") !== "" ? Number(text("n")) : 1;
  return values;
}

function checkParams(values) {
  const range = (name, low, high, whole) => {
    const value = values[name];
    if (value === undefined) return null;
    if (!Number.isFinite(value) || value < low || value > high || (whole && !Number.isInteger(value))) {
      return `${name} must be ${whole ? "a whole number " : ""}between ${low} and ${high}`;
    }
    return null;
  };
  return range("seed", 0, 4294967294, true) || range("steps", 1, 200, true) || range("guidance_scale", 0, 50) ||
    range("strength", 0, 1) || range("n", 1, NATIVE.maxImages, true);
}

// --- running -------------------------------------------------------------------------

function setProgress(percent, label) {
  const bar = $("#progress");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.querySelector(".progress-bar").style.width = `${percent}%`;
  bar.querySelector(".progress-label").textContent = label || "";
  bar.dataset.state = label || "";
}

/** Why the server would refuse the current request, or null. */
function refusal() {
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

async function buildForm() {
  const form = new FormData();
  form.append("image", state.input.blob, state.input.name);
  if (state.mode === "expand") {
    const sides = Object.fromEntries(SIDES.map((side) => [side, state.sides[side]]));
    form.append(state.unit === "px" ? "pixels" : "ratios", JSON.stringify(sides));
  } else {
    const boxes = editor.rectangles();
    if (boxes) form.append("rectangles", JSON.stringify(boxes));
    else form.append("mask", await editor.maskBlob(), "mask.png");
  }
  const engine = $("#engine").value;
  if (engine !== "auto") form.append("engine", engine);
  for (const [name, value] of Object.entries(params())) form.append(name, String(value));
  form.append("output_format", $("#p-format").value);
  return form;
}

async function run() {
  if (state.running) {
    state.running.abort();
    return;
  }
  state.taskId = null;
  showError("");
  const problem = refusal();
  if (problem) {
    showError(problem);
    return;
  }
  const controller = new AbortController();
  state.running = controller;
  const runButton = $("#run");
  runButton.textContent = "Stop";
  runButton.classList.add("running");
  setProgress(0, "sending");
  const before = snapshotBefore();
  try {
    let task = await state.api.create(state.mode, await buildForm(), controller.signal);
    state.taskId = task.id;
    setProgress(task.progress || 0, task.status);
    task = await followTask(task, controller.signal);
    if (task.status === "succeeded") {
      setProgress(100, "done");
      if ($("#seed-lock").getAttribute("aria-pressed") !== "true" && task.seed !== null) $("#p-seed").value = String(task.seed);
      showResults(task, before);
    } else if (task.status === "failed") {
      setProgress(task.progress || 0, "failed");
      showError(task.error ? task.error.message : "the task failed");
    } else {
      setProgress(0, task.status);
      showError(`the task was ${task.status}`);
    }
  } catch (error) {
    if (error.name === "AbortError") {
      setProgress(0, "stopped");
      showError(await cancelQueued(state.taskId));
    } else {
      setProgress(0, "");
      showError(describe(error));
    }
  } finally {
    state.running = null;
    runButton.classList.remove("running");
    runButton.textContent = state.mode === "expand" ? "Expand" : "Remove";
    loadHistory();
  }
}

/** Cancel the task (a running one stops at its engine's next step); what happened, in words. */
async function cancelQueued(id) {
  if (!id) return "stopped before the request was sent";
  try {
    const task = await state.api.request("DELETE", `/v1/tasks/${encodeURIComponent(id)}`);
    if (task.status === "running") return "stopping: the task ends at its engine's next step (see History)";
    return "canceled before it started";
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return "stopped waiting; the task had already finished (see History)";
    return describe(error);
  }
}

/** Progress from the event stream; polling if the stream cannot be read. */
async function followTask(task, signal) {
  try {
    return await state.api.follow(task.id, (event) => setProgress(event.progress, event.status), signal);
  } catch (error) {
    if (error.name === "AbortError" || (error instanceof ApiError && error.status)) throw error;
  }
  for (;;) {
    const fresh = await state.api.task(task.id);
    setProgress(fresh.progress, fresh.status);
    if (["succeeded", "failed", "canceled"].includes(fresh.status)) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

$("#run").addEventListener("click", run);

// --- results -------------------------------------------------------------------------

/** What "before" looks like at the result's size: the photo where it sits on the canvas. */
function snapshotBefore() {
  if (!state.input?.bitmap) return null;
  const size = state.input.size;
  if (state.mode === "remove") return { bitmap: state.input.bitmap, offset: [0, 0], canvas: size, size };
  const px = sidePixels(state.unit, state.sides, size);
  return { bitmap: state.input.bitmap, offset: [px.left, px.top], canvas: outputSize(state.unit, state.sides, size), size };
}

function showEditor() {
  $("#result-view").hidden = true;
  $("#stage").hidden = false;
}

function showResults(task, before) {
  state.results = task.results;
  state.before = before;
  state.task = task;
  const gallery = $("#gallery");
  gallery.replaceChildren();
  task.results.forEach((result, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb";
    const img = document.createElement("img");
    img.src = result.url;
    img.alt = `Result ${index + 1}`;
    button.append(img);
    button.addEventListener("click", () => selectResult(index));
    gallery.append(button);
  });
  gallery.hidden = task.results.length < 2;
  $("#stage").hidden = true;
  $("#result-view").hidden = false;
  selectResult(0);
}

function selectResult(index) {
  state.selected = index;
  const result = state.results[index];
  if (!result) return;
  for (const [i, thumb] of $$("#gallery .thumb").entries()) thumb.classList.toggle("selected", i === index);
  const img = $("#result-image");
  img.src = result.url;
  img.dataset.width = String(result.width);
  img.dataset.height = String(result.height);
  const task = state.task;
  $("#result-title").textContent = `${task.operation === "expand" ? "Expanded" : "Removed"} · ${result.width} × ${result.height}`;
  $("#result-meta").textContent = `${task.engine} · seed ${task.seed}${state.results.length > 1 ? ` · image ${index + 1} of ${state.results.length}` : ""}`;
  const download = $("#download");
  download.href = result.url;
  download.download = `canvasfill-${task.id}-${index + 1}.${result.format === "jpeg" ? "jpg" : result.format}`;
  drawBefore(result);
}

function drawBefore(result) {
  const canvas = $("#before-canvas");
  const before = state.before;
  const compare = $("#compare");
  compare.classList.toggle("no-before", !before);
  if (!before) return;
  canvas.width = result.width;
  canvas.height = result.height;
  const ctx = canvas.getContext("2d");
  const kx = result.width / before.canvas[0];
  const ky = result.height / before.canvas[1];
  ctx.fillStyle = checker(ctx, Math.max(8, Math.round(8 * Math.max(kx, ky, result.width / 800))));
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(before.bitmap, before.offset[0] * kx, before.offset[1] * ky, before.size[0] * kx, before.size[1] * ky);
  setCompare(Number($("#compare-slider").value));
}

/** A grey checkerboard (what "no pixels yet" looks like) of `cell` px squares. */
function checker(ctx, cell) {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 2 * cell;
  const t = tile.getContext("2d");
  t.fillStyle = "#e9ebf0";
  t.fillRect(0, 0, 2 * cell, 2 * cell);
  t.fillStyle = "#d5d9e1";
  t.fillRect(0, 0, cell, cell);
  t.fillRect(cell, cell, cell, cell);
  return ctx.createPattern(tile, "repeat");
}

function setCompare(percent) {
  $("#compare-before").style.clipPath = `inset(0 ${100 - percent}% 0 0)`;
  $("#compare-line").style.left = `${percent}%`;
}

$("#compare-slider").addEventListener("input", (event) => setCompare(Number(event.target.value)));
$("#back-to-editor").addEventListener("click", showEditor);
$("#use-as-input").addEventListener("click", async () => {
  const result = state.results[state.selected];
  if (!result) return;
  try {
    const response = await fetch(result.url);
    if (!response.ok) throw new Error(`the result could not be fetched (${response.status})`);
    const blob = await response.blob();
    await openFile(blob, `result-${state.task.id}.${result.format === "jpeg" ? "jpg" : result.format}`);
  } catch (error) {
    showError(describe(error));
  }
});

// --- history -------------------------------------------------------------------------

async function loadHistory() {
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
    button.title = task.error ? task.error.message : task.results_expired ? "results expired" : "";
    button.addEventListener("click", () => showResults(task, null));
    item.append(button);
    list.append(item);
  }
}

$("#history-refresh").addEventListener("click", loadHistory);

// --- copy as code --------------------------------------------------------------------

function codeSettings() {
  const input = state.input;
  const allowed = honoured();
  const values = params();
  const engine = $("#engine").value;
  return {
    base: window.location.origin,
    mode: state.mode,
    unit: state.unit,
    sides: { ...state.sides },
    size: input?.size || null,
    fileName: fileName(input?.name, "photo.png"),
    fileBytes: input?.head || new Uint8Array(),
    fileSize: input?.blob.size || 0,
    engine: engine === "auto" ? null : engine,
    engineDefault: state.engines?.default || "auto",
    honoured: allowed,
    params: values,
    outputFormat: $("#p-format").value,
    rectangles: state.mode === "remove" ? editor.rectangles() : null,
  };
}

let commands = [];

function updateCode() {
  const select = $("#code-dialect");
  const chosen = select.value || "native";
  commands = curlCommands(codeSettings());
  if (select.options.length !== commands.length) {
    select.replaceChildren(...commands.map((command) => new Option(command.label, command.id)));
  }
  for (const option of select.options) {
    const command = commands.find((entry) => entry.id === option.value);
    option.textContent = command.code ? command.label : `${command.label} (cannot express)`;
  }
  select.value = chosen;
  const command = commands.find((entry) => entry.id === select.value) || commands[0];
  const pre = $("#code");
  pre.textContent = command.code || "";
  pre.hidden = !command.code;
  pre.dataset.dialect = command.id;
  $("#code-note").textContent = command.note;
  $("#copy-curl").disabled = !command.code;
  const needsMask = Boolean(command.code && command.code.includes("mask.png") || command.code?.includes("mask_file=@mask.png"));
  $("#mask-download").hidden = !needsMask;
  if (needsMask) refreshMaskLink();
}

let maskTimer = null;
function refreshMaskLink() {
  clearTimeout(maskTimer);
  maskTimer = setTimeout(async () => {
    if (!state.input?.size || !editor.hasMask()) return;
    const blob = await editor.maskBlob();
    if (state.maskUrl) URL.revokeObjectURL(state.maskUrl);
    state.maskUrl = URL.createObjectURL(blob);
    $("#mask-download").href = state.maskUrl;
  }, 150);
}

$("#code-dialect").addEventListener("change", updateCode);
$("#copy-curl").addEventListener("click", async () => {
  const text = $("#code").textContent;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    // no clipboard API (a plain-http origin other than localhost): select the text instead
    const range = document.createRange();
    range.selectNodeContents($("#code"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    copied = document.execCommand("copy");
  }
  const label = $("#copied");
  label.textContent = copied ? "Copied" : "Selected: press Ctrl+C";
  label.hidden = false;
  setTimeout(() => {
    label.hidden = true;
  }, 2000);
});

// --- start ---------------------------------------------------------------------------

setMode("expand");
setUnit("ratio");
setBrush(40);
setKey(adoptKeyFromFragment());
window.addEventListener("hashchange", () => {
  const key = adoptKeyFromFragment();
  if (key !== state.api.key) setKey(key);
});
