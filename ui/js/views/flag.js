// One flag: per environment, its switch, why it is off (the kill switch view), its strategies
// (rollout and constraints) and its variants; then its recent events.

import { h, mount, icon, toast, confirmDialog, field, select, showFieldErrors, formMessage, busy, skeleton, pill } from "../dom.js";
import { get, post, put, del, enc } from "../api.js";
import { timeEl } from "../format.js";
import { flagSwitch, typeLabel, STRATEGIES, rolloutSummary } from "./flags.js";
import { eventList } from "./events.js";

const OPERATORS = [
  ["IN", "is one of"],
  ["NOT_IN", "is not one of"],
  ["STR_STARTS_WITH", "starts with"],
  ["STR_ENDS_WITH", "ends with"],
  ["STR_CONTAINS", "contains"],
  ["NUM_EQ", "= (number)"],
  ["NUM_GT", "> (number)"],
  ["NUM_GTE", "≥ (number)"],
  ["NUM_LT", "< (number)"],
  ["NUM_LTE", "≤ (number)"],
  ["DATE_AFTER", "after (date)"],
  ["DATE_BEFORE", "before (date)"],
  ["SEMVER_EQ", "= (version)"],
  ["SEMVER_GT", "> (version)"],
  ["SEMVER_GTE", "≥ (version)"],
  ["SEMVER_LT", "< (version)"],
  ["SEMVER_LTE", "≤ (version)"],
  ["REGEX", "matches (regex)"],
  ["IN_CIDR", "in network (CIDR)"],
];
const LIST_OPERATORS = new Set(["IN", "NOT_IN", "STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS", "IN_CIDR"]);
const CONTEXT_FIELDS = ["userId", "sessionId", "remoteAddress", "appName", "environment", "currentTime", "hostname"];
const LIST_PARAMS = { userWithId: ["userIds", "User IDs"], remoteAddress: ["IPs", "IP addresses"], applicationHostname: ["hostNames", "Host names"] };
const STICKINESS = [
  ["default", "default"],
  ["userId", "userId"],
  ["sessionId", "sessionId"],
  ["random", "random"],
];

export async function render(ctx) {
  const { project, feature } = ctx.params;
  ctx.title(feature);
  mount(ctx.root, skeleton(6));
  const base = `/api/admin/projects/${enc(project)}/features/${enc(feature)}`;
  const [flag, killSwitch, { events }] = await Promise.all([get(base), get(`${base}/kill-switch`), get(`/api/admin/events/${enc(feature)}`)]);
  if (!ctx.alive()) return;
  const whyByEnv = Object.fromEntries(killSwitch.environments.map((e) => [e.environment, e]));
  const envs = [...flag.environments].sort((a, b) => a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
  const reload = () => ctx.alive() && render(ctx).catch((e) => ctx.fail(e));

  mount(
    ctx.root,
    h("a", { class: "back-link", href: `/ui/flags?project=${enc(project)}` }, icon("back"), "Flags"),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        h("h1", { class: "mono-title" }, flag.name),
        h(
          "p",
          { class: "page-sub row-meta" },
          h("span", { class: "tag" }, typeLabel(flag.type)),
          h("span", `Project ${flag.project}`),
          h("span", ["Created ", timeEl(h, flag.createdAt)]),
          flag.stale ? pill("warning", "Stale") : null,
        ),
        flag.description ? h("p", { class: "flag-description" }, flag.description) : null,
      ),
      h(
        "div",
        { class: "page-actions" },
        h("a", { class: "btn", href: `/ui/events?feature=${enc(feature)}` }, icon("list"), h("span", "Events")),
        h(
          "button",
          {
            class: "btn btn-danger-outline",
            type: "button",
            onClick: async () => {
              if (!(await confirmDialog(`Archive ${feature}?`, "SDKs stop receiving it. You can revive it from the archive.", { confirm: "Archive", danger: true }))) return;
              try {
                await del(base);
                toast(`${feature} archived`);
                ctx.navigate(`/ui/flags?project=${enc(project)}`);
              } catch (e) {
                toast(e.message, "error");
              }
            },
          },
          icon("trash"),
          h("span", "Archive"),
        ),
      ),
    ),
    h(
      "section",
      { class: "card env-overview", "aria-label": "Environments" },
      h("div", { class: "card-head" }, h("h2", "Environments"), h("span", { class: "muted small" }, "Switch it per environment; SDKs see the change at once.")),
      h("div", { class: "env-rows" }, envs.map((env) => overviewRow(flag, env, whyByEnv[env.name], reload))),
    ),
    h("div", { class: "env-stack" }, envs.map((env) => envCard(ctx, base, flag, env, reload))),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", "Recent events"), h("a", { href: `/ui/events?feature=${enc(feature)}` }, "All events for this flag")), eventList(events.slice(0, 10))),
  );
}

