// learn.js - a course's units for an enrolled learner: the lecture player
// (hls.js, resume, captions, low data, progress over the WebSocket), text,
// documents and quizzes with a visible timer.
import { h, put, field } from "/js/dom.js";
import { t, number, dateTime } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox } from "/js/ui.js";
import { Reporter, watch } from "/js/progress.js";

const KINDS = ["video", "document", "text", "quiz"];

// "auto", "360p" or "audio": the learner's data saving choice.
function quality() {
  try { return localStorage.getItem("tinchi.quality") || "auto"; } catch { return "auto"; }
}

function setQuality(q) {
  try { localStorage.setItem("tinchi.quality", q); } catch { /* private mode */ }
}

// The audio-only variant's URL in a master playlist (the one without a
// video codec or a resolution), or null.
async function audioVariant(master) {
  const text = await (await fetch(master)).text();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length - 1; i++) {
    const l = lines[i];
    if (l.startsWith("#EXT-X-STREAM-INF:") && !/RESOLUTION=/.test(l) && !/avc1|hvc1|hev1|vp09|av01/.test(l))
      return new URL(lines[i + 1].trim(), new URL(master, location.href)).href;
  }
  return null;
}

// Returns a function that stops whatever the page started.
export async function learnPage(main, courseUid, unitUid) {
  let course, prog;
  try {
    [course, prog] = await Promise.all([
      api.call("GET", "/api/v1/courses/" + encodeURIComponent(courseUid)),
      api.call("GET", "/api/v1/courses/" + encodeURIComponent(courseUid) + "/progress/me")]);
  } catch (e) {
    put(main, errorBox(e));
    return () => {};
  }
  const units = course.units || [];
  const unit = units.find((u) => u.uid === unitUid) || units[0];
  const done = new Map((prog.units || []).map((p) => [p.unit, p]));
  const side = h("nav", { class: "unitnav", "aria-label": t("learn.units") },
    h("ol", {}, units.map((u) => h("li", {},
      h("a", { href: "#/learn/" + course.uid + "/" + u.uid, "aria-current": u === unit ? "page" : null },
        u.title),
      " ", h("span", { class: "tag" }, t("kind." + (KINDS.includes(u.kind) ? u.kind : "text"))),
      done.get(u.uid) && done.get(u.uid).completed ? h("span", { class: "tag ok" }, t("learn.done")) : null))));
  const body = h("section", { class: "unit" });
  put(main, h("p", { class: "crumbs" }, h("a", { href: "#/course/" + course.uid }, course.title)),
    h("div", { class: "learn" }, body, side));
  if (!unit) {
    put(body, h("h1", {}, course.title), h("p", {}, t("learn.empty")));
    return () => {};
  }
  put(body, h("h1", {}, unit.title));
  if (unit.kind === "video") return videoUnit(body, unit);
  if (unit.kind === "quiz") return quizUnit(body, unit);
  if (unit.kind === "document") documentUnit(body, unit);
  else await textUnit(body, unit);
  return () => {};
}

async function textUnit(body, unit) {
  try {
    const u = await api.call("GET", "/api/v1/units/" + unit.uid);
    const div = h("div", { class: "prose" });
    div.innerHTML = u.body_html || "";	/* rendered and escaped by the server */
    body.append(div);
    // shown: read (a POST with the CSRF token; a GET never changes anything)
    // (a lecturer looking at the course is refused: 403, nothing to show)
    await api.call("POST", "/api/v1/units/" + unit.uid + "/read").catch(() => {});
  } catch (e) {
    body.append(errorBox(e));
  }
}

function documentUnit(body, unit) {
  if (unit.body_html) {
    const div = h("div", { class: "prose" });
    div.innerHTML = unit.body_html;
    body.append(div);
  }
  if (unit.material) {
    const open = h("a", { class: "button", href: "/api/v1/materials/" + unit.material,
      target: "_blank", rel: "noopener" }, t("learn.openDocument"));
    // opened: read (a POST; the download itself changes nothing)
    open.addEventListener("click", () => {
      api.call("POST", "/api/v1/units/" + unit.uid + "/read").catch(() => { /* the next open retries */ });
    });
    body.append(h("p", {}, open), h("p", { class: "hint" }, t("learn.documentHint")));
  }
}

// ---- the lecture player ----------------------------------------------------------

