// The playground's one state store. Every module reads and writes `state`; a module
// that changes a part of it calls changed(topic), and the modules that show that part
// (the code panel, the run button, the handles...) listen with on(topic). No module
// calls another to keep it up to date.
import { Api } from "./api.js";

export const state = {
  api: new Api(""),
  rules: null, // Rules from the server (rules.js)
  editor: null, // the Editor on the stage
  input: null, // {blob, name, bitmap, size, head (first bytes)}
  mode: "expand",
  unit: "ratio",
  sides: { left: 0, right: 0, top: 0, bottom: 0 },
  dragging: false,
  engines: null, // the /v1/engines answer
  running: null, // AbortController of the run in flight
  taskId: null,
  lastSeed: null, // the seed the last finished run used
  results: [],
  before: null, // what the results are compared with: {bitmap, size, offset, canvas}
  task: null,
  selected: 0,
  maskUrl: null,
};

/** What changes: key, input, mode, sides, mask, engines, params, run. */
const listeners = new Map();

export function on(topic, listener) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(listener);
}

export function changed(topic) {
  for (const listener of listeners.get(topic) || []) listener();
}

export const $ = (selector) => document.querySelector(selector);
export const $$ = (selector) => Array.from(document.querySelectorAll(selector));
