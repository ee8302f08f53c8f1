// Projects and their flags, with an on/off switch per environment.

import { h, mount, icon, toast, dialog, confirmDialog, field, select, showFieldErrors, formMessage, busy, skeleton, emptyState, pill } from "../dom.js";
import { get, post, del, enc } from "../api.js";
import { timeEl } from "../format.js";

export const FLAG_TYPES = [
  ["release", "Release"],
  ["experiment", "Experiment"],
  ["operational", "Operational"],
  ["kill-switch", "Kill switch"],
  ["permission", "Permission"],
];
export const STRATEGIES = [
  ["flexibleRollout", "Gradual rollout"],
  ["default", "Standard (everyone)"],
  ["userWithId", "User IDs"],
  ["remoteAddress", "IP addresses"],
  ["applicationHostname", "Host names"],
  ["gradualRolloutUserId", "Gradual rollout by user id (legacy)"],
  ["gradualRolloutSessionId", "Gradual rollout by session (legacy)"],
  ["gradualRolloutRandom", "Random percentage (legacy)"],
];
const NAME_RE = /^[A-Za-z0-9\-_.!~*'()]{1,100}$/;

export function checkName(name) {
  if (!name) return "A name is required.";
  if (!NAME_RE.test(name)) return "Use 1–100 URL-friendly characters: letters, digits and - _ . ! ~ * ' ( ).";
  return null;
}

/** The on/off switch of one flag in one environment. */
export function flagSwitch(project, feature, env, enabled, { onChange, label } = {}) {
  const button = h(
    "button",
    {
      class: "switch",
      type: "button",
      role: "switch",
      "aria-checked": String(enabled),
      "aria-label": label || `${feature} in ${env}`,
      dataset: { env, feature },
    },
    h("span", { class: "switch-track", "aria-hidden": "true" }, h("span", { class: "switch-thumb" })),
    h("span", { class: "switch-text" }, enabled ? "On" : "Off"),
  );
  button.addEventListener("click", () =>
    busy(button, async () => {
      const on = button.getAttribute("aria-checked") !== "true";
      try {
        await post(`/api/admin/projects/${enc(project)}/features/${enc(feature)}/environments/${enc(env)}/${on ? "on" : "off"}`);
      } catch (e) {
        toast(`Could not switch ${feature} ${on ? "on" : "off"} in ${env}: ${e.message}`, "error");
        return;
      }
      button.setAttribute("aria-checked", String(on));
      button.querySelector(".switch-text").textContent = on ? "On" : "Off";
      toast(`${feature} is ${on ? "on" : "off"} in ${env}`);
      if (onChange) onChange(on);
    }),
  );
  return button;
}

/** "30% of users", "2 strategies"… for one environment of a flag. */
export function rolloutSummary(env) {
  const strategies = (env.strategies || []).filter((s) => !s.disabled);
  if (!strategies.length) return env.enabled ? "no strategy" : "";
  if (strategies.length > 1) return `${strategies.length} strategies`;
  const st = strategies[0];
  const c = (st.constraints || []).length;
  const constraints = c ? ` · ${c} constraint${c > 1 ? "s" : ""}` : "";
  const rollout = st.parameters && (st.parameters.rollout ?? st.parameters.percentage);
  if (rollout !== undefined && String(rollout) !== "100") return `${rollout}%${constraints}`;
  if (st.name === "default" || st.name === "flexibleRollout") return `everyone${constraints}`;
  const label = STRATEGIES.find(([v]) => v === st.name);
  return `${label ? label[1] : st.name}${constraints}`;
}

export async function render(ctx) {
  ctx.title("Flags");
  const [{ projects }, { environments }] = await Promise.all([get("/api/admin/projects"), get("/api/admin/environments")]);
  if (!ctx.alive()) return;
  const envs = environments.filter((e) => e.enabled !== false).sort((a, b) => a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
  const projectId = ctx.query.get("project") && projects.some((p) => p.id === ctx.query.get("project")) ? ctx.query.get("project") : (projects[0] && projects[0].id) || "default";
  const showArchived = ctx.query.get("archived") === "1";
  const project = projects.find((p) => p.id === projectId);

  const list = h("div", { class: "card card-flush" }, skeleton(5));
  const search = h("input", { type: "search", class: "input-search", placeholder: "Filter flags", "aria-label": "Filter flags by name or description" });
  const projectPicker =
    projects.length > 1
      ? h(
          "label",
          { class: "inline-field" },
          h("span", { class: "muted" }, "Project"),
          select("project", projects.map((p) => [p.id, p.name || p.id]), projectId, {
            onChange: (e) => ctx.navigate(`/ui/flags?project=${enc(e.target.value)}`),
          }),
        )
      : null;

  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head" },
      h("div", h("h1", "Flags"), h("p", { class: "page-sub" }, project ? project.description || `Project ${project.name || project.id}` : "")),
      h(
        "div",
        { class: "page-actions" },
        h("button", { class: "btn btn-primary", type: "button", onClick: () => newFlag(ctx, projectId) }, icon("plus"), h("span", "New flag")),
      ),
    ),
    h(
      "div",
      { class: "toolbar" },
      h("div", { class: "search-wrap" }, icon("search"), search),
      projectPicker,
      h(
        "div",
        { class: "segmented", role: "group", "aria-label": "Which flags" },
        h("a", { href: `/ui/flags?project=${enc(projectId)}`, class: "seg", "aria-current": showArchived ? null : "page" }, "Active"),
        h("a", { href: `/ui/flags?project=${enc(projectId)}&archived=1`, class: "seg", "aria-current": showArchived ? "page" : null }, "Archived"),
      ),
    ),
    list,
  );

  if (showArchived) return renderArchived(ctx, list, projectId, search);

  const [{ features }, { guards }] = await Promise.all([get(`/api/admin/projects/${enc(projectId)}/features`), get("/api/admin/guards")]);
  if (!ctx.alive()) return;
  // Flags an open guard trip switched off: "project/feature/env" → guard name.
  const held = new Map();
  for (const g of guards) {
    for (const f of (g.trip && g.trip.flags) || []) {
      if (f.action === "disabled") held.set(`${f.project}/${f.feature}/${f.environment}`, g.name);
    }
  }
  features.sort((a, b) => a.name.localeCompare(b.name));
  if (!features.length) {
    mount(
      list,
      emptyState(
        "No flags yet",
        "Create a flag, switch it on per environment, and point an Unleash SDK at this server.",
        h("button", { class: "btn btn-primary", type: "button", onClick: () => newFlag(ctx, projectId) }, icon("plus"), h("span", "New flag")),
      ),
    );
    return;
  }

  const rows = features.map((f) => {
    const byEnv = Object.fromEntries((f.environments || []).map((e) => [e.name, e]));
    const href = `/ui/projects/${enc(projectId)}/features/${enc(f.name)}`;
    const row = h(
      "tr",
      { dataset: { flag: f.name, search: `${f.name} ${f.description || ""}`.toLowerCase() } },
      h(
        "td",
        { class: "cell-name" },
        h("a", { class: "row-link", href }, f.name),
        h("div", { class: "row-meta" }, h("span", { class: "tag" }, typeLabel(f.type)), f.stale ? pill("warning", "Stale") : null, f.description ? h("span", { class: "muted truncate" }, f.description) : null),
      ),
      envs.map((env) => {
        const state = byEnv[env.name] || { enabled: false, strategies: [] };
        const guard = !state.enabled && held.get(`${projectId}/${f.name}/${env.name}`);
        const summary = guard
          ? h("span", { class: "switch-note held", title: `Switched off by the guard ${guard}`, dataset: { heldBy: guard } }, icon("shield", "icon icon-xs"), `off by ${guard}`)
          : h("span", { class: "switch-note" }, rolloutSummary(state));
        return h(
          "td",
          { class: "cell-env", dataset: { label: env.name } },
          h("div", { class: "env-cell" }, flagSwitch(projectId, f.name, env.name, state.enabled, { onChange: () => (summary.textContent = "") }), summary),
        );
      }),
      h("td", { class: "cell-date" }, timeEl(h, f.createdAt)),
      h(
        "td",
        { class: "cell-actions" },
        h(
          "button",
          {
            class: "btn-icon",
            type: "button",
            title: `Archive ${f.name}`,
            "aria-label": `Archive ${f.name}`,
            onClick: async () => {
              if (!(await confirmDialog(`Archive ${f.name}?`, "SDKs stop receiving it. You can revive it from the archive.", { confirm: "Archive", danger: true }))) return;
              try {
                await del(`/api/admin/projects/${enc(projectId)}/features/${enc(f.name)}`);
                toast(`${f.name} archived`);
                row.remove();
              } catch (e) {
                toast(e.message, "error");
              }
            },
          },
          icon("trash"),
        ),
      ),
    );
    return row;
  });

  const table = h(
    "table",
    { class: "table table-flags" },
    h(
      "thead",
      h(
        "tr",
        h("th", { scope: "col" }, "Name"),
        envs.map((e) => h("th", { scope: "col", class: "cell-env" }, e.name, e.type !== e.name ? h("span", { class: "th-sub" }, e.type) : null)),
        h("th", { scope: "col", class: "cell-date" }, "Created"),
        h("th", { scope: "col", class: "cell-actions" }, h("span", { class: "sr-only" }, "Actions")),
      ),
    ),
    h("tbody", rows),
  );
  const none = h("p", { class: "empty-inline", hidden: true }, "No flag matches the filter.");
  mount(list, table, none);
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const r of rows) {
      const match = !q || r.dataset.search.includes(q);
      r.hidden = !match;
      if (match) shown++;
    }
    none.hidden = shown > 0;
  });
}

