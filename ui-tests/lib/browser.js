// Debian's Chromium, headless, driven by playwright-core. Every page records console errors,
// uncaught exceptions and CSP violations, so a test can assert there were none.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { ADMIN_TOKEN } from "./server.js";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

/** A fresh context (own sessionStorage) and page, with its problems collected in `page.problems`. */
export async function newPage(browser, { width = 1280, height = 800, colorScheme = "light" } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, locale: "en-GB", timezoneId: "UTC" });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  page.problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      const text = msg.text();
      // A refused API call is logged by Chromium as a failed resource; the UI handles those.
      if (/Failed to load resource: the server responded with a status of (4\d\d)/.test(text)) return;
      page.problems.push(`console: ${text}`);
    }
  });
  page.on("pageerror", (err) => page.problems.push(`pageerror: ${err.message}`));
  return page;
}

export async function signIn(page, server, token = ADMIN_TOKEN) {
  await page.goto(`${server.url}/`);
  await page.getByLabel("Admin API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("main#main").waitFor();
}

/** Saves a screenshot of a failing test under ui-tests/artifacts/. */
export async function snapshot(page, name) {
  if (!process.env.UITESTS_ARTIFACTS || !page) return;
  mkdirSync(process.env.UITESTS_ARTIFACTS, { recursive: true });
  try {
    await page.screenshot({ path: resolve(process.env.UITESTS_ARTIFACTS, `${name.replace(/[^\w.-]+/g, "_")}.png`), fullPage: true });
  } catch {
    // the page may be gone
  }
}

/** Polls `fn` until it returns a truthy value, or fails after `timeout` ms. */
export async function eventually(fn, { timeout = 20_000, interval = 250, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
