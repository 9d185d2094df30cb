// The canvas editor: the photo at fit-to-view with zoom and pan; in expand mode the
// larger canvas with a drag handle on each edge; in remove mode a mask painted with a
// brush, an eraser or rectangles, kept as a list of operations (undo/redo replays them).

const MASK_TINT = "rgba(255, 64, 112, 1)";
const MASK_ALPHA = 0.5;
const MIN_SCALE = 0.02;
const MAX_SCALE = 32;
const HISTORY_LIMIT = 200;

export class Editor {
  /**
   * @param {HTMLElement} stage  the element the canvas fills
   * @param {object} hooks  onHandleDrag(side, pixels), onHandleDone(), onMaskChange(), onZoom(scale)
   */
  constructor(stage, hooks) {
    this.stage = stage;
    this.hooks = hooks;
    this.canvas = stage.querySelector("canvas");
    this.ctx = this.canvas.getContext("2d");
    this.handles = {};
    for (const side of ["left", "right", "top", "bottom"]) {
      const handle = stage.querySelector(`[data-side="${side}"]`);
      this.handles[side] = handle;
      handle.addEventListener("pointerdown", (event) => this.startHandleDrag(event, side));
    }
    this.frameLabel = stage.querySelector(".frame-size");
    this.toolbar = stage.querySelector(".toolbar");
    this.cursor = stage.querySelector(".brush-cursor");
    this.image = null;
    this.size = null;
    this.mode = "expand";
    this.sides = { left: 0, right: 0, top: 0, bottom: 0 };
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.tool = "brush";
    this.brush = 40;
    this.ops = [];
    this.undone = [];
    this.live = null;
    this.spaceDown = false;
    this.maskCanvas = document.createElement("canvas");
    this.checker = null;
    this.canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    this.canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    this.canvas.addEventListener("pointerup", (event) => this.pointerUp(event));
    this.canvas.addEventListener("pointercancel", (event) => this.pointerUp(event));
    this.canvas.addEventListener("pointerleave", () => this.hideCursor());
    this.canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    this.canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    new ResizeObserver(() => this.resize()).observe(stage);
    this.resize();
  }

  // --- the document ------------------------------------------------------------------

  setImage(image, size) {
    this.image = image;
    this.size = size;
    this.ops = [];
    this.undone = [];
    if (size) {
      this.maskCanvas.width = size[0];
      this.maskCanvas.height = size[1];
    }
    this.renderMask();
    this.fit();
  }

  setMode(mode) {
    this.mode = mode;
    this.stage.dataset.mode = mode;
    this.fit();
  }

  /** Pixels to add on each side (expand mode), as the server will compute them. */
  setSides(sides, { refit = false } = {}) {
    this.sides = { ...sides };
    if (refit) this.fit();
    else this.draw();
  }

  /** The document's bounds in image pixels: the canvas in expand mode, else the photo. */
  bounds() {
    const [w, h] = this.size || [0, 0];
    if (this.mode !== "expand") return { x: 0, y: 0, w, h };
    const s = this.sides;
    return { x: -s.left, y: -s.top, w: w + s.left + s.right, h: h + s.top + s.bottom };
  }

  // --- the view ----------------------------------------------------------------------

  /** Size the canvas to the stage; true when the stage was hidden (0 x 0) until now. */
  measure() {
    const rect = this.stage.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const wasHidden = !(this.width > 1 && this.height > 1);
    const width = Math.max(1, rect.width);
    const height = Math.max(1, rect.height);
    if (width !== this.width || height !== this.height || ratio !== this.pixelRatio) {
      this.width = width;
      this.height = height;
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
      this.pixelRatio = ratio;
    }
    return wasHidden && width > 1 && height > 1;
  }

  resize() {
    // a stage that was hidden (the result view was shown) had no size to fit into
    const shown = this.measure();
    if (!this.fitted || shown) this.fit();
    else this.draw();
  }

