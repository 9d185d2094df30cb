// Remove mode's tools: brush, eraser, rectangles, undo/redo, and the keys for them.
import { $, $$, changed, on, state } from "./store.js";

function setTool(tool) {
  state.editor.tool = tool;
  for (const button of $$("[data-tool]")) button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
  $("#stage").dataset.tool = tool;
}

export function setBrush(size) {
  const editor = state.editor;
  editor.brush = Math.max(4, Math.min(200, Math.round(size)));
  $("#brush-size").value = String(editor.brush);
  $("#brush-size-value").textContent = String(editor.brush);
}

/** The editor's mask changed (its hook): the buttons and the "Mask" line follow. */
export function maskChanged() {
  changed("mask");
}

function showMaskState() {
  const editor = state.editor;
  $("#undo").disabled = !editor.ops.length;
  $("#redo").disabled = !editor.undone.length;
  $("#clear").disabled = !editor.hasMask();
  const boxes = editor.rectangles();
  $("#mask-state").textContent = !editor.hasMask() ? "empty" : boxes ? `${boxes.length} rectangle${boxes.length > 1 ? "s" : ""}` : "painted";
}

function keydown(event) {
  const editor = state.editor;
  const target = event.target;
  const typing = (target instanceof HTMLInputElement && target.type !== "range") || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
  if (typing) return;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === "z") {
    event.preventDefault();
    if (event.shiftKey) editor.redo();
    else editor.undo();
  } else if (mod && key === "y") {
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
    $("#stage").classList.add("pan-ready");
  } else if (event.key === "b") setTool("brush");
  else if (event.key === "e") setTool("eraser");
  else if (event.key === "r") setTool("rect");
  else if (event.key === "0") editor.fit();
  else if (event.key === "+" || event.key === "=") editor.zoomAt(1.25);
  else if (event.key === "-") editor.zoomAt(0.8);
}

export function init() {
  const editor = state.editor;
  for (const button of $$("[data-tool]")) button.addEventListener("click", () => setTool(button.dataset.tool));
  $("#brush-size").addEventListener("input", (event) => setBrush(Number(event.target.value)));
  $("#undo").addEventListener("click", () => editor.undo());
  $("#redo").addEventListener("click", () => editor.redo());
  $("#clear").addEventListener("click", () => editor.clear());
  $("#zoom-in").addEventListener("click", () => editor.zoomAt(1.25));
  $("#zoom-out").addEventListener("click", () => editor.zoomAt(0.8));
  $("#zoom-fit").addEventListener("click", () => editor.fit());
  document.addEventListener("keydown", keydown);
  document.addEventListener("keyup", (event) => {
    if (event.key === " ") {
      editor.spaceDown = false;
      $("#stage").classList.remove("pan-ready");
    }
  });
  on("mask", showMaskState);
  on("input", showMaskState);
  setBrush(40);
}
