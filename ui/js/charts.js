// Inline SVG charts: the 24 h response-time chart (and its sparkline), and the 90-day uptime bars.

import { h, s, mount } from "./dom.js";
import { responseTime, clock, day, duration, percent } from "./format.js";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Milliseconds → a nice tick step in seconds. */
function niceStep(maxSeconds, ticks = 4) {
  const raw = maxSeconds / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw || 0.001));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Splits points into runs without gaps longer than `gapMs`. */
function runs(points, gapMs) {
  const out = [];
  let run = [];
  for (const p of points) {
    if (run.length && p.t - run[run.length - 1].t > gapMs) {
      out.push(run);
      run = [];
    }
    run.push(p);
  }
  if (run.length) out.push(run);
  return out;
}

function parsePoints(points) {
  return (points || [])
    .map((p) => ({ t: new Date(p.at).getTime(), v: p.response_time }))
    .filter((p) => Number.isFinite(p.t) && typeof p.v === "number")
    .sort((a, b) => a.t - b.t);
}

/** A tooltip that follows the pointer inside `box` (positioned through the CSSOM). */
function tooltip(box) {
  const tip = h("div", { class: "chart-tip", hidden: true, role: "presentation" });
  box.append(tip);
  return {
    show(x, y, ...content) {
      mount(tip, ...content);
      tip.hidden = false;
      const w = box.clientWidth;
      const tw = tip.offsetWidth;
      tip.style.left = `${Math.min(Math.max(0, x - tw / 2), Math.max(0, w - tw))}px`;
      tip.style.top = `${Math.max(0, y - tip.offsetHeight - 10)}px`;
    },
    hide() {
      tip.hidden = true;
    },
  };
}

/**
 * The 24 h response-time chart, drawn at the container's width and redrawn when it changes.
 * `points`: Better Stack's `[{at, response_time}]` (seconds, one per minute).
 */
export function responseChart(points, { height = 220 } = {}) {
  const data = parsePoints(points);
  const box = h("div", { class: "chart", dataset: { chart: "response-times" } });
  if (!data.length) {
    box.append(h("div", { class: "chart-empty" }, "No checks in the last 24 hours yet."));
    return box;
  }
  const end = Math.ceil(Date.now() / MINUTE) * MINUTE;
  const start = end - DAY;
  const inWindow = data.filter((p) => p.t >= start);
  const values = inWindow.map((p) => p.v);
  const max = Math.max(...values);
  const avg = values.reduce((a, b) => a + b, 0) / (values.length || 1);
  const sorted = [...values].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
  box.setAttribute("role", "img");
  box.setAttribute("aria-label", `Response time over the last 24 hours: average ${responseTime(avg)}, 95th percentile ${responseTime(p95)}, highest ${responseTime(max)}.`);

  const draw = () => {
    const width = Math.max(280, box.clientWidth || 640);
    const pad = { l: 52, r: 12, t: 12, b: 26 };
    const iw = width - pad.l - pad.r;
    const ih = height - pad.t - pad.b;
    const step = niceStep(max || 0.001);
    const top = Math.max(step, Math.ceil((max || 0.001) / step) * step);
    const x = (t) => pad.l + ((t - start) / (end - start)) * iw;
    const y = (v) => pad.t + ih - (v / top) * ih;

    const grid = [];
    for (let v = 0; v <= top + 1e-9; v += step) {
      grid.push(s("line", { class: "grid", x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v) }));
      grid.push(s("text", { class: "axis", x: pad.l - 8, y: y(v) + 4, "text-anchor": "end" }, responseTime(v).replace("<1 ms", "0 ms")));
    }
    const xTicks = [];
    const firstHour = Math.ceil(start / (3_600_000 * 6)) * 3_600_000 * 6;
    for (let t = firstHour; t < end; t += 3_600_000 * 6) {
      xTicks.push(s("line", { class: "tick", x1: x(t), x2: x(t), y1: pad.t + ih, y2: pad.t + ih + 4 }));
      xTicks.push(s("text", { class: "axis", x: x(t), y: height - 6, "text-anchor": "middle" }, clock(new Date(t))));
    }
    const paths = runs(inWindow, 3 * MINUTE).map((run) => {
      const line = run.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
      const area = run.length > 1 ? `${line}L${x(run[run.length - 1].t).toFixed(1)},${y(0)}L${x(run[0].t).toFixed(1)},${y(0)}Z` : null;
      return [
        area && s("path", { class: "area", d: area }),
        run.length > 1 ? s("path", { class: "line", d: line }) : s("circle", { class: "point", cx: x(run[0].t), cy: y(run[0].v), r: 2.5 }),
      ];
    });
    const cursor = s("line", { class: "cursor", x1: 0, x2: 0, y1: pad.t, y2: pad.t + ih, visibility: "hidden" });
    const dot = s("circle", { class: "cursor-dot", r: 4, cx: 0, cy: 0, visibility: "hidden" });
    const hit = s("rect", { class: "hit", x: pad.l, y: pad.t, width: iw, height: ih });
    const svg = s("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" }, grid, xTicks, paths, cursor, dot, hit);
    mount(box, svg);
    const tip = tooltip(box);
    hit.addEventListener("pointermove", (e) => {
      const rect = svg.getBoundingClientRect();
      const t = start + ((e.clientX - rect.left - pad.l) / iw) * (end - start);
      let best = inWindow[0];
      for (const p of inWindow) if (Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
      const cx = x(best.t);
      const cy = y(best.v);
      for (const el of [cursor, dot]) el.setAttribute("visibility", "visible");
      cursor.setAttribute("x1", cx);
      cursor.setAttribute("x2", cx);
      dot.setAttribute("cx", cx);
      dot.setAttribute("cy", cy);
      tip.show(cx, cy, h("strong", responseTime(best.v)), h("span", ` at ${clock(new Date(best.t))}`));
    });
    hit.addEventListener("pointerleave", () => {
      for (const el of [cursor, dot]) el.setAttribute("visibility", "hidden");
      tip.hide();
    });
  };

  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    if (!box.isConnected) return ro.disconnect();
    if (Math.abs(box.clientWidth - lastWidth) < 2) return;
    lastWidth = box.clientWidth;
    draw();
  });
  ro.observe(box);
  requestAnimationFrame(() => {
    if (!lastWidth) {
      lastWidth = box.clientWidth;
      draw();
    }
  });
  return box;
}

