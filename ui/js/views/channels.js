// Notification channels (Slack, signed webhooks, PagerDuty) and their delivery log.

import { h, mount, icon, toast, dialog, confirmDialog, field, select, showFieldErrors, formMessage, busy, skeleton, emptyState, pill, copyButton, alertBox } from "../dom.js";
import { get, post, put, del, enc } from "../api.js";
import { timeEl } from "../format.js";

const KINDS = [
  ["slack", "Slack"],
  ["webhook", "Webhook (signed JSON)"],
  ["pagerduty", "PagerDuty"],
];
const DELIVERY = { delivered: ["ok", "Delivered"], pending: ["warning", "Pending"], failed: ["bad", "Failed"] };

function kindLabel(kind) {
  const k = KINDS.find(([v]) => v === kind);
  return k ? k[1] : kind;
}

function configSummary(c) {
  const cfg = c.config || {};
  if (c.kind === "slack") return cfg.webhook_url;
  if (c.kind === "webhook") return cfg.url;
  if (c.kind === "pagerduty") return `routing key ${cfg.routing_key || ""}${cfg.severity ? ` · ${cfg.severity}` : ""}`;
  return JSON.stringify(cfg);
}

export async function render(ctx) {
  ctx.title("Notifications");
  const list = h("div", { class: "channel-list" }, skeleton(2));
  const deliveries = h("div", { class: "card card-flush" }, skeleton(4));
  const channelFilter = h("select", { name: "channel_id", "aria-label": "Channel" });
  const statusFilter = select("status", [["", "Any status"], ["pending", "Pending"], ["delivered", "Delivered"], ["failed", "Failed"]], ctx.query.get("status") || "", { "aria-label": "Status" });

  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head" },
      h("div", h("h1", "Notifications"), h("p", { class: "page-sub" }, "Where incidents and guard actions are announced. Monitors and guards name the channels to use.")),
      h("div", { class: "page-actions" }, h("button", { class: "btn btn-primary", type: "button", onClick: () => editChannel(null).then((c) => c && draw()) }, icon("plus"), h("span", "New channel"))),
    ),
    list,
    h("div", { class: "list-head" }, h("h2", { class: "h-sm" }, "Delivery log"), h("div", { class: "toolbar toolbar-tight" }, channelFilter, statusFilter)),
    deliveries,
  );

  let channels = [];
  async function draw() {
    ({ channels } = await get("/api/admin/notification-channels", { signal: ctx.signal }));
    if (!ctx.alive()) return;
    const wanted = channelFilter.value || ctx.query.get("channel_id") || "";
    mount(channelFilter, h("option", { value: "" }, "All channels"), channels.map((c) => h("option", { value: c.id, selected: String(c.id) === wanted }, c.name)));
    if (!channels.length) {
      mount(
        list,
        emptyState(
          "No channels yet",
          "Add a Slack incoming webhook, a URL that takes signed JSON, or a PagerDuty service.",
          h("button", { class: "btn btn-primary", type: "button", onClick: () => editChannel(null).then((c) => c && draw()) }, icon("plus"), h("span", "New channel")),
        ),
      );
    } else {
      mount(
        list,
        channels.map((c) =>
          h(
            "article",
            { class: "card channel-card", dataset: { channel: c.name } },
            h("div", { class: "channel-main" }, h("div", { class: "channel-name" }, icon("bell"), h("strong", c.name), h("span", { class: "tag" }, kindLabel(c.kind))), h("div", { class: "muted small mono truncate" }, configSummary(c))),
            h(
              "div",
              { class: "channel-actions" },
              h(
                "button",
                {
                  class: "btn btn-sm",
                  type: "button",
                  onClick: (e) =>
                    busy(e.currentTarget, async () => {
                      try {
                        await post(`/api/admin/notification-channels/${enc(c.id)}/test`, {});
                        toast(`Test notice queued for ${c.name}`);
                        setTimeout(loadDeliveries, 800);
                      } catch (err) {
                        toast(err.message, "error");
                      }
                    }),
                },
                icon("send"),
                h("span", "Send test"),
              ),
              h("button", { class: "btn btn-sm", type: "button", onClick: () => editChannel(c).then((saved) => saved && draw()) }, icon("edit"), h("span", "Edit")),
              h(
                "button",
                {
                  class: "btn-icon",
                  type: "button",
                  "aria-label": `Delete ${c.name}`,
                  title: `Delete ${c.name}`,
                  onClick: async () => {
                    if (!(await confirmDialog(`Delete ${c.name}?`, "Its delivery log goes with it.", { confirm: "Delete", danger: true }))) return;
                    try {
                      await del(`/api/admin/notification-channels/${enc(c.id)}`);
                      toast(`${c.name} deleted`);
                      draw();
                    } catch (err) {
                      toast(err.message, "error");
                    }
                  },
                },
                icon("trash"),
              ),
            ),
          ),
        ),
      );
    }
    await loadDeliveries();
  }

  async function loadDeliveries() {
    const p = new URLSearchParams({ limit: "50" });
    if (channelFilter.value) p.set("channel_id", channelFilter.value);
    if (statusFilter.value) p.set("status", statusFilter.value);
    const answer = await get(`/api/admin/notification-deliveries?${p}`, { signal: ctx.signal });
    if (!ctx.alive()) return;
    if (!answer.deliveries.length) {
      mount(deliveries, emptyState("Nothing sent yet", "Each notice a channel is sent, and each retry, shows here."));
      return;
    }
    mount(
      deliveries,
      h(
        "table",
        { class: "table table-deliveries" },
        h("thead", h("tr", h("th", "When"), h("th", "Channel"), h("th", "Notice"), h("th", "Status"), h("th", "Attempts"))),
        h(
          "tbody",
          answer.deliveries.map((d) => {
            const [kind, label] = DELIVERY[d.status] || ["neutral", d.status];
            return h(
              "tr",
              h("td", { class: "nowrap" }, timeEl(h, d.created_at)),
              h("td", d.channel),
              h("td", h("div", d.summary), h("div", { class: "muted small" }, d.notice_kind, d.test ? " · test" : "")),
              h("td", pill(kind, label), d.last_error ? h("div", { class: "muted small error-text" }, d.last_error) : null),
              h("td", { class: "num" }, String(d.attempts)),
            );
          }),
        ),
      ),
    );
  }

  channelFilter.addEventListener("change", loadDeliveries);
  statusFilter.addEventListener("change", loadDeliveries);
  await draw();
  ctx.every(10000, loadDeliveries);
}

