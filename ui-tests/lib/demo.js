// Realistic demo data for the screenshots: flags with rollouts, constraints and variants,
// monitors on a local target (one of them failing, so a guard switches a flag off for real),
// channels, guards and tokens, all created through the API. The server is then stopped and
// 90 days of check history (hourly and per-minute roll-ups, and a few past incidents) are
// written into its SQLite file, since no API writes history; the monitors' creation date is
// moved back 120 days to match. Then it is started again on the same database.

import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "./server.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A local target whose paths answer like real services (latency with jitter); `/checkout` fails. */
async function demoTarget() {
  const latency = { storefront: 120, payments: 210, search: 55, auth: 35, checkout: 90, legacy: 300 };
  const server = createServer((req, res) => {
    const name = req.url.split("/")[1] || "";
    const base = latency[name] ?? 20;
    const wait = Math.max(2, base * (0.75 + Math.random() * 0.5));
    setTimeout(() => {
      if (name === "checkout") {
        res.writeHead(503, { "Content-Type": "text/plain" });
        res.end("upstream connect error or disconnect/reset before headers");
        return;
      }
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(name === "auth" ? "status: ok" : "ok");
    }, wait);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((ok) => (server.closeAllConnections?.(), server.close(ok))) };
}

const FLAGS = [
  { name: "new-checkout-flow", type: "release", description: "One-page checkout with saved payment methods." },
  { name: "dark-mode", type: "release", description: "Dark theme for the web shop." },
  { name: "search-v2", type: "experiment", description: "Semantic search ranking, A/B tested against the current engine." },
  { name: "recommendations-widget", type: "release", description: "“Customers also bought” on product pages." },
  { name: "payment-provider-adyen", type: "operational", description: "Route card payments through Adyen instead of the old gateway." },
  { name: "beta-dashboard", type: "permission", description: "The new merchant dashboard, for invited accounts." },
  { name: "legacy-cart-fallback", type: "kill-switch", description: "Serve the old cart if the new one misbehaves." },
];

export async function seedDemo() {
  const target = await demoTarget();
  const dir = mkdtempSync(join(tmpdir(), "flagwatch-demo-"));
  let server = await startServer({ dir });
  const api = (...a) => server.api(...a);
  const P = "/api/admin/projects/default/features";

  for (const f of FLAGS) await api("POST", P, { ...f, impressionData: false });
  const on = (f, env) => api("POST", `${P}/${f}/environments/${env}/on`);
  const strategy = (f, env, body) => api("POST", `${P}/${f}/environments/${env}/strategies`, body);
  const rollout = (f, pct, constraints = []) => ({ name: "flexibleRollout", parameters: { rollout: String(pct), stickiness: "default", groupId: f }, constraints });

  await strategy("new-checkout-flow", "production", rollout("new-checkout-flow", 25, [{ contextName: "country", operator: "IN", values: ["NL", "BE", "DE"] }]));
  await on("new-checkout-flow", "development");
  await on("new-checkout-flow", "production");
  await on("dark-mode", "development");
  await on("dark-mode", "production");
  await strategy("search-v2", "production", rollout("search-v2", 50));
  await on("search-v2", "development");
  await on("search-v2", "production");
  await api("PUT", `${P}/search-v2/environments/production/variants`, [
    { name: "control", weightType: "variable", weight: 500, stickiness: "default" },
    { name: "semantic", weightType: "variable", weight: 500, stickiness: "default", payload: { type: "json", value: '{"model":"bge-small"}' } },
  ]);
  await on("recommendations-widget", "development");
  await strategy("payment-provider-adyen", "production", rollout("payment-provider-adyen", 100, [{ contextName: "appName", operator: "IN", values: ["checkout-service"] }]));
  await on("payment-provider-adyen", "production");
  await on("payment-provider-adyen", "development");
  await strategy("beta-dashboard", "production", { name: "userWithId", parameters: { userIds: "merchant-1842,merchant-2210,merchant-3307" } });
  await on("beta-dashboard", "production");

  // Channels: a webhook to the local target (deliveries succeed), a Slack one nobody uses yet.
  const hook = await api("POST", "/api/admin/notification-channels", { name: "deploy-bot", kind: "webhook", config: { url: `${target.url}/hooks/flagwatch` } });
  await api("POST", "/api/admin/notification-channels", { name: "ops-slack", kind: "slack", config: { webhook_url: "https://hooks.slack.com/services/T024BE7LD/B08QX3W2N/Zt1nRmI4pCzK8y" } });

  const monitor = async (name, path, extra = {}) =>
    (await api("POST", "/api/v2/monitors", { monitor_type: "status", url: `${target.url}/${path}`, pronounceable_name: name, check_frequency: 10, request_timeout: 10, ...extra })).data;
  const storefront = await monitor("Storefront", "storefront");
  const payments = await monitor("Payments API", "payments", { confirmation_period: 60, recovery_period: 120 });
  const search = await monitor("Search", "search");
  const auth = await monitor("Auth service", "auth", { monitor_type: "keyword", required_keyword: "ok" });
  const legacy = await monitor("Legacy admin", "legacy", { check_frequency: 300 });
  // Checked every 2 s, so its incident (and the guard's switch-off) happens while we wait.
  const checkout = await monitor("Checkout API", "checkout", { check_frequency: 2, notification_channels: [hook.id] });
  await api("PATCH", `/api/v2/monitors/${legacy.id}`, { paused: true });

  await api("POST", "/api/admin/guards", {
    name: "checkout-api-down",
    signal: { monitor_id: checkout.id },
    flags: [{ project: "default", feature: "new-checkout-flow", environment: "production" }],
    on_recovery: "keep_disabled",
    channels: [hook.id],
  });
  await api("POST", "/api/admin/guards", {
    name: "payments-sla",
    signal: { sla: { monitor_id: payments.id, window_minutes: 60, availability_min: 99.5, response_time_max_ms: 1500 } },
    flags: [{ project: "default", feature: "payment-provider-adyen", environment: "production" }],
    on_recovery: "re_enable",
    channels: [hook.id],
  });
  await api("POST", "/api/admin/guards", {
    name: "search-rollback",
    signal: { betterstack_monitor: "search-prod" },
    flags: [{ project: "default", feature: "search-v2", environment: "production" }],
    on_recovery: "re_enable",
    channels: [],
  });

  await api("POST", "/api/admin/api-tokens", { tokenName: "checkout-service", type: "backend", environment: "production", projects: ["default"] });
  await api("POST", "/api/admin/api-tokens", { tokenName: "web-shop", type: "frontend", environment: "production", projects: ["default"] });

  // Wait for the Checkout API incident and its guard's switch-off.
  for (let i = 0; i < 100; i++) {
    const g = await api("GET", "/api/admin/guards");
    if (g.guards.some((x) => x.name === "checkout-api-down" && x.state === "tripped")) break;
    await sleep(200);
  }
  await sleep(1500); // the delivery worker sends the notices
  await server.stop();

  writeHistory(join(dir, "flagwatch.db"), [
    { id: storefront.id, base: 120, incidents: [[62, 14, 31, "unexpected HTTP status code 502"], [9, 3, 6, "timed out"]] },
    { id: payments.id, base: 210, incidents: [[40, 9, 48, "unexpected HTTP status code 500"], [12, 22, 23, "timed out"], [2, 4, 9, "unexpected HTTP status code 503"]] },
    { id: search.id, base: 55, incidents: [[75, 1, 3, "connection refused"]] },
    { id: auth.id, base: 35, incidents: [] },
    { id: legacy.id, base: 300, incidents: [[30, 2, 95, "timed out"]], stopHours: 24 * 6 },
    { id: checkout.id, base: 90, incidents: [[20, 13, 17, "unexpected HTTP status code 503"]], failingNow: true },
  ]);

  server = await startServer({ dir });
  // Every monitor that is not paused checked and up (Checkout API down) before pictures are taken.
  for (let i = 0; i < 150; i++) {
    const list = (await server.api("GET", "/api/v2/monitors")).data;
    if (list.every((m) => m.attributes.paused || m.attributes.status === (m.id === checkout.id ? "down" : "up"))) break;
    await sleep(200);
  }
  return {
    server,
    target,
    ids: { storefront: storefront.id, payments: payments.id, search: search.id, checkout: checkout.id },
    async stop() {
      await server.stop();
      await target.close();
    },
  };
}

/**
 * History rows, written with Python's sqlite3 (Node 20 has no SQLite module). Each incident is
 * `[days ago, hour of day, minutes long, cause]`.
 */
function writeHistory(db, monitors) {
  const script = String.raw`
import json, math, random, sqlite3, sys, time
random.seed(7)
db = sqlite3.connect(sys.argv[1])
spec = json.loads(sys.argv[2])
now = int(time.time() * 1000)
H, M, D = 3_600_000, 60_000, 86_400_000
hour0 = now - now % H
minute0 = now - now % M
created = now - 120 * D
for m in spec:
    mid = int(m["id"])
    base = m["base"]
    db.execute("update monitor set created_at = ? where monitor_id = ?", (created, mid))
    db.execute("delete from probe_rollup_hour where monitor_id = ?", (mid,))
    db.execute("delete from probe_rollup_minute where monitor_id = ?", (mid,))
    down = []
    for days, hour, minutes, cause in m["incidents"]:
        start = (now - now % D) - days * D + hour * H + random.randint(0, 50) * M
        end = start + minutes * M
        down.append((start, end))
        code = cause.split()[-1] if "status code" in cause else None
        db.execute(
            "insert into incident (monitor_id, started_at, resolved_at, cause_code, cause, response_status, response_detail) values (?, ?, ?, ?, ?, ?, ?)",
            (mid, start, end, "status_code" if code else ("timeout" if cause == "timed out" else cause.replace(" ", "_")), cause, int(code) if code else None, ""),
        )
    def load(t):
        # A daily wave (busier afternoons), some noise, and now and then a slow spike.
        hod = (t // H) % 24
        wave = 1 + 0.35 * math.sin((hod - 9) / 24 * 2 * math.pi)
        spike = 2.5 if random.random() < 0.01 else 1
        return max(3, int(base * wave * spike * random.uniform(0.85, 1.15)))
    stop = now - m.get("stopHours", 0) * H
    for h in range(90 * 24, 0, -1):
        b = hour0 - h * H
        if b > stop:
            continue
        checks, ups, total, peak = 120, 120, 0, 0
        for s, e in down:
            overlap = max(0, min(e, b + H) - max(s, b))
            ups -= round(120 * overlap / H)
        for _ in range(6):
            v = load(b)
            total += v * 20
            peak = max(peak, v)
        db.execute("insert into probe_rollup_hour (monitor_id, bucket, checks, ups, response_ms_sum, response_ms_max) values (?, ?, ?, ?, ?, ?)", (mid, b, checks, max(0, ups), total, peak))
    if m.get("stopHours", 0) < 24:
        for k in range(24 * 60, 0, -1):
            b = minute0 - k * M
            v = load(b)
            ups = 0 if m.get("failingNow") and k < 3 else 2
            db.execute("insert or replace into probe_rollup_minute (monitor_id, bucket, checks, ups, response_ms_sum, response_ms_max) values (?, ?, ?, ?, ?, ?)", (mid, b, 2, ups, v * 2, v))
db.commit()
`;
  execFileSync("python3", ["-c", script, db, JSON.stringify(monitors)], { stdio: ["ignore", "inherit", "inherit"] });
}
