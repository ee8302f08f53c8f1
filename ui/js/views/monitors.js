// Monitors: current status, last response time, the last 24 h and the last 90 days of each.

import { h, mount, icon, skeleton, emptyState, pill } from "../dom.js";
import { get, getAllPages, enc } from "../api.js";
import { timeEl, responseTime } from "../format.js";
import { sparkline, uptimeBars, overallUptime } from "../charts.js";
import { percent } from "../format.js";

export const MONITOR_TYPES = [
  ["status", "HTTP status"],
  ["expected_status_code", "HTTP expected status code"],
  ["keyword", "HTTP keyword present"],
  ["keyword_absence", "HTTP keyword absent"],
  ["tcp", "TCP port"],
  ["udp", "UDP port"],
  ["dns", "DNS"],
  ["ping", "Ping (ICMP)"],
];

export function typeLabel(type) {
  const t = MONITOR_TYPES.find(([v]) => v === type);
  return t ? t[1] : type;
}

const STATUS = {
  up: ["ok", "Up"],
  down: ["bad", "Down"],
  validating: ["warning", "Recovering"],
  pending: ["neutral", "Pending"],
  paused: ["neutral", "Paused"],
  maintenance: ["info", "Maintenance"],
};

/** A status pill with its word: `Up`, `Down`, `Recovering`, `Pending`, `Paused`. */
export function statusPill(attrs) {
  const status = attrs.paused ? "paused" : attrs.status;
  const [kind, label] = STATUS[status] || ["neutral", status];
  return pill(kind, label, { dataset: { status } });
}

/** The last response time we know: the newest per-minute average. */
export function lastResponse(points) {
  const list = points || [];
  return list.length ? list[list.length - 1].response_time : null;
}

export async function responseTimes(id, signal) {
  const r = await get(`/api/v2/monitors/${enc(id)}/response-times`, { signal });
  const region = r.data.attributes.regions[0];
  return region ? region.response_times : [];
}

/** 90 days of `{date, availability|null, downtime_seconds, incidents}`, oldest first. */
export async function uptimeDays(monitor, days = 90, signal) {
  const r = await get(`/api/v2/monitors/${enc(monitor.id)}/uptime?days=${days}`, { signal });
  return (r.data || []).slice(-days);
}

