// app.js - the shell of the web front end: a hash router (#/..., so every
// page is index.html and the server needs no fallback), the navigation,
// the language switch, and the public and learner pages. Lecture, document
// and quiz pages are in /js/learn.js, loaded when first needed.
import { h, put, field } from "/js/dom.js";
import { t, load, saved, save, lang, number, date, dateTime } from "/js/i18n.js";
import * as api from "/js/api.js";
import { say, errorBox, errorText } from "/js/ui.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const langBtn = document.getElementById("lang");
let leaving = null;		// cleanup of the page shown (stops a player, a timer)

function link(href, key, attrs) {
  return h("a", Object.assign({ href }, attrs || {}), t(key));
}

function renderNav() {
  const here = location.hash || "#/";
  const items = [["#/", "nav.catalog"]];
  if (api.me) items.push(["#/my", "nav.my"], ["#/credits", "nav.credits"]);
  if (api.hasRole("lecturer")) items.push(["#/teach", "lect.nav"]);
  if (api.me) items.push(["#/consents", "consent.nav"], ["#/recognition", "recog.nav"]);
  if (api.hasRole("admin")) items.push(["#/admin", "admin.nav"]);
  if (!api.me) items.push(["#/signin", "nav.signin"], ["#/activate", "nav.activate"]);
  put(nav, h("ul", {}, items.map(([href, key]) =>
    h("li", {}, link(href, key, { "aria-current": here === href || here.startsWith(href + "?") ||
      (href !== "#/" && here.startsWith(href + "/")) ? "page" : null }))),
    api.me ? h("li", {}, h("button", { type: "button", class: "linkish", id: "signout",
      onclick: async () => { await api.signOut(); location.hash = "#/"; renderNav(); } },
      t("nav.signout"))) : null));
  langBtn.textContent = t("lang.other");
  langBtn.setAttribute("lang", lang === "vi" ? "en" : "vi");
}

// Marked search results: the server's highlight.title is escaped text with
// <mark> around the matched words; only text and <mark> are taken from it.
function marked(html, plain) {
  if (!html) return plain;
  const doc = new DOMParser().parseFromString("<p>" + html + "</p>", "text/html");
  const out = [];
  for (const n of doc.body.firstChild.childNodes) {
    if (n.nodeType === 3) out.push(n.textContent);
    else if (n.nodeName === "MARK") out.push(h("mark", {}, n.textContent));
    else out.push(n.textContent);
  }
  return out;
}

function credits(c) {
  return t("course.credits", { n: c.credits });
}

// ---- catalog --------------------------------------------------------------