function editChannel(channel) {
  const editing = Boolean(channel);
  return dialog(editing ? `Edit ${channel.name}` : "New channel", (close) => {
    const cfg = (channel && channel.config) || {};
    const name = h("input", { name: "name", value: channel ? channel.name : "", autocomplete: "off", autofocus: true, placeholder: "ops-slack" });
    const kind = select("kind", KINDS, channel ? channel.kind : "slack");
    const inputs = {
      webhook_url: h("input", { name: "webhook_url", value: cfg.webhook_url || "", placeholder: "https://hooks.slack.com/services/…" }),
      url: h("input", { name: "url", value: cfg.url || "", placeholder: "https://bot.example.com/flagwatch" }),
      secret: h("input", { name: "secret", value: cfg.secret || "", placeholder: "leave empty to generate one", autocomplete: "off" }),
      routing_key: h("input", { name: "routing_key", value: cfg.routing_key || "", placeholder: "32-character integration key", autocomplete: "off" }),
      severity: select("severity", ["critical", "error", "warning", "info"], cfg.severity || "critical"),
    };
    const fields = {
      slack: [field("Incoming webhook URL", inputs.webhook_url, { name: "config.webhook_url" })],
      webhook: [field("URL", inputs.url, { name: "config.url" }), field("Signing secret", inputs.secret, { name: "config.secret", optional: true, hint: "16–256 characters; HMAC-SHA256 of each body is sent as X-Flagwatch-Signature." })],
      pagerduty: [field("Routing key", inputs.routing_key, { name: "config.routing_key" }), field("Severity", inputs.severity, { name: "config.severity" })],
    };
    const configBox = h("div");
    const applyKind = () => mount(configBox, fields[kind.value]);
    kind.addEventListener("change", applyKind);
    applyKind();
    const submit = h("button", { class: "btn btn-primary", type: "submit" }, editing ? "Save" : "Create channel");
    const form = h(
      "form",
      { class: "form", novalidate: true },
      field("Name", name, { name: "name" }),
      field("Kind", kind, { name: "kind" }),
      configBox,
      h("div", { class: "form-actions" }, h("button", { class: "btn", type: "button", onClick: () => close() }, "Cancel"), submit),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      formMessage(form, "error", null);
      const k = kind.value;
      const body = { name: name.value.trim(), kind: k, config: {} };
      const errors = {};
      if (!body.name) errors.name = "Give the channel a name.";
      const url = (v) => /^https?:\/\/\S+$/i.test(v);
      if (k === "slack") {
        body.config.webhook_url = inputs.webhook_url.value.trim();
        if (!body.config.webhook_url) errors["config.webhook_url"] = "Paste the Slack incoming webhook URL.";
        else if (!url(body.config.webhook_url) && !body.config.webhook_url.includes("****")) errors["config.webhook_url"] = "Use an http:// or https:// URL.";
      } else if (k === "webhook") {
        body.config.url = inputs.url.value.trim();
        if (!url(body.config.url)) errors["config.url"] = "Use an http:// or https:// URL.";
        if (inputs.secret.value.trim()) body.config.secret = inputs.secret.value.trim();
      } else {
        body.config.routing_key = inputs.routing_key.value.trim();
        body.config.severity = inputs.severity.value;
        if (!body.config.routing_key) errors["config.routing_key"] = "Paste the service's Events API v2 integration key.";
      }
      if (showFieldErrors(form, errors)) return;
      busy(submit, async () => {
        let saved;
        try {
          saved = editing ? await put(`/api/admin/notification-channels/${enc(channel.id)}`, body) : await post("/api/admin/notification-channels", body);
        } catch (err) {
          formMessage(form, "error", err.message);
          showFieldErrors(form, err.fields);
          return;
        }
        toast(editing ? `${saved.name} saved` : `${saved.name} created`);
        if (saved.secret_generated && saved.config && saved.config.secret) {
          mount(
            form,
            alertBox("warning", "Copy the signing secret now: it is not shown again."),
            h("div", { class: "secret-box" }, h("code", { class: "secret" }, saved.config.secret), copyButton(saved.config.secret)),
            h("div", { class: "form-actions" }, h("button", { class: "btn btn-primary", type: "button", onClick: () => close(saved) }, "Done")),
          );
          return;
        }
        close(saved);
      });
    });
    return form;
  });
}
