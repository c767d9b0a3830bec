// consents.js - the learner's consents (#/consents): grant an institution
// access to all or chosen credentials (purpose, until), withdraw, and the
// access log: who read what, when, for what.
import { h, put, field } from "/js/dom.js";
import { t, date } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox } from "/js/ui.js";

function stateText(s) {
  return { active: t("consent.active"), expired: t("consent.expired"), withdrawn: t("consent.withdrawn") }[s] || s;
}

function credTitle(item) {
  const cred = item.credential || {};
  const a = (cred.credentialSubject && cred.credentialSubject.achievement) || {};
  return [a.humanCode, a.name || cred.name].filter(Boolean).join(" ");
}

export async function consentsPage(main) {
  const list = h("ul", { class: "cards", id: "consents" });
  const log = h("ul", { class: "cards", id: "accesses" });
  const older = h("button", { type: "button", hidden: true }, t("consent.older"));
  const result = h("div", { "aria-live": "polite" });
  let creds = [], names = new Map();

  const inst = h("select", { name: "institution", required: true },
    h("option", { value: "" }, t("consent.chooseInstitution")));
  const allBox = h("input", { type: "radio", name: "which", value: "all", id: "consent-all", checked: true });
  const someBox = h("input", { type: "radio", name: "which", value: "some", id: "consent-some" });
  const picks = h("div", { id: "consent-picks", hidden: true });
  const purpose = h("input", { name: "purpose", maxlength: 200 });
  const until = h("input", { name: "until", type: "date" });
  const form = h("form", { class: "narrow", id: "consent-form" }, h("h2", {}, t("consent.grant")),
    field(t("consent.institution"), inst),
    h("fieldset", {}, h("legend", {}, t("consent.which")),
      h("p", { class: "check" }, allBox, h("label", { for: "consent-all" }, t("consent.all"))),
      h("p", { class: "check" }, someBox, h("label", { for: "consent-some" }, t("consent.some"))), picks),
    field(t("consent.purpose"), purpose, t("consent.purposeHint")),
    field(t("consent.until"), until, t("consent.untilHint")),
    h("button", { type: "submit", id: "grant" }, t("consent.grantGo")), result);
  for (const r of [allBox, someBox]) r.addEventListener("change", () => { picks.hidden = !someBox.checked; });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const b = { institution: inst.value };
    if (someBox.checked) {
      b.credentials = [...picks.querySelectorAll("input:checked")].map((x) => x.value);
      if (!b.credentials.length) return put(result, h("p", { class: "error", role: "alert" }, t("consent.chooseOne")));
    } else b.credentials = "all";
    if (purpose.value.trim()) b.purpose = purpose.value.trim();
    if (until.value) b.until = until.value;
    try {
      const c = await api.call("POST", "/api/v1/me/consents", b);
      put(result, h("p", { class: "ok", id: "granted" }, t("consent.granted",
        { name: c.institution.name, until: date(c.until) })));
      say(t("consent.granted", { name: c.institution.name, until: date(c.until) }));
      form.reset();
      picks.hidden = true;
      loadList();
    } catch (e) {
      const path = e.body && e.body.path;
      put(result, path ? h("p", { class: "error", role: "alert" }, t("consent.bad", { path, detail: e.message }))
        : errorBox(e));
    }
  });

  async function loadList() {
    let j;
    try {
      j = await api.call("GET", "/api/v1/me/consents");
    } catch (e) {
      return put(list, h("li", {}, errorBox(e)));
    }
    list.replaceChildren();
    if (!j.consents.length) list.append(h("li", { class: "empty" }, t("consent.none")));
    for (const c of j.consents) {
      const which = c.credentials === "all" ? t("consent.allShort")
        : c.credentials.map((u) => names.get(u) || u).join(", ");
      const withdraw = c.state === "active" ? h("button", { type: "button", class: "withdraw",
        "aria-label": t("consent.withdrawFrom", { name: c.institution.name }) }, t("consent.withdraw")) : null;
      if (withdraw) withdraw.addEventListener("click", async () => {
        try {
          await api.call("POST", "/api/v1/me/consents/" + c.uid + "/withdraw");
          say(t("consent.withdrawnFrom", { name: c.institution.name }));
          loadList();
        } catch (e) {
          list.append(h("li", {}, errorBox(e)));
        }
      });
      list.append(h("li", { class: "card consent", "data-institution": c.institution.code },
        h("h3", {}, c.institution.name),
        h("p", { class: "meta" }, [stateText(c.state), c.state === "withdrawn" && c.withdrawn_at
          ? t("consent.withdrawnOn", { day: date(c.withdrawn_at) }) : t("consent.untilDay", { day: date(c.until) }),
        c.purpose ? t("consent.for", { purpose: c.purpose }) : null].filter(Boolean).join(" \u00b7 ")),
        h("p", {}, t("consent.covers", { which })),
        h("p", { class: "meta" }, t("consent.since", { day: date(c.granted_at), version: c.version })),
        withdraw));
    }
  }

  let before = 0;
  async function loadLog(first) {
    let j;
    try {
      j = await api.call("GET", "/api/v1/me/consents/accesses?limit=50" + (!first && before ? "&before=" + before : ""));
    } catch (e) {
      return put(log, h("li", {}, errorBox(e)));
    }
    if (first) log.replaceChildren();
    if (first && !j.accesses.length) log.append(h("li", { class: "empty" }, t("consent.noAccess")));
    for (const a of j.accesses)
      log.append(h("li", { class: "card access" },
        h("p", {}, a.purpose ? t("consent.readFor", { name: a.institution.name, day: date(a.at), purpose: a.purpose })
          : t("consent.read", { name: a.institution.name, day: date(a.at) })),
        h("p", { class: "meta" }, [a.reader.kind === "api_token" ? t("consent.byToken", { name: a.reader.name })
          : t("consent.byPerson", { name: a.reader.name }), t("consent.records", { n: a.credentials.length })].join(" \u00b7 "))));
    before = j.next_before || 0;
    older.hidden = !before;
  }
  older.addEventListener("click", () => loadLog(false));

  put(main, h("h1", {}, t("consent.title")), h("p", {}, t("consent.intro")),
    h("h2", {}, t("consent.yours")), list, form, h("h2", {}, t("consent.log")), log, older);
  try {
    const [insts, cj] = await Promise.all([api.call("GET", "/api/v1/institutions"),
      api.call("GET", "/api/v1/credentials")]);
    for (const i of insts.institutions || insts) inst.append(h("option", { value: i.code }, i.name));
    creds = cj.credentials.filter((c) => !c.revoked_at);
    for (const c of cj.credentials) names.set(c.uid, credTitle(c));
    put(picks, creds.length ? creds.map((c, i) => h("p", { class: "check" },
      h("input", { type: "checkbox", name: "credential", value: c.uid, id: "pick-" + i }),
      h("label", { for: "pick-" + i }, credTitle(c)))) : h("p", {}, t("consent.noCredentials")));
  } catch (e) {
    result.append(errorBox(e));
  }
  await Promise.all([loadList(), loadLog(true)]);
}
