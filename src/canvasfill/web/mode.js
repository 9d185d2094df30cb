// Expand or Remove: the body's data-mode shows one card or the other; the editor, the
// run button and the parameters follow.
import { clearFeedback } from "./feedback.js";
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
  // the other mode's "done", seconds and hints say nothing about this one; a run in
  // flight keeps its bar (Stop is still on the button)
  if (!state.running) clearFeedback();
}

export function init() {
  on("mode", apply);
  for (const button of $$("button[data-mode]")) button.addEventListener("click", () => setMode(button.dataset.mode));
}