  /** Where the document may lie: inside the stage, above the floating toolbar, with
   * room around it for the expand handles. */
  safeArea() {
    const pad = this.mode === "expand" ? 56 : 32;
    const bar = this.toolbar && !this.toolbar.hidden ? this.toolbar.getBoundingClientRect() : null;
    const stage = this.stage.getBoundingClientRect();
    // the handles stick out 7 px: keep the bottom one above the bar, with a gap
    const below = bar && bar.height ? stage.bottom - bar.top + (this.mode === "expand" ? 20 : 8) : pad;
    return { left: pad, top: pad, right: this.width - pad, bottom: this.height - Math.max(pad, below) };
  }

  fit() {
    this.measure(); // the stage may have been hidden since the last resize
    if (!this.size) {
      this.draw();
      return;
    }
    const b = this.bounds();
    const area = this.safeArea();
    const scale = Math.min((area.right - area.left) / b.w, (area.bottom - area.top) / b.h);
    this.scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, scale));
    this.tx = (area.left + area.right - b.w * this.scale) / 2 - b.x * this.scale;
    this.ty = (area.top + area.bottom - b.h * this.scale) / 2 - b.y * this.scale;
    this.fitted = true;
    this.draw();
    this.hooks.onZoom?.(this.scale);
  }

  /** Whether the whole document is visible in the stage, clear of the toolbar. */
  fits() {
    const b = this.bounds();
    const area = this.safeArea();
    const x0 = b.x * this.scale + this.tx;
    const y0 = b.y * this.scale + this.ty;
    return x0 >= 0 && y0 >= 0 && x0 + b.w * this.scale <= this.width && y0 + b.h * this.scale <= area.bottom + 1;
  }

  zoomAt(factor, cx = this.width / 2, cy = this.height / 2) {
    const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, this.scale * factor));
    const k = scale / this.scale;
    this.tx = cx - (cx - this.tx) * k;
    this.ty = cy - (cy - this.ty) * k;
    this.scale = scale;
    this.draw();
    this.hooks.onZoom?.(this.scale);
  }

  wheel(event) {
    if (!this.size) return;
    event.preventDefault();
    const rect = this.canvas.getBoundingClientRect();
    if (event.ctrlKey || event.metaKey || Math.abs(event.deltaY) >= Math.abs(event.deltaX)) {
      const factor = Math.exp(-event.deltaY * (event.ctrlKey ? 0.01 : 0.0015));
      this.zoomAt(factor, event.clientX - rect.left, event.clientY - rect.top);
    } else {
      this.tx -= event.deltaX;
      this.draw();
    }
  }

  toDoc(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [
      (event.clientX - rect.left - this.tx) / this.scale,
      (event.clientY - rect.top - this.ty) / this.scale,
    ];
  }

  // --- pointer input -----------------------------------------------------------------

  pointerDown(event) {
    if (!this.size) return;
    const panning = event.button === 1 || event.button === 2 || this.spaceDown || this.mode !== "remove";
    this.canvas.setPointerCapture(event.pointerId);
    if (panning) {
      this.live = { kind: "pan", x: event.clientX, y: event.clientY, tx: this.tx, ty: this.ty };
      this.stage.classList.add("panning");
      return;
    }
    if (event.button !== 0) return;
    const [x, y] = this.toDoc(event);
    if (this.tool === "rect") {
      this.live = { kind: "rect", x0: x, y0: y, x1: x, y1: y };
    } else {
      this.live = {
        kind: "stroke",
        erase: this.tool === "eraser",
        width: this.brush / this.scale,
        points: [[x, y]],
      };
    }
    this.draw();
  }

  pointerMove(event) {
    this.moveCursor(event);
    const live = this.live;
    if (!live) return;
    if (live.kind === "pan") {
      this.tx = live.tx + event.clientX - live.x;
      this.ty = live.ty + event.clientY - live.y;
    } else if (live.kind === "rect") {
      [live.x1, live.y1] = this.toDoc(event);
    } else {
      live.points.push(this.toDoc(event));
    }
    this.draw();
  }

  pointerUp(event) {
    const live = this.live;
    this.live = null;
    this.stage.classList.remove("panning");
    if (this.canvas.hasPointerCapture(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
    if (!live || live.kind === "pan") return;
    if (live.kind === "rect") {
      const rect = this.clampRect(live);
      if (rect) this.push({ kind: "rect", ...rect });
    } else {
      this.push({ kind: "stroke", erase: live.erase, width: live.width, points: live.points });
    }
  }

  clampRect(live) {
    const [w, h] = this.size;
    const x0 = Math.max(0, Math.round(Math.min(live.x0, live.x1)));
    const y0 = Math.max(0, Math.round(Math.min(live.y0, live.y1)));
    const x1 = Math.min(w, Math.round(Math.max(live.x0, live.x1)));
    const y1 = Math.min(h, Math.round(Math.max(live.y0, live.y1)));
    if (x1 - x0 < 1 || y1 - y0 < 1) return null;
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }

  moveCursor(event) {
    if (this.mode !== "remove" || this.tool === "rect" || !this.size) return this.hideCursor();
    const rect = this.canvas.getBoundingClientRect();
    const size = this.brush;
    this.cursor.style.display = "block";
    this.cursor.style.width = `${size}px`;
    this.cursor.style.height = `${size}px`;
    this.cursor.style.transform = `translate(${event.clientX - rect.left - size / 2}px, ${event.clientY - rect.top - size / 2}px)`;
  }

  hideCursor() {
    this.cursor.style.display = "none";
  }

  // --- expand handles ----------------------------------------------------------------

  startHandleDrag(event, side) {
    if (!this.size || this.mode !== "expand") return;
    event.preventDefault();
    event.stopPropagation();
    const handle = this.handles[side];
    handle.setPointerCapture(event.pointerId);
    const start = { x: event.clientX, y: event.clientY, value: this.sides[side] };
    const move = (moveEvent) => {
      const dx = (moveEvent.clientX - start.x) / this.scale;
      const dy = (moveEvent.clientY - start.y) / this.scale;
      const delta = { left: -dx, right: dx, top: -dy, bottom: dy }[side];
      this.hooks.onHandleDrag(side, Math.max(0, start.value + delta));
    };
    const up = () => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
      this.stage.classList.remove("dragging");
      if (!this.fits()) this.fit();
      this.hooks.onHandleDone?.();
    };
    this.stage.classList.add("dragging");
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  }

  placeHandles() {
    const show = this.mode === "expand" && this.size;
    for (const [side, handle] of Object.entries(this.handles)) {
      handle.hidden = !show;
      if (!show) continue;
      const b = this.bounds();
      const x0 = b.x * this.scale + this.tx;
      const y0 = b.y * this.scale + this.ty;
      const x1 = x0 + b.w * this.scale;
      const y1 = y0 + b.h * this.scale;
      const at = {
        left: [x0, (y0 + y1) / 2],
        right: [x1, (y0 + y1) / 2],
        top: [(x0 + x1) / 2, y0],
        bottom: [(x0 + x1) / 2, y1],
      }[side];
      handle.style.transform = `translate(${at[0]}px, ${at[1]}px) translate(-50%, -50%)`;
    }
  }

  // --- mask operations ---------------------------------------------------------------

  push(op) {
    this.ops.push(op);
    if (this.ops.length > HISTORY_LIMIT) this.ops.shift();
    this.undone = [];
    this.renderMask();
    this.hooks.onMaskChange?.();
  }

  undo() {
    if (!this.ops.length) return;
    this.undone.push(this.ops.pop());
    this.renderMask();
    this.hooks.onMaskChange?.();
  }

  redo() {
    if (!this.undone.length) return;
    this.ops.push(this.undone.pop());
    this.renderMask();
    this.hooks.onMaskChange?.();
  }

  clear() {
    if (!this.ops.length) return;
    this.push({ kind: "clear" });
  }

  /** Add a mask the server found (white = fill, the photo's size) as one undoable step. */
  addMaskImage(image) {
    const [w, h] = this.size;
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(image, 0, 0, w, h);
    const pixels = ctx.getImageData(0, 0, w, h);
    const data = pixels.data;
    let marked = 0;
    for (let i = 0; i < data.length; i += 4) {
      const on = data[i] >= 128;
      marked += on;
      data[i] = data[i + 1] = data[i + 2] = 255;
      data[i + 3] = on ? 255 : 0; // the same threshold the server reads a mask with
    }
    ctx.putImageData(pixels, 0, 0);
    this.push({ kind: "image", alpha: canvas, tints: {} });
    return marked;
  }

  /** The operations since the last clear. */
  activeOps() {
    const last = this.ops.map((op) => op.kind).lastIndexOf("clear");
    return this.ops.slice(last + 1);
  }

  hasMask() {
    return this.activeOps().length > 0;
  }

  /** The mask as boxes, when it is made of rectangles only (the API takes them as JSON). */
  rectangles() {
    const ops = this.activeOps();
    if (!ops.length || ops.some((op) => op.kind !== "rect")) return null;
    return ops.map(({ x, y, width, height }) => ({ x, y, width, height }));
  }

  static paint(ctx, ops, colour, erase) {
    for (const op of ops) {
      ctx.globalCompositeOperation = op.erase ? erase : "source-over";
      ctx.fillStyle = op.erase && erase === "source-over" ? "#000" : colour;
      ctx.strokeStyle = ctx.fillStyle;
      if (op.kind === "rect") {
        ctx.fillRect(op.x, op.y, op.width, op.height);
      } else if (op.kind === "image") {
        ctx.drawImage(Editor.tinted(op, colour), 0, 0);
      } else if (op.kind === "stroke") {
        ctx.lineWidth = op.width;
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        ctx.beginPath();
        const [first, ...rest] = op.points;
        ctx.moveTo(first[0], first[1]);
        if (!rest.length) ctx.lineTo(first[0] + 0.01, first[1]);
        for (const [x, y] of rest) ctx.lineTo(x, y);
        ctx.stroke();
      }
    }
    ctx.globalCompositeOperation = "source-over";
  }

  /** A found mask in `colour` where it marks the fill, transparent elsewhere (cached). */
  static tinted(op, colour) {
    if (!op.tints[colour]) {
      const canvas = document.createElement("canvas");
      canvas.width = op.alpha.width;
      canvas.height = op.alpha.height;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(op.alpha, 0, 0);
      ctx.globalCompositeOperation = "source-in";
      ctx.fillStyle = colour;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      op.tints[colour] = canvas;
    }
    return op.tints[colour];
  }

  renderMask() {
    const ctx = this.maskCanvas.getContext("2d");
    ctx.clearRect(0, 0, this.maskCanvas.width, this.maskCanvas.height);
    Editor.paint(ctx, this.activeOps(), MASK_TINT, "destination-out");
    this.draw();
  }

  /** The mask as the API reads it, on a canvas of the photo's size: white = fill. */
  exportMask() {
    const [w, h] = this.size;
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, w, h);
    Editor.paint(ctx, this.activeOps(), "#fff", "source-over");
    return canvas;
  }

  /** The mask as a PNG (what the API and the copied commands send). */
  maskBlob() {
    const canvas = this.exportMask();
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  /** Whether the API would read no pixel to fill (everything painted was erased). */
  maskIsEmpty() {
    const canvas = this.exportMask();
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const rows = Math.max(1, Math.floor(4_000_000 / canvas.width));
    for (let y = 0; y < canvas.height; y += rows) {
      const { data } = ctx.getImageData(0, y, canvas.width, Math.min(rows, canvas.height - y));
      for (let i = 0; i < data.length; i += 4) if (data[i] >= 128) return false;
    }
    return true;
  }

  // --- drawing -----------------------------------------------------------------------

  checkerPattern() {
    if (!this.checker) {
      const tile = document.createElement("canvas");
      tile.width = tile.height = 16;
      const t = tile.getContext("2d");
      t.fillStyle = "#e9ebf0";
      t.fillRect(0, 0, 16, 16);
      t.fillStyle = "#d5d9e1";
      t.fillRect(0, 0, 8, 8);
      t.fillRect(8, 8, 8, 8);
      this.checker = this.ctx.createPattern(tile, "repeat");
    }
    return this.checker;
  }

  draw() {
    const ctx = this.ctx;
    const r = this.pixelRatio || 1;
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    this.placeHandles();
    if (!this.size) {
      if (this.frameLabel) this.frameLabel.hidden = true;
      return;
    }
    const s = this.scale;
    const [w, h] = this.size;
    const b = this.bounds();
    const bx = b.x * s + this.tx;
    const by = b.y * s + this.ty;
    if (this.mode === "expand") {
      ctx.fillStyle = this.checkerPattern();
      ctx.fillRect(bx, by, b.w * s, b.h * s);
    }
    ctx.save();
    ctx.translate(this.tx, this.ty);
    ctx.scale(s, s);
    ctx.imageSmoothingEnabled = s < 2;
    if (this.image) ctx.drawImage(this.image, 0, 0, w, h);
    else {
      ctx.fillStyle = "#9aa3b2";
      ctx.fillRect(0, 0, w, h);
    }
    if (this.mode === "remove") {
      ctx.globalAlpha = MASK_ALPHA;
      ctx.drawImage(this.maskCanvas, 0, 0);
      const live = this.live;
      if (live && live.kind === "stroke") Editor.paint(ctx, [live], live.erase ? "rgba(255,255,255,0.9)" : MASK_TINT, "source-over");
      ctx.globalAlpha = 1;
      if (live && live.kind === "rect") {
        const rect = this.clampRect(live);
        if (rect) {
          ctx.globalAlpha = MASK_ALPHA;
          ctx.fillStyle = MASK_TINT;
          ctx.fillRect(rect.x, rect.y, rect.width, rect.height);
          ctx.globalAlpha = 1;
          ctx.lineWidth = 1 / s;
          ctx.strokeStyle = "#fff";
          ctx.strokeRect(rect.x, rect.y, rect.width, rect.height);
        }
      }
    }
    ctx.restore();
    if (this.mode === "expand") {
      ctx.lineWidth = 1;
      ctx.strokeStyle = "rgba(255,255,255,0.85)";
      ctx.setLineDash([]);
      ctx.strokeRect(Math.round(this.tx) + 0.5, Math.round(this.ty) + 0.5, Math.round(w * s) - 1, Math.round(h * s) - 1);
      // the dashed outline marks only the sides that grow: an unchanged edge stays the photo's
      ctx.strokeStyle = "#4f7cff";
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      const x1 = bx + b.w * s;
      const y1 = by + b.h * s;
      const edges = { left: [bx, by, bx, y1], right: [x1, by, x1, y1], top: [bx, by, x1, by], bottom: [bx, y1, x1, y1] };
      const grown = Object.keys(edges).filter((side) => this.sides[side] > 0);
      ctx.beginPath();
      for (const side of grown) {
        const [ax, ay, cx, cy] = edges[side];
        ctx.moveTo(ax, ay);
        ctx.lineTo(cx, cy);
      }
      ctx.stroke();
      this.stage.dataset.outline = grown.join(" ");
      ctx.setLineDash([]);
    }
    if (this.frameLabel) {
      this.frameLabel.hidden = this.mode !== "expand";
      this.frameLabel.textContent = `${b.w} × ${b.h}`;
      this.frameLabel.style.transform = `translate(${bx}px, ${by + b.h * s + 10}px)`;
    }
  }
}
