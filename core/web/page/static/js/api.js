// The REST client of the page: every call sends the API key as the X-Api-Key header and
// turns failures into ApiError (the server answered) or Unreachable (it did not).

export const API = "/api/v1";
const KEY_STORE = "sublarr.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

export class Unreachable extends Error {
  constructor(cause) {
    super("The sublarr server cannot be reached. Is it running?");
    this.cause = cause;
  }
}

/** The server's {"error", "detail"} answer as one sentence. */
function describe(status, body) {
  if (status === 401) return "The API key is wrong.";
  if (body && typeof body === "object") {
    const { error, detail } = body;
    if (typeof detail === "string" && detail) return detail;
    if (detail && typeof detail === "object") return flatten(detail).join("; ");
    if (error) return String(error);
  }
  return `The server answered ${status}.`;
}

function flatten(detail, prefix = "") {
  const out = [];
  for (const [key, value] of Object.entries(detail)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) out.push(`${name}: ${value.join(", ")}`);
    else if (value && typeof value === "object") out.push(...flatten(value, name));
    else out.push(`${name}: ${value}`);
  }
  return out;
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

/**
 * The client: api.get("/hooks"), api.post("/webhooks", body), api.put, api.del.
 * Listeners: onUnreachable(fn) and onUnauthorized(fn) hear every failing call.
 */
export function createApi(getKey) {
  const listeners = { unreachable: [], unauthorized: [] };

  async function request(method, path, { body, query } = {}) {
    let url = API + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    const headers = { "X-Api-Key": getKey(), Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store", credentials: "omit",
      });
    } catch (cause) {
      const error = new Unreachable(cause);
      listeners.unreachable.forEach((fn) => fn(error));
      throw error;
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = text; }
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data);
      if (response.status === 401) listeners.unauthorized.forEach((fn) => fn(error));
      if (response.status === 502 || response.status === 504) { // a proxy in front, server gone
        listeners.unreachable.forEach((fn) => fn(error));
      }
      throw error;
    }
    return data;
  }

  return {
    get: (path, query) => request("GET", path, { query }),
    post: (path, body, query) => request("POST", path, { body, query }),
    put: (path, body, query) => request("PUT", path, { body, query }),
    del: (path, query) => request("DELETE", path, { query }),
    onUnreachable: (fn) => listeners.unreachable.push(fn),
    onUnauthorized: (fn) => listeners.unauthorized.push(fn),
  };
}

/** GET /api/v1/health without the key: true when the server answers at all. */
export async function serverAnswers() {
  try {
    await fetch(`${API}/health`, { cache: "no-store" });
    return true;
  } catch {
    return false;
  }
}
