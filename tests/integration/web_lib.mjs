// web_lib.mjs - what the browser tests (web_page.mjs, web_lecturer.mjs,
// web_admin.mjs, web_e2e.mjs) share: Chromium started with issue 9's
// flags, console errors collected (with the ones a scenario causes on
// purpose allowed, each once), screenshots, the page's readiness, and the
// checks every page must pass: no wider than the 360 px screen, every field
// labelled, text contrast WCAG AA.
import path from 'node:path';
import {chromium} from 'playwright-core';

export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

// Debian's Chromium at EXE, headless, with the flags and EXTRA
// ones; on failure prints why and exits 2 (a setup error).
export async function launch(exe, extra = []) {
  try {
    return await chromium.launch({executablePath: exe, headless: true, args: [...FLAGS, ...extra]});
  } catch (e) {
    console.error('cannot start Chromium: ' + e.message);
    process.exit(2);
  }
}

// Console errors, page errors and CSP violations of PAGE go to
// SEEN.errors, except those matching one of the regular expressions pushed
// on the returned `expected` array: each allows one error, which goes to
// SEEN.allowed instead.
export function watchErrors(page, seen) {
  const expected = [];
  seen.allowed ||= [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const i = expected.findIndex((re) => re.test(m.text()));
    if (i >= 0) {
      expected.splice(i, 1);
      seen.allowed.push(m.text());
    } else {
      seen.errors.push(m.text());
    }
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  return expected;
}

// WCAG 2 contrast of every element with its own visible text against the
// first opaque background behind it (white when none): the ones below
// 4.5:1 (3:1 for large text), as [text, ratio]. Runs in the page.
export function contrastProblems() {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const res = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || el instanceof SVGElement) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || el.closest('.sr, .skip')) continue;
    const a = lum(rgb(st.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(st.fontSize) >= 24 || (parseFloat(st.fontSize) >= 18.66 && Number(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) res.push([el.textContent.trim().slice(0, 40), Math.round(ratio * 100) / 100]);
  }
  return res;
}

// The page as it is now: {wide: wider than 360 px, unlabelled: the names
// of fields (visible ones only when VISIBLE) with no label, lowContrast}.
export async function qualities(page, {visible = true} = {}) {
  const q = await page.evaluate((vis) => ({
    wide: document.documentElement.scrollWidth > 360,
    unlabelled: [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && (!vis || el.getClientRects().length) &&
        !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      .map((el) => el.name || el.id),
  }), visible);
  q.lowContrast = await page.evaluate(contrastProblems);
  return q;
}

// A full-page screenshot OUT/NAME.png.
export const shot = (page, out, name) => page.screenshot({path: path.join(out, name + '.png'), fullPage: true});

// Waits until the app's router marks a page whose route starts with PREFIX
// rendered (main's data-ready).
export const ready = (page, prefix, timeout = 15000) => page.waitForFunction(
  (p) => (document.getElementById('main').dataset.ready || '').startsWith(p), prefix, {timeout});

// Evaluates the async FN(ARG) in PAGE every EVERY ms until its result is
// truthy (or TIMEOUT ms passed: an error), and returns that result.
// (page.waitForFunction does not await a promise: any async predicate
// would pass at once.)
export async function until(page, fn, arg, {timeout = 10000, every = 250} = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() > end) throw new Error('until: still false after ' + timeout + ' ms: ' + String(fn).slice(0, 80));
    await page.waitForTimeout(every);
  }
}
