// chart.js - the watched-range chart of a video unit, drawn as SVG through
// the DOM (no library, no inline style): one bar per bucket of the
// lecture's duration, as tall as the share of the enrolled learners whose
// watched ranges touch it (GET /api/v1/units/{uid}/progress/histogram),
// with the drop-off bucket marked. Each bar has a <title> (a tooltip and
// what a screen reader reads); the whole chart has a summary as its label.
import { t, number } from "/js/i18n.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export function clock(sec) {
  sec = Math.max(0, Math.round(sec));
  const m = Math.floor(sec / 60);
  return m + ":" + String(sec % 60).padStart(2, "0");
}

// HIST: the histogram answer; TITLE: the unit's title. Returns an <svg>.
export function watchedChart(hist, title) {
  const W = 600, H = 200, left = 40, right = 10, top = 10, bottom = 30;
  const n = hist.counts.length;
  const base = Math.max(1, hist.enrolled || 0, ...hist.counts);
  const bw = (W - left - right) / Math.max(1, n);
  const summary = t("lect.chartSummary", { title, started: hist.started, enrolled: hist.enrolled,
    completed: hist.completed,
    dropoff: hist.drop_off_at === null ? t("lect.chartNoDropoff") : clock(hist.drop_off_at) });
  const svg = s("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", "aria-label": summary,
    preserveAspectRatio: "none" });
  svg.append(s("title", {}, summary));
  const plotH = H - top - bottom;
  for (const f of [0, 0.5, 1]) {
    const y = top + plotH * (1 - f);
    svg.append(s("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
    svg.append(s("text", { x: left - 4, y: y + 4, class: "axis", "text-anchor": "end" },
      number(100 * f, 0) + "%"));
  }
  hist.counts.forEach((c, i) => {
    const hgt = (plotH * c) / base;
    const from = i * hist.bucket_seconds;
    const bar = s("rect", { x: left + i * bw + 0.5, y: top + plotH - hgt, width: Math.max(0.5, bw - 1),
      height: hgt, class: i === hist.drop_off_bucket ? "bar drop" : "bar", "data-count": c });
    bar.append(s("title", {}, t("lect.chartBar", { from: clock(from), to: clock(from + hist.bucket_seconds),
      n: c, enrolled: hist.enrolled })));
    svg.append(bar);
  });
  svg.append(s("line", { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: "baseline" }));
  svg.append(s("text", { x: left, y: H - 8, class: "axis" }, "0:00"));
  svg.append(s("text", { x: W - right, y: H - 8, class: "axis", "text-anchor": "end" }, clock(hist.duration)));
  return svg;
}
