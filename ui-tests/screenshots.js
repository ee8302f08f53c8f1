// Screenshots of the main screens for the README, against a server with demo data
// (lib/demo.js). Run it through the runner, which builds the binary and checks Chromium:
//
//   ui-tests/run screenshots            # writes docs/screenshots/*.png
//   ui-tests/run demo                   # only starts the demo server and waits (Ctrl-C stops)

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, newPage, signIn } from "./lib/browser.js";
import { seedDemo } from "./lib/demo.js";
import { ADMIN_TOKEN } from "./lib/server.js";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.SCREENSHOTS_DIR || resolve(here, "../docs/screenshots");

const demo = await seedDemo();
const { server, ids } = demo;

if (process.argv.includes("--serve")) {
  console.log(`flagwatch demo: ${server.url}/  (sign in with ${ADMIN_TOKEN}); Ctrl-C stops it`);
  const stop = async () => {
    await demo.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await new Promise(() => {});
}

mkdirSync(out, { recursive: true });
const browser = await launch();
const problems = [];
try {
  const shots = [
    ["flags.png", "/ui/flags", "table.table-flags"],
    ["flag.png", "/ui/projects/default/features/new-checkout-flow", ".env-card"],
    ["monitors.png", "/ui/monitors", ".monitor-row .bars"],
    ["monitor.png", `/ui/monitors/${ids.storefront}`, ".chart svg"],
    ["incident.png", "/ui/incidents?resolved=false", ".incident-row"],
    ["guards.png", "/ui/guards", ".guard-card"],
    ["events.png", "/ui/events", ".event"],
  ];
  const page = await newPage(browser, { width: 1280, height: 800 });
  await signIn(page, server);
  for (const [file, path, ready] of shots) {
    await page.goto(server.url + path);
    await page.locator(ready).first().waitFor();
    await page.waitForTimeout(600);
    if (file === "incident.png") {
      // The live incident's own page: the flag its guard switched off.
      await page.locator(".incident-row .row-link").first().click();
      await page.locator("[data-flag]").first().waitFor();
      await page.waitForTimeout(400);
    }
    await page.screenshot({ path: resolve(out, file) });
    console.log(`wrote ${file}`);
  }
  problems.push(...page.problems);

  const phone = await newPage(browser, { width: 375, height: 760 });
  await signIn(phone, server);
  await phone.goto(`${server.url}/ui/monitors`);
  await phone.locator(".monitor-row .bars").first().waitFor();
  await phone.waitForTimeout(600);
  await phone.screenshot({ path: resolve(out, "phone-monitors.png") });
  console.log("wrote phone-monitors.png");
  problems.push(...phone.problems);

  const signin = await newPage(browser, { width: 1280, height: 800 });
  await signin.goto(`${server.url}/`);
  await signin.getByLabel("Admin API token").waitFor();
  await signin.screenshot({ path: resolve(out, "signin.png") });
  console.log("wrote signin.png");
} finally {
  await browser.close();
  await demo.stop();
}
if (problems.length) {
  console.error(`problems in the browser:\n${problems.join("\n")}`);
  process.exit(1);
}
