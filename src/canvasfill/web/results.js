// Results: the image with a before/after slider, a gallery for n > 1, download, and
// "Use as input", which opens the result on the stage fitted to the view.
import { describe, showError } from "./feedback.js";
import { openFile } from "./input.js";
import { outputSize, sidePixels } from "./limits.js";
import { $, $$, state } from "./store.js";

/** What "before" looks like at the result's size: the photo where it sits on the canvas. */
export function snapshotBefore() {
  if (!state.input?.bitmap) return null;
  const size = state.input.size;
  if (state.mode === "remove") return { bitmap: state.input.bitmap, offset: [0, 0], canvas: size, size };
  const px = sidePixels(state.unit, state.sides, size);
  return { bitmap: state.input.bitmap, offset: [px.left, px.top], canvas: outputSize(state.unit, state.sides, size), size };
}

export function showEditor() {
  $("#result-view").hidden = true;
  $("#stage").hidden = false;
  state.editor?.resize();
}

export function showResults(task, before) {
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

async function useAsInput() {
  const result = state.results[state.selected];
  if (!result) return;
  try {
    const response = await fetch(result.url);
    if (!response.ok) throw new Error(`the result could not be fetched (${response.status})`);
    const blob = await response.blob();
    // openFile shows the stage before it sets the image, and the editor measures the
    // stage when it fits: the result opens fitted to the view
    await openFile(blob, `result-${state.task.id}.${result.format === "jpeg" ? "jpg" : result.format}`);
  } catch (error) {
    showError(describe(error));
  }
}

export function init() {
  $("#compare-slider").addEventListener("input", (event) => setCompare(Number(event.target.value)));
  $("#back-to-editor").addEventListener("click", showEditor);
  $("#use-as-input").addEventListener("click", useAsInput);
}