/** One environment at a glance: the switch, what it serves, and why it is in that state. */
function overviewRow(flag, env, why, reload) {
  return h(
    "div",
    { class: "env-row", dataset: { env: env.name } },
    h("div", { class: "env-row-name" }, h("strong", env.name), env.type !== env.name ? h("span", { class: "th-sub" }, env.type) : null),
    h("div", { class: "env-row-switch" }, flagSwitch(flag.project, flag.name, env.name, env.enabled, { onChange: () => setTimeout(reload, 150), label: `${flag.name} in ${env.name}` })),
    h("div", { class: "env-row-summary muted" }, rolloutSummary(env) || "—"),
    h("div", { class: "env-row-why" }, whyBox(why)),
  );
}

function envCard(ctx, base, flag, env, reload) {
  const strategies = [...(env.strategies || [])].sort((a, b) => a.sortOrder - b.sortOrder);
  const strategiesBox = h(
    "div",
    { class: "strategies" },
    strategies.length
      ? strategies.map((st) => strategyEditor(base, flag.name, env.name, st, reload))
      : h("p", { class: "muted empty-inline" }, env.enabled ? "No strategy: switched on, it would serve nobody." : "No strategy yet. Switching the flag on adds a 100 % rollout."),
  );
  const addStrategy = h(
    "button",
    {
      class: "btn btn-sm",
      type: "button",
      onClick: (e) =>
        busy(e.currentTarget, async () => {
          try {
            await post(`${base}/environments/${enc(env.name)}/strategies`, { name: "flexibleRollout", parameters: { rollout: "100", stickiness: "default", groupId: flag.name }, constraints: [] });
            toast(`Strategy added in ${env.name}`);
            reload();
          } catch (err) {
            toast(err.message, "error");
          }
        }),
    },
    icon("plus"),
    h("span", "Add strategy"),
  );
  return h(
    "section",
    { class: "card env-card", dataset: { env: env.name }, "aria-labelledby": `env-${env.name}` },
    h(
      "div",
      { class: "env-head" },
      h("h2", { id: `env-${env.name}` }, h("span", { class: "muted" }, "Strategies in "), env.name),
      env.enabled ? pill("ok", "On") : pill("neutral", "Off"),
    ),
    strategiesBox,
    h("div", { class: "card-actions" }, addStrategy),
    h("h3", { class: "subhead" }, "Variants"),
    variantsEditor(base, env, reload),
  );
}

/** "Why is this flag off?": the trips holding it, its last on/off change and the guards on it. */
function whyBox(why) {
  if (!why) return null;
  const items = [];
  for (const trip of why.held_by || []) {
    items.push(
      h(
        "div",
        { class: "why-held", dataset: { heldBy: trip.guard } },
        icon("shield", "icon icon-sm"),
        h(
          "span",
          h("strong", `Switched off by the guard `, h("a", { href: `/ui/guards/${enc(trip.guard_id)}` }, trip.guard)),
          " ",
          timeEl(h, trip.started_at),
          h("span", { class: "block" }, trip.reason, trip.incident_id ? [" · ", h("a", { href: `/ui/incidents/${enc(trip.incident_id)}` }, `incident #${trip.incident_id}`)] : null),
        ),
      ),
    );
  }
  const c = why.last_change;
  const lines = [];
  if (c && !(why.held_by || []).length) {
    const reason = c.data && c.data.reason ? ` (${c.data.reason})` : "";
    lines.push(h("span", `Switched ${c.type.endsWith("enabled") ? "on" : "off"} by `, h("strong", c.createdBy), reason, " ", timeEl(h, c.createdAt)));
  }
  if ((why.guards || []).length) {
    lines.push(h("span", icon("shield", "icon icon-sm"), " Guarded by ", why.guards.map((g, i) => [i ? ", " : "", h("strong", g)])));
  }
  return h("div", { class: "why", dataset: { why: "" } }, items, lines.length ? h("div", { class: "why-lines muted" }, lines.map((l) => h("div", l))) : null);
}

