// Flags: switching a flag in the list leaves its event in the event log; creating flags;
// editing a rollout; bad input shows a message and changes nothing (checked through the API).

import assert from "node:assert/strict";
import { eventually } from "../lib/browser.js";
import { suite } from "../lib/harness.js";

const t = suite("flags");
const P = "/api/admin/projects/default/features";

async function flagState(name, env) {
  const f = await t.server.api("GET", `${P}/${name}`);
  return f.environments.find((e) => e.name === env);
}

t.test("switching a flag on in the list records the event, shown in the event log", async () => {
  await t.server.api("POST", P, { name: "new-checkout-flow", type: "release", description: "One-page checkout" });
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/flags`);
  const sw = page.getByRole("switch", { name: "new-checkout-flow in production" });
  assert.equal(await sw.getAttribute("aria-checked"), "false");
  await sw.click();
  await page.getByRole("status").filter({ hasText: "new-checkout-flow is on in production" }).waitFor();
  assert.equal(await sw.getAttribute("aria-checked"), "true");
  assert.equal((await flagState("new-checkout-flow", "production")).enabled, true);

  // The event log, filtered by flag and type through the form.
  await page.getByRole("link", { name: "Event log" }).click();
  await page.getByLabel("Flag").fill("new-checkout-flow");
  await page.getByLabel("Type").selectOption("feature-environment-enabled");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/type=feature-environment-enabled/);
  const event = page.locator('.event[data-type="feature-environment-enabled"]');
  await event.first().waitFor();
  assert.equal(await event.count(), 1);
  const text = await event.first().innerText();
  assert.match(text, /admin/);
  assert.match(text, /new-checkout-flow/);
  assert.match(text, /production/);
  // The same event through the API, by the same actor.
  const api = await t.server.api("GET", "/api/admin/events?type=feature-environment-enabled&feature=new-checkout-flow");
  assert.equal(api.events.length, 1);
  assert.equal(api.events[0].createdBy, "admin");
  assert.equal(await event.first().getAttribute("data-id"), String(api.events[0].id));

  // And off again, from the flag's own page.
  await page.goto(`${t.server.url}/ui/projects/default/features/new-checkout-flow`);
  await page.getByRole("switch", { name: "new-checkout-flow in production" }).click();
  await eventually(async () => (await flagState("new-checkout-flow", "production")).enabled === false, { what: "the flag off" });
  assert.deepEqual(page.problems, []);
});

t.test("a flag is created from the New flag dialog; a taken or bad name is refused", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/flags`);
  await page.getByRole("button", { name: "New flag" }).click();
  const dialog = page.getByRole("dialog", { name: "New flag" });
  // A name that is not URL-friendly is caught in the form.
  await dialog.getByLabel("Name").fill("dark mode");
  await dialog.getByRole("button", { name: "Create flag" }).click();
  await dialog.getByText("URL-friendly").waitFor();
  // A taken name is refused by the server (409), whose message is shown.
  await dialog.getByLabel("Name").fill("new-checkout-flow");
  await dialog.getByRole("button", { name: "Create flag" }).click();
  await dialog.getByRole("alert").filter({ hasText: /already|exists|taken/i }).waitFor();
  const before = await t.server.api("GET", P);
  assert.equal(before.features.length, 1);
  // A good one.
  await dialog.getByLabel("Name").fill("dark-mode");
  await dialog.getByLabel("Type").selectOption("experiment");
  await dialog.getByLabel("Description").fill("Dark theme");
  await dialog.getByRole("button", { name: "Create flag" }).click();
  await page.waitForURL(/\/ui\/projects\/default\/features\/dark-mode$/);
  await page.getByRole("heading", { name: "dark-mode" }).waitFor();
  const created = await t.server.api("GET", `${P}/dark-mode`);
  assert.equal(created.type, "experiment");
  assert.equal(created.description, "Dark theme");
  assert.deepEqual(page.problems, []);
});

