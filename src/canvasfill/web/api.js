// The playground talks to canvasfill's public API like any other client.

const KEY_STORAGE = "canvasfill.key";

/** An error the API answered with: its own code and message. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Take `#key=...` from the URL (never sent to the server) into localStorage. */
export function adoptKeyFromFragment() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const key = fragment.get("key");
  if (key) {
    saveKey(key);
    fragment.delete("key");
    const rest = fragment.toString();
    history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  }
  return loadKey();
}

export function loadKey() {
  try {
    return window.localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function saveKey(key) {
  try {
    if (key) window.localStorage.setItem(KEY_STORAGE, key);
    else window.localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage may be off: the key then lives for this page only */
  }
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const error = body && body.error;
  if (error && error.message) return new ApiError(response.status, error.code, error.message, error.field);
  return new ApiError(response.status, "http_error", `the server answered ${response.status} ${response.statusText}`);
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  async request(method, path, { body, headers, signal } = {}) {
    let response;
    try {
      response = await fetch(path, { method, body, signal, headers: this.headers(headers) });
    } catch (exc) {
      if (exc.name === "AbortError") throw exc;
      throw new ApiError(0, "network_error", `the server could not be reached (${exc.message})`);
    }
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  engines() {
    return this.request("GET", "/v1/engines");
  }

  tasks(limit = 12) {
    return this.request("GET", `/v1/tasks?limit=${limit}`);
  }

  task(id) {
    return this.request("GET", `/v1/tasks/${encodeURIComponent(id)}`);
  }

  /** POST /v1/expand or /v1/remove with a multipart form; answers the task (202). */
  create(operation, form, signal) {
    return this.request("POST", `/v1/${operation}`, { body: form, signal });
  }

  /**
   * Follow a task's Server-Sent Events. EventSource cannot send an Authorization header,
   * so the stream is read with fetch() and parsed here. Calls onProgress({status,
   * progress}) per event and resolves with the finished task.
   */
  async follow(id, onProgress, signal) {
    const response = await fetch(`/v1/tasks/${encodeURIComponent(id)}/events`, {
      headers: this.headers({ Accept: "text/event-stream" }),
      signal,
    });
    if (!response.ok) throw await errorOf(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseEvent(block);
        if (!event) continue;
        if (event.type === "progress") onProgress(event.data);
        if (event.type === "task") {
          reader.cancel().catch(() => {});
          return event.data;
        }
      }
    }
    throw new ApiError(0, "stream_ended", "the progress stream ended before the task finished");
  }
}

function parseEvent(block) {
  let type = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  return { type, data: JSON.parse(data.join("\n")) };
}
