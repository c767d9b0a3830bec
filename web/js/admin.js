// admin.js - the institution admin's pages (#/admin/{section}?i=CODE):
// learner import, lecturers, API tokens, signing keys, recognition
// agreements, revocation and the audit log, each over the API of its area.
import { h, put, field } from "/js/dom.js";
import { t, lang, number } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox } from "/js/ui.js";

const SECTIONS = [
  ["import", () => t("admin.import")], ["lecturers", () => t("admin.lecturers")],
  ["tokens", () => t("admin.tokens")], ["keys", () => t("admin.keys")],
  ["agreements", () => t("admin.agreements")], ["revocation", () => t("admin.revocation")],
  ["audit", () => t("admin.audit")]];
const SCOPES = ["learners:import", "credits:read", "credentials:issue"];

function when(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "vi-VN",
    { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

// A table with a caption, column headings and rows of cells.
function table(caption, heads, rows, attrs) {
  return h("div", { class: "scroll" }, h("table", attrs || {}, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

// The row errors of a CSV answer (422 or partial): row, line, column, message.
function rowErrors(errors, id) {
  return table(t("admin.rowErrors", { n: errors.length }),
    [t("admin.row"), t("admin.line"), t("admin.column"), t("admin.message")],
    errors.map((e) => [String(e.row), String(e.line), e.column || "", e.message]), { id, class: "errors" });
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
function csvField(v) {
  const s = String(v ?? "");
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

// A link that saves the activation codes as a CSV file (made in the page:
// the codes are in the import's answer only, never stored in clear).
function codesFile(codes) {
  const text = ["national_id,student_code,activation_code"].concat(codes.map((c) =>
    [c.national_id, c.student_code, c.activation_code].map(csvField).join(","))).join("\r\n") + "\r\n";
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  return h("a", { href: url, download: "activation-codes.csv", id: "codes-file" }, t("admin.codesFile"));
}

function out() {
  return h("div", { "aria-live": "polite" });
}

// ---- learners import ------------------------------------------------------------

function importSection(body, code) {
  const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true });
  const partial = h("input", { type: "checkbox", name: "partial", id: "partial" });
  const reissue = h("input", { type: "checkbox", name: "reissue", id: "reissue" });
  const result = out();
  const form = h("form", { class: "narrow", id: "import-form" },
    field(t("admin.csvFile"), file, t("admin.csvHint")),
    h("p", { class: "check" }, partial, h("label", { for: "partial" }, t("admin.partial"))),
    h("p", { class: "check" }, reissue, h("label", { for: "reissue" }, t("admin.reissue"))),
    h("button", { type: "submit", id: "import" }, t("admin.importGo")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!file.files.length) return;
    const q = new URLSearchParams();
    if (partial.checked) q.set("partial", "true");
    if (reissue.checked) q.set("reissue_codes", "true");
    put(result, h("p", {}, t("admin.working")));
    try {
      const j = await api.send("POST", "/api/v1/institutions/" + code + "/learners:import" +
        (q.toString() ? "?" + q : ""), file.files[0], "text/csv");
      const codes = j.activation_codes || [];
      put(result, h("p", { class: "ok", id: "import-summary" }, t("admin.imported", { created: j.created,
        updated: j.updated, kept: j.kept, codes: j.codes_issued })),
      j.errors && j.errors.length ? rowErrors(j.errors, "import-errors") : null,
      codes.length ? table(t("admin.codes"), [t("admin.nationalId"), t("admin.studentCode"), t("admin.code")],
        codes.map((c) => [c.national_id, c.student_code || "", h("code", {}, c.activation_code)]),
        { id: "import-codes" }) : null,
      codes.length ? h("p", {}, codesFile(codes)) : null);
      say(t("admin.imported", { created: j.created, updated: j.updated, kept: j.kept, codes: j.codes_issued }));
    } catch (e) {
      if (e.status === 422 && e.body && e.body.errors)
        put(result, h("p", { class: "error", role: "alert", id: "import-summary" },
          t("admin.importRefused", { n: e.body.error_count })), rowErrors(e.body.errors, "import-errors"),
        h("p", { class: "hint" }, t("admin.partialHint")));
      else put(result, errorBox(e));
    }
  });
  put(body, h("p", {}, t("admin.importIntro")), form, result);
}

// ---- lecturers --------------------------------------------------------------------

async function lecturersSection(body, code) {
  const list = h("tbody", { id: "lecturers" });
  const more = h("button", { type: "button", hidden: true }, t("admin.more"));
  let after = 0;
  async function page(first) {
    try {
      const j = await api.call("GET", "/api/v1/institutions/" + code + "/people?role=lecturer&limit=100" +
        (after ? "&after=" + after : ""));
      if (first) list.replaceChildren();
      for (const p of j.people)
        list.append(h("tr", {}, h("td", {}, p.full_name),
          h("td", {}, p.activated ? t("admin.activated") : t("admin.notActivated"))));
      if (first && !j.people.length) list.append(h("tr", {}, h("td", { colspan: 2 }, t("admin.noLecturers"))));
      after = j.next_after || 0;
      more.hidden = !after;
    } catch (e) {
      list.replaceChildren(h("tr", {}, h("td", { colspan: 2 }, errorBox(e))));
    }
  }
  more.addEventListener("click", () => page(false));
  const nid = h("input", { name: "national_id", inputmode: "numeric", pattern: "[0-9]{12}", required: true });
  const name = h("input", { name: "full_name", required: true, maxlength: 200 });
  const email = h("input", { name: "email", type: "email" });
  const result = out();
  const form = h("form", { class: "narrow", id: "lecturer-form" },
    h("h2", {}, t("admin.addLecturer")),
    field(t("admin.nationalId"), nid, t("admin.nationalIdHint")), field(t("admin.fullName"), name),
    field(t("admin.email"), email), h("button", { type: "submit", id: "add-lecturer" }, t("admin.add")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const b = { national_id: nid.value.trim(), full_name: name.value.trim(), role: "lecturer" };
    if (email.value.trim()) b.email = email.value.trim();
    try {
      const j = await api.call("POST", "/api/v1/institutions/" + code + "/people", b);
      put(result, h("p", { class: "ok", id: "lecturer-added" }, t("admin.lecturerAdded", { name: j.full_name })),
        j.activation_code ? h("p", {}, t("admin.giveCode"), " ", h("code", { id: "lecturer-code" }, j.activation_code))
          : h("p", {}, t("admin.codeWithheld")));
      form.reset();
      after = 0;
      await page(true);
    } catch (e) {
      put(result, errorBox(e));
    }
  });
  put(body, h("div", { class: "scroll" }, h("table", {}, h("caption", {}, t("admin.lecturers")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("admin.fullName")),
      h("th", { scope: "col" }, t("admin.account")))), list)), more, form, result);
  await page(true);
}

// ---- API tokens ---------------------------------------------------------------------

async function tokensSection(body, code) {
  const list = h("div", {});
  async function load() {
    try {
      const j = await api.call("GET", "/api/v1/institutions/" + code + "/tokens");
      put(list, j.tokens.length ? table(t("admin.tokens"),
        [t("admin.tokenName"), t("admin.scopes"), t("admin.created"), t("admin.lastUsed"), t("admin.state")],
        j.tokens.map((k) => [k.name, k.scopes, when(k.created_at), k.last_used_at ? when(k.last_used_at) : t("admin.never"),
          k.revoked_at ? t("admin.revokedAt", { when: when(k.revoked_at) })
            : h("button", { type: "button", class: "linkish", "aria-label": t("admin.revokeToken", { name: k.name }),
              onclick: async () => {
                try {
                  await api.call("DELETE", "/api/v1/institutions/" + code + "/tokens/" + k.uid);
                  say(t("admin.tokenRevoked", { name: k.name }));
                  load();
                } catch (e) { list.append(errorBox(e)); }
              } }, t("admin.revoke"))]), { id: "tokens" })
        : h("p", {}, t("admin.noTokens")));
    } catch (e) {
      put(list, errorBox(e));
    }
  }
  const name = h("input", { name: "name", required: true, maxlength: 100 });
  const boxes = SCOPES.map((s) => h("input", { type: "checkbox", name: "scope", value: s, id: "scope-" + s.replace(":", "-") }));
  const result = out();
  const form = h("form", { class: "narrow", id: "token-form" }, h("h2", {}, t("admin.newToken")),
    field(t("admin.tokenName"), name, t("admin.tokenNameHint")),
    h("fieldset", {}, h("legend", {}, t("admin.scopes")),
      boxes.map((b) => h("p", { class: "check" }, b, h("label", { for: b.id }, b.value)))),
    h("button", { type: "submit", id: "create-token" }, t("admin.create")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!scopes.length) return put(result, h("p", { class: "error", role: "alert" }, t("admin.chooseScope")));
    try {
      const j = await api.call("POST", "/api/v1/institutions/" + code + "/tokens", { name: name.value.trim(), scopes });
      put(result, h("div", { class: "secret" }, h("p", {}, t("admin.tokenOnce")),
        h("p", {}, h("code", { id: "token-secret" }, j.token))));
      form.reset();
      load();
    } catch (e) {
      put(result, errorBox(e));
    }
  });
  put(body, list, form, result);
  await load();
}

// ---- signing keys -------------------------------------------------------------------------

async function keysSection(body, code) {
  const list = h("div", {});
  const result = out();
  async function load() {
    try {
      const j = await api.call("GET", "/api/v1/institutions/" + code);
      put(list, table(t("admin.keys"), [t("admin.did"), t("admin.validFrom"), t("admin.validUntil")],
        j.keys.map((k) => [h("code", { class: "did" }, k.did), when(k.valid_from),
          k.valid_until ? when(k.valid_until) : t("admin.current")]), { id: "keys" }));
    } catch (e) {
      put(list, errorBox(e));
    }
  }
  const rotate = h("button", { type: "button", id: "rotate" }, t("admin.rotate"));
  const confirm = h("button", { type: "button", id: "rotate-confirm", hidden: true }, t("admin.rotateConfirm"));
  rotate.addEventListener("click", () => {
    confirm.hidden = false;
    put(result, h("p", {}, t("admin.rotateWarn")));
    confirm.focus();
  });
  confirm.addEventListener("click", async () => {
    confirm.hidden = true;
    try {
      const j = await api.call("POST", "/api/v1/institutions/" + code + "/keys");
      put(result, h("p", { class: "ok" }, t("admin.rotated", { when: when(j.valid_from) })));
      load();
    } catch (e) {
      put(result, errorBox(e));
    }
  });
  put(body, h("p", {}, t("admin.keysIntro")), list, h("p", { class: "actions" }, rotate, confirm), result);
  await load();
}

// ---- recognition agreements -------------------------------------------------------------------

const RULE_KEYS = ["source", "match", "target", "min_grade", "grade_conversion", "issued_from",
  "issued_until", "mutual", "status", "expires_on"];

function statusText(s) {
  return { proposed: t("admin.proposed"), active: t("admin.active"), expired: t("admin.expired") }[s] || s;
}

function ruleSummary(r) {
  const m = r.match || {};
  const tg = r.target || {};
  const what = m.course ? m.course : m.courses ? m.courses.join(", ")
    : [m.level && t("admin.level") + " " + m.level, m.field && t("admin.field") + " " + m.field].filter(Boolean).join(", ");
  const as = tg.course ? tg.course + (tg.title ? " " + tg.title : "")
    : t("admin.electiveAs", { n: number(tg.elective_credits), field: tg.field || "-" });
  return t("admin.ruleText", { source: r.source === "*" ? t("admin.anySource") : r.source, what, as });
}

async function agreementsSection(body, code) {
  const base = "/api/v1/institutions/" + code + "/agreements";
  const list = h("ul", { class: "cards", id: "agreements" });
  const result = out();
  let editing = null;	// {id, version} when the form edits a rule

  const source = h("input", { name: "source", required: true, maxlength: 32 });
  const matchKind = h("select", { name: "match_kind" },
    h("option", { value: "course" }, t("admin.matchCourse")), h("option", { value: "courses" }, t("admin.matchCourses")),
    h("option", { value: "levelfield" }, t("admin.matchLevelField")));
  const codes = h("input", { name: "codes" });
  const level = h("input", { name: "level", maxlength: 32 });
  const fieldCode = h("input", { name: "field", inputmode: "numeric", pattern: "[0-9]{2,4}" });
  const targetKind = h("select", { name: "target_kind" },
    h("option", { value: "course" }, t("admin.targetCourse")), h("option", { value: "elective" }, t("admin.targetElective")));
  const targetCourse = h("input", { name: "target_course", maxlength: 32 });
  const elective = h("input", { name: "elective_credits", type: "number", min: 0.5, step: 0.5 });
  const electiveField = h("input", { name: "elective_field", inputmode: "numeric", pattern: "[0-9]{2,4}" });
  const minGrade = h("input", { name: "min_grade", type: "number", min: 0, max: 10, step: 0.01 });
  const conversion = h("textarea", { name: "grade_conversion", rows: 3 });
  const from = h("input", { name: "issued_from", type: "date" });
  const until = h("input", { name: "issued_until", type: "date" });
  const expires = h("input", { name: "expires_on", type: "date" });
  const mutual = h("input", { type: "checkbox", name: "mutual", id: "rule-mutual" });
  const status = h("select", { name: "status" }, ["proposed", "active", "expired"].map((s) =>
    h("option", { value: s }, statusText(s))));
  const title = h("h2", {}, t("admin.newRule"));
  const submit = h("button", { type: "submit", id: "save-rule" }, t("admin.save"));
  const cancel = h("button", { type: "button", class: "linkish", hidden: true }, t("admin.cancelEdit"));
  const fCodes = field(t("admin.matchCodes"), codes, t("admin.matchCodesHint"));
  const fLevel = field(t("admin.level"), level);
  const fField = field(t("admin.field"), fieldCode, t("admin.fieldHint"));
  const fTarget = field(t("admin.targetCode"), targetCourse);
  const fElective = field(t("admin.electiveCredits"), elective);
  const fElectiveField = field(t("admin.electiveField"), electiveField, t("admin.fieldHint"));
  function shape() {
    const lf = matchKind.value === "levelfield";
    fCodes.hidden = lf;
    fLevel.hidden = fField.hidden = !lf;
    fTarget.hidden = targetKind.value !== "course";
    fElective.hidden = fElectiveField.hidden = targetKind.value === "course";
  }
  matchKind.addEventListener("change", shape);
  targetKind.addEventListener("change", shape);
  const form = h("form", { class: "narrow", id: "rule-form" }, title,
    field(t("admin.source"), source, t("admin.sourceHint")), field(t("admin.matchKind"), matchKind),
    fCodes, fLevel, fField, field(t("admin.targetKind"), targetKind), fTarget, fElective, fElectiveField,
    field(t("admin.minGrade"), minGrade, t("admin.minGradeHint")),
    field(t("admin.conversion"), conversion, t("admin.conversionHint")),
    field(t("admin.issuedFrom"), from), field(t("admin.issuedUntil"), until),
    h("p", { class: "check" }, mutual, h("label", { for: "rule-mutual" }, t("admin.mutual"))),
    field(t("admin.status"), status), field(t("admin.expiresOn"), expires),
    h("p", { class: "actions" }, submit, cancel));
  shape();

  function fill(r) {
    editing = r ? { id: r.id, version: r.version } : null;
    form.reset();
    title.textContent = r ? t("admin.editRule", { id: r.id, version: r.version }) : t("admin.newRule");
    cancel.hidden = !r;
    if (r) {
      const m = r.match || {}, tg = r.target || {};
      source.value = r.source;
      matchKind.value = m.course ? "course" : m.courses ? "courses" : "levelfield";
      codes.value = m.course || (m.courses || []).join(", ");
      level.value = m.level || "";
      fieldCode.value = m.field || "";
      targetKind.value = tg.course ? "course" : "elective";
      targetCourse.value = tg.course || "";
      elective.value = tg.elective_credits ?? "";
      electiveField.value = tg.field || "";
      minGrade.value = r.min_grade ?? "";
      conversion.value = r.grade_conversion ? JSON.stringify(r.grade_conversion) : "";
      from.value = r.issued_from || "";
      until.value = r.issued_until || "";
      expires.value = r.expires_on || "";
      mutual.checked = !!r.mutual;
      status.value = r.status;
      source.focus();
    }
    shape();
  }
  cancel.addEventListener("click", () => fill(null));

  function ruleFromForm() {
    const r = { source: source.value.trim() };
    const list = codes.value.split(/[,\s]+/).filter(Boolean);
    if (matchKind.value === "course") r.match = { course: list[0] || "" };
    else if (matchKind.value === "courses") r.match = { courses: list };
    else {
      r.match = {};
      if (level.value.trim()) r.match.level = level.value.trim();
      if (fieldCode.value.trim()) r.match.field = fieldCode.value.trim();
    }
    if (targetKind.value === "course") r.target = { course: targetCourse.value.trim() };
    else {
      r.target = { elective_credits: Number(elective.value) };
      if (electiveField.value.trim()) r.target.field = electiveField.value.trim();
    }
    if (minGrade.value !== "") r.min_grade = Number(minGrade.value);
    if (conversion.value.trim()) r.grade_conversion = JSON.parse(conversion.value);
    if (from.value) r.issued_from = from.value;
    if (until.value) r.issued_until = until.value;
    if (expires.value) r.expires_on = expires.value;
    r.mutual = mutual.checked;
    r.status = status.value;
    return r;
  }

  function problem(e) {
    const path = e.body && e.body.path;
    return h("p", { class: "error", role: "alert" }, path ? t("admin.badField", { path, detail: e.message })
      : t("error.server", { detail: e.message }));
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let rule;
    try {
      rule = ruleFromForm();
    } catch {
      return put(result, h("p", { class: "error", role: "alert" }, t("admin.conversionBad")));
    }
    try {
      const j = editing
        ? await api.call("PUT", base + "/" + editing.id + "?version=" + editing.version, rule)
        : await api.call("POST", base, rule);
      put(result, h("p", { class: "ok", id: "rule-saved" }, t("admin.ruleSaved", { id: j.id, version: j.version })));
      fill(null);
      load();
    } catch (e) {
      put(result, e.status === 400 || e.status === 409 ? problem(e) : errorBox(e));
    }
  });

  // A whole rule with one change (the status): a new version.
  async function setStatus(r, s) {
    try {
      if (s === "expired") await api.call("DELETE", base + "/" + r.id);
      else {
        const body = {};
        for (const k of RULE_KEYS) if (r[k] !== undefined) body[k] = r[k];
        body.status = s;
        await api.call("PUT", base + "/" + r.id + "?version=" + r.version, body);
      }
      say(t("admin.statusSet", { id: r.id, status: statusText(s) }));
      load();
    } catch (e) {
      put(result, problem(e));
    }
  }

  async function load() {
    let j;
    try {
      j = await api.call("GET", base + "?history=true");
    } catch (e) {
      return put(list, h("li", {}, errorBox(e)));
    }
    list.replaceChildren();
    if (!j.agreements.length) list.append(h("li", { class: "empty" }, t("admin.noRules")));
    for (const r of j.agreements) {
      const pick = h("select", { "aria-label": t("admin.statusOf", { id: r.id }) },
        ["proposed", "active", "expired"].map((s) => h("option", { value: s }, statusText(s))));
      pick.value = r.status;
      const apply = h("button", { type: "button", class: "linkish" }, t("admin.apply"));
      apply.addEventListener("click", () => { if (pick.value !== r.status) setStatus(r, pick.value); });
      const edit = h("button", { type: "button", class: "linkish" }, t("admin.edit"));
      edit.addEventListener("click", () => {
        const clean = {};
        for (const k of RULE_KEYS.concat(["id", "version"])) if (r[k] !== undefined) clean[k] = r[k];
        fill(clean);
      });
      list.append(h("li", { class: "card rule", "data-rule": r.id },
        h("h3", {}, t("admin.ruleHead", { id: r.id, version: r.version })),
        h("p", {}, ruleSummary(r)),
        h("p", { class: "meta" }, [statusText(r.status), r.in_force ? t("admin.inForce") : t("admin.notInForce"),
          r.min_grade !== undefined ? t("admin.minGradeIs", { grade: number(r.min_grade, 2) }) : null,
          r.issued_from || r.issued_until ? t("admin.window", { from: r.issued_from || "-", until: r.issued_until || "-" }) : null,
          r.expires_on ? t("admin.expiresIs", { day: r.expires_on }) : null,
          r.mutual ? t("admin.mutual") : null].filter(Boolean).join(" \u00b7 ")),
        h("details", {}, h("summary", {}, t("admin.versions", { n: (r.versions || []).length })),
          h("ol", {}, (r.versions || []).map((v) => h("li", {},
            t("admin.versionLine", { version: v.version, when: when(v.created_at), status: statusText(v.status) }),
            " ", h("span", { class: "meta" }, ruleSummary(v)))))),
        h("p", { class: "actions" }, h("span", {}, pick, " ", apply), edit)));
    }
  }
  put(body, h("p", {}, t("admin.agreementsIntro")), list, form, result);
  await load();
}

