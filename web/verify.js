// verify.js - the public verifier page (verify.html): a credential pasted,
// chosen or dropped as a file, or a share link (pasted, or #token=... in
// the address), is checked by POST /api/v1/credentials/verify (or GET
// /api/v1/shared/{token}) and each check is shown in plain words.
// Vietnamese by default; ?lang=en for English. No inline code: the CSP
// has no 'unsafe-inline'.
"use strict";

const WORDS = {
  vi: {
    title: "Xác minh chứng chỉ",
    intro: "Dán nội dung tệp chứng chỉ (JSON), chọn hoặc thả tệp vào đây, hoặc dán liên kết chia sẻ. Mọi bước kiểm tra được giải thích bên dưới.",
    file: "Tệp chứng chỉ (.json)",
    drop: "hoặc kéo thả tệp vào khung này",
    paste: "Nội dung chứng chỉ hoặc liên kết chia sẻ",
    check: "Kiểm tra",
    other: "English",
    checking: "Đang kiểm tra…",
    verified: "Đã xác minh: chứng chỉ này hợp lệ.",
    notVerified: "Không xác minh được chứng chỉ này.",
    checks: "Các bước kiểm tra",
    notJson: "Đây không phải là JSON hợp lệ: ",
    empty: "Hãy dán một chứng chỉ, chọn một tệp hoặc dán một liên kết chia sẻ.",
    failed: "Không kiểm tra được: ",
    network: "Không kết nối được máy chủ.",
    course: "Học phần", code: "Mã học phần", credits: "Số tín chỉ", grade: "Điểm",
    term: "Học kỳ", issuer: "Đơn vị cấp", date: "Ngày cấp", id: "Mã chứng chỉ",
    pass: "Đạt.", fail: "Không đạt.",
    c: {
      schema: ["Định dạng", "Đúng định dạng chứng chỉ Open Badges 3.0.", "Không đúng định dạng của một chứng chỉ."],
      proof: ["Chữ ký số", "Nội dung đúng như đơn vị cấp đã ký, không bị sửa đổi.", "Chữ ký không khớp: nội dung đã bị sửa hoặc không do đơn vị này ký."],
      issuer: ["Đơn vị cấp", "Khóa ký thuộc một cơ sở giáo dục đã đăng ký.", "Không nhận ra đơn vị cấp."],
      status: ["Tình trạng", "Chưa bị thu hồi.", "Đã bị thu hồi, hoặc không kiểm tra được."],
      dates: ["Thời hạn", "Đang có hiệu lực.", "Chưa có hiệu lực hoặc đã hết hạn."],
      log: ["Sổ công khai", "Đã được ghi vào sổ công khai, không thể bị xóa âm thầm.", "Chưa có trong sổ công khai (một chứng chỉ mới được ghi sau vài giây)."],
    },
  },
  en: {
    title: "Verify a credential",
    intro: "Paste a credential file's content (JSON), choose or drop the file here, or paste a share link. Each check is explained below.",
    file: "Credential file (.json)",
    drop: "or drag and drop the file onto this box",
    paste: "Credential content or share link",
    check: "Verify",
    other: "Tiếng Việt",
    checking: "Checking…",
    verified: "Verified: this credential is genuine and valid.",
    notVerified: "This credential could not be verified.",
    checks: "Checks",
    notJson: "This is not valid JSON: ",
    empty: "Paste a credential, choose a file or paste a share link.",
    failed: "Could not check it: ",
    network: "The server could not be reached.",
    course: "Course", code: "Course code", credits: "Credits", grade: "Grade",
    term: "Term", issuer: "Issued by", date: "Issued on", id: "Credential id",
    pass: "Passed.", fail: "Failed.",
    c: {
      schema: ["Format", "It has the form of an Open Badges 3.0 credential.", "It is not a well-formed credential."],
      proof: ["Digital signature", "The content is exactly what the issuer signed; nothing was changed.", "The signature does not match: the content was changed or not signed by this issuer."],
      issuer: ["Issuer", "The signing key belongs to a registered institution.", "The issuer is not a known institution."],
      status: ["Status", "Not revoked.", "Revoked, or its status could not be checked."],
      dates: ["Dates", "Valid now.", "Not valid yet, or expired."],
      log: ["Public log", "Recorded in the public log, so it cannot be removed silently.", "Not (yet) in the public log (a new credential is added within seconds)."],
    },
  },
};

const lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "vi";
const W = WORDS[lang];
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function translate() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = W[e.dataset.t];
  document.title = W.title + " — tinchi";
  const other = lang === "en" ? "vi" : "en";
  $("lang").textContent = W.other;
  $("lang").setAttribute("hreflang", other);
}

function message(text, cls) {
  $("result").replaceChildren(el("p", { class: "verdict " + (cls || "bad") }, text));
}

function fields(cred) {
  const s = cred.credentialSubject || {};
  const a = s.achievement || {};
  const r = (Array.isArray(s.result) && s.result[0]) || {};
  const rows = [
    [W.course, a.name], [W.code, a.humanCode], [W.credits, s.creditsEarned],
    [W.grade, r.value], [W.term, s.term], [W.issuer, (cred.issuer || {}).name],
    [W.date, String(cred.awardedDate || cred.validFrom || "").slice(0, 10)], [W.id, cred.id],
  ];
  const dl = el("dl", { class: "fields" });
  for (const [k, v] of rows)
    if (v !== undefined && v !== null && v !== "") dl.append(el("dt", {}, k), el("dd", {}, String(v)));
  return dl;
}

function show(cred, result) {
  const ul = el("ul", { class: "checks" });
  for (const c of result.checks || []) {
    const w = W.c[c.check] || [c.check, W.pass, W.fail];
    ul.append(el("li", { class: "check " + (c.ok ? "ok" : "bad"), "data-check": c.check },
      el("span", { class: "mark" }, c.ok ? "✔" : "✘"), " ",
      el("strong", {}, w[0]), ": ", c.ok ? w[1] : w[2], " ",
      el("small", {}, c.detail || "")));
  }
  $("result").replaceChildren(
    el("p", { class: "verdict " + (result.verified ? "ok" : "bad"), id: "verdict" },
      result.verified ? W.verified : W.notVerified),
    fields(cred), el("h2", {}, W.checks), ul);
}

async function call(method, url, body) {
  const r = await fetch(url, {
    method, credentials: "omit", // public: never the session (and its CSRF rule)
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let j = null;
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  return [r.status, j];
}

async function fromShare(token) {
  message(W.checking, "busy");
  try {
    const [st, j] = await call("GET", "/api/v1/shared/" + encodeURIComponent(token));
    if (st !== 200) return message(W.failed + ((j && j.detail) || st));
    show(j.credential, j.verification);
  } catch (e) {
    message(W.network);
  }
}

async function verifyText(text) {
  text = text.trim();
  if (!text) return message(W.empty);
  const link = text.match(/\/v\/([A-Za-z0-9_-]{43})\/?(?:[?#].*)?$/);
  if (link) return fromShare(link[1]);
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return message(W.notJson + e.message);
  }
  // a file from the wallet, a shared answer, a VC API body, or the credential itself
  const cred = (doc && (doc.credential || doc.verifiableCredential)) || doc;
  message(W.checking, "busy");
  try {
    const [st, j] = await call("POST", "/api/v1/credentials/verify", { credential: cred });
    if (st !== 200) return message(W.failed + ((j && j.detail) || st));
    show(cred, j);
  } catch (e) {
    message(W.network);
  }
}

function readFile(f) {
  if (!f) return;
  const r = new FileReader();
  r.onload = () => { $("text").value = r.result; verifyText(r.result); };
  r.readAsText(f);
}

document.addEventListener("DOMContentLoaded", () => {
  translate();
  $("form").addEventListener("submit", (e) => { e.preventDefault(); verifyText($("text").value); });
  $("file").addEventListener("change", () => readFile($("file").files[0]));
  const drop = $("drop");
  for (const t of ["dragenter", "dragover"])
    drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    readFile(e.dataTransfer.files[0]);
  });
  window.addEventListener("hashchange", onHash);
  onHash();
});

// #token=... in the address: the share link's credential, verified
function onHash() {
  $("lang").href = "?lang=" + (lang === "en" ? "vi" : "en") + location.hash;
  const m = location.hash.match(/^#token=([A-Za-z0-9_-]{43})$/);
  if (m) fromShare(m[1]);
}
