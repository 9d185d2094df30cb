// "Copy as code": the current settings as a curl command for the native API and for
// each vendor dialect that can express them (the dialects' own fields and limits).
import { ratioToPixels, sidePixels, sniffFormat } from "./limits.js";

/** A word for a POSIX shell, single-quoted when it needs to be. */
export function sh(text) {
  const value = String(text);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** A file name safe inside curl's -F syntax (no quotes, commas or semicolons). */
export function fileName(name, fallback) {
  return name && /^[A-Za-z0-9_. -]+$/.test(name) && !name.startsWith("-") ? name : fallback;
}

function lines(parts) {
  return parts.filter(Boolean).join(" \\\n  ");
}

const round = (value, digits = 4) => Number(value.toFixed(digits));

/**
 * @param {object} s  settings: base, mode, unit, sides, size, fileName, fileBytes (first
 *   bytes), fileSize, engine, engineDefault, honoured (Set), params, outputFormat,
 *   rectangles (or null), hasMask
 * @returns {Array<{id, label, code, note}>}  code is null when the dialect cannot express it
 */
export function curlCommands(s) {
  return [native(s), ailab(s), kling(s), stability(s), picwish(s)];
}

function given(s, name) {
  const value = s.params[name];
  return s.honoured.has(name) && value !== "" && value !== null && value !== undefined;
}

function native(s) {
  const op = s.mode;
  const parts = [
    `curl -s ${sh(`${s.base}/v1/${op}`)}`,
    `-H "Authorization: Bearer $CANVASFILL_KEY" -H "Prefer: wait=60"`,
    `-F ${sh(`image=@${s.fileName}`)}`,
  ];
  if (op === "expand") {
    const sides = Object.fromEntries(["left", "right", "top", "bottom"].map((k) => [k, s.sides[k]]));
    parts.push(`-F ${sh(`${s.unit === "px" ? "pixels" : "ratios"}=${JSON.stringify(sides)}`)}`);
  } else if (s.rectangles) {
    parts.push(`-F ${sh(`rectangles=${JSON.stringify(s.rectangles)}`)}`);
  } else {
    parts.push("-F mask=@mask.png");
  }
  if (s.engine) parts.push(`-F engine=${sh(s.engine)}`);
  for (const name of ["prompt", "negative_prompt"]) {
    if (given(s, name)) parts.push(`--form-string ${sh(`${name}=${s.params[name]}`)}`);
  }
  for (const name of ["seed", "steps", "strength", "guidance_scale"]) {
    if (given(s, name)) parts.push(`-F ${name}=${s.params[name]}`);
  }
  if (s.params.n > 1) parts.push(`-F n=${s.params.n}`);
  parts.push(`-F output_format=${s.outputFormat}`);
  return {
    id: "native",
    label: "canvasfill",
    code: lines(parts),
    note: "Answers the finished task as JSON; results[].url is each image.",
  };
}

function fileProblem(s, formats, maxMb, sideOk) {
  const format = sniffFormat(s.fileBytes);
  if (format && !formats.includes(format)) return `takes ${formats.join(" or ")} images only`;
  if (s.fileSize > maxMb * 1048576) return `takes files up to ${maxMb} MB`;
  if (s.size && !sideOk(Math.min(...s.size), Math.max(...s.size))) return "does not take an image of this size";
  return null;
}

function refused(id, label, reason) {
  return { id, label, code: null, note: `Cannot express these settings: ${reason}.` };
}

function engineNote(s) {
  return s.engine && s.engine !== s.engineDefault
    ? ` It runs the server's default engine (${s.engineDefault}), not ${s.engine}.`
    : "";
}

function sideRatios(s) {
  if (s.unit === "ratio") return { ...s.sides };
  const [w, h] = s.size;
  return { left: round(s.sides.left / w), right: round(s.sides.right / w), top: round(s.sides.top / h), bottom: round(s.sides.bottom / h) };
}

/** Whether ratios give the same pixels as the page's own request. */
function ratiosExact(s, ratios) {
  if (!s.size) return s.unit === "ratio";
  const want = sidePixels(s.unit, s.sides, s.size);
  const [w, h] = s.size;
  return ratioToPixels(ratios.left, w) === want.left && ratioToPixels(ratios.right, w) === want.right &&
    ratioToPixels(ratios.top, h) === want.top && ratioToPixels(ratios.bottom, h) === want.bottom;
}

function ailab(s) {
  const id = "ailab";
  const label = "AILabTools";
  const problem = fileProblem(s, ["jpeg", "png"], 5, (low, high) => low > 64 && high < 4096);
  if (problem) return refused(id, label, `AILabTools ${problem}`);
  if (s.params.n > 1) return refused(id, label, "AILabTools makes one image per request");
  const parts = [];
  if (s.mode === "expand") {
    if (!s.size && s.unit === "px") return refused(id, label, "AILabTools takes side ratios, not pixels");
    const ratios = sideRatios(s);
    if (Object.values(ratios).some((r) => r > 1)) return refused(id, label, "AILabTools takes side ratios up to 1");
    if (!ratiosExact(s, ratios)) return refused(id, label, "these pixels have no exact ratio");
    parts.push(`curl -s ${sh(`${s.base}/api/image/editing/ai-image-extender`)}`, `-H "ailabapi-api-key: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image=@${s.fileName}`)}`);
    for (const side of ["top", "bottom", "left", "right"]) parts.push(`-F ${side}=${ratios[side]}`);
    parts.push("-F max_width=0 -F max_height=0");
    if (given(s, "prompt")) parts.push(`--form-string ${sh(`custom_prompt=${s.params.prompt}`)}`);
  } else {
    parts.push(`curl -s ${sh(`${s.base}/api/image/editing/remove-objects-advanced`)}`, `-H "ailabapi-api-key: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image=@${s.fileName}`)}`, "-F mask=@mask.png");
  }
  if (given(s, "steps")) parts.push(`-F steps=${s.params.steps}`);
  if (given(s, "strength")) {
    if (s.params.strength < 0.1) return refused(id, label, "AILabTools takes strength from 0.1");
    parts.push(`-F strength=${s.params.strength}`);
  }
  if (given(s, "guidance_scale")) {
    if (s.params.guidance_scale < 1 || s.params.guidance_scale > 20) return refused(id, label, "AILabTools takes scale 1..20");
    parts.push(`-F scale=${s.params.guidance_scale}`);
  }
  parts.push(`-F seed=${given(s, "seed") ? s.params.seed : -1}`);
  return {
    id,
    label,
    code: lines(parts),
    note: `Synchronous; data.binary_data_base64[0] is the image (PNG, or JPEG for a JPEG photo).${engineNote(s)}`,
  };
}

