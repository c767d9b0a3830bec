// api.js - the JSON API. The session is the HttpOnly cookie; every change
// (any method but GET/HEAD) carries the session's CSRF token in
// X-CSRF-Token, as the server requires.
let csrf = "";
export let me = null;		// {uid, full_name, roles} when signed in

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || "HTTP " + status);
    this.status = status;
    this.body = body;
  }
}

export async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET" && method !== "HEAD" && csrf) headers["x-csrf-token"] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const type = r.headers.get("content-type") || "";
  if (r.status !== 204 && type.includes("json")) data = await r.json();
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// A hint that this browser has a session, so that a visitor who never
// signed in is not asked (the answer would be a 401 in the console).
function hint(on) {
  try {
    if (on) localStorage.setItem("tinchi.session", "1");
    else localStorage.removeItem("tinchi.session");
  } catch { /* private mode */ }
}

function hinted() {
  try { return localStorage.getItem("tinchi.session") === "1"; } catch { return true; }
}

// Who is signed in (null when nobody); keeps the CSRF token.
export async function session() {
  if (!hinted()) return null;
  const r = await fetch("/api/v1/session", { credentials: "same-origin",
    headers: { accept: "application/json" } });
  if (r.status !== 200) {
    me = null;
    csrf = "";
    hint(false);
    return null;
  }
  const j = await r.json();
  csrf = j.csrf_token || "";
  me = j.person || null;
  return me;
}

export async function signIn(nationalId, password) {
  const j = await call("POST", "/api/v1/session", { national_id: nationalId, password });
  csrf = j.csrf_token || "";
  me = j.person;
  hint(true);
  return me;
}

export async function signOut() {
  try { await call("DELETE", "/api/v1/session"); } finally { me = null; csrf = ""; hint(false); }
}

export function hasRole(role) {
  return !!me && (me.roles || []).some((r) => r.role === role || r === role);
}

// The session's CSRF token, for requests not made through call() (the
// resumable upload's chunks go by XMLHttpRequest for their progress events).
export function csrfToken() {
  return csrf;
}

// A change whose body is not JSON (a CSV file): the same CSRF header and
// error handling as call().
export async function send(method, path, body, type) {
  const headers = { accept: "application/json", "content-type": type };
  if (csrf) headers["x-csrf-token"] = csrf;
  const r = await fetch(path, { method, headers, credentials: "same-origin", body });
  let data = null;
  if ((r.headers.get("content-type") || "").includes("json")) data = await r.json();
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}