// --------------------------------------------------------------------------- list
export async function render(ctx) {
  ctx.title("Monitors");
  const summary = h("div", { class: "summary-strip", "aria-live": "polite" });
  const list = h("div", { class: "monitor-list" }, skeleton(4));
  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head" },
      h("div", h("h1", "Monitors"), h("p", { class: "page-sub" }, "Checked by flagwatch itself. A guard can switch flags off when one goes down.")),
      h("div", { class: "page-actions" }, h("a", { class: "btn btn-primary", href: "/ui/monitors/new" }, icon("plus"), h("span", "New monitor"))),
    ),
    summary,
    list,
  );

  const rows = new Map(); // id → {row, parts}
  const charts = new Map(); // id → {points, days}

  async function refresh() {
    const monitors = await getAllPages("/api/v2/monitors");
    if (!ctx.alive()) return;
    // What is down first, then by name.
    const rank = (m) => (!m.attributes.paused && m.attributes.status === "down" ? 0 : 1);
    monitors.sort((a, b) => rank(a) - rank(b) || a.attributes.pronounceable_name.localeCompare(b.attributes.pronounceable_name));
    renderSummary(summary, monitors);
    if (!monitors.length) {
      rows.clear();
      mount(
        list,
        emptyState(
          "No monitors yet",
          "Add an HTTP, TCP, UDP, DNS or ping check. flagwatch probes it and opens an incident when it goes down.",
          h("a", { class: "btn btn-primary", href: "/ui/monitors/new" }, icon("plus"), h("span", "New monitor")),
        ),
      );
      return;
    }
    if (!rows.size) mount(list);
    const seen = new Set();
    for (const m of monitors) {
      seen.add(m.id);
      let entry = rows.get(m.id);
      if (!entry) {
        entry = monitorRow(m);
        rows.set(m.id, entry);
      }
      entry.update(m, charts.get(m.id));
      list.append(entry.row); // keeps the order
    }
    for (const [id, entry] of rows) {
      if (!seen.has(id)) {
        entry.row.remove();
        rows.delete(id);
      }
    }
    return monitors;
  }

  async function refreshCharts(monitors) {
    const queue = [...monitors];
    const worker = async () => {
      while (queue.length && ctx.alive()) {
        const m = queue.shift();
        try {
          const [points, days] = await Promise.all([responseTimes(m.id, ctx.signal), uptimeDays(m, 90, ctx.signal)]);
          charts.set(m.id, { points, days });
          const entry = rows.get(m.id);
          if (entry && ctx.alive()) entry.update(m, charts.get(m.id));
        } catch {
          // One monitor's history failing leaves its row as it is.
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  let monitors = await refresh();
  if (monitors && monitors.length) refreshCharts(monitors);
  ctx.every(3000, async () => {
    monitors = await refresh();
  });
  ctx.every(30000, async () => {
    if (monitors && monitors.length) await refreshCharts(monitors);
  });
}

function renderSummary(el, monitors) {
  const count = (pred) => monitors.filter(pred).length;
  const down = count((m) => !m.attributes.paused && m.attributes.status === "down");
  const up = count((m) => !m.attributes.paused && m.attributes.status === "up");
  const other = monitors.length - down - up;
  if (!monitors.length) return mount(el);
  mount(
    el,
    h("div", { class: ["summary-item", down ? "summary-bad" : ""] }, h("span", { class: "summary-num" }, String(down)), h("span", "down")),
    h("div", { class: "summary-item summary-ok" }, h("span", { class: "summary-num" }, String(up)), h("span", "up")),
    h("div", { class: "summary-item" }, h("span", { class: "summary-num" }, String(other)), h("span", "paused or pending")),
  );
}

function monitorRow(m) {
  const status = h("div", { class: "mon-status" });
  const name = h("a", { class: "row-link", href: `/ui/monitors/${enc(m.id)}` });
  const target = h("div", { class: "muted truncate small" });
  const checked = h("div", { class: "mon-meta small" });
  const last = h("div", { class: "mon-last" });
  const spark = h("div", { class: "mon-spark" });
  const bars = h("div", { class: "mon-bars" });
  const row = h(
    "article",
    { class: "card monitor-row", dataset: { monitor: m.id } },
    status,
    h("div", { class: "mon-name" }, name, target, checked),
    h("div", { class: "mon-rt" }, h("span", { class: "label-sm" }, "Response"), last, spark),
    h("div", { class: "mon-uptime" }, bars),
  );
  return {
    row,
    update(monitor, chart) {
      const a = monitor.attributes;
      row.dataset.status = a.paused ? "paused" : a.status;
      mount(status, statusPill(a));
      name.textContent = a.pronounceable_name;
      target.textContent = `${typeLabel(a.monitor_type)} · ${a.url}${a.port ? `:${a.port}` : ""}`;
      mount(checked, a.paused ? ["Paused ", timeEl(h, a.paused_at)] : a.last_checked_at ? ["Checked ", timeEl(h, a.last_checked_at)] : "Not checked yet", ` · every ${a.check_frequency} s`);
      if (chart) {
        mount(last, h("span", { class: "num" }, responseTime(lastResponse(chart.points))));
        mount(spark, sparkline(chart.points));
        const overall = overallUptime(chart.days);
        mount(bars, h("div", { class: "mon-uptime-head" }, h("span", { class: "label-sm" }, "90 days"), h("span", { class: "num small" }, overall === null ? "—" : percent(overall, 2))), uptimeBars(chart.days, { compact: true }));
      } else if (!last.childNodes.length) {
        mount(last, h("span", { class: "muted" }, "…"));
      }
    },
  };
}