// ---- revocation ------------------------------------------------------------------------------

function revocationSection(body, code) {
  const id = h("input", { name: "credential", required: true });
  const reason = h("input", { name: "reason", required: true, maxlength: 500 });
  const one = out();
  const form = h("form", { class: "narrow", id: "revoke-form" }, h("h2", {}, t("admin.revokeOne")),
    field(t("admin.credentialId"), id, t("admin.credentialIdHint")), field(t("admin.reason"), reason),
    h("button", { type: "submit" }, t("admin.revoke")), one);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    /* the credential's id is urn:uuid:<lower-case UUID>; the bare UUID will do too */
    const uid = "urn:uuid:" + id.value.trim().replace(/^urn:uuid:/i, "").toLowerCase();
    try {
      const j = await api.call("POST", "/api/v1/credentials/" + encodeURIComponent(uid) + "/revocation",
        { reason: reason.value.trim() });
      put(one, h("p", { class: "ok" }, t("admin.revoked", { id: j.uid, when: when(j.revoked_at) })));
      form.reset();
    } catch (e) {
      put(one, e.status === 404 ? h("p", { class: "error", role: "alert" }, t("admin.noCredential"))
        : e.status === 409 ? h("p", { class: "error", role: "alert" }, t("admin.alreadyRevoked")) : errorBox(e));
    }
  });
  const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true });
  const bulk = out();
  const bform = h("form", { class: "narrow", id: "revoke-bulk" }, h("h2", {}, t("admin.revokeBulk")),
    field(t("admin.csvFile"), file, t("admin.revokeCsvHint")), h("button", { type: "submit" }, t("admin.revokeAll")), bulk);
  bform.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!file.files.length) return;
    try {
      const j = await api.send("POST", "/api/v1/institutions/" + code + "/credentials:revoke", file.files[0], "text/csv");
      put(bulk, h("p", { class: "ok" }, t("admin.revokedMany", { n: j.count })));
    } catch (e) {
      if (e.status === 422 && e.body && e.body.errors)
        put(bulk, h("p", { class: "error", role: "alert" }, t("admin.revokeRefused")), rowErrors(e.body.errors, "revoke-errors"));
      else put(bulk, errorBox(e));
    }
  });
  put(body, form, bform);
}

