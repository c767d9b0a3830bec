// lecturer.js - the lecturer's pages, loaded when first needed:
//   #/teach                      the courses I teach (GET /api/v1/me/teaching) and a new course
//   #/teach/{course}             the course editor: fields, publish, units (add, order, required),
//                                uploads that resume (upload.js), processing state live (live.js)
//   #/teach/{course}/quiz/{unit} the quiz editor (quizedit.js)
//   #/teach/{course}/progress    learners' progress: a table and a watched-range chart per video
// Every change goes through api.call (CSRF header); a 400 from the API is
// shown next to the field it names.
import { h, put, field } from "/js/dom.js";
import { t, number } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox, errorText } from "/js/ui.js";
import { Upload } from "/js/upload.js";
import { mediaStatus } from "/js/live.js";
import { watchedChart } from "/js/chart.js";
import { clearErrors, fieldError } from "/js/forms.js";

const KIND_KEYS = { video: "kind.video", document: "kind.document", text: "kind.text", quiz: "kind.quiz" };
const STATUS_KEYS = { draft: "lect.statusDraft", published: "lect.statusPublished", archived: "lect.statusArchived" };

const enc = encodeURIComponent;

// The API's detail for a bad field starts with the field's name
// ("credits must be ...", "questions[1].options: ..."). Puts it next to
// the control of CONTROLS (name -> element) it names, else into BOX.
function showApiError(e, controls, box) {
  const detail = (e && e.body && e.body.detail) || "";
  let name = (detail.match(/^([a-z_]+)\b/) || [])[1];
  if (/code already/.test(detail)) name = "code";
  if (e instanceof api.ApiError && e.status < 500 && name && controls[name]) {
    fieldError(controls[name], t("lect.apiSays", { detail }));
    controls[name].focus();
  } else {
    put(box, errorBox(e));
  }
}

function mb(bytes) {
  return number(bytes / 1048576, 1);
}

// ---- the list and a new course ----------------------------------------------------------

const LANGS = ["vi", "en"];

// The course form's controls; VALUES: a course to edit (else a new one).
function courseControls(values) {
  const v = values || {};
  const c = {
    code: h("input", { name: "code", required: true, maxlength: 32, pattern: "[A-Za-z0-9._\\-]{1,32}",
      value: v.code || "", autocomplete: "off" }),
    title: h("input", { name: "title", required: true, maxlength: 200, value: v.title || "" }),
    language: h("select", { name: "language" }, LANGS.map((l) => h("option", { value: l }, t("catalog." + l)))),
    credits: h("input", { name: "credits", required: true, inputmode: "decimal", value: v.credits || "",
      pattern: "[0-9]+([.,][0-9])?" }),
    level: h("input", { name: "level", value: v.level || "", autocomplete: "off" }),
    tags: h("input", { name: "tags", value: (v.tags || []).join(", "), autocomplete: "off" }),
    starts_on: h("input", { name: "starts_on", type: "date", value: v.starts_on || "" }),
    ends_on: h("input", { name: "ends_on", type: "date", value: v.ends_on || "" }),
    capacity: h("input", { name: "capacity", type: "number", min: 0, step: 1,
      value: v.capacity === null || v.capacity === undefined ? "" : v.capacity }),
    description: h("textarea", { name: "description", rows: 5 }),
  };
  if (v.language && !LANGS.includes(v.language))
    c.language.append(h("option", { value: v.language }, v.language));
  c.language.value = v.language || "vi";
  c.description.value = v.description || "";
  return c;
}

function courseFields(c) {
  return [field(t("lect.code"), c.code, t("lect.codeHint")), field(t("lect.courseTitle"), c.title),
    field(t("catalog.language"), c.language), field(t("catalog.credits"), c.credits, t("lect.creditsHint")),
    field(t("lect.level"), c.level, t("lect.levelHint")), field(t("lect.tags"), c.tags, t("lect.tagsHint")),
    field(t("lect.startsOn"), c.starts_on), field(t("lect.endsOn"), c.ends_on),
    field(t("lect.capacity"), c.capacity, t("lect.capacityHint")),
    field(t("lect.description"), c.description, t("lect.descriptionHint"))];
}

