// One monitor (status, response times, uptime, incidents, guards) and the monitor form.

import { h, mount, icon, toast, confirmDialog, field, select, showFieldErrors, formMessage, busy, skeleton, emptyState, pill } from "../dom.js";
import { get, post, patch, del, enc } from "../api.js";
import { timeEl, responseTime, percent, duration, isoDay, plural } from "../format.js";
import { responseChart, uptimeBars } from "../charts.js";
import { MONITOR_TYPES, typeLabel, statusPill, lastResponse, responseTimes, uptimeDays } from "./monitors.js";
import { incidentRow } from "./incidents.js";

const HTTP_TYPES = new Set(["status", "expected_status_code", "keyword", "keyword_absence"]);

export async function render(ctx) {
  const { id } = ctx.params;
  mount(ctx.root, skeleton(6));
  const base = `/api/v2/monitors/${enc(id)}`;
  let monitor = (await get(base)).data;
  if (!ctx.alive()) return;
  ctx.title(monitor.attributes.pronounceable_name);

  const head = h("div");
  const stats = h("div", { class: "stats" });
  const chartBox = h("div", { class: "chart-wrap" }, skeleton(3));
  const barsBox = h("div", skeleton(1));
  const incidentsBox = h("div", skeleton(2));
  const guardsBox = h("div");
  const configBox = h("div");

  mount(
    ctx.root,
    h("a", { class: "back-link", href: "/ui/monitors" }, icon("back"), "Monitors"),
    head,
    stats,
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", "Response time"), h("span", { class: "muted small" }, "Last 24 hours, average per minute")), chartBox),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", "Uptime"), h("span", { class: "muted small" }, "Last 90 days")), barsBox),
    h("div", { class: "grid-2" }, h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", "Incidents"), h("a", { href: `/ui/incidents?monitor_id=${enc(id)}` }, "All")), incidentsBox), h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", "Guards")), guardsBox)),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", "Configuration"), h("a", { class: "btn btn-sm", href: `/ui/monitors/${enc(id)}/edit` }, icon("edit"), h("span", "Edit"))), configBox),
  );

  let sla = null;
  let points = null;
  let channelNames = new Map();

  function renderHead() {
    const a = monitor.attributes;
    const pause = h(
      "button",
      {
        class: "btn",
        type: "button",
        onClick: (e) =>
          busy(e.currentTarget, async () => {
            try {
              monitor = (await patch(base, { paused: !a.paused })).data;
              toast(`${a.pronounceable_name} ${monitor.attributes.paused ? "paused" : "resumed"}`);
              renderHead();
              renderStats();
            } catch (err) {
              toast(err.message, "error");
            }
          }),
      },
      icon(a.paused ? "play" : "pause"),
      h("span", a.paused ? "Resume" : "Pause"),
    );
    const remove = h(
      "button",
      {
        class: "btn btn-danger-outline",
        type: "button",
        onClick: async () => {
          if (!(await confirmDialog(`Delete ${a.pronounceable_name}?`, "Its checks stop and its history goes with it. Incidents stay in the event log.", { confirm: "Delete", danger: true }))) return;
          try {
            await del(base);
            toast(`${a.pronounceable_name} deleted`);
            ctx.navigate("/ui/monitors");
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      icon("trash"),
      h("span", "Delete"),
    );
    mount(
      head,
      h(
        "div",
        { class: "page-head" },
        h("div", h("div", { class: "title-row" }, h("h1", a.pronounceable_name), statusPill(a)), h("p", { class: "page-sub" }, `${typeLabel(a.monitor_type)} · `, h("span", { class: "mono" }, `${a.url}${a.port ? `:${a.port}` : ""}`))),
        h("div", { class: "page-actions" }, pause, h("a", { class: "btn", href: `/ui/monitors/${enc(id)}/edit` }, icon("edit"), h("span", "Edit")), remove),
      ),
    );
  }

  function stat(label, value, note) {
    return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value), note ? h("div", { class: "stat-note" }, note) : null);
  }

  function renderStats() {
    const a = monitor.attributes;
    const s = sla && sla.attributes;
    mount(
      stats,
      stat(
        "Last checked",
        h("span", { class: "stat-value-sm" }, a.paused ? "Paused" : a.last_checked_at ? timeEl(h, a.last_checked_at) : "Not yet"),
        a.paused ? ["since ", timeEl(h, a.paused_at)] : `every ${a.check_frequency} s`,
      ),
      stat("Last response", h("span", { class: "num", dataset: { stat: "last-response" } }, points ? responseTime(lastResponse(points)) : "—"), "last minute's average"),
      stat("Availability", h("span", { class: "num" }, s ? percent(s.availability, 3) : "—"), "last 30 days"),
      stat("Incidents", h("span", { class: "num" }, s ? String(s.number_of_incidents) : "—"), s && s.total_downtime ? `${duration(s.total_downtime)} down, 30 days` : "last 30 days"),
    );
  }

  function renderConfig() {
    const a = monitor.attributes;
    const timeoutUnit = HTTP_TYPES.has(a.monitor_type) ? "s" : "ms";
    const rows = [
      ["Type", typeLabel(a.monitor_type)],
      ["Target", h("span", { class: "mono" }, `${a.url}${a.port ? `:${a.port}` : ""}`)],
      HTTP_TYPES.has(a.monitor_type) ? ["Method", a.http_method.toUpperCase()] : null,
      a.required_keyword ? ["Keyword", a.required_keyword] : null,
      (a.expected_status_codes || []).length ? ["Expected status", a.expected_status_codes.join(", ")] : null,
      ["Check every", `${a.check_frequency} s`],
      ["Timeout", `${a.request_timeout} ${timeoutUnit}`],
      ["Down after", a.confirmation_period ? `${a.confirmation_period} s of failure` : "the first failure"],
      ["Up after", a.recovery_period ? `${a.recovery_period} s of success` : "the first success"],
      ["Notifications", (a.notification_channels || []).length ? a.notification_channels.map((c) => channelNames.get(c) || `#${c}`).join(", ") : "none"],
      ["Created", timeEl(h, a.created_at, { relative: false })],
    ].filter(Boolean);
    mount(configBox, h("dl", { class: "dl" }, rows.map(([k, v]) => [h("dt", k), h("dd", v)])));
  }

  async function loadHistory() {
    const from = isoDay(new Date(Date.now() - 29 * 86_400_000));
    const [rt, days, slaAnswer] = await Promise.all([responseTimes(id, ctx.signal), uptimeDays(monitor, 90, ctx.signal), get(`${base}/sla?from=${from}`, { signal: ctx.signal })]);
    if (!ctx.alive()) return;
    points = rt;
    sla = slaAnswer.data;
    mount(chartBox, responseChart(points));
    mount(barsBox, uptimeBars(days));
    renderStats();
  }

  async function loadIncidents() {
    const page = await get(`/api/v2/incidents?monitor_id=${enc(id)}&per_page=5`, { signal: ctx.signal });
    if (!ctx.alive()) return;
    mount(incidentsBox, page.data.length ? h("div", { class: "incident-list" }, page.data.map((i) => incidentRow(i, { compact: true }))) : emptyState("No incidents", "Nothing has gone wrong yet."));
  }

  async function loadGuards() {
    const { guards } = await get("/api/admin/guards", { signal: ctx.signal });
    if (!ctx.alive()) return;
    const mine = guards.filter((g) => String(g.signal.monitor_id ?? (g.signal.sla && g.signal.sla.monitor_id)) === String(id));
    mount(
      guardsBox,
      mine.length
        ? h(
            "ul",
            { class: "plain-list" },
            mine.map((g) =>
              h(
                "li",
                h("a", { href: `/ui/guards/${enc(g.id)}` }, g.name),
                " ",
                pill(g.state === "tripped" ? "bad" : "ok", g.state === "tripped" ? "Tripped" : "Armed"),
                h("div", { class: "muted small" }, Array.isArray(g.flags) ? `Switches off ${plural(g.flags.length, "flag")}` : `Flags switched on in the last ${g.flags.recently_enabled_hours} h`),
              ),
            ),
          )
        : emptyState("No guard", "A guard switches flags off when this monitor goes down.", h("a", { class: "btn btn-sm", href: `/ui/guards/new?monitor=${enc(id)}` }, icon("shield"), h("span", "Add a guard"))),
    );
  }

  renderHead();
  renderStats();
  renderConfig();
  get("/api/admin/notification-channels", { signal: ctx.signal })
    .then(({ channels }) => {
      channelNames = new Map(channels.map((c) => [c.id, c.name]));
      if (ctx.alive()) renderConfig();
    })
    .catch(() => {});
  await Promise.all([loadHistory().catch((e) => mount(chartBox, h("p", { class: "muted" }, e.message))), loadIncidents().catch(() => mount(incidentsBox)), loadGuards().catch(() => mount(guardsBox))]);

  ctx.every(3000, async () => {
    const fresh = (await get(base, { signal: ctx.signal })).data;
    if (!ctx.alive()) return;
    const changed = fresh.attributes.status !== monitor.attributes.status || fresh.attributes.paused !== monitor.attributes.paused;
    monitor = fresh;
    renderHead();
    renderStats();
    if (changed) {
      await Promise.all([loadIncidents(), loadGuards(), loadHistory()]);
    }
  });
  ctx.every(60000, loadHistory);
}

