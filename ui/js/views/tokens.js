// API tokens: list, create (the secret is shown once), delete.

import { h, mount, icon, toast, dialog, confirmDialog, field, select, showFieldErrors, formMessage, busy, skeleton, emptyState, pill, alertBox, copyButton } from "../dom.js";
import { get, post, del, enc, getToken } from "../api.js";
import { timeEl, day } from "../format.js";

const TYPES = [
  ["backend", "Backend (server-side SDKs)"],
  ["frontend", "Frontend (browser and mobile SDKs)"],
  ["admin", "Admin (this UI, scripts)"],
];

function typePill(type) {
  if (type === "admin") return pill("warning", "Admin");
  if (type === "frontend") return pill("info", "Frontend");
  return pill("neutral", type === "client" ? "Backend" : type.charAt(0).toUpperCase() + type.slice(1));
}

/** Is this listed token (secret shown as `*:*.abcd…`) the one this tab signed in with? */
function isMine(t) {
  const mine = getToken() || "";
  const prefix = (t.secret || "").replace(/…$/, "");
  return prefix.length > 4 && mine.startsWith(prefix) && t.type === "admin";
}

export async function render(ctx) {
  ctx.title("API tokens");
  const list = h("div", { class: "card card-flush" }, skeleton(4));
  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head" },
      h("div", h("h1", "API tokens"), h("p", { class: "page-sub" }, "Secrets are stored hashed: each is shown once, when it is created.")),
      h("div", { class: "page-actions" }, h("button", { class: "btn btn-primary", type: "button", onClick: () => createToken().then(() => draw()).catch((e) => toast(e.message, "error")) }, icon("plus"), h("span", "New token"))),
    ),
    list,
  );
  async function draw() {
    const { tokens } = await get("/api/admin/api-tokens", { signal: ctx.signal });
    if (!ctx.alive()) return;
    if (!tokens.length) {
      mount(list, emptyState("No tokens", "Create a backend token for your server-side SDKs."));
      return;
    }
    tokens.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    mount(
      list,
      h(
        "table",
        { class: "table table-tokens" },
        h("thead", h("tr", h("th", "Name"), h("th", "Type"), h("th", "Project"), h("th", "Environment"), h("th", "Secret"), h("th", "Created"), h("th", h("span", { class: "sr-only" }, "Actions")))),
        h(
          "tbody",
          tokens.map((t) =>
            h(
              "tr",
              { dataset: { token: t.tokenName } },
              h("td", { class: "strong" }, t.tokenName, isMine(t) ? h("div", { class: "muted small" }, "you are signed in with it") : null),
              h("td", typePill(t.type)),
              h("td", (t.projects || [t.project]).join(", ")),
              h("td", t.environment),
              h("td", h("code", t.secret)),
              h("td", { class: "nowrap" }, timeEl(h, t.createdAt), t.expiresAt ? h("div", { class: "muted small" }, `expires ${day(t.expiresAt)}`) : null),
              h(
                "td",
                { class: "cell-actions" },
                h(
                  "button",
                  {
                    class: "btn-icon",
                    type: "button",
                    "aria-label": `Delete token ${t.tokenName}`,
                    title: `Delete token ${t.tokenName}`,
                    onClick: async () => {
                      const mine = isMine(t);
                      const ok = await confirmDialog(
                        `Delete the token ${t.tokenName}?`,
                        mine ? "This is the token you are signed in with: you will be signed out." : "Anything using it is refused from now on.",
                        { confirm: "Delete", danger: true },
                      );
                      if (!ok) return;
                      try {
                        await del(`/api/admin/api-tokens/${enc(t.tokenId)}`);
                        toast(`Token ${t.tokenName} deleted`);
                        draw().catch((e) => ctx.fail(e));
                      } catch (e) {
                        toast(e.message, "error");
                      }
                    },
                  },
                  icon("trash"),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
  await draw();
}

async function createToken() {
  const [{ projects }, { environments }] = await Promise.all([get("/api/admin/projects"), get("/api/admin/environments")]);
  return dialog("New API token", (close) => {
    const name = h("input", { name: "tokenName", autocomplete: "off", autofocus: true, placeholder: "checkout-service" });
    const type = select("type", TYPES, "backend");
    const project = select("project", [["*", "All projects"], ...projects.map((p) => [p.id, p.name || p.id])], "*");
    const env = select("environment", environments.map((e) => e.name), environments[0] && environments[0].name);
    const expires = h("input", { type: "date", name: "expiresAt" });
    const scope = h("div", { class: "field-row" }, field("Project", project, { name: "project" }), field("Environment", env, { name: "environment" }));
    type.addEventListener("change", () => (scope.hidden = type.value === "admin"));
    const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Create token");
    const form = h(
      "form",
      { class: "form", novalidate: true },
      field("Name", name, { name: "tokenName" }),
      field("Type", type, { name: "type" }),
      scope,
      field("Expires", expires, { name: "expiresAt", optional: true }),
      h("div", { class: "form-actions" }, h("button", { class: "btn", type: "button", onClick: () => close() }, "Cancel"), submit),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      formMessage(form, "error", null);
      const body = { tokenName: name.value.trim(), type: type.value };
      if (type.value !== "admin") {
        body.environment = env.value;
        body.projects = [project.value];
      }
      if (expires.value) body.expiresAt = new Date(`${expires.value}T23:59:59Z`).toISOString();
      const errors = {};
      if (!body.tokenName) errors.tokenName = "Give the token a name.";
      if (expires.value && new Date(body.expiresAt) < new Date()) errors.expiresAt = "Choose a date in the future.";
      if (showFieldErrors(form, errors)) return;
      busy(submit, async () => {
        let created;
        try {
          created = await post("/api/admin/api-tokens", body);
        } catch (err) {
          formMessage(form, "error", err.message);
          showFieldErrors(form, err.fields);
          return;
        }
        mount(
          form,
          alertBox("warning", h("strong", "Copy this secret now. "), "flagwatch keeps only a hash of it: it is never shown again."),
          h("div", { class: "secret-box", dataset: { secret: "" } }, h("code", { class: "secret" }, created.secret), copyButton(created.secret)),
          h("p", { class: "muted small" }, `${created.tokenName} · ${created.type} · ${(created.projects || []).join(", ")} · ${created.environment}`),
          h("div", { class: "form-actions" }, h("button", { class: "btn btn-primary", type: "button", onClick: () => close(created) }, "Done")),
        );
      });
    });
    return form;
  });
}