// The body for POST or PATCH: every field (a new course) or the changed ones.
function courseBody(c, old) {
  const b = {
    code: c.code.value.trim(), title: c.title.value.trim(), language: c.language.value,
    credits: c.credits.value.trim().replace(",", "."), level: c.level.value.trim(),
    tags: c.tags.value.split(",").map((x) => x.trim()).filter(Boolean),
    starts_on: c.starts_on.value || null, ends_on: c.ends_on.value || null,
    capacity: c.capacity.value === "" ? 0 : Number(c.capacity.value),
    description: c.description.value,
  };
  if (!old) {
    for (const k of ["starts_on", "ends_on"]) if (b[k] === null) delete b[k];
    return b;
  }
  const same = (k) => JSON.stringify(b[k]) === JSON.stringify(k === "capacity" ? old[k] || 0
    : old[k] === undefined ? null : old[k]);
  for (const k of Object.keys(b)) if (same(k)) delete b[k];
  return b;
}

async function listPage(main) {
  const list = h("ul", { class: "cards", id: "teaching" });
  const insts = [...new Set((api.me.roles || []).filter((r) => r.role === "lecturer" || r.role === "admin")
    .map((r) => r.institution).filter(Boolean))];
  const inst = h("select", { name: "institution" }, insts.map((i) => h("option", { value: i }, i)));
  const c = courseControls(null);
  const out = h("div", { "aria-live": "assertive" });
  const form = h("form", { class: "narrow", id: "new-course" }, field(t("catalog.institution"), inst),
    courseFields(c), h("button", { type: "submit" }, t("lect.create")), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    put(out);
    try {
      const j = await api.call("POST", "/api/v1/institutions/" + enc(inst.value) + "/courses", courseBody(c, null));
      say(t("lect.created"));
      location.hash = "#/teach/" + j.uid;
    } catch (e) {
      showApiError(e, c, out);
    }
  });
  put(main, h("h1", {}, t("lect.title")), list, h("h2", {}, t("lect.newCourse")),
    insts.length ? form : h("p", {}, t("lect.noInstitution")));
  try {
    const j = await api.call("GET", "/api/v1/me/teaching");
    if (!j.courses.length) list.append(h("li", { class: "empty" }, t("lect.none")));
    for (const co of j.courses)
      list.append(h("li", { class: "card" }, h("h2", {}, h("a", { href: "#/teach/" + co.uid }, co.title)),
        h("p", { class: "meta" }, [co.code, co.institution, t("course.credits", { n: co.credits }),
          t(STATUS_KEYS[co.status] || "lect.statusDraft")].filter(Boolean).join(" \u00b7 "))));
  } catch (e) {
    list.append(h("li", {}, errorBox(e)));
  }
}

// ---- the course editor ---------------------------------------------------------------------