/** A small line of the last 24 h, for lists: 15-minute averages, so it shows the trend. */
export function sparkline(points) {
  const buckets = new Map();
  for (const p of parsePoints(points)) {
    const k = Math.floor(p.t / (15 * MINUTE));
    const b = buckets.get(k) || { t: k * 15 * MINUTE, sum: 0, n: 0 };
    b.sum += p.v;
    b.n += 1;
    buckets.set(k, b);
  }
  let data = [...buckets.values()].map((b) => ({ t: b.t, v: b.sum / b.n }));
  let gap = 31 * MINUTE;
  if (data.length < 6) {
    // A young monitor: its minutes, over the time it has existed.
    data = parsePoints(points);
    gap = 3 * MINUTE;
  }
  const w = 120;
  const ht = 28;
  if (data.length < 2) return h("span", { class: "spark-empty muted small" }, data.length ? "" : "no data");
  const end = Date.now();
  const start = Math.max(end - DAY, data[0].t);
  const max = Math.max(...data.map((p) => p.v)) || 0.001;
  const x = (t) => ((t - start) / (end - start)) * w;
  const y = (v) => ht - 2 - (v / max) * (ht - 4);
  const d = runs(data, gap)
    .map((run) => run.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(""))
    .join("");
  return s("svg", { class: "spark", viewBox: `0 0 ${w} ${ht}`, preserveAspectRatio: "none", "aria-hidden": "true" }, s("path", { d, "vector-effect": "non-scaling-stroke" }));
}

function barClass(d) {
  if (d.availability === null || d.availability === undefined) return "bar-none";
  if (d.availability >= 99.99 && !d.incidents) return "bar-ok";
  if (d.availability >= 99) return "bar-warn";
  return "bar-bad";
}

function barText(d) {
  if (d.availability === null || d.availability === undefined) return `${day(d.date)}: no data`;
  const parts = [`${day(d.date)}: ${percent(d.availability, 2)} up`];
  if (d.incidents) parts.push(`${d.incidents} incident${d.incidents > 1 ? "s" : ""}`);
  if (d.downtime_seconds) parts.push(`${duration(d.downtime_seconds)} down`);
  return parts.join(" · ");
}

/** The mean availability of the days that have data, or null. */
export function overallUptime(days) {
  const known = days.filter((d) => d.availability !== null && d.availability !== undefined);
  if (!known.length) return null;
  return known.reduce((a, d) => a + d.availability, 0) / known.length;
}

/**
 * One bar per day, oldest first: green when fully up, amber with some downtime, red under 99 %,
 * grey without data. Each bar names its day, availability and incidents (tooltip and title).
 */
export function uptimeBars(days, { compact = false } = {}) {
  const n = days.length;
  const bw = 4;
  const gap = compact ? 1 : 1.6;
  const w = n * (bw + gap) - gap;
  const ht = compact ? 22 : 36;
  const overall = overallUptime(days);
  const bars = days.map((d, i) =>
    s("rect", { class: ["bar", barClass(d)], x: (i * (bw + gap)).toFixed(2), y: 0, width: bw, height: ht, rx: 1 }, s("title", barText(d))),
  );
  const svg = s("svg", { class: "bars-svg", viewBox: `0 0 ${w} ${ht}`, preserveAspectRatio: "none", "aria-hidden": "true" }, bars);
  const box = h(
    "div",
    {
      class: ["bars", compact && "bars-compact"],
      role: "img",
      dataset: { chart: "uptime" },
      "aria-label": `Uptime over the last ${n} days: ${overall === null ? "no data yet" : percent(overall, 3)}.`,
    },
    svg,
  );
  if (!compact) {
    box.append(
      h(
        "div",
        { class: "bars-legend" },
        h("span", `${n} days ago`),
        h("span", { class: "bars-overall" }, overall === null ? "No data yet" : `${percent(overall, 3)} uptime`),
        h("span", "Today"),
      ),
    );
    const tip = tooltip(box);
    svg.addEventListener("pointermove", (e) => {
      const rect = svg.getBoundingClientRect();
      const i = Math.min(n - 1, Math.max(0, Math.floor(((e.clientX - rect.left) / rect.width) * n)));
      tip.show(((i + 0.5) / n) * rect.width, 0, barText(days[i]));
    });
    svg.addEventListener("pointerleave", () => tip.hide());
  }
  return box;
}
