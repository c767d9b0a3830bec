// recognition.js - the learner's recognition explanation
// (#/recognition?institution=CODE): for each of their credentials, whether
// that institution recognises it, as which course or elective credits,
// under which rule version, or why not (GET /api/v1/me/recognition); the
// same for a credential file held outside tinchi (POST); and the
// transcript downloads (a Verifiable Presentation, EMREX ELMO XML).
import { h, put, field } from "/js/dom.js";
import { t, number } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox } from "/js/ui.js";

// The server's reason names (courses/recognition.c) in the reader's words.
function reasonText(r) {
  return {
    "not verified": t("recog.notVerified"), revoked: t("recog.revoked"),
    "unregistered issuer": t("recog.unregistered"), "key not valid when signed": t("recog.keyInvalid"),
    "no rule": t("recog.noRule"), "rule not active": t("recog.ruleNotActive"), "rule expired": t("recog.ruleExpired"),
    "issued outside the rule's dates": t("recog.outsideWindow"), "no grade": t("recog.noGrade"),
    "grade below minimum": t("recog.gradeLow"), "already recognised": t("recog.already"),
  }[r] || r;
}

// The verifier's check names (courses/verify.h) in the reader's words.
function checkText(c) {
  return { schema: t("recog.checkSchema"), proof: t("recog.checkProof"), issuer: t("recog.checkIssuer"),
    status: t("recog.checkStatus"), dates: t("recog.checkDates"), log: t("recog.checkLog") }[c] || c || "-";
}

function decisionText(d) {
  if (d.recognised) {
    const as = d.as === "course" ? t("recog.asCourse", { code: d.course.code, title: d.course.title })
      : t("recog.asElective", { field: d.field || t("recog.anyField") });
    return t("recog.yes", { as, n: number(d.credits) });
  }
  return t("recog.no", { reason: reasonText(d.reason) });
}

function credentialCard(c) {
  const d = c.decision;
  const v = c.verification;
  return h("li", { class: "card recog " + (d.recognised ? "yes" : "no"), "data-uid": c.uid },
    h("h3", {}, c.course.code, " \u00b7 ", t("course.credits", { n: number(c.course.credits) })),
    h("p", { class: "meta" }, [c.issuer.code || t("recog.unknownIssuer"),
      c.course.grade !== null ? t("credits.grade", { grade: number(c.course.grade, 2) }) : null,
      v.verified ? t("recog.verified") : t("recog.verifyFailed", { check: checkText(v.failed_check) })]
      .filter(Boolean).join(" \u00b7 ")),
    h("p", { class: "decision" }, decisionText(d)),
    // the server's own words for this decision (text, never markup)
    d.explanation ? h("p", { class: "meta explanation" }, d.explanation) : null,
    d.rule ? h("p", { class: "meta rule" }, t("recog.rule", { id: d.rule.id, version: d.rule.version })) : null,
    d.converted_grade ? h("p", { class: "meta" }, t("recog.converted", { grade: d.converted_grade })) : null);
}

export async function recognitionPage(main, params) {
  const inst = h("select", { name: "institution", id: "recog-institution", required: true },
    h("option", { value: "" }, t("recog.chooseInstitution")));
  const form = h("form", { class: "filters", id: "recog-form" }, field(t("recog.institution"), inst),
    h("button", { type: "submit" }, t("recog.explain")));
  const answer = h("div", { id: "recognition", "aria-live": "polite" });
  const file = h("input", { type: "file", name: "credential", accept: ".json,application/json" });
  const outside = h("div", { "aria-live": "polite" });
  const fform = h("form", { class: "narrow", id: "recog-file" }, h("h2", {}, t("recog.outside")),
    field(t("recog.file"), file, t("recog.fileHint")), h("button", { type: "submit" }, t("recog.check")), outside);

  async function explain(code) {
    put(answer, h("p", {}, t("recog.working")));
    try {
      const j = await api.call("GET", "/api/v1/me/recognition?institution=" + encodeURIComponent(code));
      const tot = j.totals;
      const byField = Object.entries(tot.by_field || {}).map(([f, n]) =>
        t("recog.fieldCredits", { field: f === "unclassified" ? t("recog.unclassified") : f, n: number(n) }));
      put(answer, h("h2", {}, t("recog.at", { name: j.institution.name })),
        h("p", { id: "recog-totals" }, t("recog.totals", { recognised: tot.recognised, n: tot.credentials,
          credits: number(tot.credits_recognised) })),
        byField.length ? h("p", { class: "meta" }, byField.join(" \u00b7 ")) : null,
        j.credentials.length ? h("ul", { class: "cards" }, j.credentials.map(credentialCard))
          : h("p", {}, t("recog.noCredentials")));
      say(t("recog.totals", { recognised: tot.recognised, n: tot.credentials, credits: number(tot.credits_recognised) }));
    } catch (e) {
      put(answer, errorBox(e));
    }
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!inst.value) return;
    history.replaceState(null, "", "#/recognition?institution=" + encodeURIComponent(inst.value));
    explain(inst.value);
  });
  fform.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!inst.value) return put(outside, h("p", { class: "error", role: "alert" }, t("recog.chooseFirst")));
    if (!file.files.length) return;
    let cred;
    try {
      cred = JSON.parse(await file.files[0].text());
    } catch {
      return put(outside, h("p", { class: "error", role: "alert" }, t("recog.notJson")));
    }
    try {
      const c = await api.call("POST", "/api/v1/me/recognition?institution=" + encodeURIComponent(inst.value),
        { credential: cred });
      put(outside, h("ul", { class: "cards", id: "recog-outside" }, credentialCard(c)));
    } catch (e) {
      put(outside, errorBox(e));
    }
  });

  put(main, h("h1", {}, t("recog.title")), h("p", {}, t("recog.intro")), form, answer, fform,
    h("h2", {}, t("recog.transcripts")), h("p", {}, t("recog.transcriptsIntro")),
    h("p", { class: "actions" },
      h("a", { href: "/api/v1/me/transcript", download: "transcript.json", id: "transcript-vp" }, t("recog.vp")),
      h("a", { href: "/api/v1/me/transcript.xml", download: "transcript-elmo.xml", id: "transcript-elmo" }, t("recog.elmo"))));
  try {
    const j = await api.call("GET", "/api/v1/institutions");
    for (const i of j.institutions || j) inst.append(h("option", { value: i.code }, i.name));
  } catch (e) {
    answer.append(errorBox(e));
  }
  const want = params.get("institution");
  if (want && [...inst.options].some((o) => o.value === want)) {
    inst.value = want;
    await explain(want);
  }
}