async function renderArchived(ctx, list, projectId, search) {
  const { features } = await get(`/api/admin/archive/features/${enc(projectId)}`);
  if (!ctx.alive()) return;
  if (!features.length) {
    mount(list, emptyState("The archive is empty", "Archived flags appear here; they can be revived."));
    return;
  }
  const rows = features.map((f) => {
    const row = h(
      "tr",
      { dataset: { search: f.name.toLowerCase() } },
      h("td", { class: "cell-name" }, h("span", { class: "strong" }, f.name), h("div", { class: "row-meta" }, h("span", { class: "tag" }, typeLabel(f.type)))),
      h("td", "Archived ", timeEl(h, f.archivedAt)),
      h(
        "td",
        { class: "cell-actions" },
        h(
          "button",
          {
            class: "btn btn-sm",
            type: "button",
            onClick: async (e) =>
              busy(e.currentTarget, async () => {
                try {
                  await post(`/api/admin/archive/revive/${enc(f.name)}`);
                  toast(`${f.name} revived`);
                  row.remove();
                } catch (err) {
                  toast(err.message, "error");
                }
              }),
          },
          "Revive",
        ),
      ),
    );
    return row;
  });
  mount(list, h("table", { class: "table" }, h("thead", h("tr", h("th", "Name"), h("th", "When"), h("th", h("span", { class: "sr-only" }, "Actions")))), h("tbody", rows)));
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const r of rows) r.hidden = q && !r.dataset.search.includes(q);
  });
}

