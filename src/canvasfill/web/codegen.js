// "Copy as code": the current settings as a command for the native API and for each
// vendor dialect that can express them. Every field name, range and image limit used
// here is the door's own declaration, read from the server (rules.js); a dialect that
// cannot express the settings says why instead of sending something else.
import { inRange, rangeText } from "./rules.js";
import { ratioToPixels, sidePixels, sniffFormat } from "./limits.js";

/** A word for a POSIX shell, single-quoted when it needs to be. */
export function sh(text) {
  const value = String(text);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** A Python string literal (JSON's escapes are Python's for these characters). */
export function py(text) {
  return JSON.stringify(String(text)).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A file name safe inside curl's -F syntax (no quotes, commas or semicolons). */
export function fileName(name, fallback) {
  return name && /^[A-Za-z0-9_. -]+$/.test(name) && !name.startsWith("-") ? name : fallback;
}

function lines(parts) {
  return parts.filter(Boolean).join(" \\\n  ");
}

const round = (value, digits = 4) => Number(value.toFixed(digits));
const SIDE_NAMES = ["left", "right", "top", "bottom"];
const ENDPOINTS = {
  native: { expand: "/v1/expand", remove: "/v1/remove" },
  ailab: { expand: "/api/image/editing/ai-image-extender", remove: "/api/image/editing/remove-objects-advanced" },
  kling: { expand: "/v1/images/editing/expand" },
  stability: { expand: "/api/edit/outpaint" },
  picwish: { expand: "/api/tasks/visual/advanced-image-expand", remove: "/api/tasks/visual/inpaint" },
  openai: { expand: "/v1/images/edits", remove: "/v1/images/edits" },
  "stability-v2": {
    expand: "/v2beta/stable-image/edit/outpaint",
    remove: "/v2beta/stable-image/edit/erase",
    inpaint: "/v2beta/stable-image/edit/inpaint",
  },
};
/** Where each door's create operations live (the test checks them against the server). */
export { ENDPOINTS };

/**
 * @param {object} s  settings: rules (Rules), base, mode, unit, sides, size, fileName,
 *   fileBytes (first bytes), fileSize, engine, engineDefault, honoured (Set), params,
 *   outputFormat, rectangles (or null)
 * @returns {Array<{id, label, code, note, language}>}  code is null when the dialect
 *   cannot express the settings
 */
export function commandsFor(s) {
  return [native, ailab, kling, stability, picwish, openai, stabilityV2].map((make) => {
    try {
      return make(s);
    } catch (error) {
      return refused(make.id, make.label, error.message);
    }
  });
}

function given(s, name) {
  const value = s.params[name];
  return s.honoured.has(name) && value !== "" && value !== null && value !== undefined;
}

function field(s, door, path, name) {
  return s.rules.field(door, path, name);
}

/** Null, or why `value` is outside the range `door` declares for `name` at `path`. */
function outside(s, door, path, name, value, label) {
  const rule = field(s, door, path, name);
  return inRange(rule, value) ? null : `${label} takes ${name} ${rangeText(rule)}`;
}

function refused(id, label, reason) {
  return { id, label, code: null, language: "shell", note: `Cannot express these settings: ${reason}.` };
}

function engineNote(s) {
  return s.engine && s.engine !== s.engineDefault
    ? ` It runs the server's default engine (${s.engineDefault}), not ${s.engine}.`
    : "";
}

/** Why the door's image limits refuse the photo, or null. */
function fileProblem(s, door, label) {
  const image = s.rules.image(door);
  const format = sniffFormat(s.fileBytes);
  if (format && !image.formats.includes(format)) return `${label} takes ${image.formats.join(" or ")} images only`;
  if (s.fileSize > image.max_bytes) return `${label} takes files up to ${round(image.max_bytes / 1048576, 1)} MB`;
  if (s.size) {
    const low = Math.min(...s.size);
    const high = Math.max(...s.size);
    const small = image.min_side_exclusive ? low <= image.min_side : low < image.min_side;
    const large = image.max_side_exclusive ? high >= image.max_side : high > image.max_side;
    if (small || large) return `${label} does not take an image of this size`;
    const aspect = s.size[0] / s.size[1];
    if ((image.min_aspect && aspect < image.min_aspect) || (image.max_aspect && aspect > image.max_aspect)) {
      return `${label} takes aspect ratios from 1:${round(1 / image.min_aspect, 2)} to ${round(image.max_aspect, 2)}:1`;
    }
  }
  return null;
}

/** The page's parameters this door has no field for (and cannot express), or null. */
function unexpressed(s, door, path, label, names) {
  for (const [param, fieldName] of Object.entries(names)) {
    if (param === "n" ? s.params.n > 1 : given(s, param)) {
      if (!fieldName || !s.rules.has(door, path, fieldName)) return `${label} has no ${param} field`;
    }
  }
  return null;
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

/** The sides in pixels, or throws when the browser could not read the photo's size. */
function pixelSides(s, label) {
  if (!s.size && s.unit === "ratio") throw new Error(`${label} takes pixels; the browser could not read this image's size`);
  return s.size ? sidePixels(s.unit, s.sides, s.size) : s.sides;
}

function native(s) {
  const op = s.mode;
  const path = ENDPOINTS.native[op];
  const parts = [
    `curl -s ${sh(`${s.base}${path}`)}`,
    `-H "Authorization: Bearer $CANVASFILL_KEY" -H "Prefer: wait=60"`,
    `-F ${sh(`image=@${s.fileName}`)}`,
  ];
  if (op === "expand") {
    const sides = Object.fromEntries(SIDE_NAMES.map((k) => [k, s.sides[k]]));
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
    language: "shell",
    code: lines(parts),
    note: "Answers the finished task as JSON; results[].url is each image.",
  };
}
native.id = "native";
native.label = "canvasfill";

function ailab(s) {
  const id = "ailab";
  const label = "AILabTools";
  const path = ENDPOINTS.ailab[s.mode];
  const problem = fileProblem(s, id, label) ||
    unexpressed(s, id, path, label, { n: null, negative_prompt: null, steps: "steps", strength: "strength", guidance_scale: "scale", seed: "seed" });
  if (problem) return refused(id, label, problem);
  const parts = [];
  if (s.mode === "expand") {
    if (!s.size && s.unit === "px") return refused(id, label, `${label} takes side ratios, not pixels`);
    const ratios = sideRatios(s);
    for (const side of SIDE_NAMES) {
      const why = outside(s, id, path, side, ratios[side], label);
      if (why) return refused(id, label, why);
    }
    if (!ratiosExact(s, ratios)) return refused(id, label, "these pixels have no exact ratio");
    parts.push(`curl -s ${sh(`${s.base}${path}`)}`, `-H "ailabapi-api-key: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image=@${s.fileName}`)}`);
    for (const side of ["top", "bottom", "left", "right"]) parts.push(`-F ${side}=${ratios[side]}`);
    parts.push("-F max_width=0 -F max_height=0");
    if (given(s, "prompt")) parts.push(`--form-string ${sh(`custom_prompt=${s.params.prompt}`)}`);
  } else {
    if (given(s, "prompt")) return refused(id, label, `${label}'s removal has no prompt field`);
    parts.push(`curl -s ${sh(`${s.base}${path}`)}`, `-H "ailabapi-api-key: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image=@${s.fileName}`)}`, "-F mask=@mask.png");
  }
  for (const [param, name] of [["steps", "steps"], ["strength", "strength"], ["guidance_scale", "scale"]]) {
    if (!given(s, param)) continue;
    const why = outside(s, id, path, name, s.params[param], label);
    if (why) return refused(id, label, why);
    parts.push(`-F ${name}=${s.params[param]}`);
  }
  parts.push(`-F seed=${given(s, "seed") ? s.params.seed : -1}`);
  return {
    id,
    label,
    language: "shell",
    code: lines(parts),
    note: `Synchronous; data.binary_data_base64[0] is the image (PNG, or JPEG for a JPEG photo).${engineNote(s)}`,
  };
}
ailab.id = "ailab";
ailab.label = "AILabTools";

function kling(s) {
  const id = "kling";
  const label = "Kling";
  if (s.mode !== "expand") return refused(id, label, "Kling's API expands only");
  const path = ENDPOINTS.kling.expand;
  const problem = fileProblem(s, id, label) ||
    unexpressed(s, id, path, label, { n: "n", prompt: "prompt", negative_prompt: null, seed: null, steps: null, strength: null, guidance_scale: null });
  if (problem) return refused(id, label, problem);
  if (!s.size && s.unit === "px") return refused(id, label, "Kling takes side ratios, not pixels");
  const ratios = sideRatios(s);
  const names = { top: "up_expansion_ratio", bottom: "down_expansion_ratio", left: "left_expansion_ratio", right: "right_expansion_ratio" };
  for (const side of SIDE_NAMES) {
    const why = outside(s, id, path, names[side], ratios[side], label);
    if (why) return refused(id, label, why);
  }
  if (!ratiosExact(s, ratios)) return refused(id, label, "these pixels have no exact ratio");
  const growth = s.rules.image(id).max_area_growth;
  if (s.size && growth) {
    const px = sidePixels(s.unit, s.sides, s.size);
    const area = (s.size[0] + px.left + px.right) * (s.size[1] + px.top + px.bottom);
    if (area > growth * s.size[0] * s.size[1]) return refused(id, label, `Kling's canvas is at most ${growth}x the photo's area`);
  }
  if (s.params.n > 1) {
    const why = outside(s, id, path, "n", s.params.n, label);
    if (why) return refused(id, label, why);
  }
  const body = Object.fromEntries(["top", "bottom", "left", "right"].map((side) => [names[side], ratios[side]]));
  if (given(s, "prompt")) body.prompt = s.params.prompt;
  if (s.params.n > 1) body.n = s.params.n;
  const rest = JSON.stringify(body).slice(1);
  const code = [
    `# KLING_JWT: an HS256 JWT with iss = your Kling access key, signed with its secret key`,
    `{ printf '{"image":"'; base64 < ${sh(s.fileName)} | tr -d '\\n'; printf '%s' ${sh(`",${rest}`)}; } |`,
    `  curl -s ${sh(`${s.base}${path}`)} \\`,
    `  -H "Authorization: Bearer $KLING_JWT" -H "Content-Type: application/json" --data-binary @-`,
  ].join("\n");
  return {
    id,
    label,
    language: "shell",
    code,
    note: `Answers a task id; poll GET ${path}/{task_id} until task_status is succeed.${engineNote(s)}`,
  };
}
kling.id = "kling";
kling.label = "Kling";

/** Stability's creativity c gives strength 0.5 + 0.5c (api/dialects/stability.py). */
function creativity(s, id, path, label) {
  const value = round((s.params.strength - 0.5) * 2, 4);
  const why = outside(s, id, path, "creativity", value, label);
  if (why) throw new Error(`creativity c gives strength 0.5 + 0.5c, so strength below 0.5 cannot be asked`);
  return value;
}

function stability(s) {
  const id = "stability";
  const label = "Stability-style";
  if (s.mode !== "expand") return refused(id, label, "the outpaint endpoint expands only");
  const path = ENDPOINTS.stability.expand;
  const problem = fileProblem(s, id, `${label} outpaint`) ||
    unexpressed(s, id, path, `${label} outpaint`, { n: null, negative_prompt: null, steps: null, guidance_scale: null, prompt: "prompt", seed: "seed", strength: "creativity" });
  if (problem) return refused(id, label, problem);
  const px = pixelSides(s, `${label} outpaint`);
  const names = { left: "left", right: "right", top: "up", bottom: "down" };
  for (const side of SIDE_NAMES) {
    const why = outside(s, id, path, names[side], px[side], `${label} outpaint`);
    if (why) return refused(id, label, why);
  }
  const parts = [
    `curl -s ${sh(`${s.base}${path}`)}`,
    `-H "authorization: $CANVASFILL_KEY"`,
    `-F ${sh(`image=@${s.fileName}`)}`,
    `-F left=${px.left} -F right=${px.right} -F up=${px.top} -F down=${px.bottom}`,
  ];
  if (given(s, "prompt")) parts.push(`--form-string ${sh(`prompt=${s.params.prompt}`)}`);
  if (given(s, "seed")) {
    if (Number(s.params.seed) === 0) return refused(id, label, "seed 0 means random there");
    parts.push(`-F seed=${s.params.seed}`);
  }
  if (given(s, "strength")) parts.push(`-F creativity=${creativity(s, id, path, label)}`);
  parts.push(`-F output_format=${s.outputFormat}`);
  return { id, label, language: "shell", code: lines(parts), note: `Synchronous; data.image is the image, base64.${engineNote(s)}` };
}
stability.id = "stability";
stability.label = "Stability-style";

function picwish(s) {
  const id = "picwish";
  const label = "PicWish";
  const path = ENDPOINTS.picwish[s.mode];
  const problem = fileProblem(s, id, label) ||
    unexpressed(s, id, path, label, { n: null, negative_prompt: null, prompt: "prompt", steps: "steps", strength: "strength", guidance_scale: "scale", seed: "seed" });
  if (problem) return refused(id, label, problem);
  const parts = [];
  if (s.mode === "expand") {
    if (!s.size && s.unit === "px") return refused(id, label, "PicWish takes side ratios, not pixels");
    const ratios = sideRatios(s);
    for (const side of SIDE_NAMES) {
      if (!inRange(field(s, id, path, side), ratios[side])) {
        return refused(id, label, `PicWish expands every side, by a ratio ${rangeText(field(s, id, path, side))}`);
      }
    }
    if (!ratiosExact(s, ratios)) return refused(id, label, "these pixels have no exact ratio");
    parts.push(`curl -s ${sh(`${s.base}${path}`)}`, `-H "X-API-KEY: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image_file=@${s.fileName}`)}`);
    for (const side of ["top", "bottom", "left", "right"]) parts.push(`-F ${side}=${ratios[side]}`);
    if (given(s, "prompt")) parts.push(`--form-string ${sh(`prompt=${s.params.prompt}`)}`);
    for (const [param, name] of [["steps", "steps"], ["strength", "strength"], ["guidance_scale", "scale"]]) {
      if (!given(s, param)) continue;
      const why = outside(s, id, path, name, s.params[param], label);
      if (why) return refused(id, label, why);
      parts.push(`-F ${name}=${s.params[param]}`);
    }
  } else {
    parts.push(`curl -s ${sh(`${s.base}${path}`)}`, `-H "X-API-KEY: $CANVASFILL_KEY"`);
    parts.push(`-F ${sh(`image_file=@${s.fileName}`)}`);
    if (s.rectangles) parts.push(`-F ${sh(`rectangles=${JSON.stringify(s.rectangles)}`)}`);
    else parts.push("-F mask_file=@mask.png");
  }
  if (given(s, "seed")) parts.push(`-F seed=${s.params.seed}`);
  parts.push("-F sync=1");
  return { id, label, language: "shell", code: lines(parts), note: `With sync=1 it answers the finished task; data.image is the result's URL.${engineNote(s)}` };
}
picwish.id = "picwish";
picwish.label = "PicWish";

/** The Python lines that build OpenAI's `image` (and `mask`) from the page's settings. */
function openaiInputs(s) {
  const photo = py(s.fileName);
  if (s.mode === "expand") {
    const px = pixelSides(s, "OpenAI");
    if (!s.size) throw new Error("the browser could not read this image's size, so the canvas cannot be sized");
    const [w, h] = [s.size[0] + px.left + px.right, s.size[1] + px.top + px.bottom];
    return {
      setup: [
        "# OpenAI fills transparent pixels: the photo on a larger, transparent canvas",
        `photo = Image.open(${photo}).convert("RGBA")`,
        `canvas = Image.new("RGBA", (${w}, ${h}), (0, 0, 0, 0))`,
        `canvas.paste(photo, (${px.left}, ${px.top}))`,
        "image = io.BytesIO()",
        'canvas.save(image, format="PNG")',
      ],
      args: ['image=("canvas.png", image.getvalue(), "image/png")'],
    };
  }
  const setup = [
    "# OpenAI fills the mask's fully transparent pixels; the rest stays",
    `photo = Image.open(${photo})`,
    'mask = Image.new("RGBA", photo.size, (0, 0, 0, 255))',
  ];
  if (s.rectangles) {
    const boxes = s.rectangles.map((r) => `(${r.x}, ${r.y}, ${r.width}, ${r.height})`).join(", ");
    setup.push(
      "draw = ImageDraw.Draw(mask)",
      `for x, y, w, h in [${boxes}]:`,
      "    draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(0, 0, 0, 0))",
    );
  } else {
    setup.push(
      '# mask.png (Download mask.png below) is white where to fill',
      'painted = Image.open("mask.png").convert("L")',
      "mask.putalpha(painted.point(lambda v: 0 if v >= 128 else 255))",
    );
  }
  setup.push("mask_png = io.BytesIO()", 'mask.save(mask_png, format="PNG")');
  return { setup, args: [`image=open(${photo}, "rb")`, 'mask=("mask.png", mask_png.getvalue(), "image/png")'] };
}

function openai(s) {
  const id = "openai";
  const label = "OpenAI (Python)";
  const path = ENDPOINTS.openai[s.mode];
  const problem = fileProblem(s, id, "OpenAI") ||
    unexpressed(s, id, path, "OpenAI's image edit", { negative_prompt: null, seed: null, steps: null, strength: null, guidance_scale: null, n: "n", prompt: "prompt" });
  if (problem) return refused(id, label, problem);
  if (s.params.n > 1) {
    const why = outside(s, id, path, "n", s.params.n, "OpenAI");
    if (why) return refused(id, label, why);
  }
  if (!field(s, id, path, "output_format").enum.includes(s.outputFormat)) {
    return refused(id, label, `OpenAI has no output_format ${s.outputFormat}`);
  }
  const inputs = openaiInputs(s);
  // OpenAI requires a prompt; an engine that honours none records it
  const prompt = given(s, "prompt") ? s.params.prompt : "fill the transparent area to match the photo";
  const args = [...inputs.args, `prompt=${py(prompt)}`];
  if (s.engine) args.push(`model=${py(s.engine)}`);
  if (s.params.n > 1) args.push(`n=${s.params.n}`);
  args.push(`output_format=${py(s.outputFormat)}`);
  const ext = s.outputFormat === "jpeg" ? "jpg" : s.outputFormat;
  const imports = ["import base64", "import io", "import os", "", "from openai import OpenAI"];
  imports.push(s.mode === "remove" && s.rectangles ? "from PIL import Image, ImageDraw" : "from PIL import Image");
  const base = `${s.base}${path.slice(0, path.indexOf("/images/"))}`;
  const code = [
    "# pip install openai pillow",
    ...imports,
    "",
    `client = OpenAI(base_url=${py(base)}, api_key=os.environ["CANVASFILL_KEY"])`,
    "",
    ...inputs.setup,
    "",
    "result = client.images.edit(",
    ...args.map((arg) => `    ${arg},`),
    ")",
    "for index, item in enumerate(result.data, 1):",
    `    with open(f"result-{index}.${ext}", "wb") as out:`,
    "        out.write(base64.b64decode(item.b64_json))",
  ].join("\n");
  const modelNote = s.engine ? "" : " Without model, the server's default engine runs.";
  return {
    id,
    label,
    language: "python",
    code,
    note: `Only base_url and api_key differ from a script written for OpenAI; result-N.${ext} are the images.${modelNote}`,
  };
}
openai.id = "openai";
openai.label = "OpenAI (Python)";

function stabilityV2(s) {
  const id = "stability-v2";
  const label = "Stability v2beta";
  const inpaint = s.mode === "remove" && given(s, "prompt");
  const path = inpaint ? ENDPOINTS[id].inpaint : ENDPOINTS[id][s.mode];
  const problem = fileProblem(s, id, label) ||
    unexpressed(s, id, path, `${label} ${path.split("/").pop()}`, {
      n: null,
      steps: null,
      guidance_scale: null,
      prompt: "prompt",
      negative_prompt: "negative_prompt",
      seed: "seed",
      strength: s.mode === "expand" ? "creativity" : null,
    });
  if (problem) return refused(id, label, problem);
  if (!field(s, id, path, "output_format").enum.includes(s.outputFormat)) {
    return refused(id, label, `${label} has no output_format ${s.outputFormat}`);
  }
  const parts = [
    `curl -f -sS ${sh(`${s.base}${path}`)}`,
    `-H "authorization: Bearer $CANVASFILL_KEY" -H "accept: image/*"`,
    `-F ${sh(`image=@${s.fileName}`)}`,
  ];
  if (s.mode === "expand") {
    const px = pixelSides(s, label);
    const names = { left: "left", right: "right", top: "up", bottom: "down" };
    for (const side of SIDE_NAMES) {
      const why = outside(s, id, path, names[side], px[side], label);
      if (why) return refused(id, label, why);
    }
    parts.push(SIDE_NAMES.map((side) => `-F ${names[side]}=${px[side]}`).join(" "));
    if (given(s, "prompt")) parts.push(`--form-string ${sh(`prompt=${s.params.prompt}`)}`);
    if (given(s, "strength")) parts.push(`-F creativity=${creativity(s, id, path, label)}`);
  } else {
    // the page's mask is the fill as drawn; Stability grows it by 5 px unless told
    parts.push("-F mask=@mask.png -F grow_mask=0");
    for (const name of ["prompt", "negative_prompt"]) {
      if (given(s, name)) parts.push(`--form-string ${sh(`${name}=${s.params[name]}`)}`);
    }
  }
  if (given(s, "seed")) {
    if (Number(s.params.seed) === 0) return refused(id, label, "seed 0 means random there");
    const why = outside(s, id, path, "seed", s.params.seed, label);
    if (why) return refused(id, label, why);
    parts.push(`-F seed=${s.params.seed}`);
  }
  const ext = s.outputFormat === "jpeg" ? "jpg" : s.outputFormat;
  parts.push(`-F output_format=${s.outputFormat}`, `-o result.${ext}`);
  return {
    id,
    label,
    language: "shell",
    code: lines(parts),
    note: `Synchronous; writes result.${ext}, and answers the seed in a header (accept: application/json answers {image, seed}).${engineNote(s)}`,
  };
}
stabilityV2.id = "stability-v2";
stabilityV2.label = "Stability v2beta";
