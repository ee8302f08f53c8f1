// sdk-compat driver for the Node SDK (npm `unleash-client`), unmodified.
//   node unleash-client.mjs polling    # refreshInterval = $SDKCOMPAT_POLL_MS
//   node unleash-client.mjs streaming  # experimentalMode {type: 'streaming'} (SSE /api/client/streaming)
//   node unleash-client.mjs delta      # experimentalMode {type: 'polling', format: 'delta'}
//                                      # (GET /api/client/delta every $SDKCOMPAT_POLL_MS)
// With $SDKCOMPAT_WATCH set (the kill-switch scenario) it only reports those flags' answers as
// they change, after `ready`, until ended (common.mjs watchFlags).
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import unleashPkg from 'unleash-client';
// The SDK's own URL choice (lib/url-utils.js), to show which endpoint the poller asks.
import urlUtils from 'unleash-client/lib/url-utils.js';
import { cases, emit, env, fail, flush, log, METRICS_MS, POLL_MS, sleep, waitFor, watchFlags, watchToggleOff } from './common.mjs';

const { Unleash } = unleashPkg;
const mode = process.argv[2] || 'polling';
if (!['polling', 'streaming', 'delta'].includes(mode)) throw new Error(`unknown mode ${mode}`);
const experimentalMode = {
  polling: { type: 'polling', format: 'full' },
  delta: { type: 'polling', format: 'delta' },
  streaming: { type: 'streaming' },
}[mode];

const backupPath = join(env.SDKCOMPAT_WORKDIR, 'backup');
mkdirSync(backupPath, { recursive: true });

const t0 = Date.now();
const unleash = new Unleash({
  url: `${env.SDKCOMPAT_URL}/api`,
  appName: env.SDKCOMPAT_APP_NAME,
  instanceId: `sdkcompat-node-${mode}-1`,
  // In streaming mode polling must not be what delivers the change: poll rarely, so a silent
  // fall-back to polling shows up as a slow toggle (and as a 'mode' event).
  refreshInterval: mode === 'streaming' ? 60_000 : POLL_MS,
  metricsInterval: METRICS_MS,
  customHeaders: { Authorization: env.SDKCOMPAT_CLIENT_TOKEN },
  backupPath,
  skipInstanceCountWarning: true,
  experimentalMode,
});
if (mode !== 'streaming') {
  const getUrl = urlUtils.default ?? urlUtils;
  const polled = getUrl(`${env.SDKCOMPAT_URL}/api/`, undefined, undefined, undefined, experimentalMode);
  const want = mode === 'delta' ? '/api/client/delta' : '/api/client/features';
  if (new URL(polled).pathname !== want) fail(`mode ${mode}: the SDK would poll ${polled}, not ${want}`);
  else emit({ kind: 'info', message: `mode ${mode}: the SDK polls ${polled}` });
}
unleash.on('error', (e) => log('error:', e?.stack || e));
unleash.on('warn', (m) => log('warn:', m));
unleash.on('mode', (m) => {
  log('mode change:', JSON.stringify(m));
  emit({ kind: 'mode', from: m?.from, to: m?.to });
});
let sent = 0;
unleash.on('sent', () => sent++);
let registered = false;
unleash.on('registered', () => (registered = true));

const synced = await Promise.race([
  new Promise((r) => unleash.once('synchronized', () => r(true))),
  sleep(20_000).then(() => false),
]);
if (!synced) {
  fail(`the SDK did not synchronize within 20 s (mode ${mode})`);
  unleash.destroy();
  process.exit(1);
}
emit({ kind: 'ready', ms: Date.now() - t0 });
// The kill-switch scenario only watches flags (see watchFlags); it never returns.
if (env.SDKCOMPAT_WATCH) await watchFlags((flag) => unleash.isEnabled(flag, { userId: 'kill-switch-watcher' }));

for (const ctx of cases.users) {
  for (const flag of cases.flags) {
    const enabled = unleash.isEnabled(flag, ctx);
    const variant = unleash.getVariant(flag, ctx);
    emit({ kind: 'eval', user: ctx.userId, flag, enabled, variant });
  }
}
flush();

for (const c of cases.metrics_calls)
  for (let i = 0; i < c.n; i++) unleash.isEnabled(env.SDKCOMPAT_METRICS_FLAG, { userId: c.userId });

await watchToggleOff(async (flag) => unleash.isEnabled(flag, { userId: 'toggle-watcher' }));

await sleep(METRICS_MS + 500);
await unleash.destroyWithFlush();
emit({ kind: 'info', message: `mode at the end: ${mode}, metrics posts acknowledged: ${sent}, registered: ${registered}` });
emit({ kind: 'done' });
flush();
// The SDK's HTTP agents keep sockets open; nothing is left to wait for.
process.exit(0);