async function editorPage(main, uid) {
  const stops = new Set();	// media status watchers of the units shown
  const stopAll = () => { for (const s of stops) s(); stops.clear(); };
  let course;
  try {
    course = await api.call("GET", "/api/v1/courses/" + enc(uid));
  } catch (e) {
    put(main, errorBox(e));
    return stopAll;
  }
  const statusLine = h("p", { class: "actions", id: "status-line" });
  const statusOut = h("div", { "aria-live": "assertive" });
  const unitsList = h("ol", { class: "editunits", id: "units" });
  const unitsOut = h("div", { "aria-live": "assertive" });

  function renderStatus() {
    const st = course.status;
    const btn = (to, key) => {
      const b = h("button", { type: "button", id: "status-" + to }, t(key));
      b.addEventListener("click", async () => {
        b.disabled = true;
        put(statusOut);
        try {
          const j = await api.call("POST", "/api/v1/courses/" + enc(uid) + "/status", { status: to });
          course.status = j.status || to;
          say(t(STATUS_KEYS[course.status]));
          renderStatus();
          document.getElementById("status-" + (to === "published" ? "draft" : "published"))?.focus();
        } catch (e) {
          b.disabled = false;
          put(statusOut, errorBox(e));
        }
      });
      return b;
    };
    put(statusLine, h("span", { class: "tag", id: "course-status", "data-status": st },
      t(STATUS_KEYS[st] || "lect.statusDraft")),
    st === "draft" ? btn("published", "lect.publish") : null,
    st === "published" ? btn("draft", "lect.unpublish") : null,
    h("a", { href: "#/course/" + uid }, t("lect.viewAsLearner")),
    h("a", { href: "#/teach/" + uid + "/progress", id: "progress-link" }, t("lect.progress")));
  }

  // ---- units
  async function reload() {
    try {
      course = await api.call("GET", "/api/v1/courses/" + enc(uid));
    } catch (e) {
      put(unitsOut, errorBox(e));
    }
    renderUnits();
  }
  let moving = false;	// one move at a time: a second press waits for the list it acts on
  async function move(i, by, focusSel) {
    if (moving) return;
    moving = true;
    const units = course.units.slice();
    const [u] = units.splice(i, 1);
    units.splice(i + by, 0, u);
    put(unitsOut);
    try {
      await api.call("PUT", "/api/v1/courses/" + enc(uid) + "/units:order", { units: units.map((x) => x.uid) });
      course.units = units;
      renderUnits();
      say(t("lect.moved", { title: u.title, n: i + by + 1 }));
      const row = unitsList.children[i + by];
      const want = row && row.querySelector(focusSel);
      (want && !want.disabled ? want : row && row.querySelector("button:not([disabled])"))?.focus();
    } catch (e) {
      put(unitsOut, errorBox(e));
    } finally {
      moving = false;
    }
  }
  function renderUnits() {
    stopAll();
    const units = course.units || [];
    put(unitsList, units.map((u, i) => {
      const up = h("button", { type: "button", class: "small up", disabled: i === 0,
        "aria-label": t("lect.moveUp", { title: u.title }) }, t("lect.up"));
      const down = h("button", { type: "button", class: "small down", disabled: i === units.length - 1,
        "aria-label": t("lect.moveDown", { title: u.title }) }, t("lect.down"));
      up.addEventListener("click", () => move(i, -1, ".up"));
      down.addEventListener("click", () => move(i, 1, ".down"));
      const req = h("input", { type: "checkbox", id: "req-" + u.uid, checked: u.required });
      req.addEventListener("change", async () => {
        try {
          await api.call("PATCH", "/api/v1/units/" + u.uid, { required: req.checked });
          u.required = req.checked;
          say(t(req.checked ? "lect.nowRequired" : "lect.nowOptional", { title: u.title }));
        } catch (e) {
          req.checked = !req.checked;
          put(unitsOut, errorBox(e));
        }
      });
      const row = h("li", { class: "editunit", "data-unit": u.uid, "data-kind": u.kind },
        h("div", { class: "unithead" }, h("strong", {}, u.title), " ",
          h("span", { class: "tag" }, t(KIND_KEYS[u.kind] || "kind.text"))),
        h("div", { class: "actions" }, up, down,
          h("span", { class: "check" }, req, h("label", { for: "req-" + u.uid }, t("lect.required"))),
          u.kind === "quiz" ? h("a", { href: "#/teach/" + uid + "/quiz/" + u.uid, class: "editquiz" },
            t("lect.editQuiz")) : null,
          u.material && u.kind === "document" ? h("a", { href: "/api/v1/materials/" + u.material,
            target: "_blank", rel: "noopener" }, t("lect.openFile")) : null));
      if (u.kind === "video" && u.material) {
        const m = mediaStatus(u.material);
        stops.add(m.stop);
        row.append(m.el);
      }
      return row;
    }));
    if (!units.length) unitsList.append(h("li", { class: "empty" }, t("learn.empty")));
  }

  // ---- a new unit
  const kind = h("select", { name: "kind", id: "unit-kind" }, ["video", "document", "text", "quiz"]
    .map((k) => h("option", { value: k }, t(KIND_KEYS[k]))));
  const title = h("input", { name: "title", id: "unit-title", required: true, maxlength: 200 });
  const file = h("input", { type: "file", name: "file", id: "unit-file" });
  const body = h("textarea", { name: "body", id: "unit-body", rows: 5 });
  const required = h("input", { type: "checkbox", id: "unit-required", checked: true });
  const fileField = field(t("lect.file"), file, t("lect.fileHint"));
  const bodyField = field(t("lect.body"), body, t("lect.bodyHint"));
  const addBtn = h("button", { type: "submit", id: "unit-add" }, t("lect.addUnit"));
  const uploads = h("div", { class: "uploads", id: "uploads" });
  const addOut = h("div", { "aria-live": "assertive" });
  const addForm = h("form", { class: "narrow", id: "add-unit" }, field(t("lect.unitKind"), kind),
    field(t("lect.unitTitle"), title), fileField, bodyField,
    h("div", { class: "check" }, required, h("label", { for: "unit-required" }, t("lect.required"))),
    addBtn, addOut);
  function kindChanged() {
    const k = kind.value;
    fileField.hidden = k !== "video" && k !== "document";
    bodyField.hidden = k !== "text" && k !== "document";
    file.setAttribute("accept", k === "video" ? "video/*,audio/*" : ".pdf,.txt,image/png,image/jpeg,image/webp");
  }
  kind.addEventListener("change", kindChanged);
  kindChanged();

  // Uploads FILE with a progress bar that survives dropped connections;
  // resolves with the material, or null when it failed or was cancelled.
  async function upload(f, k) {
    const bar = h("progress", { max: f.size, value: 0, id: "upload-progress",
      "aria-label": t("lect.uploading", { name: f.name }) });
    const note = h("span", { class: "upload-note", id: "upload-note" });
    const stateEl = h("span", { class: "upload-state", id: "upload-state", role: "status" });
    const cancel = h("button", { type: "button", class: "linkish" }, t("lect.cancel"));
    const box = h("div", { class: "upload card" }, h("p", {}, h("strong", {}, f.name)), h("p", {}, bar, " ", note),
      h("p", {}, stateEl, " ", cancel));
    uploads.append(box);
    const up = new Upload(uid, f, k === "video" && f.type.startsWith("audio/") ? "audio" : k);
    up.onprogress = (sent, size) => {
      bar.value = sent;
      note.textContent = t("lect.uploaded", { sent: mb(sent), size: mb(size),
        percent: number(size ? (100 * sent) / size : 100, 0) });
    };
    const seenStates = [];
    up.onstate = (s, n) => {
      seenStates.push(s);
      box.dataset.states = seenStates.join(" ");
      stateEl.textContent = s === "retrying" ? t("lect.uploadRetrying", { n })
        : s === "offline" ? t("lect.uploadOffline") : s === "finishing" ? t("lect.uploadChecking")
          : t("lect.uploadSending");
    };
    cancel.addEventListener("click", () => up.cancel());
    up.onprogress(0, f.size);
    try {
      const m = await up.start();
      box.dataset.done = m.uid;
      stateEl.textContent = t("lect.uploadDone");
      cancel.remove();
      return m;
    } catch (e) {
      cancel.remove();
      stateEl.textContent = up.cancelled ? t("lect.uploadCancelled") : errorText(e);
      stateEl.className = up.cancelled ? "upload-state" : "upload-state error";
      return null;
    }
  }

  addForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(addForm);
    put(addOut);
    const k = kind.value;
    if (!title.value.trim()) return fieldError(title, t("lect.needTitle")), title.focus();
    const f = file.files && file.files[0];
    if ((k === "video" || k === "document") && !f) return fieldError(file, t("lect.needFile")), file.focus();
    addBtn.disabled = true;
    const payload = { kind: k, title: title.value.trim(), required: required.checked };
    if ((k === "text" || k === "document") && body.value.trim()) payload.body = body.value;
    try {
      if (f && (k === "video" || k === "document")) {
        const m = await upload(f, k);
        if (!m) return;
        payload.material = m.uid;
      }
      const u = await api.call("POST", "/api/v1/courses/" + enc(uid) + "/units", payload);
      say(t("lect.unitAdded", { title: u.title }));
      title.value = "";
      body.value = "";
      file.value = "";
      await reload();
      if (k === "quiz") location.hash = "#/teach/" + uid + "/quiz/" + u.uid + "?new=1";
      else title.focus();
    } catch (e) {
      showApiError(e, { title, body, material: file, kind }, addOut);
    } finally {
      addBtn.disabled = false;
    }
  });

  // ---- the course's fields
  const c = courseControls(course);
  const fieldsOut = h("div", { "aria-live": "assertive" });
  const fieldsForm = h("form", { class: "narrow", id: "course-fields" }, courseFields(c),
    h("button", { type: "submit" }, t("lect.save")), fieldsOut);
  fieldsForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(fieldsForm);
    put(fieldsOut);
    const b = courseBody(c, course);
    if (!Object.keys(b).length) return put(fieldsOut, h("p", {}, t("lect.nothingChanged")));
    try {
      const j = await api.call("PATCH", "/api/v1/courses/" + enc(uid), b);
      Object.assign(course, j, { units: course.units });
      put(fieldsOut, h("p", { class: "ok" }, t("lect.saved")));
      put(heading, course.title);
    } catch (e) {
      showApiError(e, c, fieldsOut);
    }
  });

  const heading = h("h1", {}, course.title);
  put(main, h("p", { class: "crumbs" }, h("a", { href: "#/teach" }, t("lect.title"))), heading,
    statusLine, statusOut,
    h("h2", {}, t("course.units")), unitsList, unitsOut,
    h("h2", {}, t("lect.addUnit")), addForm, uploads,
    h("details", {}, h("summary", {}, t("lect.details")), fieldsForm));
  renderStatus();
  renderUnits();
  return stopAll;
}

