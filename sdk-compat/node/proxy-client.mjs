// sdk-compat driver for the browser SDK (npm `unleash-proxy-client`), unmodified, against
// flagwatch's frontend API. It runs under Node >= 20 with Node's global fetch and the SDK's
// in-memory storage (what it picks when there is no `window`).
//
// One client evaluates: updateContext() per user (a GET /api/frontend with the context in the
// query, as in a browser), then isEnabled/getVariant for every flag. It has its refresh timer
// off so that no timer-driven fetch can abort the one updateContext() waits for. A second
// client, refreshing every $SDKCOMPAT_POLL_MS, watches the toggle flag.
import { UnleashClient, EVENTS } from 'unleash-proxy-client';
import { cases, emit, env, fail, flush, log, METRICS_MS, POLL_MS, sleep, watchToggleOff } from './common.mjs';

const url = `${env.SDKCOMPAT_URL}/api/frontend`;
const common = {
  url,
  clientKey: env.SDKCOMPAT_FRONTEND_TOKEN,
  appName: env.SDKCOMPAT_APP_NAME,
};

function started(client, what) {
  return Promise.race([
    new Promise((resolve) => client.once(EVENTS.READY, () => resolve(true))),
    sleep(20_000).then(() => false),
  ]).then((ok) => {
    if (!ok) throw new Error(`${what} was not ready within 20 s (last error: ${JSON.stringify(client.getError())})`);
  });
}

const t0 = Date.now();
const client = new UnleashClient({
  ...common,
  disableRefresh: true,
  metricsInterval: Math.max(1, Math.round(METRICS_MS / 1000)),
  metricsIntervalInitial: 1,
});
client.on(EVENTS.ERROR, (e) => log('error:', JSON.stringify(e)));
client.on(EVENTS.WARN, (e) => log('warn:', JSON.stringify(e)));
try {
  const ready = started(client, 'the evaluating client');
  await client.start();
  await ready;
} catch (e) {
  fail(String(e.message || e));
  process.exit(1);
}
emit({ kind: 'ready', ms: Date.now() - t0 });

for (const ctx of cases.users) {
  await client.updateContext({ userId: ctx.userId, properties: ctx.properties });
  const err = client.getError();
  if (err) {
    fail(`updateContext for ${ctx.userId} failed: ${JSON.stringify(err)}`);
    process.exit(1);
  }
  for (const flag of cases.flags) {
    const enabled = client.isEnabled(flag);
    const variant = client.getVariant(flag);
    emit({ kind: 'eval', user: ctx.userId, flag, enabled, variant });
  }
}
flush();

for (const c of cases.metrics_calls) {
  await client.updateContext({ userId: c.userId });
  for (let i = 0; i < c.n; i++) client.isEnabled(env.SDKCOMPAT_METRICS_FLAG);
}

const watcher = new UnleashClient({
  ...common,
  refreshInterval: Math.max(1, Math.round(POLL_MS / 1000)),
  disableMetrics: true,
  context: { userId: 'toggle-watcher' },
});
try {
  const ready = started(watcher, 'the watching client');
  await watcher.start();
  await ready;
} catch (e) {
  fail(String(e.message || e));
  process.exit(1);
}
await watchToggleOff(async (flag) => watcher.isEnabled(flag));
watcher.stop();

await client.sendMetrics();
await sleep(METRICS_MS);
client.stop();
emit({ kind: 'done' });
flush();
process.exit(0);
