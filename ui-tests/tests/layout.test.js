// Every screen loads at 1440 px and at 375 px without a console error, a script error or a CSP
// violation, and without sideways scrolling on a phone; the phone's menu opens and closes; the
// keyboard reaches everything, with a visible focus; the assets carry their security headers.

import assert from "node:assert/strict";
import { suite } from "../lib/harness.js";
import { startTarget } from "../lib/target.js";

const ids = {};
const t = suite("layout", { setup });

async function setup(t) {
  const P = "/api/admin/projects/default/features";
  await t.server.api("POST", P, { name: "a-flag-with-a-rather-long-name-to-wrap", description: "Something long enough to need truncating on a narrow phone screen, surely." });
  await t.server.api("POST", `${P}/a-flag-with-a-rather-long-name-to-wrap/environments/production/on`);
  const target = await startTarget();
  const m = (await t.server.api("POST", "/api/v2/monitors", { monitor_type: "status", url: `${target.url}/x`, pronounceable_name: "Storefront", check_frequency: 1 })).data;
  ids.monitor = m.id;
  const g = await t.server.api("POST", "/api/admin/guards", { name: "storefront", signal: { monitor_id: m.id }, flags: [{ project: "default", feature: "a-flag-with-a-rather-long-name-to-wrap", environment: "production" }] });
  ids.guard = g.id;
  target.fail(true);
  for (let i = 0; i < 100; i++) {
    const incidents = await t.server.api("GET", "/api/v2/incidents");
    if (incidents.data.length) {
      ids.incident = incidents.data[0].id;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await target.close();
  assert.ok(ids.incident, "an incident opened");
}

const screens = () => [
  ["/ui/flags", "Flags"],
  ["/ui/flags?archived=1", "Flags"],
  ["/ui/projects/default/features/a-flag-with-a-rather-long-name-to-wrap", "a-flag-with-a-rather-long-name-to-wrap"],
  ["/ui/monitors", "Monitors"],
  ["/ui/monitors/new", "New monitor"],
  [`/ui/monitors/${ids.monitor}`, "Storefront"],
  [`/ui/monitors/${ids.monitor}/edit`, "Edit Storefront"],
  ["/ui/incidents", "Incidents"],
  [`/ui/incidents/${ids.incident}`, "Storefront is down"],
  ["/ui/guards", "Guards"],
  ["/ui/guards/new", "New guard"],
  [`/ui/guards/${ids.guard}`, "storefront"],
  ["/ui/notifications", "Notifications"],
  ["/ui/events", "Event log"],
  ["/ui/tokens", "API tokens"],
];

for (const [width, height] of [
  [1440, 900],
  [375, 812],
]) {
  t.test(`every screen renders at ${width} px with no error${width < 500 ? " and no sideways scrolling" : ""}`, async () => {
    const page = await t.signedIn({ width, height });
    for (const [path, heading] of screens()) {
      await page.goto(t.server.url + path);
      await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
      await page.waitForLoadState("networkidle");
      if (width < 500) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow} px at ${width} px`);
      }
      assert.deepEqual(page.problems, [], `problems on ${path}`);
    }
  }, { timeout: 120_000 });
}

t.test("on a phone the menu opens, navigates and closes", async () => {
  const page = await t.signedIn({ width: 375, height: 812 });
  await page.goto(`${t.server.url}/ui/flags`);
  const nav = page.getByRole("navigation", { name: "Main" });
  assert.equal(await nav.isVisible(), false);
  const menu = page.getByRole("button", { name: "Menu" });
  await menu.click();
  assert.equal(await menu.getAttribute("aria-expanded"), "true");
  await nav.getByRole("link", { name: "Incidents" }).click();
  await page.getByRole("heading", { name: "Incidents", level: 1 }).waitFor();
  await page.waitForFunction(() => !document.body.classList.contains("nav-open"));
  assert.equal(await menu.getAttribute("aria-expanded"), "false");
  // Escape closes it too.
  await menu.click();
  await nav.getByRole("link", { name: "Guards" }).waitFor();
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.body.classList.contains("nav-open"));
});

t.test("the keyboard reaches the controls, with a visible focus", async () => {
  const page = await t.signedIn({ width: 1280, height: 800 });
  await page.goto(`${t.server.url}/ui/flags`);
  await page.getByRole("switch").first().waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
  // Tab until the flag's production switch has the focus, then switch it with the space bar.
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => document.activeElement.getAttribute("aria-label") === "a-flag-with-a-rather-long-name-to-wrap in development");
  }
  assert.ok(found, "the switch is reachable with Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "the focused switch shows its focus");
  await page.keyboard.press("Space");
  await page.getByRole("status").filter({ hasText: "is on in development" }).waitFor();
  const flag = await t.server.api("GET", "/api/admin/projects/default/features/a-flag-with-a-rather-long-name-to-wrap");
  assert.equal(flag.environments.find((e) => e.name === "development").enabled, true);
  // A dialog keeps the focus and closes with Escape.
  await page.getByRole("button", { name: "New flag" }).click();
  const dialog = page.getByRole("dialog", { name: "New flag" });
  assert.equal(await page.evaluate(() => document.activeElement.name), "name");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
});

t.test("the app is served with a strict CSP, an ETag and the right content types; unknown API paths stay 404 JSON", async () => {
  const index = await fetch(`${t.server.url}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-type"), /^text\/html/);
  const csp = index.headers.get("content-security-policy");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  const html = await index.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
  assert.doesNotMatch(html, /\sstyle=/, "no inline style");

  const js = await fetch(`${t.server.url}/ui/js/main.js`);
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  const etag = js.headers.get("etag");
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const again = await fetch(`${t.server.url}/ui/js/main.js`, { headers: { "If-None-Match": etag } });
  assert.equal(again.status, 304);
  assert.match((await fetch(`${t.server.url}/ui/app.css`)).headers.get("content-type"), /^text\/css/);

  // A deep link is the app; a missing file is a 404; the API's 404 is unchanged.
  const deep = await fetch(`${t.server.url}/ui/monitors/12345`);
  assert.equal(deep.status, 200);
  assert.match(deep.headers.get("content-type"), /^text\/html/);
  assert.equal((await fetch(`${t.server.url}/ui/js/missing.js`)).status, 404);
  const api = await fetch(`${t.server.url}/api/admin/nothing-here`);
  assert.equal(api.status, 404);
  assert.equal((await api.json()).name, "NotFoundError");
});