async function catalogPage(params) {
  const q = h("input", { type: "search", name: "q", value: params.get("q") || "",
    autocomplete: "off" });
  const language = h("select", { name: "language" },
    h("option", { value: "" }, t("catalog.anyLanguage")),
    h("option", { value: "vi" }, t("catalog.vi")),
    h("option", { value: "en" }, t("catalog.en")));
  language.value = params.get("language") || "";
  const inst = h("select", { name: "institution" }, h("option", { value: "" }, t("catalog.anyInstitution")));
  const cr = h("select", { name: "credits" }, h("option", { value: "" }, t("catalog.anyCredits")),
    ["1", "2", "3", "4", "5"].map((n) => h("option", { value: n }, t("course.credits", { n }))));
  cr.value = params.get("credits") || "";
  const list = h("ul", { class: "cards", id: "results", "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, t("catalog.more"));
  const form = h("form", { role: "search", class: "filters" },
    field(t("catalog.search"), q, t("catalog.searchHint")),
    field(t("catalog.language"), language), field(t("catalog.institution"), inst),
    field(t("catalog.credits"), cr),
    h("button", { type: "submit" }, t("catalog.go")));
  put(main, h("h1", {}, t("catalog.title")), form, list, more);
  api.call("GET", "/api/v1/institutions").then((j) => {
    for (const i of j.institutions || j) inst.append(h("option", { value: i.code }, i.name));
    inst.value = params.get("institution") || "";
  }).catch(() => {});

  let after = null;
  async function fetchPage(first) {
    const sp = new URLSearchParams();
    for (const [k, el] of [["q", q], ["language", language], ["credits", cr]])
      if (el.value.trim()) sp.set(k, el.value.trim());
    /* until the institutions are listed, the one in the address */
    const iv = inst.options.length > 1 ? inst.value : params.get("institution") || "";
    if (iv) sp.set("institution", iv);
    sp.set("limit", "20");
    if (!first && after) sp.set("after", after);
    try {
      const j = await api.call("GET", "/api/v1/courses?" + sp);
      if (first) list.replaceChildren();
      for (const c of j.courses) {
        list.append(h("li", { class: "card" },
          h("h2", {}, h("a", { href: "#/course/" + c.uid }, marked(c.highlight && c.highlight.title, c.title))),
          h("p", { class: "meta" }, [c.code, c.institution && (c.institution.name || c.institution.code),
            credits(c)].filter(Boolean).join(" \u00b7 "))));
      }
      if (first && !j.courses.length) list.append(h("li", { class: "empty" }, t("catalog.none")));
      after = j.next || null;
      more.hidden = !after;
      say(t("catalog.found", { n: list.querySelectorAll(".card").length }));
    } catch (e) {
      list.replaceChildren(h("li", {}, errorBox(e)));
    }
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const sp = new URLSearchParams();
    for (const el of [q, language, inst, cr]) if (el.value.trim()) sp.set(el.name, el.value.trim());
    history.replaceState(null, "", "#/" + (sp.toString() ? "?" + sp : ""));
    fetchPage(true);
  });
  more.addEventListener("click", () => fetchPage(false));
  await fetchPage(true);
}

// ---- course ---------------------------------------------------------------

const KINDS = ["video", "document", "text", "quiz"];

async function coursePage(uid) {
  let c;
  try {
    c = await api.call("GET", "/api/v1/courses/" + encodeURIComponent(uid));
  } catch (e) {
    return put(main, errorBox(e));
  }
  const desc = h("div", { class: "prose" });
  desc.innerHTML = c.description_html || "";	/* rendered and escaped by the server */
  const action = h("div", { class: "actions" });
  const units = h("ol", { class: "units" }, (c.units || []).map((u) =>
    h("li", {}, c.you_are_enrolled
      ? h("a", { href: "#/learn/" + c.uid + "/" + u.uid }, u.title) : u.title,
      " ", h("span", { class: "tag" }, t("kind." + (KINDS.includes(u.kind) ? u.kind : "text"))),
      u.required ? null : h("span", { class: "tag" }, t("unit.optional")))));
  function actions() {
    if (!api.me) return put(action, h("a", { class: "button", href: "#/signin?next=" +
      encodeURIComponent("#/course/" + c.uid) }, t("course.signinToEnrol")));
    if (c.you_are_enrolled) {
      const first = (c.units || [])[0];
      return put(action, first ? h("a", { class: "button", href: "#/learn/" + c.uid + "/" + first.uid },
        t("course.start")) : null);
    }
    const b = h("button", { type: "button", id: "enrol" }, t("course.enrol"));
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api.call("POST", "/api/v1/courses/" + c.uid + "/enrolment");
        say(t("course.enrolled"));
        coursePage(uid);
      } catch (e) {
        b.disabled = false;
        action.append(errorBox(e));
      }
    });
    put(action, b);
  }
  actions();
  put(main, h("p", { class: "crumbs" }, link("#/", "nav.catalog")),
    h("h1", {}, c.title),
    h("p", { class: "meta" }, [c.code, c.institution && (c.institution.name || c.institution.code),
      credits(c), c.level].filter(Boolean).join(" \u00b7 ")),
    action, desc, h("h2", {}, t("course.units")), units);
}

// ---- sign in, activation ----------------------------------------------------

function signinPage(params) {
  const id = h("input", { name: "national_id", inputmode: "numeric", autocomplete: "username",
    required: true, pattern: "[0-9]{12}" });
  const pw = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const out = h("div", { "aria-live": "assertive" });
  const form = h("form", { class: "narrow" }, field(t("signin.id"), id, t("signin.idHint")),
    field(t("signin.password"), pw), h("button", { type: "submit" }, t("signin.go")), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api.signIn(id.value.trim(), pw.value);
      renderNav();
      location.hash = params.get("next") || "#/my";
    } catch (e) {
      put(out, e.status === 401 ? h("p", { class: "error", role: "alert" }, t("signin.wrong")) : errorBox(e));
    }
  });
  put(main, h("h1", {}, t("signin.title")), form,
    h("p", {}, t("signin.new"), " ", link("#/activate", "nav.activate")));
  id.focus();
}

