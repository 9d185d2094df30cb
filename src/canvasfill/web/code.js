// The "Copy as code" card: the current settings as each door's command, from the same
// state the page's own request is built from.
import { commandsFor, fileName } from "./codegen.js";
import { honoured, params } from "./engines.js";
import { $, on, state } from "./store.js";

function settings() {
  const input = state.input;
  const engine = $("#engine").value;
  return {
    rules: state.rules,
    base: window.location.origin,
    mode: state.mode,
    unit: state.unit,
    sides: { ...state.sides },
    size: input?.size || null,
    fileName: fileName(input?.name, "photo.png"),
    fileBytes: input?.head || new Uint8Array(),
    fileSize: input?.blob.size || 0,
    engine: engine === "auto" || !engine ? null : engine,
    engineDefault: state.engines?.default || "auto",
    honoured: honoured(),
    params: params(),
    outputFormat: $("#p-format").value,
    rectangles: state.mode === "remove" && state.editor.hasMask() ? state.editor.rectangles() : null,
  };
}

let commands = [];

export function updateCode() {
  if (!state.rules) return;
  const select = $("#code-dialect");
  const chosen = select.value || "native";
  commands = commandsFor(settings());
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
  pre.dataset.language = command.language;
  $("#code-note").textContent = command.note;
  const copy = $("#copy-curl");
  copy.disabled = !command.code;
  copy.textContent = command.language === "python" ? "Copy Python" : "Copy curl";
  const needsMask = Boolean(command.code && /@mask\.png|open\("mask\.png"\)/.test(command.code));
  $("#mask-download").hidden = !needsMask;
  if (needsMask) refreshMaskLink();
}

let maskTimer = null;
function refreshMaskLink() {
  clearTimeout(maskTimer);
  maskTimer = setTimeout(async () => {
    if (!state.input?.size || !state.editor.hasMask()) return;
    const blob = await state.editor.maskBlob();
    if (state.maskUrl) URL.revokeObjectURL(state.maskUrl);
    state.maskUrl = URL.createObjectURL(blob);
    $("#mask-download").href = state.maskUrl;
  }, 150);
}

// A click always downloads the mask as it is now: the link's href is refreshed a moment
// after each change (for "save link as"), and a click inside that moment, or on a URL
// just revoked for a newer one, would otherwise download nothing.
async function downloadMask(event) {
  event.preventDefault();
  if (!state.input?.size || !state.editor.hasMask()) return;
  const url = URL.createObjectURL(await state.editor.maskBlob());
  const link = document.createElement("a");
  link.href = url;
  link.download = "mask.png";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function copy() {
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
}

export function init() {
  $("#code-dialect").addEventListener("change", updateCode);
  $("#copy-curl").addEventListener("click", copy);
  $("#mask-download").addEventListener("click", downloadMask);
  for (const topic of ["key", "input", "mode", "sides", "mask", "engines", "params"]) on(topic, updateCode);
  updateCode();
}
