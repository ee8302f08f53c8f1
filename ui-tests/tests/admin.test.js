// API tokens (the secret shown once), notification channels (bad input refused, a test notice
// in the delivery log) and the status page (a monitor chosen for it, with its status).

import assert from "node:assert/strict";
import { after, before } from "node:test";
import { eventually } from "../lib/browser.js";
import { suite } from "../lib/harness.js";
import { startTarget } from "../lib/target.js";

const t = suite("admin");
let target;
before(async () => {
  target = await startTarget();
});
after(async () => {
  if (target) await target.close();
});

t.test("an API token is created with its secret shown once, then deleted", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/tokens`);
  await page.getByRole("button", { name: "New token" }).click();
  const dialog = page.getByRole("dialog", { name: "New API token" });
  await dialog.getByRole("button", { name: "Create token" }).click();
  await dialog.getByText("Give the token a name.").waitFor();
  await dialog.getByLabel("Name").fill("checkout-service");
  await dialog.getByLabel("Environment").selectOption("production");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secret = (await dialog.locator("code.secret").innerText()).trim();
  assert.match(secret, /^\*:production\.[0-9a-f]{20,}$/);
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.locator('tr[data-token="checkout-service"]');
  await row.waitFor();
  // Listed by its first characters only.
  const listed = await row.locator("code").innerText();
  assert.ok(listed.endsWith("…") && secret.startsWith(listed.slice(0, -1)), `listed as ${listed}`);
  assert.ok(!(await page.content()).includes(secret), "the secret is gone from the page");
  // It works as a backend token.
  const r = await fetch(`${t.server.url}/api/client/features`, { headers: { Authorization: secret } });
  assert.equal(r.status, 200);

  await row.getByRole("button", { name: "Delete token checkout-service" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await row.waitFor({ state: "detached" });
  const { tokens } = await t.server.api("GET", "/api/admin/api-tokens");
  assert.ok(!tokens.some((x) => x.tokenName === "checkout-service"));
  const deleted = await t.server.api("GET", "/api/admin/events?type=api-token-deleted");
  assert.equal(deleted.events.length, 1);
  assert.deepEqual(page.problems, []);
});

t.test("a notification channel: a bad URL is refused, a good one sends a test notice", async () => {
  const page = await t.signedIn();
  await page.goto(`${t.server.url}/ui/notifications`);
  await page.getByText("No channels yet").waitFor();
  await page.getByRole("button", { name: "New channel" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New channel" });
  await dialog.getByLabel("Name").fill("deploy-bot");
  await dialog.getByLabel("Kind").selectOption("webhook");
  await dialog.getByLabel("URL").fill("ftp://bot.example.com/");
  await dialog.getByRole("button", { name: "Create channel" }).click();
  await dialog.getByText("Use an http:// or https:// URL.").waitFor();
  // A secret the server finds too short: its message, and no channel.
  await dialog.getByLabel("URL").fill(`${target.url}/hook`);
  await dialog.getByLabel("Signing secret").fill("short");
  await dialog.getByRole("button", { name: "Create channel" }).click();
  await dialog.getByRole("alert").first().waitFor();
  assert.match(await dialog.getByRole("alert").first().innerText(), /secret/i);
  assert.deepEqual((await t.server.api("GET", "/api/admin/notification-channels")).channels, []);

  await dialog.getByLabel("Signing secret").fill("");
  await dialog.getByRole("button", { name: "Create channel" }).click();
  // The generated secret is shown once.
  await dialog.getByText("Copy the signing secret now").waitFor();
  await dialog.getByRole("button", { name: "Done" }).click();
  const card = page.locator('.channel-card[data-channel="deploy-bot"]');
  await card.waitFor();
  await card.getByRole("button", { name: "Send test" }).click();
  await page.getByRole("status").filter({ hasText: "Test notice queued for deploy-bot" }).waitFor();
  await eventually(
    async () => {
      await page.getByLabel("Status").selectOption("delivered");
      return (await page.locator(".table-deliveries tbody tr").count()) === 1;
    },
    { what: "the test notice delivered in the log" },
  );
  assert.ok(target.hits() >= 1);
});

t.test("the public status page shows the monitor chosen for it, with its status", async () => {
  const m = (await t.server.api("POST", "/api/v2/monitors", { monitor_type: "status", url: `${target.url}/health`, pronounceable_name: "API", check_frequency: 1 })).data;
  const sp = (await t.server.api("POST", "/api/v2/status-pages", { company_name: "Acme", subdomain: "acme", timezone: "UTC" })).data;
  await t.server.api("POST", `/api/v2/status-pages/${sp.id}/resources`, { resource_id: m.id, resource_type: "Monitor", public_name: "Public API" });
  await eventually(async () => (await t.server.api("GET", `/api/v2/monitors/${m.id}`)).data.attributes.status === "up", { what: "the monitor up" });

  const page = await t.fresh();
  await page.goto(`${t.server.url}/status/acme`);
  const resource = page.locator(`.resource[data-resource-id="${m.id}"]`);
  await resource.waitFor();
  assert.equal(await resource.locator(".resource__name").innerText(), "Public API");
  assert.equal(await resource.getAttribute("data-status"), "operational");
  assert.equal(await page.locator("#overall-status").getAttribute("data-state"), "operational");
  // No token needed, and none was sent.
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  // The target fails: the page shows the downtime.
  target.fail(true);
  await eventually(
    async () => {
      await page.reload();
      return (await resource.getAttribute("data-status")) === "downtime";
    },
    { what: "the resource in downtime", timeout: 20_000, interval: 500 },
  );
  target.fail(false);
  assert.deepEqual(page.problems, []);
});
