// Expand or Remove: the body's data-mode shows one card or the other; the editor, the
// run button and the parameters follow.
import { showError } from "./feedback.js";
import { showEditor } from "./results.js";
import { $, $$, changed, on, state } from "./store.js";

export function setMode(mode) {
  state.mode = mode;
  changed("mode");
}

function apply() {
  const mode = state.mode;
  document.body.dataset.mode = mode;
  for (const button of $$("button[data-mode]")) button.setAttribute("aria-selected", String(button.dataset.mode === mode));
  if (!state.running) $("#run").textContent = mode === "expand" ? "Expand" : "Remove";
  showEditor();
  state.editor.setMode(mode);
  showError("");
}

export function init() {
  on("mode", apply);
  for (const button of $$("button[data-mode]")) button.addEventListener("click", () => setMode(button.dataset.mode));
}