// --------------------------------------------------------------------------- form
export async function renderForm(ctx) {
  const { id } = ctx.params;
  const editing = Boolean(id);
  ctx.title(editing ? "Edit monitor" : "New monitor");
  mount(ctx.root, skeleton(6));
  const [existing, { channels }] = await Promise.all([editing ? get(`/api/v2/monitors/${enc(id)}`).then((r) => r.data) : null, get("/api/admin/notification-channels")]);
  if (!ctx.alive()) return;
  const a = existing ? existing.attributes : { monitor_type: "status", check_frequency: 30, confirmation_period: 0, recovery_period: 0, http_method: "get", notification_channels: [] };

  const type = select("monitor_type", MONITOR_TYPES, a.monitor_type);
  const inputs = {
    pronounceable_name: h("input", { name: "pronounceable_name", value: editing ? a.pronounceable_name : "", placeholder: "Checkout API", autocomplete: "off" }),
    url: h("input", { name: "url", value: a.url || "", placeholder: "https://api.example.com/health", autocomplete: "off", spellcheck: "false" }),
    port: h("input", { name: "port", type: "number", min: 1, max: 65535, value: a.port ?? "", class: "input-num" }),
    required_keyword: h("input", { name: "required_keyword", value: a.required_keyword || "" }),
    expected_status_codes: h("input", { name: "expected_status_codes", value: (a.expected_status_codes || []).join(", "), placeholder: "200, 204" }),
    request_body: h("input", { name: "request_body", value: a.request_body || "", placeholder: "example.com" }),
    dns_record_type: select("dns_record_type", ["A", "AAAA", "CNAME", "MX", "TXT", "NS"], a.dns_record_type || "A"),
    http_method: select("http_method", ["get", "head", "post", "put", "patch", "delete", "options"].map((m) => [m, m.toUpperCase()]), a.http_method || "get"),
    check_frequency: h("input", { name: "check_frequency", type: "number", min: 1, max: 86400, value: a.check_frequency, class: "input-num" }),
    request_timeout: h("input", { name: "request_timeout", type: "number", min: 1, value: a.request_timeout ?? "", class: "input-num", placeholder: "default" }),
    confirmation_period: h("input", { name: "confirmation_period", type: "number", min: 0, max: 86400, value: a.confirmation_period, class: "input-num" }),
    recovery_period: h("input", { name: "recovery_period", type: "number", min: 0, max: 86400, value: a.recovery_period, class: "input-num" }),
  };
  const urlField = field("URL", inputs.url, { name: "url" });
  const timeoutField = field("Timeout", inputs.request_timeout, { name: "request_timeout", hint: "seconds" });
  const only = {
    port: field("Port", inputs.port, { name: "port" }),
    required_keyword: field("Keyword", inputs.required_keyword, { name: "required_keyword", hint: "Text the answer must contain (or, for “keyword absent”, must not)." }),
    expected_status_codes: field("Expected status codes", inputs.expected_status_codes, { name: "expected_status_codes", hint: "Comma-separated, e.g. 200, 204." }),
    request_body: field("Domain to query", inputs.request_body, { name: "request_body" }),
    dns_record_type: field("Record type", inputs.dns_record_type, { name: "dns_record_type" }),
    http_method: field("Method", inputs.http_method, { name: "http_method" }),
  };
  const channelBoxes = channels.map((c) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "channel", value: c.id, checked: (a.notification_channels || []).includes(c.id) }), h("span", c.name, h("span", { class: "muted" }, ` · ${c.kind}`))),
  );

  function applyType() {
    const t = type.value;
    const http = HTTP_TYPES.has(t);
    urlField.querySelector("label").textContent = http ? "URL" : t === "dns" ? "Nameserver (host[:port])" : "Host";
    inputs.url.placeholder = http ? "https://api.example.com/health" : t === "dns" ? "1.1.1.1" : "db.internal";
    only.port.hidden = !(t === "tcp" || t === "udp");
    only.required_keyword.hidden = !(t === "keyword" || t === "keyword_absence" || t === "udp");
    only.expected_status_codes.hidden = t !== "expected_status_code";
    only.request_body.hidden = t !== "dns";
    only.request_body.querySelector("label").textContent = t === "dns" ? "Domain to query" : "Request body";
    only.dns_record_type.hidden = t !== "dns";
    only.http_method.hidden = !http;
    timeoutField.querySelector(".field-hint").textContent = http ? "seconds (1–60, default 30)" : "milliseconds (100–60000, default 5000)";
  }
  type.addEventListener("change", applyType);

  const submit = h("button", { class: "btn btn-primary", type: "submit" }, editing ? "Save changes" : "Create monitor");
  const form = h(
    "form",
    { class: "form card form-card", novalidate: true },
    h("div", { class: "field-row" }, field("Name", inputs.pronounceable_name, { name: "pronounceable_name", optional: true, hint: "Shown in incidents and notifications; the URL if left empty." }), field("Type", type, { name: "monitor_type" })),
    h("div", { class: "field-row" }, urlField, only.port, only.http_method),
    only.required_keyword,
    only.expected_status_codes,
    h("div", { class: "field-row" }, only.request_body, only.dns_record_type),
    h("h2", { class: "subhead" }, "Timing"),
    h(
      "div",
      { class: "field-row field-row-4" },
      field("Check every", inputs.check_frequency, { name: "check_frequency", hint: "seconds" }),
      timeoutField,
      field("Down after", inputs.confirmation_period, { name: "confirmation_period", hint: "seconds of failure (0: at once)" }),
      field("Up after", inputs.recovery_period, { name: "recovery_period", hint: "seconds of success (0: at once)" }),
    ),
    h("h2", { class: "subhead" }, "Notifications"),
    channels.length ? h("div", { class: "field checks", dataset: { field: "notification_channels" } }, channelBoxes, h("div", { class: "field-error" })) : h("p", { class: "muted small" }, "No notification channel yet. ", h("a", { href: "/ui/notifications" }, "Add one"), " to hear about incidents."),
    h("div", { class: "form-actions" }, h("a", { class: "btn", href: editing ? `/ui/monitors/${enc(id)}` : "/ui/monitors" }, "Cancel"), submit),
  );
  applyType();

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    formMessage(form, "error", null);
    const t = type.value;
    const body = { monitor_type: t, pronounceable_name: inputs.pronounceable_name.value.trim(), url: inputs.url.value.trim() };
    const errors = {};
    if (!body.url) errors.url = HTTP_TYPES.has(t) ? "Enter the URL to check." : "Enter the host to check.";
    else if (HTTP_TYPES.has(t) && !/^https?:\/\/[^\s/]+/i.test(body.url)) errors.url = "Use an http:// or https:// URL.";
    const int = (name, min, max, label) => {
      const raw = inputs[name].value.trim();
      if (raw === "") return undefined;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
        errors[name] = `${label} must be a whole number from ${min}${max !== undefined ? ` to ${max}` : ""}.`;
        return undefined;
      }
      return n;
    };
    body.check_frequency = int("check_frequency", 1, 86400, "The check interval");
    if (body.check_frequency === undefined && !errors.check_frequency) errors.check_frequency = "Enter how often to check, in seconds.";
    const timeout = HTTP_TYPES.has(t) ? int("request_timeout", 1, 60, "The timeout") : int("request_timeout", 100, 60000, "The timeout");
    if (timeout !== undefined) body.request_timeout = timeout;
    body.confirmation_period = int("confirmation_period", 0, 86400, "“Down after”") ?? 0;
    body.recovery_period = int("recovery_period", 0, 86400, "“Up after”") ?? 0;
    if (t === "tcp" || t === "udp") {
      body.port = int("port", 1, 65535, "The port");
      if (body.port === undefined && !errors.port) errors.port = "Enter the port.";
    }
    if (t === "keyword" || t === "keyword_absence" || t === "udp") {
      body.required_keyword = inputs.required_keyword.value;
      if (!body.required_keyword) errors.required_keyword = "Enter the keyword.";
    }
    if (t === "expected_status_code") {
      const codes = inputs.expected_status_codes.value.split(",").map((c) => c.trim()).filter(Boolean);
      if (!codes.length || codes.some((c) => !/^[1-5]\d\d$/.test(c))) errors.expected_status_codes = "Enter status codes from 100 to 599, comma-separated.";
      body.expected_status_codes = codes.map(Number);
    }
    if (t === "dns") {
      body.request_body = inputs.request_body.value.trim();
      body.dns_record_type = inputs.dns_record_type.value;
      if (!body.request_body) errors.request_body = "Enter the domain to query.";
    }
    if (HTTP_TYPES.has(t)) body.http_method = inputs.http_method.value;
    body.notification_channels = [...form.querySelectorAll("input[name=channel]:checked")].map((c) => Number(c.value));
    if (showFieldErrors(form, errors)) {
      formMessage(form, "error", "Check the highlighted fields.");
      return;
    }
    busy(submit, async () => {
      let saved;
      try {
        saved = editing ? await patch(`/api/v2/monitors/${enc(id)}`, body) : await post("/api/v2/monitors", body);
      } catch (err) {
        formMessage(form, "error", `The server refused the monitor: ${err.message}`);
        showFieldErrors(form, err.fields);
        return;
      }
      toast(editing ? "Monitor saved" : `${saved.data.attributes.pronounceable_name} created; the first check runs within ${saved.data.attributes.check_frequency} s`);
      ctx.navigate(`/ui/monitors/${enc(saved.data.id)}`);
    });
  });

  mount(
    ctx.root,
    h("a", { class: "back-link", href: editing ? `/ui/monitors/${enc(id)}` : "/ui/monitors" }, icon("back"), editing ? a.pronounceable_name : "Monitors"),
    h("div", { class: "page-head" }, h("div", h("h1", editing ? `Edit ${a.pronounceable_name}` : "New monitor"), h("p", { class: "page-sub" }, "Same fields as Better Stack's monitor API."))),
    form,
  );
  inputs.pronounceable_name.focus();
}