function kling(s) {
  const id = "kling";
  const label = "Kling";
  if (s.mode !== "expand") return refused(id, label, "Kling's API expands only");
  const problem = fileProblem(s, ["jpeg", "png"], 10, (low) => low >= 300);
  if (problem) return refused(id, label, `Kling ${problem}`);
  if (s.size && (s.size[0] / s.size[1] > 2.5 || s.size[1] / s.size[0] > 2.5)) return refused(id, label, "Kling takes aspect ratios from 1:2.5 to 2.5:1");
  if (!s.size && s.unit === "px") return refused(id, label, "Kling takes side ratios, not pixels");
  const ratios = sideRatios(s);
  if (Object.values(ratios).some((r) => r > 2)) return refused(id, label, "Kling takes side ratios up to 2");
  if (!ratiosExact(s, ratios)) return refused(id, label, "these pixels have no exact ratio");
  if (s.size) {
    const px = sidePixels(s.unit, s.sides, s.size);
    const area = (s.size[0] + px.left + px.right) * (s.size[1] + px.top + px.bottom);
    if (area > 3 * s.size[0] * s.size[1]) return refused(id, label, "Kling's canvas is at most 3x the photo's area");
  }
  const body = {
    up_expansion_ratio: ratios.top,
    down_expansion_ratio: ratios.bottom,
    left_expansion_ratio: ratios.left,
    right_expansion_ratio: ratios.right,
  };
  if (given(s, "prompt")) body.prompt = s.params.prompt;
  if (s.params.n > 1) body.n = s.params.n;
  const rest = JSON.stringify(body).slice(1);
  const code = [
    `# KLING_JWT: an HS256 JWT with iss = your Kling access key, signed with its secret key`,
    `{ printf '{"image":"'; base64 < ${sh(s.fileName)} | tr -d '\\n'; printf '%s' ${sh(`",${rest}`)}; } |`,
    `  curl -s ${sh(`${s.base}/v1/images/editing/expand`)} \\`,
    `  -H "Authorization: Bearer $KLING_JWT" -H "Content-Type: application/json" --data-binary @-`,
  ].join("\n");
  return {
    id,
    label,
    code,
    note: `Answers a task id; poll GET /v1/images/editing/expand/{task_id} until task_status is succeed.${engineNote(s)}`,
  };
}

