// The one way the UI talks to flagwatch: the same admin and monitor APIs curl uses, with the
// admin token the person signed in with (kept in this tab's sessionStorage only).

const TOKEN_KEY = "flagwatch.token";
const NOTICE_KEY = "flagwatch.signin-notice";

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut(notice) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (notice) sessionStorage.setItem(NOTICE_KEY, notice);
  else sessionStorage.removeItem(NOTICE_KEY);
}

/** The message left for the sign-in page (once). */
export function takeNotice() {
  const notice = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return notice;
}

/** An answer the server refused: `message` is for people, `fields` maps a field to its message. */
export class ApiError extends Error {
  constructor(status, message, fields = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

// Called when the server refuses the token (401/403): set by main.js to go to sign-in.
let onAuthFailure = () => {};
export function setAuthFailureHandler(fn) {
  onAuthFailure = fn;
}

/** Reads either error shape: Unleash's `{name, message, details}` or Better Stack's `{errors}`. */
function describe(status, body) {
  const fields = {};
  if (body && typeof body === "object") {
    if (Array.isArray(body.details) && body.details.length) {
      for (const d of body.details) {
        if (d.path) fields[d.path.replace(/^\/?(body|query)?\/?/, "")] = d.message;
      }
      return { message: body.details.map((d) => d.message).join(" "), fields };
    }
    if (typeof body.errors === "string") return { message: body.errors, fields };
    if (body.errors && typeof body.errors === "object") {
      const parts = [];
      for (const [field, messages] of Object.entries(body.errors)) {
        const text = Array.isArray(messages) ? messages.join(", ") : String(messages);
        fields[field] = text;
        parts.push(`${field.replaceAll("_", " ")} ${text}`);
      }
      return { message: parts.join("; "), fields };
    }
    if (body.message) return { message: body.message, fields };
  }
  return { message: `The server answered ${status}.`, fields };
}

/**
 * `api("GET", "/api/admin/projects")`. Resolves with the parsed JSON (or null for an empty
 * answer); rejects with an ApiError. `auth: false` skips the sign-in redirect on 401/403.
 */
export async function api(method, path, body, { token = getToken(), auth = true, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = path.startsWith("/api/v2/") ? `Bearer ${token}` : token;
  const init = { method, headers, signal, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "flagwatch could not be reached. Check that the server is running and try again.");
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (response.ok) return parsed;
  const { message, fields } = describe(response.status, parsed);
  if ((response.status === 401 || response.status === 403) && auth) {
    const why =
      response.status === 401
        ? "Your session has ended: the server no longer accepts this token. Sign in again."
        : "This token is not an admin token. Sign in with an admin token (*:*.…).";
    onAuthFailure(why);
  }
  throw new ApiError(response.status, message, fields);
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body, opts);
export const put = (path, body, opts) => api("PUT", path, body, opts);
export const patch = (path, body, opts) => api("PATCH", path, body, opts);
export const del = (path, opts) => api("DELETE", path, undefined, opts);

/** Path segments are always encoded. */
export const enc = encodeURIComponent;

/** Every page of a Better Stack list (`{data, pagination.next}`), up to `max` items. */
export async function getAllPages(path, max = 1000, signal) {
  const out = [];
  let next = path.includes("?") ? `${path}&per_page=250` : `${path}?per_page=250`;
  while (next && out.length < max) {
    const page = await get(next, { signal });
    out.push(...(page.data || []));
    const link = page.pagination && page.pagination.next;
    const url = link ? new URL(link, location.origin) : null;
    next = url ? url.pathname + url.search : null;
  }
  return out;
}
