// Starts the real flagwatch binary on a free port with a temporary SQLite database and the probe
// scheduler on, and stops it (SIGTERM, then SIGKILL) when the test file is done.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync, mkdirSync, copyFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ADMIN_TOKEN = "*:*.ui-tests-admin-secret";
export const CLIENT_TOKEN = "default:development.ui-tests-client-secret";

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startServer({ env = {}, dir } = {}) {
  const bin = process.env.FLAGWATCH_BIN;
  if (!bin) throw new Error("FLAGWATCH_BIN is not set: run the tests with ui-tests/run");
  const work = dir || mkdtempSync(join(tmpdir(), "flagwatch-ui-"));
  const port = await freePort();
  const logPath = join(work, "flagwatch.log");
  const log = openSync(logPath, "a");
  const child = spawn(bin, [], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME || work,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: `sqlite:${join(work, "flagwatch.db")}`,
      INIT_ADMIN_API_TOKENS: ADMIN_TOKEN,
      INIT_BACKEND_API_TOKENS: CLIENT_TOKEN,
      PROBE_SCHEDULER: "true",
      LOG_FORMAT: "text",
      LOG_LEVEL: process.env.UITESTS_SERVER_LOG || "info",
      NOTIFICATION_RETRY_BASE_MS: "200",
      NOTIFICATION_MAX_ATTEMPTS: "2",
      ...env,
    },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  child.on("error", (err) => (exited = { error: err.message }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`flagwatch exited at start (${JSON.stringify(exited)}):\n${tail(logPath)}`);
    try {
      const r = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`flagwatch was not ready within 30 s:\n${tail(logPath)}`);
    }
    await sleep(100);
  }

  const server = {
    url,
    port,
    dir: work,
    logPath,
    /** The admin API, as curl would call it. */
    async api(method, path, body) {
      const headers = { Authorization: path.startsWith("/api/v2/") ? `Bearer ${ADMIN_TOKEN}` : ADMIN_TOKEN };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      const text = await r.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = text;
      }
      if (!r.ok) {
        const err = new Error(`${method} ${path} → ${r.status}: ${text}`);
        err.status = r.status;
        err.body = json;
        throw err;
      }
      return json;
    },
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
      if (!exited) child.kill("SIGKILL");
      for (let i = 0; i < 20 && !exited; i++) await sleep(50);
    },
    /** Keeps the log under ui-tests/artifacts/ (for a failed run), then removes the temp dir. */
    async cleanup(name) {
      await server.stop();
      if (process.env.UITESTS_ARTIFACTS && name) {
        mkdirSync(process.env.UITESTS_ARTIFACTS, { recursive: true });
        try {
          copyFileSync(logPath, resolve(process.env.UITESTS_ARTIFACTS, `${name}.flagwatch.log`));
        } catch {
          // no log to keep
        }
      }
      if (!dir) rmSync(work, { recursive: true, force: true });
    },
    tail: () => tail(logPath),
  };
  return server;
}

function tail(path, lines = 40) {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
