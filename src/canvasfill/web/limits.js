// What the native API accepts, checked here so the page refuses before sending what the
// server would refuse anyway. The numbers are the native door's own declarations (its
// fields and image limits), read from the server by useRules() before the page starts.

export const NATIVE = {};

export const EXPAND_PATH = "/v1/expand";
export const REMOVE_PATH = "/v1/remove";

/** Fill NATIVE from the server's rules (a Rules from rules.js). */
export function useRules(rules) {
  const image = rules.image("native");
  const expand = (name) => rules.field("native", EXPAND_PATH, name);
  Object.assign(NATIVE, {
    formats: image.formats,
    maxBytes: image.max_bytes,
    maxSide: image.max_side,
    maxPixels: image.max_pixels,
    maxCanvasPixels: image.max_canvas_pixels,
    maxRatio: expand("ratios").fields.left.maximum,
    maxSidePixels: expand("pixels").fields.left.maximum,
    maxImages: expand("n").maximum,
    maxRectangles: rules.field("native", REMOVE_PATH, "rectangles").maxItems,
    maxPrompt: expand("prompt").maxLength,
    // a field's range as the page offers it (seed -1 is the API's "random" marker)
    ranges: {
      seed: { ...expand("seed"), minimum: Math.max(0, expand("seed").minimum) },
      steps: expand("steps"),
      guidance_scale: expand("guidance_scale"),
      strength: expand("strength"),
      n: expand("n"),
    },
  });
  return NATIVE;
}

export const SIDES = ["left", "right", "top", "bottom"];

/** Pixels the server adds for `ratio` of a `side`-pixel edge (imaging/geometry.py). */
export function ratioToPixels(ratio, side) {
  if (!(ratio > 0)) return 0;
  return Math.max(1, Math.floor(ratio * side + 0.5 + 1e-9));
}

/** The format named by the file's first bytes (what the server decodes by), or null. */
export function sniffFormat(bytes) {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 12 && String.fromCharCode(...b.slice(0, 4)) === "RIFF" &&
      String.fromCharCode(...b.slice(8, 12)) === "WEBP") return "webp";
  if (b.length >= 4 && String.fromCharCode(...b.slice(0, 4)) === "GIF8") return "gif";
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  if (b.length >= 12 && String.fromCharCode(...b.slice(4, 8)) === "ftyp") return "heic or avif";
  return null;
}

/** Why the server would refuse this input file, or null. `size` may be unknown (null). */
export function checkImage(bytes, fileSize, size) {
  if (fileSize > NATIVE.maxBytes) {
    return `the image file is ${(fileSize / 1048576).toFixed(1)} MB; send at most ${NATIVE.maxBytes / 1048576} MB`;
  }
  const format = sniffFormat(bytes);
  if (format && !NATIVE.formats.includes(format)) {
    return `${format} images are not accepted here; send one of: ${NATIVE.formats.join(", ")}`;
  }
  if (size) {
    const [w, h] = size;
    if (w * h > NATIVE.maxPixels) {
      return `the image declares ${w}x${h} pixels, more than this service decodes; send a smaller image`;
    }
    if (Math.max(w, h) > NATIVE.maxSide) {
      return `the image is ${w}x${h}; each side must be at most ${NATIVE.maxSide} px`;
    }
  }
  return null;
}

/** Why the server would refuse this expansion, or null. */
export function checkExpansion(unit, sides, size) {
  for (const side of SIDES) {
    const value = sides[side];
    if (!Number.isFinite(value) || value < 0) return `${side} must be a number of 0 or more`;
    if (unit === "ratio" && value > NATIVE.maxRatio) return `${side}: a ratio is at most ${NATIVE.maxRatio}`;
    if (unit === "px" && (value > NATIVE.maxSidePixels || !Number.isInteger(value))) {
      return `${side}: pixels are a whole number up to ${NATIVE.maxSidePixels}`;
    }
  }
  if (!SIDES.some((side) => sides[side] > 0)) return "at least one side must be expanded by more than 0";
  if (size) {
    const out = outputSize(unit, sides, size);
    if (out[0] * out[1] > NATIVE.maxCanvasPixels) {
      return `the expanded canvas ${out[0]}x${out[1]} has more than ${NATIVE.maxCanvasPixels.toLocaleString("en")} pixels; ask for a smaller expansion`;
    }
  }
  return null;
}

/** Pixels per side as the server will compute them. */
export function sidePixels(unit, sides, size) {
  const [w, h] = size;
  if (unit === "px") return { ...sides };
  return {
    left: ratioToPixels(sides.left, w),
    right: ratioToPixels(sides.right, w),
    top: ratioToPixels(sides.top, h),
    bottom: ratioToPixels(sides.bottom, h),
  };
}

export function outputSize(unit, sides, size) {
  const px = sidePixels(unit, sides, size);
  return [size[0] + px.left + px.right, size[1] + px.top + px.bottom];
}

/** Sides (pixels) that grow `size` to `aspect` (w/h) around the photo, centred. */
export function presetPixels(aspect, size) {
  const [w, h] = size;
  if (w / h < aspect) {
    const extra = Math.max(0, Math.round(h * aspect) - w);
    const left = Math.floor(extra / 2);
    return { left, right: extra - left, top: 0, bottom: 0 };
  }
  const extra = Math.max(0, Math.round(w / aspect) - h);
  const top = Math.floor(extra / 2);
  return { left: 0, right: 0, top, bottom: extra - top };
}