export function typeLabel(type) {
  const t = FLAG_TYPES.find(([v]) => v === type);
  return t ? t[1] : type || "release";
}

function newFlag(ctx, projectId) {
  return dialog("New flag", (close) => {
    const name = h("input", { name: "name", autocomplete: "off", spellcheck: "false", placeholder: "new-checkout-flow", autofocus: true });
    const description = h("textarea", { name: "description", rows: 2 });
    const impression = h("input", { type: "checkbox", name: "impressionData" });
    const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Create flag");
    const form = h(
      "form",
      { class: "form", novalidate: true },
      field("Name", name, { hint: "Letters, digits and - _ . ! ~ * ' ( ), at most 100. SDKs ask for it by this name." }),
      field("Type", select("type", FLAG_TYPES, "release")),
      field("Description", description, { optional: true }),
      h("label", { class: "check" }, impression, h("span", "Impression data (SDKs emit an event each time the flag is evaluated)")),
      h("div", { class: "form-actions" }, h("button", { class: "btn", type: "button", onClick: () => close() }, "Cancel"), submit),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = {
        name: name.value.trim(),
        type: form.elements.type.value,
        description: description.value.trim(),
        impressionData: impression.checked,
      };
      const problem = checkName(body.name);
      formMessage(form, "error", null);
      if (showFieldErrors(form, problem ? { name: problem } : {})) return;
      busy(submit, async () => {
        try {
          await post(`/api/admin/projects/${enc(projectId)}/features`, body);
        } catch (err) {
          formMessage(form, "error", err.message);
          showFieldErrors(form, err.fields);
          return;
        }
        close(true);
        toast(`${body.name} created`);
        ctx.navigate(`/ui/projects/${enc(projectId)}/features/${enc(body.name)}`);
      });
    });
    return form;
  });
}
