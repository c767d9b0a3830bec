// i18n.js - every word the app shows comes from /i18n/vi.json (default)
// or /i18n/en.json; the choice is kept in localStorage.
const FILES = { vi: "/i18n/vi.json", en: "/i18n/en.json" };
let words = {};
export let lang = "vi";

export async function load(want) {
  lang = FILES[want] ? want : "vi";
  const r = await fetch(FILES[lang]);
  words = await r.json();
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]"))
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

export function saved() {
  try { return localStorage.getItem("tinchi.lang") || "vi"; } catch { return "vi"; }
}

export function save(l) {
  try { localStorage.setItem("tinchi.lang", l); } catch { /* private mode */ }
}

// t("a.b", {n: 3}) -> the text with {n} replaced; a missing key shows itself.
export function t(key, vars) {
  let s = words[key];
  if (s === undefined) {
    console.warn("i18n: no text for " + key);
    s = key;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

export function number(n, digits) {
  return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB",
    { maximumFractionDigits: digits ?? 1 }).format(n);
}

export function date(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "vi" ? "vi-VN" : "en-GB",
    { dateStyle: "medium" }).format(new Date(iso));
}

export function dateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "vi" ? "vi-VN" : "en-GB",
    { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
