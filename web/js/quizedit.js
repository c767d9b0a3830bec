// quizedit.js - the quiz editor of a quiz unit (README "Quizzes"): the
// settings (time limit, attempts, pass mark, shuffling) and the questions
// of every kind the API has (single, multiple, true/false, numeric, text)
// with their options and correct answers, reordered with buttons. The
// whole definition is sent in one PUT /api/v1/units/{uid}/quiz; the
// server checks it, and its error names the field ("questions[1].options:
// exactly one must be correct"), which is shown next to that field. What
// the editor does not show (draw, banks, question ids) is kept as loaded.
import { h, put, field } from "/js/dom.js";
import { t } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox } from "/js/ui.js";
import { clearErrors, fieldError } from "/js/forms.js";

const KINDS = ["single", "multiple", "truefalse", "numeric", "text"];
const KIND_KEYS = { single: "lect.qSingle", multiple: "lect.qMultiple", truefalse: "lect.qTrueFalse",
  numeric: "lect.qNumeric", text: "lect.qText" };

function blank(kind) {
  const q = { kind, text: "", points: 1 };
  if (kind === "single" || kind === "multiple") q.options = [{ text: "", correct: true }, { text: "", correct: false }];
  if (kind === "multiple") q.scoring = "all";
  if (kind === "truefalse") q.answer = true;
  if (kind === "numeric") { q.answer = ""; q.tolerance = 0; }
  if (kind === "text") { q.accepted = [""]; q.match = "normalised"; q.ignore_diacritics = false; }
  return q;
}

// The definition to send, from the model (only the fields of each kind).
function definition(model) {
  const num = (v) => (v === "" || v === null || v === undefined ? null : Number(v));
  return {
    settings: model.settings,
    questions: model.questions.map((q) => {
      const o = { kind: q.kind, text: q.text, points: num(q.points) };
      if (q.id) o.id = q.id;
      if (q.bank) o.bank = q.bank;
      if (q.kind === "single" || q.kind === "multiple")
        o.options = q.options.map((x) => (x.correct ? { text: x.text, correct: true } : { text: x.text }));
      if (q.kind === "multiple") o.scoring = q.scoring || "all";
      if (q.kind === "truefalse") o.answer = !!q.answer;
      if (q.kind === "numeric") { o.answer = num(q.answer); o.tolerance = num(q.tolerance) || 0; }
      if (q.kind === "text") {
        o.accepted = q.accepted.filter((a) => a.trim() !== "");
        o.match = q.match || "normalised";
        o.ignore_diacritics = !!q.ignore_diacritics;
      }
      return o;
    }),
  };
}

