// The shell: sign-in gate, sidebar, and a small history router over /ui/* paths.

import { h, mount, icon } from "./dom.js";
import { getToken, signOut, setAuthFailureHandler } from "./api.js";
import * as signin from "./views/signin.js";
import * as flags from "./views/flags.js";
import * as flag from "./views/flag.js";
import * as monitors from "./views/monitors.js";
import * as monitor from "./views/monitor.js";
import * as incidents from "./views/incidents.js";
import * as guards from "./views/guards.js";
import * as channels from "./views/channels.js";
import * as events from "./views/events.js";
import * as tokens from "./views/tokens.js";

const NAV = [
  { path: "/ui/flags", label: "Flags", icon: "flag", section: "flags" },
  { path: "/ui/monitors", label: "Monitors", icon: "activity", section: "monitors" },
  { path: "/ui/incidents", label: "Incidents", icon: "alert", section: "incidents" },
  { path: "/ui/guards", label: "Guards", icon: "shield", section: "guards" },
  { path: "/ui/notifications", label: "Notifications", icon: "bell", section: "notifications" },
  { path: "/ui/events", label: "Event log", icon: "list", section: "events" },
  { path: "/ui/tokens", label: "API tokens", icon: "key", section: "tokens" },
];

// [pattern, view function, section]
const ROUTES = [
  ["/ui/signin", signin.render, null],
  ["/ui/flags", flags.render, "flags"],
  ["/ui/projects/:project/features/:feature", flag.render, "flags"],
  ["/ui/monitors", monitors.render, "monitors"],
  ["/ui/monitors/new", monitor.renderForm, "monitors"],
  ["/ui/monitors/:id", monitor.render, "monitors"],
  ["/ui/monitors/:id/edit", monitor.renderForm, "monitors"],
  ["/ui/incidents", incidents.render, "incidents"],
  ["/ui/incidents/:id", incidents.renderOne, "incidents"],
  ["/ui/guards", guards.render, "guards"],
  ["/ui/guards/new", guards.renderForm, "guards"],
  ["/ui/guards/:id", guards.renderOne, "guards"],
  ["/ui/guards/:id/edit", guards.renderForm, "guards"],
  ["/ui/notifications", channels.render, "notifications"],
  ["/ui/events", events.render, "events"],
  ["/ui/tokens", tokens.render, "tokens"],
];

