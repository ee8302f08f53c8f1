// Incidents, each with the flags its guards switched off.

import { h, mount, icon, skeleton, emptyState, pill, busy } from "../dom.js";
import { get, enc } from "../api.js";
import { timeEl, duration, when } from "../format.js";

function incidentDuration(a) {
  const start = new Date(a.started_at).getTime();
  const end = a.resolved_at ? new Date(a.resolved_at).getTime() : Date.now();
  return duration((end - start) / 1000);
}

export function incidentPill(a) {
  return a.resolved_at ? pill("ok", "Resolved", { dataset: { state: "resolved" } }) : pill("bad", "Ongoing", { dataset: { state: "ongoing" } });
}

/** The flags an incident switched off, as links to them. */
export function flagsOff(list) {
  if (!list || !list.length) return null;
  return h(
    "div",
    { class: "flags-off", dataset: { flagsOff: "" } },
    h("span", { class: "flags-off-label" }, icon("power", "icon icon-sm"), "Switched off"),
    list.map((f) =>
      h(
        "a",
        { class: "chip chip-off", href: `/ui/projects/${enc(f.project)}/features/${enc(f.feature)}`, title: `Guard ${f.guard} switched ${f.feature} off in ${f.environment}`, dataset: { flag: f.feature, env: f.environment } },
        h("span", { class: "mono" }, f.feature),
        h("span", { class: "chip-sub" }, ` · ${f.environment}`),
        h("span", { class: "chip-sub" }, ` · by ${f.guard}`),
      ),
    ),
  );
}

export function incidentRow(i, { compact = false } = {}) {
  const a = i.attributes;
  return h(
    "article",
    { class: ["incident-row", compact && "incident-row-compact"], dataset: { incident: i.id } },
    h("div", { class: "incident-status" }, incidentPill(a)),
    h(
      "div",
      { class: "incident-main" },
      h("a", { class: "row-link", href: `/ui/incidents/${enc(i.id)}` }, compact ? a.cause || "Down" : a.name),
      compact ? null : h("div", { class: "incident-cause" }, a.cause || "Down"),
      h("div", { class: "muted small" }, "Started ", timeEl(h, a.started_at), " · ", a.resolved_at ? `lasted ${incidentDuration(a)}` : `ongoing for ${incidentDuration(a)}`),
      compact ? null : flagsOff(a.flags_disabled),
    ),
  );
}

export async function render(ctx) {
  ctx.title("Incidents");
  const state = ctx.query.get("resolved"); // null, "false", "true"
  const monitorId = ctx.query.get("monitor_id");
  const qs = (resolved) => {
    const p = new URLSearchParams();
    if (resolved) p.set("resolved", resolved);
    if (monitorId) p.set("monitor_id", monitorId);
    return p.toString() ? `?${p}` : "";
  };
  const list = h("div", { class: "card card-flush" }, skeleton(4));
  mount(
    ctx.root,
    h("div", { class: "page-head" }, h("div", h("h1", "Incidents"), h("p", { class: "page-sub" }, "Opened when a monitor goes down; guards switch their flags off in the same transaction."))),
    h(
      "div",
      { class: "toolbar" },
      h(
        "div",
        { class: "segmented", role: "group", "aria-label": "Which incidents" },
        h("a", { class: "seg", href: `/ui/incidents${qs(null)}`, "aria-current": state === null ? "page" : null }, "All"),
        h("a", { class: "seg", href: `/ui/incidents${qs("false")}`, "aria-current": state === "false" ? "page" : null }, "Ongoing"),
        h("a", { class: "seg", href: `/ui/incidents${qs("true")}`, "aria-current": state === "true" ? "page" : null }, "Resolved"),
      ),
      monitorId ? h("span", { class: "muted" }, `Monitor #${monitorId} · `, h("a", { href: "/ui/incidents" }, "all monitors")) : null,
    ),
    list,
  );
  let page = 1;
  const items = [];
  async function load(reset) {
    const p = new URLSearchParams();
    if (state) p.set("resolved", state);
    if (monitorId) p.set("monitor_id", monitorId);
    p.set("per_page", "50");
    p.set("page", String(reset ? 1 : page));
    const answer = await get(`/api/v2/incidents?${p}`, { signal: ctx.signal });
    if (!ctx.alive()) return;
    if (reset) items.length = 0;
    items.push(...answer.data);
    const more = answer.pagination && answer.pagination.next;
    if (!items.length) {
      mount(list, emptyState(state === "false" ? "Nothing is down" : "No incidents", "When a monitor fails for longer than its confirmation period, its incident shows here."));
      return;
    }
    mount(
      list,
      h("div", { class: "incident-list" }, items.map((i) => incidentRow(i))),
      more
        ? h(
            "div",
            { class: "load-more" },
            h(
              "button",
              {
                class: "btn",
                type: "button",
                onClick: (e) =>
                  busy(e.currentTarget, async () => {
                    page += 1;
                    await load(false);
                  }),
              },
              "Load more",
            ),
          )
        : null,
    );
  }
  await load(true);
  ctx.every(5000, () => (page === 1 ? load(true) : null));
}

