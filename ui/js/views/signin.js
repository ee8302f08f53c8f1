// Sign in with an admin token. The token is checked against the admin API before it is kept.

import { h, mount, alertBox, icon, busy } from "../dom.js";
import { get, setToken, takeNotice, getToken } from "../api.js";

export function render(ctx) {
  ctx.title("Sign in");
  const notice = takeNotice();
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "*:*.your-admin-secret",
    required: true,
    "aria-describedby": "token-hint",
  });
  const message = h("div", { class: "form-message", id: "signin-message" }, notice ? alertBox("warning", notice) : null);
  const button = h("button", { class: "btn btn-primary btn-block", type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-form", novalidate: true },
    message,
    h(
      "div",
      { class: "field" },
      h("label", { for: "token" }, "Admin API token"),
      input,
      h("div", { class: "field-hint", id: "token-hint" }, "An admin token looks like ", h("code", "*:*.<secret>"), ". It is kept in this browser tab only, until you sign out or close it."),
    ),
    button,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      mount(message, alertBox("error", "Enter an admin API token."));
      input.focus();
      return;
    }
    busy(button, async () => {
      try {
        await get("/api/admin/projects", { token, auth: false });
      } catch (err) {
        const text =
          err.status === 401
            ? "That token was not accepted. Check it and try again."
            : err.status === 403
              ? "That is not an admin token. The web UI needs an admin token (*:*.…); client and frontend tokens are for SDKs."
              : err.message;
        mount(message, alertBox("error", text));
        input.select();
        return;
      }
      setToken(token);
      const next = ctx.query.get("next");
      ctx.navigate(next && next.startsWith("/ui/") && !next.startsWith("/ui/signin") ? next : "/ui/flags", { replace: true });
    });
  });

  mount(
    ctx.root,
    h(
      "div",
      { class: "signin" },
      h(
        "div",
        { class: "signin-card" },
        h("div", { class: "signin-brand" }, h("span", { class: "brand-mark brand-mark-lg", "aria-hidden": "true" }, icon("flag", "icon brand-icon")), h("span", "flagwatch")),
        h("h1", "Sign in"),
        h("p", { class: "muted" }, "Feature flags, uptime monitors and the kill switch that ties them together."),
        getToken() ? alertBox("info", "You are already signed in in this tab. ", h("a", { href: "/ui/flags" }, "Go to the flags")) : null,
        form,
        h(
          "details",
          { class: "signin-help" },
          h("summary", "Where do I find a token?"),
          h(
            "p",
            "Use a token from ",
            h("code", "INIT_ADMIN_API_TOKENS"),
            ", or the one flagwatch printed on its first start when none was configured. The Docker Compose setup uses ",
            h("code", "*:*.unleash-admin-api-token"),
            ".",
          ),
        ),
      ),
    ),
  );
  input.focus();
}
