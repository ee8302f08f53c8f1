// A local HTTP target for monitors: answers 200 "ok" until told to fail, then 503.

import { createServer } from "node:http";

export async function startTarget({ latencyMs = 0 } = {}) {
  let failing = false;
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    setTimeout(() => {
      if (failing) {
        res.writeHead(503, { "Content-Type": "text/plain" });
        res.end("unavailable");
      } else {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end("ok");
      }
    }, typeof latencyMs === "function" ? latencyMs(req) : latencyMs);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    fail: (yes = true) => (failing = yes),
    hits: () => hits,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
