// upload.js - resumable uploads of a lecturer's files (README "Courses,
// units and materials"): POST /api/v1/courses/{uid}/uploads makes an
// upload, each chunk goes as PUT with Content-Range, and after any failure
// (a dropped connection, the browser offline, a server error) the upload
// asks the server how much arrived (GET: "received", header
// upload-offset) and goes on from there, so nothing is sent twice and
// nothing is lost. A chunk cut off midway changes nothing on the server.
// Chunks start at 256 KiB and double while a chunk takes under 3 s (up
// to 8 MiB), and halve after a failure, so a weak link loses little.
// Chunks go by XMLHttpRequest, which reports upload progress (fetch does
// not).
import * as api from "/js/api.js";

const MIN_CHUNK = 256 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Upload {
  // FILE: a File or Blob; KIND: video, audio, document or captions.
  constructor(courseUid, file, kind, name) {
    this.course = courseUid;
    this.file = file;
    this.kind = kind;
    this.name = name || file.name || "file";
    this.size = file.size;
    this.offset = 0;		// bytes the server has (as last told)
    this.chunk = MIN_CHUNK;
    this.retries = 0;		// failures since the last chunk that went through
    this.location = null;
    this.xhr = null;
    this.cancelled = false;
    this.onprogress = null;	// (bytes sent, size)
    this.onstate = null;	// ("sending" | "retrying" | "offline" | "finishing", detail)
  }

  state(s, detail) {
    if (this.onstate) this.onstate(s, detail);
  }

  progress(sent) {
    if (this.onprogress) this.onprogress(Math.min(sent, this.size), this.size);
  }

  // Sends one chunk from this.offset; resolves with {status, received}
  // (status 0: no answer: the connection failed or was cut).
  put(n) {
    return new Promise((resolve) => {
      const x = new XMLHttpRequest();
      this.xhr = x;
      const from = this.offset;
      x.open("PUT", this.location);
      x.setRequestHeader("content-range", "bytes " + from + "-" + (from + n - 1) + "/" + this.size);
      x.setRequestHeader("content-type", "application/octet-stream");
      x.setRequestHeader("accept", "application/json");
      x.setRequestHeader("x-csrf-token", api.csrfToken());
      x.timeout = 120000;
      x.upload.onprogress = (e) => this.progress(from + e.loaded);
      const done = () => {
        this.xhr = null;
        const off = Number(x.getResponseHeader("upload-offset"));
        let body = null;
        try { body = JSON.parse(x.responseText); } catch { /* not JSON */ }
        resolve({ status: x.status, received: Number.isFinite(off) && x.getResponseHeader("upload-offset") !== null
          ? off : body && Number.isFinite(body.received) ? body.received : null, body });
      };
      x.onload = done;
      x.onerror = done;
      x.ontimeout = done;
      x.onabort = done;
      x.send(this.file.slice(from, from + n));
    });
  }

  // Waits before another try: until the browser is online again (at most
  // 30 s) when it says it is offline, else 1 s doubling to 30 s.
  async wait() {
    if (this.cancelled) throw new Error("cancelled");
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.state("offline");
      await new Promise((r) => {
        const on = () => { window.removeEventListener("online", on); r(); };
        window.addEventListener("online", on);
        setTimeout(on, 30000);
      });
    } else {
      this.state("retrying", this.retries);
      await sleep(Math.min(30000, 1000 * 2 ** Math.min(this.retries - 1, 5)));
    }
    if (this.cancelled) throw new Error("cancelled");
  }

  // After a failure: waits, then asks the server where to go on.
  async resync() {
    this.retries++;
    this.chunk = Math.max(MIN_CHUNK, this.chunk / 2);
    for (;;) {
      await this.wait();
      try {
        const j = await api.call("GET", this.location);
        this.offset = j.received;
        this.progress(this.offset);
        return;
      } catch (e) {
        if (e instanceof api.ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429)
          throw e;	/* the upload is gone (expired, cancelled): nothing to resume */
        this.retries++;
      }
    }
  }

  // Sends the whole file; resolves with the material the server made.
  async start() {
    let j;
    for (;;) {	/* no answer: ask again (an upload made twice is removed when it expires) */
      try {
        j = await api.call("POST", "/api/v1/courses/" + encodeURIComponent(this.course) + "/uploads",
          { kind: this.kind, size: this.size, name: this.name });
        break;
      } catch (e) {
        if (e instanceof api.ApiError) throw e;
        this.retries++;
        await this.wait();
      }
    }
    this.retries = 0;
    this.location = j.location;
    this.offset = j.received || 0;
    this.state("sending");
    while (this.offset < this.size) {
      if (this.cancelled) throw new Error("cancelled");
      const n = Math.min(this.chunk, this.size - this.offset);
      const began = Date.now();
      const r = await this.put(n);
      if (this.cancelled) throw new Error("cancelled");
      if (r.status === 200 && r.received !== null) {
        this.offset = r.received;
        this.progress(this.offset);
        if (this.retries) this.state("sending");
        this.retries = 0;
        if (Date.now() - began < 3000) this.chunk = Math.min(MAX_CHUNK, this.chunk * 2);
      } else if (r.status === 409 && r.received !== null) {
        this.offset = r.received;	/* the server has another idea of the offset: its own */
      } else if (r.status === 0 || r.status >= 500 || r.status === 408 || r.status === 429) {
        await this.resync();
      } else {
        throw new api.ApiError(r.status, r.body);
      }
    }
    this.state("finishing");
    for (;;) {
      try {
        return await api.call("POST", this.location + "/finish");
      } catch (e) {
        if (e instanceof api.ApiError) throw e;
        await this.resync();	/* no answer: ask again */
      }
    }
  }

  // Stops sending and removes what the server has of the upload.
  async cancel() {
    this.cancelled = true;
    if (this.xhr) this.xhr.abort();
    if (this.location) await api.call("DELETE", this.location).catch(() => {});
  }
}