t.test("a rollout is edited; 150 % is refused with a message and changes nothing", async () => {
  await t.server.api("POST", `${P}/dark-mode/environments/development/strategies`, {
    name: "flexibleRollout",
    parameters: { rollout: "40", stickiness: "default", groupId: "dark-mode" },
  });
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/projects/default/features/dark-mode`);
  const dev = page.locator('.env-card[data-env="development"]');
  const strategy = dev.locator("form.strategy").first();
  const rollout = strategy.getByLabel("Rollout", { exact: true });
  assert.equal(await rollout.inputValue(), "40");

  await rollout.fill("150");
  await strategy.getByRole("button", { name: "Save" }).click();
  await strategy.getByText("The rollout must be a whole number from 0 to 100.").first().waitFor();
  const unchanged = await flagState("dark-mode", "development");
  assert.equal(unchanged.strategies[0].parameters.rollout, "40");

  await rollout.fill("30");
  await strategy.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Strategy saved in development" }).waitFor();
  await eventually(async () => (await flagState("dark-mode", "development")).strategies[0].parameters.rollout === "30", { what: "rollout 30" });
  const events = await t.server.api("GET", "/api/admin/events?type=feature-strategy-update&feature=dark-mode");
  assert.equal(events.events.length, 1);
  assert.deepEqual(page.problems, []);
});

t.test("a constraint the server refuses shows its message and changes nothing", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/projects/default/features/dark-mode`);
  const strategy = page.locator('.env-card[data-env="development"] form.strategy').first();
  await strategy.getByRole("button", { name: "Add constraint" }).click();
  await strategy.getByLabel("Context field").fill("appVersion");
  await strategy.getByLabel("Operator").selectOption("NUM_GT");
  await strategy.getByLabel("Values").fill("not-a-number");
  await strategy.getByRole("button", { name: "Save" }).click();
  // The server's 400 message, in the form.
  const alert = strategy.getByRole("alert").first();
  await alert.waitFor();
  assert.match(await alert.innerText(), /number/i);
  const after = await flagState("dark-mode", "development");
  assert.deepEqual(after.strategies[0].constraints, []);
  assert.equal(after.strategies[0].parameters.rollout, "30");

  // A good constraint saves.
  await strategy.getByLabel("Values").fill("3");
  await strategy.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Strategy saved" }).waitFor();
  await eventually(async () => (await flagState("dark-mode", "development")).strategies[0].constraints.length === 1, { what: "the constraint" });
  const c = (await flagState("dark-mode", "development")).strategies[0].constraints[0];
  assert.equal(c.contextName, "appVersion");
  assert.equal(c.operator, "NUM_GT");
  assert.equal(c.value, "3");
});

t.test("variants are saved for an environment; a variant without a name is refused", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/projects/default/features/dark-mode`);
  const variants = page.locator('.env-card[data-env="production"] form.variants');
  await variants.getByRole("button", { name: "Add variant" }).click();
  await variants.getByRole("button", { name: "Save variants" }).click();
  await variants.getByText("Each variant needs a name.").first().waitFor();
  assert.deepEqual((await flagState("dark-mode", "production")).variants, []);
  await variants.getByLabel("Variant name").fill("blue");
  await variants.getByRole("button", { name: "Add variant" }).click();
  await variants.getByLabel("Variant name").nth(1).fill("green");
  await variants.getByRole("button", { name: "Save variants" }).click();
  await page.getByRole("status").filter({ hasText: "Variants saved in production" }).waitFor();
  const saved = (await flagState("dark-mode", "production")).variants;
  assert.deepEqual(saved.map((v) => [v.name, v.weight]), [["blue", 500], ["green", 500]]);
});

t.test("a flag is archived from the list, after a confirmation", async () => {
  await t.server.api("POST", P, { name: "old-banner" });
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/flags`);
  await page.getByRole("button", { name: "Archive old-banner" }).click();
  const dialog = page.getByRole("dialog", { name: "Archive old-banner?" });
  await dialog.getByRole("button", { name: "Archive" }).click();
  await page.getByRole("status").filter({ hasText: "old-banner archived" }).waitFor();
  const archived = await t.server.api("GET", "/api/admin/archive/features/default");
  assert.deepEqual(archived.features.map((f) => f.name), ["old-banner"]);
});
