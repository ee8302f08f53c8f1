// Monitors and the kill switch, end to end: a monitor created in the UI on a local target goes
// up; a guard created in the UI ties it to a flag; when the target fails, the incident shows the
// flag its guard switched off, and the flag's page says why it is off.

import assert from "node:assert/strict";
import { after, before } from "node:test";
import { eventually } from "../lib/browser.js";
import { suite } from "../lib/harness.js";
import { startTarget } from "../lib/target.js";

const t = suite("monitors");
let target;
before(async () => {
  target = await startTarget();
});
after(async () => {
  if (target) await target.close();
});

const nav = (page, name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
const monitors = async () => (await t.server.api("GET", "/api/v2/monitors")).data;

t.test("a monitor without a URL is refused with a message, and none is created", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/monitors`);
  await page.getByText("No monitors yet").waitFor();
  await page.getByRole("link", { name: "New monitor" }).first().click();
  await page.getByLabel("Name").fill("Checkout API");
  await page.getByRole("button", { name: "Create monitor" }).click();
  await page.getByText("Enter the URL to check.").waitFor();
  // A check interval out of range is caught too.
  await page.getByLabel("URL").fill(`${target.url}/health`);
  await page.getByLabel("Check every").fill("0");
  await page.getByRole("button", { name: "Create monitor" }).click();
  await page.getByText("The check interval must be a whole number from 1 to 86400.").waitFor();
  assert.deepEqual(await monitors(), []);
  assert.match(page.url(), /\/ui\/monitors\/new$/);
});

t.test("a monitor the server refuses shows the server's message, and none is created", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/monitors/new`);
  await page.getByLabel("Type", { exact: true }).selectOption("expected_status_code");
  await page.getByLabel("URL").fill(`${target.url}/health`);
  await page.getByLabel("Expected status codes").fill("200, 999");
  await page.getByRole("button", { name: "Create monitor" }).click();
  await page.getByText("Enter status codes from 100 to 599").waitFor();
  // A TCP monitor given a URL instead of a host: only the server knows, and says so (422).
  await page.getByLabel("Type", { exact: true }).selectOption("tcp");
  await page.getByLabel("Host").fill("http://db.internal/");
  await page.getByLabel("Port").fill("5432");
  await page.getByRole("button", { name: "Create monitor" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "The server refused the monitor" });
  await alert.waitFor();
  assert.match(await alert.innerText(), /url/i);
  assert.deepEqual(await monitors(), []);
});

t.test("a monitor created in the UI on a local target goes up", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/monitors/new`);
  await page.getByLabel("Name").fill("Checkout API");
  await page.getByLabel("URL").fill(`${target.url}/health`);
  await page.getByLabel("Check every").fill("1");
  await page.getByRole("button", { name: "Create monitor" }).click();
  await page.waitForURL(/\/ui\/monitors\/\d+$/);
  await page.getByRole("heading", { name: "Checkout API" }).waitFor();
  // The page follows the status by itself: pending, then up.
  await page.locator('.page-head .pill[data-status="up"]').waitFor({ timeout: 20_000 });
  assert.ok(target.hits() > 0, "the target was checked");
  const [m] = await monitors();
  assert.equal(m.attributes.status, "up");
  assert.equal(m.attributes.check_frequency, 1);
  // The list shows it up with a response time.
  await nav(page, "Monitors");
  const row = page.locator(`.monitor-row[data-monitor="${m.id}"]`);
  await row.locator('.pill[data-status="up"]').waitFor();
  await eventually(async () => /\d+ ms/.test(await row.locator(".mon-last").innerText()), { what: "a response time in the list" });
  assert.deepEqual(page.problems, []);
});

t.test("a guard created in the UI switches its flag off when the target fails; the incident shows it", async () => {
  const P = "/api/admin/projects/default/features";
  await t.server.api("POST", P, { name: "new-checkout-flow" });
  await t.server.api("POST", `${P}/new-checkout-flow/environments/production/on`);
  const [m] = await monitors();

  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/guards`);
  await page.getByText("No guards yet").waitFor();
  await page.getByRole("link", { name: "New guard" }).first().click();
  // A guard with no name is refused in the form.
  await page.getByRole("button", { name: "Create guard" }).click();
  await page.getByText("Give the guard a name.").waitFor();
  assert.deepEqual((await t.server.api("GET", "/api/admin/guards")).guards, []);

  await page.getByLabel("Name").fill("checkout-down");
  await page.getByLabel("Monitor", { exact: true }).selectOption(m.id);
  await page.getByLabel("Project").selectOption("default");
  await page.getByLabel("Flag", { exact: true }).selectOption("new-checkout-flow");
  await page.getByLabel("Environment").selectOption("production");
  await page.getByRole("button", { name: "Create guard" }).click();
  await page.waitForURL(/\/ui\/guards\/\d+$/);
  await page.locator('.page-head .pill[data-state="armed"]').waitFor();
  const [guard] = (await t.server.api("GET", "/api/admin/guards")).guards;
  assert.equal(guard.name, "checkout-down");
  assert.deepEqual(guard.signal, { monitor_id: m.id });
  assert.deepEqual(guard.flags, [{ project: "default", feature: "new-checkout-flow", environment: "production" }]);

  // The target fails: an incident opens and the guard switches the flag off.
  target.fail(true);
  await nav(page, "Incidents");
  const row = page.locator(".incident-row").first();
  await row.locator('.pill[data-state="ongoing"]').waitFor({ timeout: 20_000 });
  const chip = row.locator('[data-flag="new-checkout-flow"][data-env="production"]');
  await chip.waitFor({ timeout: 10_000 });
  assert.match(await chip.innerText(), /checkout-down/);
  const flag = await t.server.api("GET", `${P}/new-checkout-flow`);
  assert.equal(flag.environments.find((e) => e.name === "production").enabled, false);

  // The incident's page lists the flag; the flag's page says which guard and why.
  await row.locator(".row-link").click();
  await page.locator('tr[data-flag="new-checkout-flow"]').waitFor();
  await page.getByRole("link", { name: "new-checkout-flow" }).first().click();
  await page.waitForURL(/\/features\/new-checkout-flow$/);
  const held = page.locator('.env-row[data-env="production"] [data-held-by="checkout-down"]');
  await held.waitFor();
  assert.match(await held.innerText(), /Checkout API is down/);
  assert.equal(await page.getByRole("switch", { name: "new-checkout-flow in production" }).getAttribute("aria-checked"), "false");

  // The guard shows as tripped, the monitor as down.
  await nav(page, "Guards");
  await page.locator('.guard-card[data-guard="checkout-down"] .pill[data-state="tripped"]').waitFor();
  await nav(page, "Monitors");
  await page.locator(`.monitor-row[data-monitor="${m.id}"] .pill[data-status="down"]`).waitFor();
  assert.deepEqual(page.problems, []);
});

t.test("deleting a monitor a guard reads is refused with the server's message; pausing works", async () => {
  const [m] = await monitors();
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/monitors/${m.id}`);
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("alert").filter({ hasText: "checkout-down" }).waitFor();
  assert.equal((await monitors()).length, 1);

  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("button", { name: "Resume" }).waitFor();
  assert.equal((await monitors())[0].attributes.paused, true);
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("button", { name: "Pause" }).waitFor();
  assert.equal((await monitors())[0].attributes.paused, false);
});