export async function renderOne(ctx) {
  const { id } = ctx.params;
  mount(ctx.root, skeleton(5));
  let resolved = false;
  const draw = async () => {
    const i = (await get(`/api/v2/incidents/${enc(id)}`, { signal: ctx.signal })).data;
    if (!ctx.alive()) return;
    const a = i.attributes;
    resolved = Boolean(a.resolved_at);
    const monitorId = i.relationships && i.relationships.monitor && i.relationships.monitor.data && i.relationships.monitor.data.id;
    ctx.title(`Incident #${i.id}`);
    const flags = a.flags_disabled || [];
    mount(
      ctx.root,
      h("a", { class: "back-link", href: "/ui/incidents" }, icon("back"), "Incidents"),
      h(
        "div",
        { class: "page-head" },
        h("div", h("div", { class: "title-row" }, h("h1", `${a.name} is ${a.resolved_at ? "back up" : "down"}`), incidentPill(a)), h("p", { class: "page-sub" }, `Incident #${i.id} · `, a.cause || "Down")),
        monitorId ? h("div", { class: "page-actions" }, h("a", { class: "btn", href: `/ui/monitors/${enc(monitorId)}` }, icon("activity"), h("span", "Monitor"))) : null,
      ),
      h(
        "div",
        { class: "stats" },
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Started"), h("div", { class: "stat-value stat-value-sm" }, when(a.started_at)), h("div", { class: "stat-note" }, timeEl(h, a.started_at))),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Resolved"), h("div", { class: "stat-value stat-value-sm" }, a.resolved_at ? when(a.resolved_at) : "Not yet"), h("div", { class: "stat-note" }, a.resolved_at ? timeEl(h, a.resolved_at) : "")),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Duration"), h("div", { class: "stat-value stat-value-sm" }, incidentDuration(a)), h("div", { class: "stat-note" }, a.resolved_at ? "" : "and counting")),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Flags switched off"), h("div", { class: "stat-value" }, String(flags.length)), h("div", { class: "stat-note" }, "by guards")),
      ),
      h(
        "section",
        { class: "card" },
        h("div", { class: "card-head" }, h("h2", "Flags switched off")),
        flags.length
          ? h(
              "table",
              { class: "table" },
              h("thead", h("tr", h("th", "Flag"), h("th", "Environment"), h("th", "Project"), h("th", "Guard"))),
              h(
                "tbody",
                flags.map((f) =>
                  h(
                    "tr",
                    { dataset: { flag: f.feature } },
                    h("td", h("a", { class: "mono", href: `/ui/projects/${enc(f.project)}/features/${enc(f.feature)}` }, f.feature)),
                    h("td", f.environment),
                    h("td", f.project),
                    h("td", f.guard),
                  ),
                ),
              ),
            )
          : emptyState("No flag was switched off", "No guard watches this monitor, or its flags were already off."),
      ),
      h(
        "section",
        { class: "card" },
        h("div", { class: "card-head" }, h("h2", "What the check saw")),
        h(
          "dl",
          { class: "dl" },
          h("dt", "URL"),
          h("dd", h("span", { class: "mono" }, a.url || "—")),
          h("dt", "Cause"),
          h("dd", a.cause || "—"),
          Object.entries(a.metadata || {}).map(([k, v]) => [h("dt", k === "Cause" ? "Cause code" : k), h("dd", k === "Cause" ? h("code", String(v)) : String(v))]),
        ),
        a.response_content ? h("pre", { class: "response" }, a.response_content) : null,
      ),
    );
  };
  await draw();
  ctx.every(5000, () => (resolved ? null : draw()));
}
