// The event log: every change, by a person, a probe, a guard or a webhook, with filters.

import { h, mount, icon, field, select, skeleton, emptyState, busy, formMessage } from "../dom.js";
import { get, getAllPages } from "../api.js";
import { timeEl } from "../format.js";

export const EVENT_TYPES = [
  "feature-created",
  "feature-metadata-updated",
  "feature-archived",
  "feature-revived",
  "feature-deleted",
  "feature-environment-enabled",
  "feature-environment-disabled",
  "feature-strategy-add",
  "feature-strategy-update",
  "feature-strategy-remove",
  "feature-environment-variants-updated",
  "feature-tagged",
  "feature-untagged",
  "monitor-created",
  "monitor-updated",
  "monitor-deleted",
  "monitor-status-changed",
  "incident-opened",
  "incident-resolved",
  "guard-created",
  "guard-updated",
  "guard-deleted",
  "guard-tripped",
  "guard-recovered",
  "notification-channel-created",
  "notification-channel-updated",
  "notification-channel-deleted",
  "api-token-created",
  "api-token-updated",
  "api-token-deleted",
  "betterstack-webhook-received",
  "segment-created",
  "segment-updated",
  "segment-deleted",
  "project-created",
  "environment-created",
];

function category(type) {
  if (/^(incident-opened|guard-tripped|feature-environment-disabled)$/.test(type) || type.endsWith("-deleted") || type.endsWith("-archived")) return "bad";
  if (/^(incident-resolved|guard-recovered|feature-environment-enabled)$/.test(type)) return "good";
  if (type.startsWith("monitor") || type.startsWith("incident") || type.startsWith("guard")) return "watch";
  return "neutral";
}

/** `**bold**` in the server's Markdown summaries, as <strong>; nothing else is interpreted. */
function markdownBold(text) {
  return text.split(/(\*\*[^*]+\*\*)/).map((part) => (part.startsWith("**") && part.endsWith("**") && part.length > 4 ? h("strong", part.slice(2, -2)) : part));
}

/** What the generic summary leaves out, for the types that carry it in their data. */
function detail(e, names) {
  const d = e.data || {};
  const monitor = (id) => (names && names.get(String(id))) || `monitor #${id}`;
  switch (e.type) {
    case "monitor-status-changed":
      return [h("strong", monitor(d.monitor_id)), `: ${d.from} → ${d.to}`, d.cause ? ` (${d.cause})` : ""];
    case "incident-opened":
      return [h("strong", monitor(d.monitor_id)), ` is down: ${d.cause || "failing"}`];
    case "incident-resolved":
      return [h("strong", monitor(d.monitor_id)), " is back up"];
    case "monitor-created":
    case "monitor-updated":
    case "monitor-deleted":
      return d.pronounceable_name ? [h("strong", d.pronounceable_name)] : null;
    case "guard-tripped":
    case "guard-recovered":
      return d.reason ? [d.reason] : null;
    case "guard-created":
    case "guard-updated":
    case "guard-deleted":
    case "notification-channel-created":
    case "notification-channel-updated":
    case "notification-channel-deleted":
      return d.name ? [h("strong", d.name)] : null;
    case "api-token-created":
    case "api-token-deleted":
      return d.tokenName ? [h("strong", d.tokenName), ` (${d.type})`] : null;
    case "feature-strategy-add":
    case "feature-strategy-update": {
      const p = d.parameters || {};
      const pct = p.rollout ?? p.percentage;
      return d.name ? [`${d.name}${pct !== undefined ? ` at ${pct}%` : ""}${(d.constraints || []).length ? `, ${d.constraints.length} constraint(s)` : ""}`] : null;
    }
    case "feature-environment-disabled":
    case "feature-environment-enabled":
      return d.reason ? [d.reason] : null;
    default:
      return null;
  }
}

function summarize(e, names) {
  const more = detail(e, names);
  if (e.summary) return [markdownBold(e.summary), more ? [h("span", { class: "muted" }, " — "), more] : null];
  const label = e.type.replaceAll("-", " ");
  const out = [h("strong", e.createdBy), `: ${label}`];
  if (e.featureName) out.push(" for ", h("strong", e.featureName));
  if (e.environment && e.project) out.push(" in ", h("strong", e.environment), " of ", h("strong", e.project));
  else if (e.environment) out.push(" in ", h("strong", e.environment));
  if (more) out.push(h("span", { class: "muted" }, " — "), more);
  return out;
}

