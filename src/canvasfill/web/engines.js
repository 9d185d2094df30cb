// The engine picker and its parameters: only what the chosen engine honours is shown
// and sent; engines that cannot run here say why under the picker.
import { describe, showError } from "./feedback.js";
import { NATIVE } from "./limits.js";
import { $, $$, changed, on, state } from "./store.js";

const PARAMS = ["prompt", "negative_prompt", "seed", "steps", "strength", "guidance_scale", "n"];

export async function loadEngines() {
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
  const list = $("#engine-unavailable");
  list.replaceChildren();
  for (const engine of state.engines.data.filter((entry) => !entry.available)) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = engine.name;
    item.append(name, `: ${engine.reason || "cannot run here"}`);
    list.append(item);
  }
  $("#engine-unavailable-card").hidden = !list.children.length;
  const names = state.engines.data.filter((engine) => engine.available).map((engine) => engine.name);
  const wanted = [previous, state.engines.default].find((name) => name === "auto" || names.includes(name));
  select.value = wanted || "auto";
  updateParams();
}

/** Pick `name` if it can run here (a history entry); answers whether it was picked. */
export function pickEngine(name) {
  const option = Array.from($("#engine").options).find((entry) => entry.value === name && !entry.disabled);
  if (option) $("#engine").value = name;
  updateParams();
  return Boolean(option);
}

/** The engine a run would use: the one picked, or what auto picks for this operation. */
export function effectiveEngine() {
  if (!state.engines) return null;
  const picked = $("#engine").value;
  const name = picked === "auto" ? state.engines.auto[state.mode] : picked;
  return state.engines.data.find((engine) => engine.name === name) || null;
}

export function honoured() {
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
  changed("params");
}

const seedField = () => $("#p-seed");
const locked = () => $("#seed-lock").getAttribute("aria-pressed") === "true";

/** The honoured parameters the user set, as the API's field names. */
export function params() {
  const allowed = honoured();
  const values = {};
  const text = (name) => $(`#p-${name}`).value.trim();
  const strength = $("#p-strength");
  if (allowed.has("prompt") && text("prompt")) values.prompt = text("prompt");
  if (allowed.has("negative_prompt") && text("negative_prompt")) values.negative_prompt = text("negative_prompt");
  // a typed seed is used, locked or not; the lock only keeps it for the runs after
  if (allowed.has("seed") && text("seed") !== "") values.seed = Number(text("seed"));
  if (allowed.has("steps") && text("steps") !== "") values.steps = Number(text("steps"));
  if (allowed.has("guidance_scale") && text("guidance_scale") !== "") values.guidance_scale = Number(text("guidance_scale"));
  // the number shown beside the slider, exactly: what is sent is what is read
  if (allowed.has("strength") && strength.dataset.unset !== "true") values.strength = Number($("#strength-value").textContent);
  values.n = allowed.has("n") && text("n") !== "" ? Number(text("n")) : 1;
  return values;
}

/** Why the server would refuse these parameters (the native door's ranges), or null. */
export function checkParams(values) {
  for (const [name, rule] of Object.entries(NATIVE.ranges)) {
    const value = values[name];
    if (value === undefined) continue;
    const whole = rule.type === "integer";
    if (!Number.isFinite(value) || value < rule.minimum || value > rule.maximum || (whole && !Number.isInteger(value))) {
      return `${name} must be ${whole ? "a whole number " : ""}between ${rule.minimum} and ${rule.maximum}`;
    }
  }
  return null;
}

/** A run finished with `seed`: a locked seed stays, else the field empties for the next. */
export function ranWithSeed(seed) {
  state.lastSeed = seed;
  const field = seedField();
  if (locked()) {
    if (field.value.trim() === "" && seed !== null) field.value = String(seed);
  } else {
    field.value = "";
  }
  field.placeholder = seed === null ? "random" : `random (last ${seed})`;
  changed("params");
}

function setLock(on_) {
  const lock = $("#seed-lock");
  lock.setAttribute("aria-pressed", String(on_));
  lock.textContent = on_ ? "Locked" : "Lock";
  if (on_ && seedField().value.trim() === "" && state.lastSeed !== null) seedField().value = String(state.lastSeed);
  changed("params");
}

function showStrength(value) {
  const strength = $("#p-strength");
  const unset = value === null;
  strength.dataset.unset = String(unset);
  if (!unset) strength.value = String(value);
  $("#strength-value").textContent = unset ? "default" : Number(strength.value).toFixed(2);
  $("#strength-reset").hidden = unset;
  changed("params");
}

/** Put a past run's parameters back (a history entry); absent ones go back to default. */
export function restoreParams(values) {
  for (const name of ["prompt", "negative_prompt", "steps", "guidance_scale"]) {
    $(`#p-${name}`).value = values[name] === undefined ? "" : String(values[name]);
  }
  $("#p-n").value = String(values.n || 1);
  seedField().value = values.seed === undefined || values.seed === null ? "" : String(values.seed);
  showStrength(values.strength === undefined ? null : values.strength);
  if (values.output_format) $("#p-format").value = values.output_format;
  changed("params");
}

export function init() {
  $("#engine").addEventListener("change", updateParams);
  $("#p-strength").addEventListener("input", (event) => showStrength(Number(event.target.value)));
  $("#strength-reset").addEventListener("click", () => showStrength(null));
  $("#seed-lock").addEventListener("click", () => setLock(!locked()));
  for (const name of PARAMS) $(`#p-${name}`).addEventListener("input", () => changed("params"));
  $("#p-format").addEventListener("change", () => changed("params"));
  for (const input of $$("#params input[type=number]")) {
    const rule = NATIVE.ranges[input.id.replace(/^p-/, "")];
    if (!rule) continue;
    input.min = String(rule.minimum);
    input.max = String(rule.maximum);
  }
  $("#p-prompt").maxLength = NATIVE.maxPrompt;
  $("#p-negative_prompt").maxLength = NATIVE.maxPrompt;
  on("mode", updateParams);
}
