// Signing in and out: a bad token is refused with a message, a good one opens the app, and a
// token revoked while signed in sends the person back to sign-in with a message.

import assert from "node:assert/strict";
import { suite } from "../lib/harness.js";
import { ADMIN_TOKEN, CLIENT_TOKEN } from "../lib/server.js";

const t = suite("signin");

t.test("an unknown token is refused with a message and nothing is kept", async () => {
  const page = await t.fresh();
  await page.goto(`${t.server.url}/`);
  assert.match(page.url(), /\/ui\/signin/);
  await page.getByLabel("Admin API token").fill("*:*.not-a-real-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "That token was not accepted" }).waitFor();
  assert.match(page.url(), /\/ui\/signin/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("flagwatch.token")), null);
  // An empty field is caught before asking the server.
  await page.getByLabel("Admin API token").fill("");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Enter an admin API token" }).waitFor();
  assert.deepEqual(page.problems, []);
});

t.test("a client token is refused: the UI needs an admin token", async () => {
  const page = await t.fresh();
  await page.goto(`${t.server.url}/ui/signin`);
  await page.getByLabel("Admin API token").fill(CLIENT_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not an admin token" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("flagwatch.token")), null);
});

t.test("an admin token signs in, lands on the page asked for, and signs out", async () => {
  const page = await t.fresh();
  await page.goto(`${t.server.url}/ui/monitors`);
  await page.waitForURL(/\/ui\/signin\?next=/);
  await page.getByLabel("Admin API token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Monitors", level: 1 }).waitFor();
  assert.match(page.url(), /\/ui\/monitors$/);
  // Kept for this tab only.
  assert.equal(await page.evaluate(() => sessionStorage.getItem("flagwatch.token")), ADMIN_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Admin API token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("flagwatch.token")), null);
  // Signed out, app pages go back to sign-in.
  await page.goto(`${t.server.url}/ui/flags`);
  await page.getByLabel("Admin API token").waitFor();
  assert.deepEqual(page.problems, []);
});

t.test("a token revoked while signed in sends the person back to sign-in with a message", async () => {
  const created = await t.server.api("POST", "/api/admin/api-tokens", { tokenName: "short-lived", type: "admin" });
  const page = await t.fresh();
  await page.goto(`${t.server.url}/ui/signin`);
  await page.getByLabel("Admin API token").fill(created.secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Flags", level: 1 }).waitFor();
  await t.server.api("DELETE", `/api/admin/api-tokens/${created.tokenId}`);
  // The server reloads its token list every TOKEN_REFRESH_SECS on other replicas; here the
  // delete went through this server, so the next call is refused at once.
  await page.getByRole("link", { name: "Guards" }).click();
  await page.getByText("Your session has ended").waitFor();
  assert.match(page.url(), /\/ui\/signin\?next=%2Fui%2Fguards/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("flagwatch.token")), null);
});