// ---- learners' progress ---------------------------------------------------------------------

async function progressPage(main, uid) {
  let course, rep;
  try {
    [course, rep] = await Promise.all([api.call("GET", "/api/v1/courses/" + enc(uid)),
      api.call("GET", "/api/v1/courses/" + enc(uid) + "/progress?limit=100")]);
  } catch (e) {
    return put(main, errorBox(e));
  }
  const units = rep.units || [];
  const tbody = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, t("catalog.more"));
  let after = rep.next_after || null;
  function rows(learners) {
    for (const l of learners) {
      tbody.append(h("tr", {}, h("th", { scope: "row" }, l.full_name, l.student_code ? h("br") : null,
        l.student_code ? h("span", { class: "meta" }, l.student_code) : null),
      l.units.map((c) => h("td", { class: c.completed_at ? "done" : "" },
        !c.started ? "\u2013" : c.completed_at ? t("lect.cellDone", { percent: number(c.percent, 0) })
          : number(c.percent, 0) + "%")),
      h("td", {}, t("lect.unitsDone", { done: l.summary.units_completed, n: units.length }))));
    }
    more.hidden = !after;
  }
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const j = await api.call("GET", "/api/v1/courses/" + enc(uid) + "/progress?limit=100&after=" + after);
      after = j.next_after || null;
      rows(j.learners);
    } catch (e) {
      more.after(errorBox(e));
    }
    more.disabled = false;
  });
  rows(rep.learners || []);
  const table = h("table", { class: "report", id: "report" },
    h("caption", {}, t("lect.reportCaption", { n: (rep.learners || []).length })),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("lect.learner")),
      units.map((u) => h("th", { scope: "col" }, u.title)), h("th", { scope: "col" }, t("lect.summary")))),
    tbody);
  const charts = h("div", { class: "charts", id: "charts" });
  put(main, h("p", { class: "crumbs" }, h("a", { href: "#/teach/" + uid }, course.title)),
    h("h1", {}, t("lect.progressTitle")),
    (rep.learners || []).length ? h("div", { class: "scroll", tabindex: 0, role: "region",
      "aria-label": t("lect.reportCaption", { n: (rep.learners || []).length }) }, table)
      : h("p", {}, t("lect.noLearners")), more,
    h("p", {}, h("a", { href: "/api/v1/courses/" + uid + "/progress?format=csv", download: "" }, t("lect.csv"))),
    h("h2", {}, t("lect.charts")), charts);
  const videos = units.filter((u) => u.kind === "video");
  if (!videos.length) charts.append(h("p", {}, t("lect.noVideos")));
  for (const u of videos) {
    const fig = h("figure", { class: "chartbox", "data-unit": u.uid }, h("figcaption", {}, u.title));
    charts.append(fig);
    try {
      const hist = await api.call("GET", "/api/v1/units/" + u.uid + "/progress/histogram?buckets=30");
      fig.append(watchedChart(hist, u.title), h("p", { class: "meta" },
        [t("lect.started", { n: hist.started, enrolled: hist.enrolled }),
          t("lect.completedN", { n: hist.completed }),
          hist.median_percent === null ? null : t("lect.median", { percent: number(hist.median_percent, 0) })]
          .filter(Boolean).join(" \u00b7 ")));
    } catch (e) {
      fig.append(e instanceof api.ApiError && e.status === 409 ? h("p", {}, t("lect.notProcessed")) : errorBox(e));
    }
  }
}

// ---- the quiz editor: in quizedit.js --------------------------------------------------------

// The entry point from app.js: PARTS after "teach". Returns a cleanup.
export async function teachPage(main, parts, params) {
  if (!parts[0]) {
    await listPage(main);
    return () => {};
  }
  if (parts[1] === "progress") {
    await progressPage(main, parts[0]);
    return () => {};
  }
  if (parts[1] === "quiz" && parts[2]) {
    const m = await import("/js/quizedit.js");
    await m.quizEditor(main, parts[0], parts[2], params.get("new") === "1");
    return () => {};
  }
  return editorPage(main, parts[0]);
}