// --------------------------------------------------------------------------- strategies
function strategyEditor(base, feature, env, st, reload) {
  const url = `${base}/environments/${enc(env)}/strategies/${enc(st.id)}`;
  const params = { ...(st.parameters || {}) };
  const form = h("form", { class: "strategy", novalidate: true, dataset: { strategy: st.id } });
  const nameSelect = select("name", STRATEGIES, st.name, { "aria-label": "Strategy" });
  const body = h("div", { class: "strategy-body" });
  const constraints = (st.constraints || []).map((c) => ({ ...c }));
  const constraintBox = h("div", { class: "constraints" });

  function renderBody() {
    const name = nameSelect.value;
    const pctKey = name === "flexibleRollout" ? "rollout" : name.startsWith("gradualRollout") ? "percentage" : null;
    const parts = [];
    if (pctKey) {
      const value = params[pctKey] ?? "100";
      const number = h("input", { type: "number", name: "rollout", inputmode: "numeric", min: 0, max: 100, step: 1, value, class: "input-num" });
      const range = h("input", { type: "range", min: 0, max: 100, step: 1, value: Math.min(100, Math.max(0, Number(value) || 0)), class: "range", "aria-label": "Rollout slider", tabindex: "-1" });
      range.addEventListener("input", () => {
        number.value = range.value;
      });
      number.addEventListener("input", () => {
        const n = Number(number.value);
        if (Number.isFinite(n)) range.value = Math.min(100, Math.max(0, n));
      });
      parts.push(
        h(
          "div",
          { class: "field", dataset: { field: `parameters.${pctKey}` } },
          h("label", { for: `rollout-${st.id}` }, "Rollout"),
          h("div", { class: "rollout" }, range, Object.assign(number, { id: `rollout-${st.id}` }), h("span", { class: "muted" }, "%")),
          h("div", { class: "field-error", "aria-live": "polite" }),
        ),
      );
    }
    if (name === "flexibleRollout") {
      parts.push(
        h(
          "div",
          { class: "field-row" },
          field("Stickiness", select("stickiness", STICKINESS, params.stickiness || "default"), { name: "parameters.stickiness" }),
          field("Group id", h("input", { name: "groupId", value: params.groupId || feature }), { name: "parameters.groupId" }),
        ),
      );
    }
    if (LIST_PARAMS[name]) {
      const [key, label] = LIST_PARAMS[name];
      parts.push(field(label, h("input", { name: key, value: params[key] || "", placeholder: "comma-separated" }), { name: `parameters.${key}`, hint: "Comma-separated." }));
    }
    mount(body, parts);
  }

  function renderConstraints() {
    mount(
      constraintBox,
      constraints.length ? null : h("p", { class: "muted small" }, "No constraints: applies to every context."),
      constraints.map((c, i) => constraintRow(c, i)),
      h(
        "button",
        {
          class: "btn btn-sm btn-ghost",
          type: "button",
          onClick: () => {
            constraints.push({ contextName: "userId", operator: "IN", values: [], inverted: false, caseInsensitive: false });
            renderConstraints();
            constraintBox.querySelectorAll(".constraint input[name=contextName]")[constraints.length - 1]?.focus();
          },
        },
        icon("plus"),
        h("span", "Add constraint"),
      ),
    );
  }

  function constraintRow(c, i) {
    const ctxInput = h("input", { name: "contextName", value: c.contextName, list: "context-fields", "aria-label": "Context field", class: "input-ctx" });
    const op = select("operator", OPERATORS, c.operator, { "aria-label": "Operator" });
    const valueInput = h("input", {
      name: "values",
      "aria-label": "Values",
      value: LIST_OPERATORS.has(c.operator) ? (c.values || []).join(", ") : c.value || "",
      placeholder: LIST_OPERATORS.has(c.operator) ? "comma-separated values" : "value",
    });
    const inverted = h("input", { type: "checkbox", name: "inverted", checked: c.inverted });
    ctxInput.addEventListener("input", () => (c.contextName = ctxInput.value.trim()));
    op.addEventListener("change", () => {
      const wasList = LIST_OPERATORS.has(c.operator);
      c.operator = op.value;
      const isList = LIST_OPERATORS.has(c.operator);
      if (wasList !== isList) {
        valueInput.placeholder = isList ? "comma-separated values" : "value";
      }
    });
    valueInput.addEventListener("input", () => {
      if (LIST_OPERATORS.has(c.operator)) {
        c.values = valueInput.value.split(",").map((v) => v.trim()).filter(Boolean);
        delete c.value;
      } else {
        c.value = valueInput.value.trim();
        c.values = [];
      }
    });
    inverted.addEventListener("change", () => (c.inverted = inverted.checked));
    return h(
      "div",
      { class: "constraint field", dataset: { field: `constraints[${i}]` } },
      h(
        "div",
        { class: "constraint-row" },
        ctxInput,
        h("label", { class: "check check-sm", title: "Negate the operator" }, inverted, h("span", "not")),
        op,
        valueInput,
        h(
          "button",
          {
            class: "btn-icon",
            type: "button",
            "aria-label": "Remove constraint",
            onClick: () => {
              constraints.splice(i, 1);
              renderConstraints();
            },
          },
          icon("x"),
        ),
      ),
      h("div", { class: "field-error", "aria-live": "polite" }),
    );
  }

  nameSelect.addEventListener("change", renderBody);
  renderBody();
  renderConstraints();

  const save = h("button", { class: "btn btn-primary btn-sm", type: "submit" }, "Save");
  const remove = h("button", { class: "btn btn-sm btn-ghost danger-text", type: "button" }, icon("trash"), h("span", "Delete"));
  remove.addEventListener("click", async () => {
    if (!(await confirmDialog("Delete this strategy?", `It stops applying in ${env} at once.`, { confirm: "Delete", danger: true }))) return;
    try {
      await del(url);
      toast("Strategy deleted");
      reload();
    } catch (e) {
      toast(e.message, "error");
    }
  });

  mount(
    form,
    h("datalist", { id: "context-fields" }, CONTEXT_FIELDS.map((f) => h("option", { value: f }))),
    h("div", { class: "strategy-head" }, nameSelect, st.disabled ? pill("neutral", "Disabled") : null, h("span", { class: "grow" }), remove),
    body,
    h("div", { class: "subhead-sm" }, "Constraints"),
    constraintBox,
    h("div", { class: "form-actions form-actions-left" }, save),
  );

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    formMessage(form, "error", null);
    const name = nameSelect.value;
    const parameters = {};
    const errors = {};
    const pctKey = name === "flexibleRollout" ? "rollout" : name.startsWith("gradualRollout") ? "percentage" : null;
    if (pctKey) {
      const raw = form.elements.rollout.value.trim();
      if (!/^\d+$/.test(raw) || Number(raw) > 100) errors[`parameters.${pctKey}`] = "The rollout must be a whole number from 0 to 100.";
      parameters[pctKey] = raw;
    }
    if (name === "flexibleRollout") {
      parameters.stickiness = form.elements.stickiness.value;
      parameters.groupId = form.elements.groupId.value.trim() || feature;
    }
    if (LIST_PARAMS[name]) {
      const [key] = LIST_PARAMS[name];
      parameters[key] = form.elements[key].value
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean)
        .join(",");
    }
    constraints.forEach((c, i) => {
      if (!c.contextName) errors[`constraints[${i}]`] = "Name the context field.";
      else if (LIST_OPERATORS.has(c.operator) ? !(c.values || []).length : !c.value) errors[`constraints[${i}]`] = "Give a value.";
    });
    if (showFieldErrors(form, errors)) {
      formMessage(form, "error", Object.values(errors)[0]);
      return;
    }
    const payload = {
      name,
      title: st.title,
      disabled: st.disabled,
      parameters,
      constraints: constraints.map((c) => {
        const out = { contextName: c.contextName, operator: c.operator, inverted: Boolean(c.inverted), caseInsensitive: Boolean(c.caseInsensitive) };
        if (LIST_OPERATORS.has(c.operator)) out.values = c.values || [];
        else {
          out.value = c.value;
          out.values = [];
        }
        return out;
      }),
      variants: st.variants || [],
      segments: st.segments || [],
    };
    busy(save, async () => {
      try {
        await put(url, payload);
      } catch (err) {
        formMessage(form, "error", err.message);
        showFieldErrors(form, mapStrategyFields(err.fields));
        return;
      }
      toast(`Strategy saved in ${env}`);
      reload();
    });
  });
  return form;
}

