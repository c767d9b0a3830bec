// progress.js - reports a learner's watching over the WebSocket (tinchi.v1
// "progress" messages, README "Learning progress"). Every message is kept
// until the server acks it; after a dropped connection the unacked ones are
// sent again on the next connection (seq starts again there), which never
// double counts: the server keeps watched time as a union of ranges and the
// position only moves for a newer client time ("at").
export class Reporter {
  constructor(unit) {
    this.unit = unit;
    this.pending = [];		// messages not acked yet, oldest first
    this.bySeq = new Map();	// seq on the current connection -> message
    this.seq = 0;
    this.ws = null;
    this.closed = false;
    this.delay = 500;
    this.acked = 0;
    this.onack = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws",
      "tinchi.v1");
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = 500;
      this.seq = 0;
      this.bySeq.clear();
      for (const m of this.pending) this.transmit(m);
    });
    ws.addEventListener("message", (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      const sent = this.bySeq.get(m.seq);
      if (m.type === "ack" && sent) {
        this.bySeq.delete(m.seq);
        this.pending = this.pending.filter((p) => p !== sent);
        this.acked++;
        if (this.onack) this.onack(m);
      } else if (m.type === "error" && sent) {
        this.bySeq.delete(m.seq);
        // busy: not saved now; stale_seq: the server cannot tell whether it was
        // applied. Either way send it again (with a new seq): a repeat is harmless.
        if (m.error === "busy" || m.error === "stale_seq") setTimeout(() => this.transmit(sent), 1000);
        else this.pending = this.pending.filter((p) => p !== sent);	/* refused for good */
      }
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws || this.closed) return;
      this.ws = null;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    });
  }

  transmit(m) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const seq = ++this.seq;
    this.bySeq.set(seq, m);
    this.ws.send(JSON.stringify(Object.assign({ type: "progress", seq }, m)));
  }

  report(event, fields) {
    const m = Object.assign({ unit: this.unit, event, at: Date.now() }, fields);
    this.pending.push(m);
    if (this.pending.length > 500) this.pending.shift();
    this.transmit(m);
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}

// Watches VIDEO and reports play, pause, seek, ended and a heartbeat with
// the span played every 10 s of playing (the server takes spans up to 120 s).
// Returns a function that reports the span being played (call it when the
// page goes); its pause() reports that span and ignores the video until
// resume() (while the player swaps its source, which empties the video).
export function watch(video, reporter) {
  let from = null;	// where the span being played began
  let last = 0;		// the last time seen while playing
  let off = false;
  const r2 = (x) => Math.round(x * 1000) / 1000;
  const base = () => ({ position: r2(video.currentTime),
    duration: Number.isFinite(video.duration) ? r2(video.duration) : undefined });
  function span(to) {
    if (from !== null && to > from + 0.05)
      reporter.report("heartbeat", Object.assign(base(), { position: r2(to), from: r2(from),
        to: r2(Math.min(to, from + 120)) }));
    from = null;
  }
  const on = (ev, f) => video.addEventListener(ev, (e) => { if (!off) f(e); });
  on("playing", () => {
    from = video.currentTime;
    last = from;
    reporter.report("play", base());
  });
  on("timeupdate", () => {
    if (video.seeking || video.paused) return;
    last = video.currentTime;
    if (from === null) from = last;
    else if (last - from >= 10) {
      span(last);
      from = last;
    }
  });
  on("seeking", () => {
    span(last);
    reporter.report("seek", base());
  });
  on("pause", () => {
    if (video.ended) return;
    span(video.currentTime);
    reporter.report("pause", base());
  });
  on("ended", () => {
    span(video.currentTime);
    reporter.report("ended", base());
  });
  const stop = () => span(video.paused ? video.currentTime : last);
  stop.pause = () => {
    if (!off) stop();
    off = true;
  };
  stop.resume = () => { off = false; };
  return stop;
}
