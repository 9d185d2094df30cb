// The playground's start: the server's rules first (every check and command reads
// them), then the editor and each part of the page, around the one store (store.js).
import { Api, adoptKeyFromFragment, saveKey } from "./api.js";
import * as code from "./code.js";
import * as detect from "./detect.js";
import { Editor } from "./editor.js";
import * as engines from "./engines.js";
import * as expand from "./expand.js";
import { showError } from "./feedback.js";
import * as history from "./history.js";
import * as input from "./input.js";
import { NATIVE, useRules } from "./limits.js";
import * as mode from "./mode.js";
import * as remove from "./remove.js";
import * as results from "./results.js";
import { loadRules } from "./rules.js";
import * as run from "./run.js";
import { $, changed, state } from "./store.js";

function setKey(key) {
  state.api = new Api(key);
  $("#api-key").value = key;
  $("#key-notice").hidden = Boolean(key);
  document.body.classList.toggle("no-key", !key);
  if (key) {
    engines.loadEngines();
    history.loadHistory();
  }
  changed("key");
}

function describeLimits() {
  const formats = NATIVE.formats.map((format) => (format === "jpeg" ? "JPEG" : format === "webp" ? "WebP" : format.toUpperCase()));
  const list = `${formats.slice(0, -1).join(", ")} or ${formats[formats.length - 1]}`;
  $("#dropzone-limits").textContent = `${list}, up to ${NATIVE.maxBytes / 1048576} MB and ${NATIVE.maxSide} px a side`;
}

let ready = false;

async function start() {
  // a key typed while the rules load is kept, and taken when the page is ready
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("#api-key").blur();
  });
  $("#api-key").addEventListener("change", (event) => {
    const key = event.target.value.trim();
    saveKey(key);
    if (!ready) return;
    showError("");
    setKey(key);
  });
  try {
    state.rules = await loadRules();
  } catch (error) {
    showError(error.message);
    return;
  }
  useRules(state.rules);
  describeLimits();
  state.editor = new Editor($("#stage"), {
    onHandleDrag: expand.dragSide,
    onHandleDone: expand.dragDone,
    onMaskChange: remove.maskChanged,
    onZoom: (scale) => {
      $("#zoom-fit").textContent = `${Math.round(scale * 100)}%`;
    },
  });
  for (const part of [mode, input, expand, remove, detect, engines, run, results, history, code]) part.init();
  ready = true;
  mode.setMode("expand");
  expand.setUnit("ratio");
  // typed before ready (its "change" may not have fired yet): newer than the stored
  // key, so it is stored; a #key= link still wins, being newer still
  const typed = $("#api-key").value.trim();
  if (typed) saveKey(typed);
  setKey(adoptKeyFromFragment());
  window.addEventListener("hashchange", () => {
    const key = adoptKeyFromFragment();
    if (key !== state.api.key) setKey(key);
  });
  document.body.dataset.ready = "true";
}

start();