function activatePage() {
  const id = h("input", { name: "national_id", inputmode: "numeric", required: true, pattern: "[0-9]{12}",
    autocomplete: "username" });
  const code = h("input", { name: "code", required: true, autocomplete: "one-time-code",
    pattern: "[A-Za-z0-9]{5}-?[A-Za-z0-9]{5}" });
  const pw = h("input", { name: "password", type: "password", required: true, minlength: 10,
    autocomplete: "new-password" });
  const pw2 = h("input", { name: "password2", type: "password", required: true, minlength: 10,
    autocomplete: "new-password" });
  const out = h("div", { "aria-live": "assertive" });
  const form = h("form", { class: "narrow" }, field(t("signin.id"), id, t("signin.idHint")),
    field(t("activate.code"), code, t("activate.codeHint")),
    field(t("activate.password"), pw, t("activate.passwordHint")),
    field(t("activate.password2"), pw2), h("button", { type: "submit" }, t("activate.go")), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pw.value !== pw2.value) return put(out, h("p", { class: "error", role: "alert" }, t("activate.mismatch")));
    try {
      await api.call("POST", "/api/v1/activate", { national_id: id.value.trim(),
        code: code.value.trim().toUpperCase(), password: pw.value });
      await api.signIn(id.value.trim(), pw.value);
      renderNav();
      say(t("activate.done"));
      location.hash = "#/my";
    } catch (e) {
      put(out, e.status === 400 ? h("p", { class: "error", role: "alert" }, t("activate.bad"))
        : errorBox(e));
    }
  });
  put(main, h("h1", {}, t("activate.title")), h("p", {}, t("activate.intro")), form);
  id.focus();
}

// ---- learner: my courses, my credits -----------------------------------------

async function myPage() {
  if (!api.me) return (location.hash = "#/signin?next=" + encodeURIComponent("#/my"));
  const list = h("ul", { class: "cards" });
  put(main, h("h1", {}, t("my.title")), list);
  let j;
  try {
    j = await api.call("GET", "/api/v1/me/courses");
  } catch (e) {
    return list.append(errorBox(e));
  }
  if (!j.courses.length)
    list.append(h("li", { class: "empty" }, t("my.none"), " ", link("#/", "nav.catalog")));
  for (const c of j.courses) {
    const bar = h("progress", { max: 100, value: 0, "aria-label": t("my.progressOf", { title: c.title }) });
    const note = h("span", {});
    list.append(h("li", { class: "card" }, h("h2", {}, h("a", { href: "#/course/" + c.uid }, c.title)),
      h("p", { class: "meta" }, [c.code, credits(c)].join(" \u00b7 ")), h("p", {}, bar, " ", note)));
    if (c.completion) {
      bar.value = 100;
      note.textContent = t(c.completion.passed ? "my.completed" : "my.completedNotPassed",
        { grade: number(Number(c.completion.grade), 2) });
      continue;
    }
    api.call("GET", "/api/v1/courses/" + c.uid + "/progress/me").then((p) => {
      const units = p.units || [];
      const done = units.filter((u) => u.completed).length;
      bar.value = units.length ? Math.round((100 * done) / units.length) : 0;
      note.textContent = t("my.units", { done, n: units.length });
    }).catch(() => {});
  }
}

function credName(cred) {
  const a = (cred.credentialSubject && cred.credentialSubject.achievement) || {};
  return a.name || cred.name || "";
}