function stability(s) {
  const id = "stability";
  const label = "Stability-style";
  if (s.mode !== "expand") return refused(id, label, "the outpaint endpoint expands only");
  const problem = fileProblem(s, ["jpeg", "png", "webp"], 10, () => true);
  if (problem) return refused(id, label, `Stability-style outpaint ${problem}`);
  if (s.params.n > 1) return refused(id, label, "Stability-style outpaint makes one image per request");
  if (!s.size && s.unit === "ratio") return refused(id, label, "Stability-style outpaint takes pixels; the browser could not read this image's size");
  const px = s.size ? sidePixels(s.unit, s.sides, s.size) : s.sides;
  if (Object.values(px).some((p) => p > 2000)) return refused(id, label, "Stability-style outpaint adds at most 2000 px per side");
  const parts = [
    `curl -s ${sh(`${s.base}/api/edit/outpaint`)}`,
    `-H "authorization: $CANVASFILL_KEY"`,
    `-F ${sh(`image=@${s.fileName}`)}`,
    `-F left=${px.left} -F right=${px.right} -F up=${px.top} -F down=${px.bottom}`,
  ];
  if (given(s, "prompt")) parts.push(`--form-string ${sh(`prompt=${s.params.prompt}`)}`);
  if (given(s, "seed")) {
    if (Number(s.params.seed) === 0) return refused(id, label, "seed 0 means random there");
    parts.push(`-F seed=${s.params.seed}`);
  }
  if (given(s, "strength")) {
    if (s.params.strength < 0.5) return refused(id, label, "creativity c gives strength 0.5 + 0.5c, so strength below 0.5 cannot be asked");
    parts.push(`-F creativity=${round((s.params.strength - 0.5) * 2, 4)}`);
  }
  parts.push(`-F output_format=${s.outputFormat}`);
  return { id, label, code: lines(parts), note: `Synchronous; data.image is the image, base64.${engineNote(s)}` };
}

function picwish(s) {
  const id = "picwish";
  const label = "PicWish";
  const problem = fileProblem(s, ["jpeg", "png"], 5, (low, high) => low >= 64 && high <= 4096);
  if (problem) return refused(id, label, `PicWish ${problem}`);
  if (s.params.n > 1) return refused(id, label, "PicWish makes one image per request");
  const parts = [];
  if (s.mode === "expand") {
    if (!s.size && s.unit === "px") return refused(id, label, "PicWish takes side ratios, not pixels");
    const ratios = sideRatios(s);
    if (Object.values(ratios).some((r) => r <= 0 || r > 1)) return refused(id, label, "PicWish expands every side, by a ratio above 0 and up to 1");
    if (!ratiosExact(s, ratios)) return refused(id, label, "these pixels have no exact ratio");
    parts.push(`curl -s ${sh(`${s.base}/api/tasks/visual/advanced-image-expand`)}`, `-H "X-API-KEY: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image_file=@${s.fileName}`)}`);
    for (const side of ["top", "bottom", "left", "right"]) parts.push(`-F ${side}=${ratios[side]}`);
    if (given(s, "prompt")) parts.push(`--form-string ${sh(`prompt=${s.params.prompt}`)}`);
    if (given(s, "steps")) parts.push(`-F steps=${s.params.steps}`);
    if (given(s, "strength")) parts.push(`-F strength=${s.params.strength}`);
    if (given(s, "guidance_scale")) {
      if (s.params.guidance_scale < 1 || s.params.guidance_scale > 20) return refused(id, label, "PicWish takes scale 1..20");
      parts.push(`-F scale=${s.params.guidance_scale}`);
    }
  } else {
    parts.push(`curl -s ${sh(`${s.base}/api/tasks/visual/inpaint`)}`, `-H "X-API-KEY: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image_file=@${s.fileName}`)}`);
    if (s.rectangles) parts.push(`-F ${sh(`rectangles=${JSON.stringify(s.rectangles)}`)}`);
    else parts.push("-F mask_file=@mask.png");
  }
  if (given(s, "seed")) parts.push(`-F seed=${s.params.seed}`);
  parts.push("-F sync=1");
  return { id, label, code: lines(parts), note: `With sync=1 it answers the finished task; data.image is the result's URL.${engineNote(s)}` };
}