/** Server paths such as `parameters.rollout` or `constraints[0].value` → the field they belong to. */
function mapStrategyFields(fields) {
  const out = {};
  for (const [path, message] of Object.entries(fields || {})) {
    const c = path.match(/^constraints\[(\d+)\]/);
    if (c) out[`constraints[${c[1]}]`] = message;
    else out[path] = message;
  }
  return out;
}

// --------------------------------------------------------------------------- variants
function variantsEditor(base, env, reload) {
  const url = `${base}/environments/${enc(env.name)}/variants`;
  const variants = (env.variants || []).map((v) => ({ ...v, payload: v.payload ? { ...v.payload } : null }));
  const form = h("form", { class: "variants", novalidate: true });
  const rowsBox = h("div", { class: "variant-rows" });
  const save = h("button", { class: "btn btn-primary btn-sm", type: "submit" }, "Save variants");

  function renderRows() {
    mount(
      rowsBox,
      variants.length
        ? h(
            "div",
            { class: "variant-grid variant-grid-head", "aria-hidden": "true" },
            h("span", "Name"),
            h("span", "Weight"),
            h("span", "Payload"),
            h("span"),
          )
        : h("p", { class: "muted small" }, "No variants: SDKs get the disabled variant."),
      variants.map((v, i) => {
        const name = h("input", { name: "name", value: v.name, "aria-label": "Variant name", placeholder: "blue" });
        const weightType = select("weightType", [["variable", "auto"], ["fix", "fixed"]], v.weightType || "variable", { "aria-label": "Weight type" });
        const weight = h("input", { type: "number", name: "weight", min: 0, max: 100, step: 0.1, value: ((v.weight ?? 0) / 10).toString(), "aria-label": "Weight %", disabled: (v.weightType || "variable") !== "fix", class: "input-num" });
        const ptype = select("payloadType", [["", "none"], ["string", "string"], ["json", "json"], ["number", "number"], ["csv", "csv"]], (v.payload && v.payload.type) || "", { "aria-label": "Payload type" });
        const pvalue = h("input", { name: "payloadValue", value: (v.payload && v.payload.value) || "", "aria-label": "Payload value", placeholder: "payload", disabled: !(v.payload && v.payload.type) });
        name.addEventListener("input", () => (v.name = name.value.trim()));
        weightType.addEventListener("change", () => {
          v.weightType = weightType.value;
          weight.disabled = v.weightType !== "fix";
        });
        weight.addEventListener("input", () => (v.weight = Math.round(Number(weight.value) * 10)));
        ptype.addEventListener("change", () => {
          pvalue.disabled = !ptype.value;
          v.payload = ptype.value ? { type: ptype.value, value: pvalue.value } : null;
        });
        pvalue.addEventListener("input", () => {
          if (v.payload) v.payload.value = pvalue.value;
        });
        return h(
          "div",
          { class: "field", dataset: { field: `variants[${i}]` } },
          h(
            "div",
            { class: "variant-grid" },
            name,
            h("div", { class: "variant-weight" }, weightType, weight, h("span", { class: "muted" }, "%")),
            h("div", { class: "variant-payload" }, ptype, pvalue),
            h(
              "button",
              {
                class: "btn-icon",
                type: "button",
                "aria-label": `Remove variant ${v.name}`,
                onClick: () => {
                  variants.splice(i, 1);
                  renderRows();
                },
              },
              icon("x"),
            ),
          ),
          h("div", { class: "field-error", "aria-live": "polite" }),
        );
      }),
    );
  }
  renderRows();
  mount(
    form,
    rowsBox,
    h(
      "div",
      { class: "form-actions form-actions-left" },
      h(
        "button",
        {
          class: "btn btn-sm btn-ghost",
          type: "button",
          onClick: () => {
            variants.push({ name: "", weightType: "variable", weight: 0, stickiness: "default", payload: null });
            renderRows();
            rowsBox.querySelectorAll("input[name=name]")[variants.length - 1]?.focus();
          },
        },
        icon("plus"),
        h("span", "Add variant"),
      ),
      save,
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    formMessage(form, "error", null);
    const errors = {};
    variants.forEach((v, i) => {
      if (!v.name) errors[`variants[${i}]`] = "Each variant needs a name.";
      else if (v.weightType === "fix" && !(v.weight >= 0 && v.weight <= 1000)) errors[`variants[${i}]`] = "A fixed weight is from 0 to 100 %.";
    });
    if (showFieldErrors(form, errors)) {
      formMessage(form, "error", Object.values(errors)[0]);
      return;
    }
    const payload = variants.map((v) => {
      const out = { name: v.name, weightType: v.weightType || "variable", weight: v.weight || 0, stickiness: v.stickiness || "default" };
      if (v.payload && v.payload.type) out.payload = v.payload;
      return out;
    });
    busy(save, async () => {
      try {
        await put(url, payload);
      } catch (err) {
        formMessage(form, "error", err.message);
        const mapped = {};
        for (const [path, message] of Object.entries(err.fields || {})) {
          const m = path.match(/^variants\[(\d+)\]/);
          if (m) mapped[`variants[${m[1]}]`] = message;
        }
        showFieldErrors(form, mapped);
        return;
      }
      toast(`Variants saved in ${env.name}`);
      reload();
    });
  });
  return form;
}