// The share links of one credential (BASE: its API path), in a panel whose
// list is fetched when first opened. A form makes a link that works for the
// time chosen and shows it once with a copy button: the server keeps only
// the token's hash, so the list shows a link's address only for the print
// link and for links made on this page since it was loaded. Every live link
// is listed (made, until when, how often opened) with "Withdraw" behind a
// confirmation. ONPRINTWITHDRAWN runs when the print link is withdrawn.
// Returns {el, changed}: changed() refreshes the list when it is shown.
function sharePanel(base, onPrintWithdrawn) {
  const made = new Map();	// id -> url of the links made here
  let loaded = false, shown = null;	// shown: the id of the new link shown
  const days = h("select", { name: "days" },
    [["7", t("credits.days7")], ["30", t("credits.days30")], ["365", t("credits.days365")],
      ["", t("credits.daysNone")]].map(([v, text]) => h("option", { value: v, selected: v === "30" }, text)));
  const make = h("button", { type: "submit" }, t("credits.share"));
  const form = h("form", { class: "share-form" }, field(t("credits.shareDays"), days), make);
  const fresh = h("div", { class: "share-new", "aria-live": "polite" });
  const list = h("div", { class: "share-list", "aria-live": "polite" });
  const panel = h("details", { class: "credit-share" }, h("summary", {}, t("credits.shares")),
    h("p", { class: "hint" }, t("credits.shareIntro")), form, fresh, list);

  async function load(focus) {
    try {
      const j = await api.call("GET", base + "/shares");
      const live = j.shares.filter((s) => s.live);
      const ended = j.shares.length - live.length;
      const head = h("h3", { tabindex: -1 }, t("credits.liveLinks"));
      put(list, head, live.length ? h("ul", { class: "shares" }, live.map(row))
        : h("p", { class: "empty" }, t("credits.noLinks")),
        ended ? h("p", { class: "meta share-ended" }, t("credits.endedLinks", { n: ended })) : null);
      if (focus) head.focus();
    } catch (e) {
      loaded = false;	// opening the panel again tries again
      put(list, errorBox(e));
    }
  }

  function row(s) {
    const url = s.url || made.get(s.id);
    const out = h("div", { "aria-live": "polite" });
    const withdraw = h("button", { type: "button", class: "small withdraw" }, t("credits.withdraw"));
    const yes = h("button", { type: "button", class: "small confirm" }, t("credits.withdrawYes"));
    const no = h("button", { type: "button", class: "small linkish" }, t("credits.cancel"));
    const ask = h("div", { class: "confirm-box", hidden: true },
      h("p", {}, t(s.kind === "print" ? "credits.withdrawPrintWarn" : "credits.withdrawWarn")),
      h("p", { class: "actions" }, yes, no));
    withdraw.addEventListener("click", () => {
      ask.hidden = false;
      withdraw.hidden = true;
      yes.focus();
    });
    no.addEventListener("click", () => {
      ask.hidden = true;
      withdraw.hidden = false;
      withdraw.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await api.call("DELETE", base + "/shares/" + encodeURIComponent(s.id));
      } catch (e) {
        yes.disabled = false;
        // 404 or 409: withdrawn elsewhere meanwhile; the list will say so
        if (!e.status || (e.status !== 404 && e.status !== 409)) return put(out, errorBox(e));
      }
      made.delete(s.id);
      if (s.id === shown) fresh.replaceChildren();
      say(t("credits.withdrawn"));
      if (s.kind === "print") onPrintWithdrawn();
      await load(true);
    });
    const opened = s.access_count ? t("credits.opened", { n: s.access_count, date: dateTime(s.last_accessed_at) })
      : t("credits.neverOpened");
    return h("li", { class: "share", "data-id": s.id, "data-kind": s.kind },
      h("p", {}, h("strong", {}, t(s.kind === "print" ? "credits.printLink" : "credits.shareLink")),
        " ", h("span", { class: "meta" }, t("credits.made", { date: dateTime(s.created_at) }))),
      h("p", { class: "share-expires" }, s.expires_at ? t("credits.until", { date: dateTime(s.expires_at) })
        : t("credits.noEnd")),
      h("p", { class: "meta" }, opened),
      url ? h("p", {}, h("a", { href: url, class: "share-url", target: "_blank", rel: "noopener" }, url)) : null,
      h("p", { class: "actions" }, withdraw), ask, out);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    make.disabled = true;
    try {
      const s = await api.call("POST", base + "/shares", days.value ? { expires_in_days: Number(days.value) } : {});
      made.set(s.id, s.url);
      shown = s.id;
      const box = h("input", { type: "text", readonly: true, value: s.url, class: "share-url" });
      const note = h("span", {});
      const copy = h("button", { type: "button", class: "small copy" }, t("credits.copy"));
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(s.url);
          put(note, t("credits.copied"));
        } catch {
          box.select();
          put(note, t("credits.copyFailed"));
        }
      });
      put(fresh, field(t("credits.shareMade"), box),
        h("p", { class: "actions" }, copy, h("a", { href: s.url, target: "_blank", rel: "noopener" },
          t("credits.open")), note),
        h("p", { class: "share-until" }, s.expires_at ? t("credits.shareUntil", { date: dateTime(s.expires_at) })
          : t("credits.shareNoEnd")),
        h("p", { class: "hint" }, t("credits.shareOnce")));
      await load();
    } catch (e) {
      put(fresh, errorBox(e));
    } finally {
      make.disabled = false;
    }
  });
  panel.addEventListener("toggle", () => {
    if (panel.open && !loaded) {
      loaded = true;
      load();
    }
  });
  return { el: panel, changed: () => { if (loaded) load(); } };
}