function match(pattern, path) {
  const p = pattern.split("/");
  const a = path.split("/");
  if (p.length !== a.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(a[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== a[i]) return null;
  }
  return params;
}

let current = null; // the live route context
let shell = null;

export function navigate(to, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  route({ focus: true });
}

function closeNav() {
  document.body.classList.remove("nav-open");
  const button = document.querySelector(".menu-button");
  if (button) button.setAttribute("aria-expanded", "false");
}

function buildShell() {
  const nav = h(
    "nav",
    { class: "nav", "aria-label": "Main" },
    h(
      "ul",
      NAV.map((item) =>
        h("li", h("a", { href: item.path, class: "nav-link", dataset: { section: item.section } }, icon(item.icon), h("span", item.label))),
      ),
    ),
  );
  const token = getToken() || "";
  const sidebar = h(
    "aside",
    { class: "sidebar", id: "sidebar" },
    h("a", { class: "brand", href: "/ui/flags" }, brandMark(), h("span", "flagwatch")),
    nav,
    h(
      "div",
      { class: "sidebar-foot" },
      h("div", { class: "signed-in", title: "The admin token this tab is signed in with" }, "Signed in with ", h("code", `${token.slice(0, 8)}…`)),
      h(
        "button",
        {
          class: "btn btn-ghost btn-block sign-out",
          type: "button",
          onClick: () => {
            signOut();
            navigate("/ui/signin");
          },
        },
        icon("logout"),
        h("span", "Sign out"),
      ),
    ),
  );
  const menuButton = h(
    "button",
    {
      class: "btn-icon menu-button",
      type: "button",
      "aria-label": "Menu",
      "aria-controls": "sidebar",
      "aria-expanded": "false",
      onClick: () => {
        const open = document.body.classList.toggle("nav-open");
        menuButton.setAttribute("aria-expanded", String(open));
        if (open) sidebar.querySelector("a.nav-link")?.focus();
      },
    },
    icon("menu"),
  );
  const main = h("main", { id: "main", class: "main", tabindex: "-1" });
  return {
    root: h(
      "div",
      { class: "shell" },
      h("a", { class: "skip-link", href: "#main" }, "Skip to content"),
      sidebar,
      h("div", { class: "scrim", onClick: closeNav }),
      h(
        "div",
        { class: "main-col" },
        h("header", { class: "topbar" }, menuButton, h("a", { class: "brand brand-top", href: "/ui/flags" }, brandMark(), h("span", "flagwatch"))),
        main,
      ),
    ),
    main,
    sidebar,
  };
}

export function brandMark() {
  return h("span", { class: "brand-mark", "aria-hidden": "true" }, icon("flag", "icon brand-icon"));
}

function route({ focus = false } = {}) {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/ui") {
    history.replaceState(null, "", "/ui/flags");
    return route({ focus });
  }
  if (current) current.dispose();
  closeNav();

  let found = null;
  for (const [pattern, view, section] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      found = { view, section, params };
      break;
    }
  }

  const app = document.getElementById("app");
  const signedIn = Boolean(getToken());
  if (found && found.view === signin.render) {
    shell = null;
    const ctx = makeContext(app, {}, found.section);
    mount(app);
    found.view(ctx);
    return;
  }
  if (!signedIn) {
    const next = location.pathname + location.search;
    history.replaceState(null, "", `/ui/signin?next=${encodeURIComponent(next)}`);
    return route();
  }
  if (!shell || !document.body.contains(shell.root)) {
    shell = buildShell();
    mount(app, shell.root);
  }
  for (const link of shell.sidebar.querySelectorAll(".nav-link")) {
    if (found && link.dataset.section === found.section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const ctx = makeContext(shell.main, found ? found.params : {}, found && found.section);
  mount(shell.main);
  if (!found) {
    ctx.title("Not found");
    mount(
      shell.main,
      h("div", { class: "empty" }, h("div", { class: "empty-title" }, "There is no page here"), h("p", h("a", { href: "/ui/flags" }, "Go to the flags"))),
    );
  } else {
    Promise.resolve(found.view(ctx)).catch((e) => ctx.fail(e));
  }
  if (focus) shell.main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function makeContext(root, params, section) {
  const timers = [];
  const aborter = new AbortController();
  let alive = true;
  const ctx = {
    root,
    params,
    section,
    query: new URLSearchParams(location.search),
    signal: aborter.signal,
    alive: () => alive,
    navigate,
    title(text) {
      document.title = text ? `${text} · flagwatch` : "flagwatch";
    },
    /** Runs `fn` every `ms` while this page is shown and the tab is visible. */
    every(ms, fn) {
      let running = false;
      const id = setInterval(async () => {
        if (!alive || document.hidden || running) return;
        running = true;
        try {
          await fn();
        } catch {
          // A failed refresh keeps what is shown; the next tick tries again.
        } finally {
          running = false;
        }
      }, ms);
      timers.push(id);
    },
    /** Shows an error in place of the page. */
    fail(e) {
      if (!alive || (e && e.name === "AbortError")) return;
      if (e && (e.status === 401 || e.status === 403)) return; // already sent to sign-in
      mount(
        root,
        h(
          "div",
          { class: "alert alert-error", role: "alert" },
          h("strong", e && e.status === 404 ? "Not found. " : "This page could not be loaded. "),
          (e && e.message) || String(e),
        ),
      );
    },
    dispose() {
      alive = false;
      aborter.abort();
      timers.forEach(clearInterval);
    },
  };
  current = ctx;
  return ctx;
}

// Links inside the app are handled here; modified clicks open new tabs as usual.
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui")) return;
  if (url.pathname === location.pathname && url.hash) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && document.body.classList.contains("nav-open")) {
    closeNav();
    document.querySelector(".menu-button")?.focus();
  }
});

window.addEventListener("popstate", () => route());

setAuthFailureHandler((message) => {
  if (!getToken()) return;
  signOut(message);
  const next = location.pathname + location.search;
  navigate(`/ui/signin?next=${encodeURIComponent(next)}`, { replace: true });
});

route();