// ---- audit ------------------------------------------------------------------------------------

async function auditSection(body, code) {
  const filter = h("input", { type: "search", name: "event" });
  const limit = h("select", { name: "limit" }, ["50", "100", "500"].map((n) => h("option", { value: n }, n)));
  limit.value = "100";
  const rows = h("tbody", { id: "audit" });
  const more = h("button", { type: "button", hidden: true }, t("admin.older"));
  let events = [], before = 0;
  function show() {
    const f = filter.value.trim().toLowerCase();
    rows.replaceChildren(...events.filter((e) => !f || e.event.toLowerCase().includes(f) ||
      (e.subject || "").toLowerCase().includes(f)).map((e) => h("tr", {}, h("td", {}, when(e.at)),
      h("td", {}, h("code", {}, e.event)), h("td", { class: "wrap" }, e.subject || ""),
      h("td", {}, e.actor_token ? t("admin.byToken", { id: e.actor_token })
        : e.actor_person ? t("admin.byPerson", { id: e.actor_person }) : e.source || ""))));
    say(t("admin.auditShown", { n: rows.children.length }));
  }
  async function page(first) {
    try {
      const j = await api.call("GET", "/api/v1/institutions/" + code + "/audit?limit=" + limit.value +
        (!first && before ? "&before=" + before : ""));
      events = first ? j.events : events.concat(j.events);
      before = j.next_before || 0;
      more.hidden = !before;
      show();
    } catch (e) {
      rows.replaceChildren(h("tr", {}, h("td", { colspan: 4 }, errorBox(e))));
    }
  }
  filter.addEventListener("input", show);
  limit.addEventListener("change", () => page(true));
  more.addEventListener("click", () => page(false));
  put(body, h("div", { class: "filters" }, field(t("admin.auditFilter"), filter, t("admin.auditFilterHint")),
    field(t("admin.perPage"), limit)),
  h("div", { class: "scroll" }, h("table", {}, h("caption", {}, t("admin.audit")),
    h("thead", {}, h("tr", {}, [t("admin.when"), t("admin.event"), t("admin.subject"), t("admin.actor")]
      .map((x) => h("th", { scope: "col" }, x)))), rows)), more);
  await page(true);
}

