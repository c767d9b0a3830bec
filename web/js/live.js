// live.js - events the server pushes on the WebSocket (tinchi.v1; a
// connection made with the session cookie receives that person's events,
// such as media.progress), and the processing state of a lecture shown
// live from them. The push channel comes first; the state is also read
// once (GET /api/v1/materials/{uid}/media) when shown and after every
// reconnection, and read again every 15 s while no event arrives (the
// socket is down, or the file was uploaded by a co-lecturer, whose events
// go to them).
import { h, put } from "/js/dom.js";
import { t, number } from "/js/i18n.js";
import * as api from "/js/api.js";

// One shared connection while anyone listens; reconnects with back-off.
const listeners = new Set();
let ws = null;
let delay = 500;
let retry = null;

function connect() {
  if (ws || !listeners.size) return;
  const sock = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws",
    "tinchi.v1");
  ws = sock;
  sock.addEventListener("open", () => {
    delay = 500;
    for (const l of listeners) if (l.onopen) l.onopen();
  });
  sock.addEventListener("message", (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch { return; }
    for (const l of listeners) l.onmessage(m);
  });
  sock.addEventListener("close", () => {
    if (ws !== sock) return;
    ws = null;
    if (!listeners.size) return;
    retry = setTimeout(() => { retry = null; connect(); }, delay);
    delay = Math.min(delay * 2, 15000);
  });
}

// Calls ONMESSAGE(message) for every event; ONOPEN() after each (re)connection.
// Returns a function that stops listening.
export function listen(onmessage, onopen) {
  const l = { onmessage, onopen };
  listeners.add(l);
  connect();
  return () => {
    listeners.delete(l);
    if (!listeners.size) {
      if (retry) clearTimeout(retry);
      retry = null;
      const s = ws;
      ws = null;
      if (s) s.close();
    }
  };
}

export function connected() {
  return !!ws && ws.readyState === WebSocket.OPEN;
}

const STATES = { queued: "lect.mediaQueued", running: "lect.mediaRunning", ready: "lect.mediaReady",
  failed: "lect.mediaFailed" };
const STAGES = { probe: "lect.stageProbe", package: "lect.stagePackage", poster: "lect.stagePoster" };

// An element showing the processing state of MATERIAL, kept up to date
// until it is ready or failed (then ONFINAL(state) is called). Its
// data-state attribute holds the state. Returns {el, stop}.
export function mediaStatus(material, onfinal) {
  const text = h("span", {});
  const bar = h("progress", { max: 100, "aria-hidden": "true" });
  const retryBtn = h("button", { type: "button", class: "linkish", hidden: true }, t("lect.mediaRetry"));
  const el = h("p", { class: "media-status", role: "status", "data-material": material }, text, " ", bar, " ",
    retryBtn);
  let final = null;	// the last final state reported
  let lastEvent = 0;
  let timer = null;

  function show(m) {
    const state = m.state || "queued";
    el.dataset.state = state;
    const parts = [t(STATES[state] || "lect.mediaQueued")];
    if (state === "running") {
      if (STAGES[m.stage]) parts.push(t(STAGES[m.stage]));
      parts.push(number(m.percent || 0, 0) + "%");
    }
    if (state === "failed" && m.error) parts.push(m.error);
    text.textContent = parts.join(" \u00b7 ");
    bar.hidden = state !== "running" && state !== "queued";
    if (state === "running") bar.value = m.percent || 0;
    else bar.removeAttribute("value");
    retryBtn.hidden = state !== "failed";
    if ((state === "ready" || state === "failed") && final !== state) {
      final = state;
      stop();
      if (onfinal) onfinal(state);
    }
  }
  async function read() {
    try {
      show(await api.call("GET", "/api/v1/materials/" + encodeURIComponent(material) + "/media"));
    } catch { /* shown again at the next event or read */ }
  }
  retryBtn.addEventListener("click", async () => {
    retryBtn.disabled = true;
    try {
      await api.call("POST", "/api/v1/materials/" + encodeURIComponent(material) + "/media/retry");
      final = null;
      show({ state: "queued" });
      watch();
    } catch { /* the button stays for another try */ }
    retryBtn.disabled = false;
  });
  let unlisten = null;
  function watch() {
    if (!unlisten)
      unlisten = listen((m) => {
        if (m.type !== "media.progress" || m.material !== material) return;
        lastEvent = Date.now();
        el.dataset.pushed = String(Number(el.dataset.pushed || 0) + 1);
        show(m);
      }, read);
    if (!timer)
      timer = setInterval(() => {
        if (Date.now() - lastEvent > 15000 || !connected()) read();
      }, 15000);
  }
  function stop() {
    if (unlisten) unlisten();
    unlisten = null;
    if (timer) clearInterval(timer);
    timer = null;
  }
  show({ state: "queued" });
  watch();
  read();
  return { el, stop };
}
