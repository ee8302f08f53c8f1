// Guards (the kill switch): a signal, the flags it switches off, and what happens on recovery.

import { h, mount, icon, toast, confirmDialog, field, select, showFieldErrors, formMessage, busy, skeleton, emptyState, pill, alertBox } from "../dom.js";
import { get, post, put, del, enc, getAllPages } from "../api.js";
import { timeEl, plural } from "../format.js";

const RECOVERY = [
  ["keep_disabled", "Keep the flags off", "They stay off until a person switches them back on (the recovery notice lists them)."],
  ["re_enable", "Switch them back on", "The flags this guard switched off, and nobody touched since, are switched on again."],
  ["notify_only", "Only notify", "Nothing changes on recovery; the guard's channels are told."],
];

export function statePill(g) {
  return g.state === "tripped" ? pill("bad", "Tripped", { dataset: { state: "tripped" } }) : pill("ok", "Armed", { dataset: { state: "armed" } });
}

async function loadSignals() {
  const [monitors, heartbeats] = await Promise.all([getAllPages("/api/v2/monitors"), getAllPages("/api/v2/heartbeats").catch(() => [])]);
  const names = new Map();
  for (const m of monitors) names.set(String(m.id), m.attributes.pronounceable_name);
  for (const b of heartbeats) if (!names.has(String(b.id))) names.set(String(b.id), b.attributes.name);
  return { monitors, heartbeats, names };
}

function signalText(signal, names) {
  const name = (id) => names.get(String(id)) || `monitor #${id}`;
  if (signal.monitor_id !== undefined) return ["When ", h("strong", name(signal.monitor_id)), " goes down"];
  if (signal.betterstack_monitor !== undefined) return ["When Better Stack reports ", h("strong", signal.betterstack_monitor), " down"];
  if (signal.sla) {
    const s = signal.sla;
    const limits = [];
    if (s.availability_min !== undefined) limits.push(`availability < ${s.availability_min}%`);
    if (s.response_time_max_ms !== undefined) limits.push(`mean response > ${s.response_time_max_ms} ms`);
    if (s.incidents_max !== undefined) limits.push(`more than ${s.incidents_max} incident${s.incidents_max === 1 ? "" : "s"}`);
    return ["When ", h("strong", name(s.monitor_id)), ` has ${limits.join(" or ")} over ${s.window_minutes} min`];
  }
  return [JSON.stringify(signal)];
}

function flagChips(flags) {
  if (!Array.isArray(flags)) return h("span", `Flags switched on in ${flags.environment} in the last ${flags.recently_enabled_hours} h`);
  return h(
    "div",
    { class: "chips" },
    flags.map((f) => h("a", { class: "chip", href: `/ui/projects/${enc(f.project)}/features/${enc(f.feature)}` }, h("span", { class: "mono" }, f.feature), h("span", { class: "chip-sub" }, ` · ${f.environment}`))),
  );
}

function recoveryText(value) {
  const r = RECOVERY.find(([v]) => v === value);
  return r ? r[1] : value;
}

export async function render(ctx) {
  ctx.title("Guards");
  const list = h("div", { class: "guard-list" }, skeleton(3));
  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head" },
      h("div", h("h1", "Guards"), h("p", { class: "page-sub" }, "A guard switches flags off when its signal fails — in the same transaction as the incident.")),
      h("div", { class: "page-actions" }, h("a", { class: "btn btn-primary", href: "/ui/guards/new" }, icon("plus"), h("span", "New guard"))),
    ),
    list,
  );
  const draw = async () => {
    const [{ guards }, { names }, { channels }] = await Promise.all([get("/api/admin/guards", { signal: ctx.signal }), loadSignals(), get("/api/admin/notification-channels", { signal: ctx.signal })]);
    if (!ctx.alive()) return;
    const channelName = new Map(channels.map((c) => [c.id, c.name]));
    if (!guards.length) {
      mount(
        list,
        emptyState(
          "No guards yet",
          "Tie a monitor to the flags that depend on it: when it goes down, they are switched off for every SDK within a second.",
          h("a", { class: "btn btn-primary", href: "/ui/guards/new" }, icon("plus"), h("span", "New guard")),
        ),
      );
      return;
    }
    guards.sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === "tripped" ? -1 : 1));
    mount(
      list,
      guards.map((g) =>
        h(
          "article",
          { class: ["card", "guard-card", g.state === "tripped" && "guard-tripped"], dataset: { guard: g.name } },
          h("div", { class: "guard-head" }, h("a", { class: "row-link guard-name", href: `/ui/guards/${enc(g.id)}` }, icon("shield", "icon"), h("span", g.name)), statePill(g)),
          g.trip ? alertBox("error", h("strong", "Fired "), timeEl(h, g.trip.started_at), ": ", g.trip.reason, g.trip.incident_id ? [" · ", h("a", { href: `/ui/incidents/${enc(g.trip.incident_id)}` }, `incident #${g.trip.incident_id}`)] : null) : null,
          h(
            "dl",
            { class: "dl dl-compact" },
            h("dt", "Signal"),
            h("dd", signalText(g.signal, names)),
            h("dt", "Switches off"),
            h("dd", flagChips(g.flags)),
            h("dt", "On recovery"),
            h("dd", recoveryText(g.on_recovery)),
            h("dt", "Tells"),
            h("dd", g.channels.length ? g.channels.map((c) => channelName.get(c) || `#${c}`).join(", ") : h("span", { class: "muted" }, "no channel")),
          ),
        ),
      ),
    );
  };
  await draw();
  ctx.every(5000, draw);
}