// ---- the page ---------------------------------------------------------------------------------

const RENDER = { import: importSection, lecturers: lecturersSection, tokens: tokensSection, keys: keysSection,
  agreements: agreementsSection, revocation: revocationSection, audit: auditSection };

// The admin's page for SECTION of one of their institutions (?i=CODE).
export async function adminPage(main, section, params) {
  const mine = (api.me.roles || []).filter((r) => r.role === "admin" && r.institution).map((r) => r.institution);
  if (!mine.length) return put(main, h("h1", {}, t("admin.title")), h("p", {}, t("admin.notAdmin")));
  const code = mine.includes(params.get("i")) ? params.get("i") : mine[0];
  const sec = RENDER[section] ? section : "import";
  const suffix = mine.length > 1 ? "?i=" + encodeURIComponent(code) : "";
  const choose = mine.length > 1 ? h("select", { id: "admin-institution" }, mine.map((c) => h("option", { value: c }, c))) : null;
  if (choose) {
    choose.value = code;
    choose.addEventListener("change", () => { location.hash = "#/admin/" + sec + "?i=" + encodeURIComponent(choose.value); });
  }
  const tabs = h("nav", { class: "tabs", "aria-label": t("admin.sections") }, h("ul", {}, SECTIONS.map(([s, label]) =>
    h("li", {}, h("a", { href: "#/admin/" + s + suffix, "aria-current": s === sec ? "page" : null }, label())))));
  const body = h("section", { class: "admin", id: "admin-" + sec });
  const label = SECTIONS.find(([s]) => s === sec)[1]();
  put(main, h("h1", {}, t("admin.title"), " \u00b7 ", code), choose ? field(t("admin.institution"), choose) : null,
    tabs, h("h2", {}, label), body);
  await RENDER[sec](body, code);
}