async function creditsPage() {
  if (!api.me) return (location.hash = "#/signin?next=" + encodeURIComponent("#/credits"));
  const list = h("ul", { class: "cards", id: "credits" });
  put(main, h("h1", {}, t("credits.title")), list);
  let j;
  try {
    j = await api.call("GET", "/api/v1/credentials");
  } catch (e) {
    return list.append(errorBox(e));
  }
  if (!j.credentials.length) list.append(h("li", { class: "empty" }, t("credits.none")));
  for (const item of j.credentials) {
    const cred = item.credential || {};
    const cs = cred.credentialSubject || {};
    const a = cs.achievement || {};
    const grade = cs.result && cs.result[0] ? cs.result[0].value : undefined;
    const base = "/api/v1/credentials/" + encodeURIComponent(item.uid);
    // the printed page's verification link and its QR code, fetched when
    // opened (a list of many credits stays light on a slow link)
    const qr = h("div", { class: "qr", "aria-live": "polite" });
    const qrBox = h("details", { class: "credit-qr" }, h("summary", {}, t("credits.qr")), qr);
    const loadQr = async () => {
      try {
        const v = await api.call("POST", base + "/verification?lang=" + lang);
        const svg = new DOMParser().parseFromString(v.qr_svg, "image/svg+xml").documentElement;
        put(qr, document.importNode(svg, true),
          h("p", {}, t("credits.verifyAt"), " ", h("a", { href: v.url, class: "verify-url" }, v.url)));
        shares.changed();	// the first QR code makes the print link
      } catch (e) {
        put(qr, errorBox(e));
      }
    };
    qrBox.addEventListener("toggle", () => {
      if (qrBox.open && !qr.childNodes.length) loadQr();
    });
    // withdrawing the print link makes the QR code shown stale: it is
    // closed, and opening it again makes a new one
    const shares = sharePanel(base, () => {
      qrBox.open = false;
      qr.replaceChildren();
    });
    // the printed page shows the verification link, which only a POST
    // makes (never the page's GET): make it (or find it), then open it
    const print = h("a", { href: base + "/print?lang=" + lang, target: "_blank", rel: "noopener" }, t("credits.print"));
    print.addEventListener("click", async (ev) => {
      ev.preventDefault();
      try {
        await api.call("POST", base + "/verification?lang=" + lang);
        shares.changed();
      } catch (e) {
        return say(errorText(e));
      }
      const w = window.open(print.href, "_blank");
      if (w) w.opener = null;
      else location.assign(print.href);	// a blocked pop-up: here instead
    });
    list.append(h("li", { class: "card credit" },
      h("h2", {}, credName(cred)),
      h("p", { class: "meta" }, [a.humanCode, cred.issuer && cred.issuer.name,
        date(cred.awardedDate || cred.validFrom)].filter(Boolean).join(" \u00b7 ")),
      h("p", {}, [cs.creditsEarned !== undefined ? t("course.credits", { n: number(cs.creditsEarned) }) : null,
        grade !== undefined ? t("credits.grade", { grade }) : null].filter(Boolean).join(" \u00b7 ")),
      item.revoked_at ? h("p", { class: "error" }, t("credits.revoked")) : null,
      h("p", { class: "actions" },
        print,
        " ", h("a", { href: base + "?download=1", download: "" }, t("credits.download"))),
      qrBox,
      shares.el));
  }
}

// ---- the router ---------------------------------------------------------------

async function route() {
  if (leaving) {
    try { leaving(); } catch { /* ignore */ }
    leaving = null;
  }
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  renderNav();
  window.scrollTo(0, 0);
  switch (parts[0]) {
  case undefined: await catalogPage(params); break;
  case "course": await coursePage(parts[1]); break;
  case "signin": signinPage(params); break;
  case "activate": activatePage(); break;
  case "my": await myPage(); break;
  case "credits": await creditsPage(); break;
  case "learn": {
    if (!api.me) {
      location.hash = "#/signin?next=" + encodeURIComponent("#" + hash);
      break;
    }
    const m = await import("/js/learn.js");
    leaving = await m.learnPage(main, parts[1], parts[2]);
    break;
  }
  case "teach":
  case "admin":
  case "consents":
  case "recognition": {
    if (!api.me) {
      location.hash = "#/signin?next=" + encodeURIComponent("#" + hash);
      break;
    }
    if (parts[0] === "teach") {
      const m = await import("/js/lecturer.js");
      leaving = await m.teachPage(main, parts.slice(1), params);
    } else if (parts[0] === "admin") await (await import("/js/admin.js")).adminPage(main, parts[1], params);
    else if (parts[0] === "consents") await (await import("/js/consents.js")).consentsPage(main);
    else await (await import("/js/recognition.js")).recognitionPage(main, params);
    break;
  }
  default: put(main, h("h1", {}, t("error.notFound")), link("#/", "nav.catalog"));
  }
  document.title = (main.querySelector("h1") ? main.querySelector("h1").textContent + " \u2014 " : "") + "tinchi";
  main.setAttribute("data-ready", hash);
}

langBtn.addEventListener("click", async () => {
  const next = lang === "vi" ? "en" : "vi";
  save(next);
  await load(next);
  route();
});

window.addEventListener("hashchange", route);
await Promise.all([load(saved()), api.session().catch(() => null)]);
route();