async function videoUnit(body, unit) {
  let media, progress;
  try {
    [media, progress] = await Promise.all([
      api.call("GET", "/api/v1/materials/" + unit.material + "/media"),
      api.call("GET", "/api/v1/units/" + unit.uid + "/progress")]);
  } catch (e) {
    body.append(errorBox(e));
    return () => {};
  }
  if (!media.stream || media.state !== "ready") {
    body.append(h("p", {}, t("learn.processing")));
    return () => {};
  }
  const video = h("video", { controls: true, playsinline: true, preload: "metadata", id: "player",
    poster: media.stream.poster || null, "aria-label": unit.title });
  const qual = h("select", { id: "quality" },
    h("option", { value: "auto" }, t("learn.qualityAuto")),
    h("option", { value: "360p" }, t("learn.quality360")),
    h("option", { value: "audio" }, t("learn.qualityAudio")));
  qual.value = quality();
  const caps = h("select", { id: "captions" }, h("option", { value: "-1" }, t("learn.captionsOff")));
  const resume = h("p", { class: "hint", id: "resume" });
  const saved = h("p", { class: "hint", id: "saved", "aria-live": "polite" });
  body.append(h("div", { class: "player" }, video),
    h("div", { class: "controls" },
      field(t("learn.quality"), qual, t("learn.qualityHint")), field(t("learn.captions"), caps)),
    resume, saved);
  const start = progress.position > 1 && !progress.completed ? progress.position : 0;
  if (start) resume.textContent = t("learn.resumeAt", { time: clock(start) });

  const reporter = new Reporter(unit.uid);
  reporter.onack = (a) => {
    saved.textContent = t("learn.saved", { percent: number(a.percent, 0) });
  };
  const stopWatch = watch(video, reporter);
  let hls = null;
  const master = media.stream.master;
  const { default: Hls } = await import("/vendor/hls.min.mjs");
  if (!Hls.isSupported()) {
    video.src = master;	/* a browser that plays HLS itself */
    if (start) video.addEventListener("loadedmetadata", () => { video.currentTime = start; }, { once: true });
    qual.disabled = true;
    return () => {
      stopWatch();
      setTimeout(() => reporter.close(), 2000);
    };
  }
  const tracks = (list) => {
    if (!list || !list.length) return;
    put(caps, h("option", { value: "-1" }, t("learn.captionsOff")),
      list.map((s, i) => h("option", { value: String(i) }, s.name || s.lang)));
  };
  // (Re)starts hls.js at AT seconds with the chosen quality: "audio" plays
  // the audio-only variant's own playlist (hls.js leaves audio-only
  // variants out of a master that has video), "360p" caps the levels.
  async function play(at, resumePlaying) {
    if (hls) {
      stopWatch.pause();
      hls.destroy();
    }
    const q = qual.value;
    const url = q === "audio" ? (await audioVariant(master)) || master : master;
    hls = new Hls({ enableWorker: false, startPosition: at || -1 });
    hls.on(Hls.Events.MANIFEST_PARSED, (ev, d) => {
      if (q === "360p" && hls.levels.length) {
        let i = hls.levels.findIndex((l) => l.height && l.height <= 360);
        if (i < 0) i = 0;
        hls.currentLevel = i;
        hls.autoLevelCapping = i;
      }
      tracks(d.subtitleTracks);
      stopWatch.resume();
      if (resumePlaying) video.play().catch(() => {});
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (ev, d) => tracks(d.subtitleTracks));
    hls.on(Hls.Events.ERROR, (ev, d) => {
      if (d.fatal) body.append(h("p", { class: "error", role: "alert" }, t("learn.playError")));
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  }
  qual.addEventListener("change", () => {
    setQuality(qual.value);
    play(video.currentTime, !video.paused);
    say(t("learn.qualitySet", { quality: qual.options[qual.selectedIndex].textContent }));
  });
  caps.addEventListener("change", () => {
    hls.subtitleDisplay = caps.value !== "-1";
    hls.subtitleTrack = Number(caps.value);
  });
  await play(start, false);
  return () => {
    stopWatch();
    setTimeout(() => reporter.close(), 2000);	/* time for the last acks */
    if (hls) hls.destroy();
  };
}

function clock(s) {
  s = Math.floor(s);
  const m = Math.floor(s / 60);
  return m + ":" + String(s % 60).padStart(2, "0");
}

// ---- quizzes -------------------------------------------------------------------------

async function quizUnit(body, unit) {
  let timer = null;
  const out = h("div", {});
  body.append(out);
  const stop = () => { if (timer) clearInterval(timer); timer = null; };

  async function overview() {
    stop();
    let q;
    try {
      q = await api.call("GET", "/api/v1/units/" + unit.uid + "/quiz");
    } catch (e) {
      return put(out, errorBox(e));
    }
    const s = q.settings;
    const rows = [t("quiz.questions", { n: s.questions }), t("quiz.pass", { percent: number(s.pass_percent) }),
      s.time_limit ? t("quiz.timeLimit", { time: clock(s.time_limit) }) : t("quiz.noTimeLimit"),
      q.attempts_left === null ? t("quiz.unlimited") : t("quiz.left", { n: q.attempts_left }),
      q.next_attempt_at ? t("quiz.nextAt", { time: dateTime(q.next_attempt_at) }) : null].filter(Boolean);
    const past = h("ul", { class: "attempts" }, q.attempts.filter((a) => a.state !== "open").map((a) =>
      h("li", {}, t("quiz.attempt", { n: a.number, score: number(a.score, 2), max: number(a.max, 2) }))));
    const go = h("button", { type: "button", id: "start" }, q.open ? t("quiz.continue") : t("quiz.start"));
    go.disabled = !q.open && (q.attempts_left === 0 || !!q.next_attempt_at);
    if (!q.open && q.attempts_left !== 0 && q.next_attempt_at) {	/* the wait over: the page as it is then */
      const wait = new Date(q.next_attempt_at) - Date.now();
      if (wait < 2 ** 31) timer = setTimeout(overview, Math.max(wait, 0) + 1000);
    }
    go.addEventListener("click", async () => {
      go.disabled = true;
      try {
        const paper = q.open ? await api.call("GET", "/api/v1/attempts/" + q.open)
          : await api.call("POST", "/api/v1/units/" + unit.uid + "/attempts");
        take(paper);
      } catch (e) {
        go.disabled = false;
        out.append(errorBox(e));
      }
    });
    put(out, h("ul", { class: "facts" }, rows.map((r) => h("li", {}, r))), past, go);
  }

  function take(paper) {
    const answers = Object.assign({}, paper.answers || {});
    const clockEl = h("p", { class: "timer", role: "timer", id: "timer" });
    const form = h("form", { class: "quiz" });
    let saving = null;
    const save = () => {
      clearTimeout(saving);
      saving = setTimeout(() => api.call("PUT", "/api/v1/attempts/" + paper.uid + "/answers",
        { answers }).catch(() => {}), 600);
    };
    paper.questions.forEach((qu, n) => {
      const name = "q-" + qu.id;
      const legend = h("legend", {}, t("quiz.number", { n: n + 1, points: number(qu.points, 3) }), " ", qu.text);
      let inputs;
      if (qu.kind === "single" || qu.kind === "multiple" || qu.kind === "truefalse") {
        const opts = qu.kind === "truefalse"
          ? [{ id: true, text: t("quiz.true") }, { id: false, text: t("quiz.false") }] : qu.options;
        inputs = opts.map((o, i) => {
          const id = name + "-" + i;
          const box = h("input", { type: qu.kind === "multiple" ? "checkbox" : "radio", name, id,
            value: String(o.id) });
          const prev = answers[qu.id];
          box.checked = qu.kind === "multiple" ? Array.isArray(prev) && prev.includes(o.id) : prev === o.id;
          box.addEventListener("change", () => {
            if (qu.kind === "multiple")
              answers[qu.id] = [...form.querySelectorAll("input[name='" + name + "']:checked")].map((b) => b.value);
            else answers[qu.id] = o.id;
            save();
          });
          return h("div", { class: "check" }, box, h("label", { for: id }, o.text));
        });
      } else {
        const inp = h("input", { type: qu.kind === "numeric" ? "number" : "text", step: "any", name, id: name,
          value: answers[qu.id] ?? "" });
        inp.addEventListener("input", () => {
          if (qu.kind === "numeric") {
            if (inp.value === "" || !Number.isFinite(Number(inp.value))) delete answers[qu.id];
            else answers[qu.id] = Number(inp.value);
          } else answers[qu.id] = inp.value;
          save();
        });
        inputs = [h("label", { for: name, class: "sr" }, t("quiz.answer")), inp];
      }
      form.append(h("fieldset", {}, legend, inputs));
    });
    const submit = h("button", { type: "submit", id: "submit" }, t("quiz.submit"));
    form.append(submit);
    const result = h("div", { "aria-live": "assertive", id: "result" });
    put(out, paper.deadline ? clockEl : null, form, result);

    async function send() {
      stop();
      clearTimeout(saving);
      submit.disabled = true;
      try {
        const r = await api.call("POST", "/api/v1/attempts/" + paper.uid + "/submit", { answers });
        put(result, h("p", { class: r.passed ? "ok" : "error", id: "verdict" },
          t(r.passed ? "quiz.passed" : "quiz.failed", { score: number(r.score, 2), max: number(r.max, 2) })),
          h("button", { type: "button", onclick: overview }, t("quiz.back")));
        for (const el of form.elements) el.disabled = true;
      } catch (e) {
        put(result, errorBox(e), h("button", { type: "button", onclick: overview }, t("quiz.back")));
      }
    }
    form.addEventListener("submit", (ev) => { ev.preventDefault(); send(); });
    if (paper.deadline) {
      const end = Date.parse(paper.deadline);
      const tick = () => {
        const left = Math.max(0, Math.round((end - Date.now()) / 1000));
        clockEl.textContent = t("quiz.timeLeft", { time: clock(left) });
        clockEl.classList.toggle("urgent", left <= 60);
        if (left === 0) send();
      };
      tick();
      timer = setInterval(tick, 1000);
    }
  }

  await overview();
  return stop;
}