/** A list of events (used here and on a flag's page). */
export function eventList(events, names) {
  if (!events.length) return emptyState("No events", "Nothing matches.");
  return h(
    "ol",
    { class: "event-list" },
    events.map((e) => {
      const data = e.data ?? null;
      return h(
        "li",
        { class: "event", dataset: { type: e.type, id: e.id } },
        h("span", { class: ["event-type", `event-${category(e.type)}`] }, e.type),
        h("div", { class: "event-main" }, h("div", { class: "event-summary" }, summarize(e, names)), data && typeof data === "object" ? h("details", { class: "event-data" }, h("summary", "Details"), h("pre", JSON.stringify(data, null, 2))) : null),
        h("div", { class: "event-when" }, timeEl(h, e.createdAt), h("span", { class: "muted small" }, `#${e.id}`)),
      );
    }),
  );
}

const FILTERS = ["type", "feature", "project", "environment", "createdBy", "from", "to"];

export async function render(ctx) {
  ctx.title("Event log");
  const [{ projects }, { environments }, monitors] = await Promise.all([
    get("/api/admin/projects"),
    get("/api/admin/environments"),
    getAllPages("/api/v2/monitors").catch(() => []),
  ]);
  if (!ctx.alive()) return;
  const names = new Map(monitors.map((m) => [String(m.id), m.attributes.pronounceable_name]));
  const q = ctx.query;
  const form = h(
    "form",
    { class: "filters", novalidate: true, role: "search", "aria-label": "Filter events" },
    field("Type", select("type", [["", "Any type"], ...EVENT_TYPES.map((t) => [t, t])], q.get("type") || "")),
    field("Flag", h("input", { name: "feature", value: q.get("feature") || "", placeholder: "flag name", autocomplete: "off" })),
    field("Project", select("project", [["", "Any project"], ...projects.map((p) => [p.id, p.name || p.id])], q.get("project") || "")),
    field("Environment", select("environment", [["", "Any environment"], ...environments.map((e) => [e.name, e.name])], q.get("environment") || "")),
    field("Created by", h("input", { name: "createdBy", value: q.get("createdBy") || "", placeholder: "admin, guard:checkout…", autocomplete: "off" })),
    field("From", h("input", { type: "date", name: "from", value: q.get("from") || "" })),
    field("To", h("input", { type: "date", name: "to", value: q.get("to") || "" })),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { class: "btn btn-primary", type: "submit" }, icon("search"), h("span", "Filter")),
      h("a", { class: "btn btn-ghost", href: "/ui/events" }, "Clear"),
    ),
  );
  const results = h("div", { class: "card card-flush" }, skeleton(6));
  const count = h("span", { class: "muted" });
  mount(
    ctx.root,
    h("div", { class: "page-head" }, h("div", h("h1", "Event log"), h("p", { class: "page-sub" }, "Every change, by a person, a probe, a guard or a webhook, in the order it happened."))),
    h("div", { class: "card" }, form),
    h("div", { class: "list-head" }, h("h2", { class: "h-sm" }, "Events"), count),
    results,
  );

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const v = form.elements[name].value.trim();
      if (v) params.set(name, v);
    }
    if (params.get("from") && params.get("to") && params.get("from") > params.get("to")) {
      formMessage(form, "error", "“From” must be on or before “To”.");
      return;
    }
    ctx.navigate(`/ui/events${params.toString() ? `?${params}` : ""}`);
  });

  const search = new URLSearchParams();
  for (const name of FILTERS) {
    const v = q.get(name);
    if (v) search.set(name, `IS:${v}`);
  }
  const limit = 50;
  let offset = 0;
  const all = [];
  async function load() {
    search.set("offset", String(offset));
    search.set("limit", String(limit));
    const page = await get(`/api/admin/search/events?${search}`);
    if (!ctx.alive()) return;
    all.push(...page.events);
    offset += page.events.length;
    count.textContent = `${page.total} event${page.total === 1 ? "" : "s"}`;
    const more =
      all.length < page.total
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
                    try {
                      await load();
                    } catch (err) {
                      formMessage(form, "error", err.message);
                    }
                  }),
              },
              "Load more",
            ),
          )
        : null;
    mount(results, eventList(all, names), more);
  }
  try {
    await load();
  } catch (err) {
    if (!ctx.alive()) return;
    mount(results);
    formMessage(form, "error", err.message);
  }
}

