// Expand mode: the four sides in ratios or pixels, typed, dragged or from a preset.
import { showError } from "./feedback.js";
import { NATIVE, SIDES, checkExpansion, outputSize, presetPixels, sidePixels } from "./limits.js";
import { $, $$, changed, on, state } from "./store.js";

function sideLength(side) {
  const [w, h] = state.input?.size || [1, 1];
  return side === "left" || side === "right" ? w : h;
}

/** A handle is dragged to `pixels` on `side` (the editor's hook). */
export function dragSide(side, pixels) {
  state.dragging = true;
  const value = state.unit === "px" ? Math.round(pixels) : Math.round((pixels / sideLength(side)) * 100) / 100;
  state.sides[side] = Math.min(value, state.unit === "px" ? NATIVE.maxSidePixels : NATIVE.maxRatio);
  syncSides();
}

export function dragDone() {
  state.dragging = false;
  syncSides();
}

/** Set every side at once (a preset, a history entry), in the page's current unit. */
export function setSides(sides, unit = state.unit) {
  setUnit(unit);
  state.sides = { left: 0, right: 0, top: 0, bottom: 0, ...sides };
  syncSides({ refit: true });
}

export function setUnit(unit) {
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

/** Fields, handles and output size from state.sides. */
export function syncSides({ refit = false } = {}) {
  const editor = state.editor;
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
  changed("sides");
}

export function init() {
  for (const button of $$("[data-unit]")) button.addEventListener("click", () => setUnit(button.dataset.unit));
  for (const input of $$(".sides input")) {
    input.addEventListener("input", () => {
      const value = input.value === "" ? 0 : Number(input.value);
      state.sides[input.dataset.side] = Number.isFinite(value) ? value : 0;
      syncSides();
    });
    input.addEventListener("change", () => syncSides({ refit: !state.editor.fits() }));
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
  on("input", () => syncSides({ refit: true }));
}
