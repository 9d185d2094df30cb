// The photo: opened from a file, a drop or a paste, checked against the native limits,
// and put on the stage.
import { showError } from "./feedback.js";
import { checkImage } from "./limits.js";
import { $, changed, state } from "./store.js";

/** Open `blob` as the input; answers whether it was taken. */
export async function openFile(blob, name) {
  showError("");
  const head = new Uint8Array(await blob.slice(0, 32).arrayBuffer());
  let bitmap = null;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    bitmap = null; // the server says what is wrong with it, when asked
  }
  const size = bitmap ? [bitmap.width, bitmap.height] : null;
  const problem = checkImage(head, blob.size, size);
  if (problem) {
    showError(problem);
    return false;
  }
  state.input = { blob, name: name || "image.png", bitmap, size, head };
  state.sides = { left: 0, right: 0, top: 0, bottom: 0 };
  $("#dropzone").hidden = true;
  $("#toolbar").hidden = false;
  $("#result-view").hidden = true;
  $("#stage").hidden = false;
  state.editor.setImage(bitmap, size || [512, 512]);
  const info = $("#image-info");
  info.hidden = false;
  info.textContent = size
    ? `${state.input.name} · ${size[0]} × ${size[1]}`
    : `${state.input.name} · this browser cannot show it; the server will check it`;
  changed("input");
  return true;
}

export function init() {
  for (const input of [$("#file-input"), $("#file-input-2")]) {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file) openFile(file, file.name);
      input.value = "";
    });
  }
  const stage = $("#stage");
  let dragDepth = 0;
  document.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    dragDepth += 1;
    stage.classList.add("dragover");
  });
  document.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) stage.classList.remove("dragover");
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    dragDepth = 0;
    stage.classList.remove("dragover");
    const file = event.dataTransfer?.files[0];
    if (file) openFile(file, file.name);
  });
  document.addEventListener("paste", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
    const item = Array.from(event.clipboardData?.items || []).find((entry) => entry.kind === "file" && entry.type.startsWith("image/"));
    if (!item) return;
    const file = item.getAsFile();
    const ext = { "image/jpeg": "jpg", "image/webp": "webp" }[file.type] || "png";
    openFile(file, file.name && file.name !== "image.png" ? file.name : `pasted.${ext}`);
  });
}