export async function quizEditor(main, courseUid, unitUid, isNew) {
  let course, model;
  try {
    course = await api.call("GET", "/api/v1/courses/" + encodeURIComponent(courseUid));
    if (isNew) model = null;
    else model = (await api.call("GET", "/api/v1/units/" + encodeURIComponent(unitUid) + "/quiz")).definition;
    /* null: no questions yet (an editor gets 200, not 404) */
  } catch (e) {
    return put(main, errorBox(e));
  }
  const unit = (course.units || []).find((u) => u.uid === unitUid) || { title: "" };
  const DEFAULTS = { attempts: 0, time_limit: 0, pass_percent: 50, show_answers: "after_each", retry_wait: 0 };
  model = model || { settings: Object.assign({}, DEFAULTS), questions: [blank("single")] };
  model.settings = Object.assign({}, DEFAULTS, model.settings);
  for (const q of model.questions) {
    if (q.options) q.options = q.options.map((x) => ({ text: x.text, correct: !!x.correct }));
    if (q.kind === "text" && !q.accepted) q.accepted = [""];
  }
  let seq = 0;
  const id = (p) => "qe-" + p.replace(/[^a-z0-9]+/gi, "-") + "-" + ++seq;

  // ---- settings
  const s = model.settings;
  const minutes = h("input", { type: "number", min: 0, step: "any", id: "quiz-time",
    value: s.time_limit ? s.time_limit / 60 : 0, "data-path": "settings.time_limit" });
  minutes.addEventListener("input", () => { s.time_limit = Math.round(Number(minutes.value || 0) * 60); });
  const attempts = h("input", { type: "number", min: 0, step: 1, id: "quiz-attempts", value: s.attempts,
    "data-path": "settings.attempts" });
  attempts.addEventListener("input", () => { s.attempts = attempts.value === "" ? 0 : Number(attempts.value); });
  const pass = h("input", { type: "number", min: 0, max: 100, step: "any", id: "quiz-pass", value: s.pass_percent,
    "data-path": "settings.pass_percent" });
  pass.addEventListener("input", () => { s.pass_percent = pass.value === "" ? null : Number(pass.value); });
  const showNames = { after_each: t("lect.showEach"), after_passing: t("lect.showPassing"),
    after_last: t("lect.showLast"), never: t("lect.showNever") };
  const show = h("select", { id: "quiz-show", "data-path": "settings.show_answers" },
    Object.entries(showNames).map(([v, name]) => h("option", { value: v }, name)));
  show.value = s.show_answers;
  show.addEventListener("change", () => { s.show_answers = show.value; });
  const wait = h("input", { type: "number", min: 0, step: "any", id: "quiz-wait",
    value: s.retry_wait / 60, "data-path": "settings.retry_wait" });
  wait.addEventListener("input", () => { s.retry_wait = Math.round(Number(wait.value || 0) * 60); });
  const boxes = ["shuffle_questions", "shuffle_options"].map((k) => {
    const b = h("input", { type: "checkbox", id: "quiz-" + k, checked: !!s[k], "data-path": "settings." + k });
    b.addEventListener("change", () => { s[k] = b.checked; });
    return h("div", { class: "check" }, b, h("label", { for: "quiz-" + k },
      t(k === "shuffle_questions" ? "lect.shuffleQuestions" : "lect.shuffleOptions")));
  });
  const settings = h("fieldset", { "data-path": "settings" }, h("legend", {}, t("lect.quizSettings")),
    field(t("lect.timeLimit"), minutes, t("lect.timeLimitHint")),
    field(t("lect.attempts"), attempts, t("lect.attemptsHint")),
    field(t("lect.passPercent"), pass), field(t("lect.showAnswers"), show, t("lect.showAnswersHint")),
    field(t("lect.retryWait"), wait, t("lect.retryWaitHint")), boxes);

  // ---- questions
  const list = h("div", { id: "questions" });
  function render(focusSel) {
    put(list, model.questions.map((q, i) => question(q, i)));
    const el = focusSel && list.querySelector(focusSel);
    if (el && el.disabled) el.parentElement.querySelector("button:not([disabled])")?.focus();
    else if (el) el.focus();
  }
  function question(q, i) {
    const p = "questions[" + i + "]";
    const kind = h("select", { id: id(p + "kind"), "data-path": p + ".kind" },
      KINDS.map((k) => h("option", { value: k }, t(KIND_KEYS[k]))));
    kind.value = q.kind;
    kind.addEventListener("change", () => {
      const n = Object.assign(blank(kind.value), { id: q.id, bank: q.bank, text: q.text, points: q.points });
      model.questions[i] = n;
      render("[data-path='" + p + ".kind']");
    });
    const text = h("textarea", { id: id(p + "text"), rows: 2, "data-path": p + ".text", class: "qtext" });
    text.value = q.text || "";
    text.addEventListener("input", () => { q.text = text.value; });
    const points = h("input", { type: "number", min: 0.001, step: "any", id: id(p + "points"), value: q.points ?? 1,
      "data-path": p + ".points" });
    points.addEventListener("input", () => { q.points = points.value; });
    const btn = (key, label, cls, f, off) => {
      const b = h("button", { type: "button", class: "small " + cls, disabled: off,
        "aria-label": t(label, { n: i + 1 }) }, t(key));
      b.addEventListener("click", f);
      return b;
    };
    const tools = h("div", { class: "actions" },
      btn("lect.up", "lect.qUp", "qup", () => { swap(i, i - 1); render("[data-q='" + (i - 1) + "'] .qup"); }, i === 0),
      btn("lect.down", "lect.qDown", "qdown", () => { swap(i, i + 1); render("[data-q='" + (i + 1) + "'] .qdown"); },
        i === model.questions.length - 1),
      btn("lect.remove", "lect.qRemove", "qremove", () => {
        model.questions.splice(i, 1);
        render("#add-question");
        say(t("lect.qRemoved", { n: i + 1 }));
      }, false));
    const fs = h("fieldset", { class: "question", "data-q": i, "data-path": p },
      h("legend", {}, t("lect.question", { n: i + 1 })),
      field(t("lect.qKind"), kind), field(t("lect.qTextLabel"), text), field(t("lect.points"), points));
    if (q.kind === "single" || q.kind === "multiple") fs.append(options(q, p));
    if (q.kind === "multiple") {
      const sc = h("select", { id: id(p + "scoring"), "data-path": p + ".scoring" },
        h("option", { value: "all" }, t("lect.scoringAll")), h("option", { value: "partial" }, t("lect.scoringPartial")));
      sc.value = q.scoring || "all";
      sc.addEventListener("change", () => { q.scoring = sc.value; });
      fs.append(field(t("lect.scoring"), sc));
    }
    if (q.kind === "truefalse") {
      const a = h("select", { id: id(p + "answer"), "data-path": p + ".answer" },
        h("option", { value: "true" }, t("quiz.true")), h("option", { value: "false" }, t("quiz.false")));
      a.value = q.answer ? "true" : "false";
      a.addEventListener("change", () => { q.answer = a.value === "true"; });
      fs.append(field(t("lect.correctAnswer"), a));
    }
    if (q.kind === "numeric") {
      const a = h("input", { type: "number", step: "any", id: id(p + "answer"), value: q.answer ?? "",
        "data-path": p + ".answer" });
      a.addEventListener("input", () => { q.answer = a.value; });
      const tol = h("input", { type: "number", step: "any", min: 0, id: id(p + "tol"), value: q.tolerance ?? 0,
        "data-path": p + ".tolerance" });
      tol.addEventListener("input", () => { q.tolerance = tol.value; });
      fs.append(field(t("lect.correctAnswer"), a), field(t("lect.tolerance"), tol, t("lect.toleranceHint")));
    }
    if (q.kind === "text") {
      const acc = h("textarea", { id: id(p + "accepted"), rows: 3, "data-path": p + ".accepted" });
      acc.value = (q.accepted || []).join("\n");
      acc.addEventListener("input", () => { q.accepted = acc.value.split("\n"); });
      const match = h("select", { id: id(p + "match"), "data-path": p + ".match" },
        h("option", { value: "normalised" }, t("lect.matchNormalised")), h("option", { value: "exact" }, t("lect.matchExact")));
      match.value = q.match || "normalised";
      match.addEventListener("change", () => { q.match = match.value; });
      const dia = h("input", { type: "checkbox", id: id(p + "dia"), checked: !!q.ignore_diacritics,
        "data-path": p + ".ignore_diacritics" });
      dia.addEventListener("change", () => { q.ignore_diacritics = dia.checked; });
      fs.append(field(t("lect.accepted"), acc, t("lect.acceptedHint")), field(t("lect.match"), match),
        h("div", { class: "check" }, dia, h("label", { for: dia.id }, t("lect.ignoreDiacritics"))));
    }
    fs.append(tools);
    return fs;
  }
  function options(q, p) {
    const box = h("fieldset", { class: "options", "data-path": p + ".options" },
      h("legend", {}, t(q.kind === "single" ? "lect.optionsSingle" : "lect.optionsMultiple")));
    q.options.forEach((o, j) => {
      const op = p + ".options[" + j + "]";
      const text = h("input", { id: id(op + "text"), value: o.text, "data-path": op + ".text", class: "otext" });
      text.addEventListener("input", () => { o.text = text.value; });
      const corr = h("input", { type: q.kind === "single" ? "radio" : "checkbox", name: id(p + "correct"),
        id: id(op + "correct"), checked: !!o.correct, "data-path": op + ".correct", class: "ocorrect" });
      corr.addEventListener("change", () => {
        if (q.kind === "single") q.options.forEach((x) => { x.correct = x === o; });
        else o.correct = corr.checked;
      });
      const rm = h("button", { type: "button", class: "small", "aria-label": t("lect.optionRemove", { n: j + 1 }) },
        t("lect.remove"));
      rm.addEventListener("click", () => {
        q.options.splice(j, 1);
        render("[data-path='" + p + ".options'] .addoption");
      });
      box.append(h("div", { class: "option" }, h("label", { for: text.id }, t("lect.option", { n: j + 1 })), text,
        h("span", { class: "check" }, corr, h("label", { for: corr.id }, t("lect.correct"))), rm));
    });
    const add = h("button", { type: "button", class: "small addoption" }, t("lect.addOption"));
    add.addEventListener("click", () => {
      q.options.push({ text: "", correct: false });
      render("[data-path='" + p + ".options[" + (q.options.length - 1) + "].text']");
    });
    box.append(add);
    return box;
  }
  function swap(a, b) {
    const x = model.questions[a];
    model.questions[a] = model.questions[b];
    model.questions[b] = x;
  }

  const addKind = h("select", { id: "add-kind" }, KINDS.map((k) => h("option", { value: k }, t(KIND_KEYS[k]))));
  const addQ = h("button", { type: "button", id: "add-question" }, t("lect.addQuestion"));
  addQ.addEventListener("click", () => {
    model.questions.push(blank(addKind.value));
    render("[data-q='" + (model.questions.length - 1) + "'] textarea");
  });
  const out = h("div", { "aria-live": "assertive", id: "quiz-out" });
  const saveBtn = h("button", { type: "submit", id: "quiz-save" }, t("lect.saveQuiz"));
  const form = h("form", { class: "quizedit", id: "quiz-form", novalidate: true }, settings, list,
    h("div", { class: "actions" }, field(t("lect.newQuestionKind"), addKind), addQ), saveBtn, out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    put(out);
    saveBtn.disabled = true;
    try {
      const j = await api.call("PUT", "/api/v1/units/" + encodeURIComponent(unitUid) + "/quiz", definition(model));
      put(out, h("p", { class: "ok", id: "quiz-saved", role: "status" }, t("lect.quizSaved", { version: j.version })));
      say(t("lect.quizSaved", { version: j.version }));
    } catch (e) {
      const detail = (e && e.body && e.body.detail) || "";
      const m = detail.match(/^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*): /);
      let el = null;
      for (let path = m ? m[1] : ""; path && !el; path = path.replace(/(\[\d+\]|\.[a-z_]+)$/, "") || "")
        el = form.querySelector("[data-path='" + path + "']");
      if (e instanceof api.ApiError && e.status === 400 && el) {
        const control = /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) ? el : el.querySelector("input, select, textarea");
        if (control && control === el) fieldError(control, t("lect.apiSays", { detail }));
        else el.append(h("p", { class: "error field-error", role: "alert" }, t("lect.apiSays", { detail })));
        if (control) control.setAttribute("aria-invalid", "true");
        put(out, h("p", { class: "error" }, t("lect.quizNotSaved")));
        (control || el).focus();
      } else {
        put(out, errorBox(e));
      }
    } finally {
      saveBtn.disabled = false;
    }
  });
  put(main, h("p", { class: "crumbs" }, h("a", { href: "#/teach/" + courseUid }, course.title)),
    h("h1", {}, t("lect.quizTitle", { title: unit.title })), form);
  render();
}