export async function renderOne(ctx) {
  const { id } = ctx.params;
  mount(ctx.root, skeleton(5));
  const [g, { names }, { channels }] = await Promise.all([get(`/api/admin/guards/${enc(id)}`), loadSignals(), get("/api/admin/notification-channels")]);
  if (!ctx.alive()) return;
  ctx.title(g.name);
  const channelName = new Map(channels.map((c) => [c.id, c.name]));
  const trips = g.recent_trips || [];
  mount(
    ctx.root,
    h("a", { class: "back-link", href: "/ui/guards" }, icon("back"), "Guards"),
    h(
      "div",
      { class: "page-head" },
      h("div", h("div", { class: "title-row" }, h("h1", g.name), statePill(g)), h("p", { class: "page-sub" }, signalText(g.signal, names))),
      h(
        "div",
        { class: "page-actions" },
        h("a", { class: "btn", href: `/ui/guards/${enc(id)}/edit` }, icon("edit"), h("span", "Edit")),
        h(
          "button",
          {
            class: "btn btn-danger-outline",
            type: "button",
            onClick: async () => {
              if (!(await confirmDialog(`Delete the guard ${g.name}?`, "Its flags stay as they are now. Nothing will switch them off when the signal fails.", { confirm: "Delete", danger: true }))) return;
              try {
                await del(`/api/admin/guards/${enc(id)}`);
                toast(`Guard ${g.name} deleted`);
                ctx.navigate("/ui/guards");
              } catch (e) {
                toast(e.message, "error");
              }
            },
          },
          icon("trash"),
          h("span", "Delete"),
        ),
      ),
    ),
    g.trip
      ? h(
          "section",
          { class: "card card-alert" },
          h("div", { class: "card-head" }, h("h2", "Fired ", timeEl(h, g.trip.started_at))),
          h("p", g.trip.reason, g.trip.incident_id ? [" · ", h("a", { href: `/ui/incidents/${enc(g.trip.incident_id)}` }, `incident #${g.trip.incident_id}`)] : null),
          tripFlags(g.trip.flags),
        )
      : null,
    h(
      "section",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", "Configuration")),
      h(
        "dl",
        { class: "dl" },
        h("dt", "Signal"),
        h("dd", signalText(g.signal, names)),
        h("dt", "Switches off"),
        h("dd", flagChips(g.flags)),
        h("dt", "On recovery"),
        h("dd", recoveryText(g.on_recovery)),
        h("dt", "Tells"),
        h("dd", g.channels.length ? g.channels.map((c) => channelName.get(c) || `#${c}`).join(", ") : "no channel"),
        h("dt", "Created"),
        h("dd", timeEl(h, g.created_at, { relative: false })),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", "Recent trips")),
      trips.length
        ? h(
            "table",
            { class: "table" },
            h("thead", h("tr", h("th", "Started"), h("th", "Reason"), h("th", "Flags"), h("th", "Ended"))),
            h(
              "tbody",
              trips.map((t) =>
                h(
                  "tr",
                  h("td", timeEl(h, t.started_at)),
                  h("td", t.reason, t.incident_id ? [" · ", h("a", { href: `/ui/incidents/${enc(t.incident_id)}` }, `#${t.incident_id}`)] : null),
                  h("td", plural(t.flags.length, "flag")),
                  h("td", t.ended_at ? [timeEl(h, t.ended_at), h("div", { class: "muted small" }, (t.outcome || "").replaceAll("_", " "))] : pill("bad", "Open")),
                ),
              ),
            ),
          )
        : emptyState("Never fired", "When the signal fails, each firing is listed here with what it did."),
    ),
  );
}

function tripFlags(flags) {
  return h(
    "ul",
    { class: "plain-list" },
    flags.map((f) =>
      h(
        "li",
        h("a", { class: "mono", href: `/ui/projects/${enc(f.project)}/features/${enc(f.feature)}` }, f.feature),
        ` in ${f.environment}: `,
        f.action === "disabled" ? "switched off" : "was already off (held, will not be switched on)",
      ),
    ),
  );
}

// --------------------------------------------------------------------------- form
export async function renderForm(ctx) {
  const { id } = ctx.params;
  const editing = Boolean(id);
  ctx.title(editing ? "Edit guard" : "New guard");
  mount(ctx.root, skeleton(6));
  const [existing, signals, { projects }, { environments }, { channels }] = await Promise.all([
    editing ? get(`/api/admin/guards/${enc(id)}`) : null,
    loadSignals(),
    get("/api/admin/projects"),
    get("/api/admin/environments"),
    get("/api/admin/notification-channels"),
  ]);
  if (!ctx.alive()) return;
  const g = existing || { name: "", signal: { monitor_id: ctx.query.get("monitor") || (signals.monitors[0] && signals.monitors[0].id) || "" }, flags: [], on_recovery: "keep_disabled", channels: [] };
  const envNames = environments.map((e) => e.name);
  const flagCache = new Map();
  const flagsOf = async (project) => {
    if (!flagCache.has(project)) flagCache.set(project, get(`/api/admin/projects/${enc(project)}/features`).then((r) => r.features.map((f) => f.name).sort()));
    return flagCache.get(project);
  };

  const kind = g.signal.sla ? "sla" : g.signal.betterstack_monitor !== undefined ? "betterstack" : "monitor";
  const monitorOptions = [
    ...signals.monitors.map((m) => [m.id, `${m.attributes.pronounceable_name} (${m.attributes.url})`]),
    ...signals.heartbeats.map((b) => [b.id, `${b.attributes.name} (heartbeat)`]),
  ];
  const monitorId = String(g.signal.monitor_id ?? (g.signal.sla && g.signal.sla.monitor_id) ?? "");
  const sla = g.signal.sla || { window_minutes: 60 };

  const name = h("input", { name: "name", value: g.name, placeholder: "checkout", autocomplete: "off" });
  const kindRadios = [
    ["monitor", "A monitor goes down"],
    ["sla", "An SLA threshold is crossed"],
    ["betterstack", "Better Stack reports a monitor down"],
  ].map(([v, label]) => h("label", { class: "radio-card" }, h("input", { type: "radio", name: "kind", value: v, checked: v === kind }), h("span", label)));
  const monitorSelect = select("monitor_id", monitorOptions.length ? monitorOptions : [["", "No monitor yet"]], monitorId);
  const bsInput = h("input", { name: "betterstack_monitor", value: g.signal.betterstack_monitor || "", placeholder: "Better Stack monitor id or name" });
  const slaInputs = {
    window_minutes: h("input", { name: "window_minutes", type: "number", min: 1, value: sla.window_minutes ?? 60, class: "input-num" }),
    availability_min: h("input", { name: "availability_min", type: "number", min: 0, max: 100, step: "any", value: sla.availability_min ?? "", placeholder: "99.5", class: "input-num" }),
    response_time_max_ms: h("input", { name: "response_time_max_ms", type: "number", min: 1, value: sla.response_time_max_ms ?? "", placeholder: "2000", class: "input-num" }),
    incidents_max: h("input", { name: "incidents_max", type: "number", min: 0, value: sla.incidents_max ?? "", placeholder: "2", class: "input-num" }),
  };
  const monitorField = field("Monitor", monitorSelect, { name: "signal" });
  const bsField = field("Better Stack monitor", bsInput, { name: "betterstack", hint: "Its id or pronounceable name, as the incident webhook names it. Set up a webhook source first (see the README)." });
  const slaBox = h(
    "div",
    { class: "field-row field-row-4" },
    field("Window", slaInputs.window_minutes, { name: "signal.sla.window_minutes", hint: "minutes" }),
    field("Availability below", slaInputs.availability_min, { name: "signal.sla.availability_min", hint: "%", optional: true }),
    field("Mean response above", slaInputs.response_time_max_ms, { name: "signal.sla.response_time_max_ms", hint: "ms", optional: true }),
    field("Incidents more than", slaInputs.incidents_max, { name: "signal.sla.incidents_max", optional: true }),
  );

  // Flags: a list of rows, or (SLA only) the recently enabled ones.
  const recent = !Array.isArray(g.flags);
  const recentToggle = h("input", { type: "checkbox", name: "recent", checked: recent });
  const recentHours = h("input", { name: "recently_enabled_hours", type: "number", min: 1, value: recent ? g.flags.recently_enabled_hours : 24, class: "input-num" });
  const recentEnv = select("recent_environment", envNames, recent ? g.flags.environment : envNames[envNames.length - 1]);
  const recentBox = h("div", { class: "field-row" }, field("Switched on within", recentHours, { hint: "hours" }), field("In", recentEnv));
  const rows = h("div", { class: "flag-rows" });
  const flagRows = [];
  function addFlagRow(ref) {
    const projectSel = select("project", projects.map((p) => [p.id, p.name || p.id]), ref ? ref.project : projects[0] && projects[0].id, { "aria-label": "Project" });
    const featureSel = h("select", { name: "feature", "aria-label": "Flag" });
    const envSel = select("environment", envNames, ref ? ref.environment : envNames[envNames.length - 1], { "aria-label": "Environment" });
    const fill = async (wanted) => {
      const names = await flagsOf(projectSel.value);
      mount(featureSel, names.length ? names.map((n) => h("option", { value: n, selected: n === wanted }, n)) : h("option", { value: "" }, "No flag in this project"));
    };
    projectSel.addEventListener("change", () => fill());
    fill(ref && ref.feature);
    const row = { projectSel, featureSel, envSel };
    const el = h(
      "div",
      { class: "flag-row" },
      projectSel,
      featureSel,
      envSel,
      h(
        "button",
        {
          class: "btn-icon",
          type: "button",
          "aria-label": "Remove this flag",
          onClick: () => {
            flagRows.splice(flagRows.indexOf(row), 1);
            el.remove();
          },
        },
        icon("x"),
      ),
    );
    row.el = el;
    flagRows.push(row);
    rows.append(el);
    return row;
  }
  if (!recent) for (const f of g.flags) addFlagRow(f);
  if (!recent && !g.flags.length) addFlagRow(null);
  const flagsField = h(
    "div",
    { class: "field", dataset: { field: "flags" } },
    h("div", { class: "label" }, "Flags to switch off"),
    rows,
    h(
      "button",
      {
        class: "btn btn-sm btn-ghost",
        type: "button",
        onClick: () => {
          const r = addFlagRow(null);
          r.projectSel.focus();
        },
      },
      icon("plus"),
      h("span", "Add a flag"),
    ),
    h("div", { class: "field-error", "aria-live": "polite" }),
  );
  const recentLabel = h("label", { class: "check" }, recentToggle, h("span", "Instead, switch off the flags a person switched on recently (a rollback of recent releases)"));

  const recovery = h(
    "fieldset",
    { class: "field", dataset: { field: "on_recovery" } },
    h("legend", "When the signal recovers"),
    RECOVERY.map(([v, label, text]) => h("label", { class: "radio-card" }, h("input", { type: "radio", name: "on_recovery", value: v, checked: v === g.on_recovery }), h("span", h("strong", label), h("span", { class: "muted small block" }, text)))),
    h("div", { class: "field-error" }),
  );
  const channelsBox = channels.length
    ? h(
        "div",
        { class: "field checks", dataset: { field: "channels" } },
        h("div", { class: "label" }, "Tell these channels"),
        channels.map((c) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "channel", value: c.id, checked: g.channels.includes(c.id) }), h("span", c.name, h("span", { class: "muted" }, ` · ${c.kind}`)))),
        h("div", { class: "field-error" }),
      )
    : h("p", { class: "muted small" }, "No notification channel yet. ", h("a", { href: "/ui/notifications" }, "Add one"), " to be told when the guard fires.");

  function applyKind() {
    const k = kindRadios.map((r) => r.querySelector("input")).find((i) => i.checked).value;
    monitorField.hidden = k === "betterstack";
    bsField.hidden = k !== "betterstack";
    slaBox.hidden = k !== "sla";
    recentLabel.hidden = k !== "sla";
    const useRecent = k === "sla" && recentToggle.checked;
    recentBox.hidden = !useRecent;
    flagsField.hidden = useRecent;
  }
  kindRadios.forEach((r) => r.querySelector("input").addEventListener("change", applyKind));
  recentToggle.addEventListener("change", applyKind);

  const submit = h("button", { class: "btn btn-primary", type: "submit" }, editing ? "Save guard" : "Create guard");
  const form = h(
    "form",
    { class: "form card form-card", novalidate: true },
    field("Name", name, { name: "name" }),
    h("fieldset", { class: "field", dataset: { field: "signal_kind" } }, h("legend", "Switch flags off when"), h("div", { class: "radio-row" }, kindRadios)),
    monitorField,
    bsField,
    slaBox,
    recentLabel,
    recentBox,
    flagsField,
    recovery,
    channelsBox,
    h("div", { class: "form-actions" }, h("a", { class: "btn", href: editing ? `/ui/guards/${enc(id)}` : "/ui/guards" }, "Cancel"), submit),
  );
  applyKind();

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    formMessage(form, "error", null);
    const errors = {};
    const k = form.elements.kind.value;
    const body = { name: name.value.trim() };
    if (!body.name) errors.name = "Give the guard a name.";
    if (k === "monitor") {
      if (!monitorSelect.value) errors.signal = "Choose a monitor (create one first).";
      body.signal = { monitor_id: monitorSelect.value };
    } else if (k === "betterstack") {
      if (!bsInput.value.trim()) errors.betterstack = "Enter the Better Stack monitor's id or name.";
      body.signal = { betterstack_monitor: bsInput.value.trim() };
    } else {
      if (!monitorSelect.value) errors.signal = "Choose a monitor (create one first).";
      const s = { monitor_id: monitorSelect.value, window_minutes: Number(slaInputs.window_minutes.value) };
      if (!Number.isInteger(s.window_minutes) || s.window_minutes < 1) errors["signal.sla.window_minutes"] = "A whole number of minutes, at least 1.";
      for (const key of ["availability_min", "response_time_max_ms", "incidents_max"]) {
        const raw = slaInputs[key].value.trim();
        if (raw !== "") s[key] = Number(raw);
      }
      if (s.availability_min === undefined && s.response_time_max_ms === undefined && s.incidents_max === undefined) errors["signal.sla.availability_min"] = "Set at least one threshold.";
      if (s.availability_min !== undefined && !(s.availability_min >= 0 && s.availability_min <= 100)) errors["signal.sla.availability_min"] = "A percentage from 0 to 100.";
      body.signal = { sla: s };
    }
    if (k === "sla" && recentToggle.checked) {
      body.flags = { recently_enabled_hours: Number(recentHours.value), environment: recentEnv.value };
    } else {
      body.flags = flagRows.map((r) => ({ project: r.projectSel.value, feature: r.featureSel.value, environment: r.envSel.value }));
      if (!body.flags.length) errors.flags = "Add at least one flag.";
      else if (body.flags.some((f) => !f.feature)) errors.flags = "Choose a flag in each row.";
    }
    body.on_recovery = form.elements.on_recovery.value;
    body.channels = [...form.querySelectorAll("input[name=channel]:checked")].map((c) => Number(c.value));
    if (showFieldErrors(form, errors)) {
      formMessage(form, "error", "Check the highlighted fields.");
      return;
    }
    busy(submit, async () => {
      let saved;
      try {
        saved = editing ? await put(`/api/admin/guards/${enc(id)}`, body) : await post("/api/admin/guards", body);
      } catch (err) {
        formMessage(form, "error", err.message);
        const mapped = {};
        for (const [path, message] of Object.entries(err.fields || {})) {
          if (path.startsWith("flags")) mapped.flags = message;
          else if (path.startsWith("signal.sla.")) mapped[path] = message;
          else if (path.startsWith("signal")) mapped[form.elements.kind.value === "betterstack" ? "betterstack" : "signal"] = message;
          else mapped[path] = message;
        }
        showFieldErrors(form, mapped);
        return;
      }
      toast(editing ? `Guard ${saved.name} saved` : `Guard ${saved.name} armed`);
      ctx.navigate(`/ui/guards/${enc(saved.id)}`);
    });
  });

  mount(
    ctx.root,
    h("a", { class: "back-link", href: editing ? `/ui/guards/${enc(id)}` : "/ui/guards" }, icon("back"), editing ? g.name : "Guards"),
    h("div", { class: "page-head" }, h("div", h("h1", editing ? `Edit ${g.name}` : "New guard"), h("p", { class: "page-sub" }, "When the signal fails, these flags are switched off for every SDK, with the reason in the event log."))),
    form,
  );
  name.focus();
}
