// "Find text" and "Select subject": the server's detectors (POST /v1/masks, run on the
// workers) find a mask, which is added to the editor's mask as one step the user can
// undo, erase or paint over before running.
import { ApiError } from "./api.js";
import { describe } from "./feedback.js";
import { $, $$, changed, state } from "./store.js";

const WORDS = { text: "text", subject: "a subject" };

function say(message, problem = false) {
  const line = $("#detect-status");
  line.textContent = message;
  line.hidden = !message;
  line.classList.toggle("problem", problem);
}

async function base64Of(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** Ask the server for what `detect` finds in the photo and add it to the mask. */
export async function detect(kind) {
  if (!state.api.key) return say("paste an API key first", true);
  if (!state.input?.size) return say("open a photo the browser can show first", true);
  const buttons = $$("[data-detect]");
  for (const button of buttons) button.disabled = true;
  say(`looking for ${WORDS[kind] || kind}…`);
  const input = state.input;
  try {
    const body = JSON.stringify({ image: await base64Of(input.blob), detect: kind });
    let task = await state.api.request("POST", "/v1/masks", {
      body,
      headers: { "Content-Type": "application/json", Prefer: "wait=60" },
    });
    if (!["succeeded", "failed", "canceled"].includes(task.status)) {
      task = await state.api.follow(task.id, () => {});
    }
    if (task.status !== "succeeded" || !task.results?.length) {
      return say(task.error ? task.error.message : `the detection was ${task.status}`, true);
    }
    const response = await fetch(task.results[0].url);
    if (!response.ok) throw new Error(`the mask could not be fetched (${response.status})`);
    const mask = await createImageBitmap(await response.blob());
    if (state.input !== input) return say(""); // another photo was opened meanwhile
    const marked = state.editor.addMaskImage(mask);
    changed("mask");
    const share = (100 * marked) / (input.size[0] * input.size[1]);
    say(`found ${WORDS[kind] || kind}: ${share < 0.1 ? "<0.1" : share.toFixed(1)}% of the photo marked; paint or erase to adjust`);
  } catch (error) {
    say(error instanceof ApiError || error instanceof Error ? describe(error) : String(error), true);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

export function init() {
  for (const button of $$("[data-detect]")) button.addEventListener("click", () => detect(button.dataset.detect));
}
