// Shared by the Node drivers: reading the cases, the stdout protocol (one JSON object per line,
// see ../harness/main.py), and the toggle-off watch loop.
import { readFileSync } from 'node:fs';

export const env = process.env;
export const cases = JSON.parse(readFileSync(env.SDKCOMPAT_CASES, 'utf8'));
export const POLL_MS = Number(env.SDKCOMPAT_POLL_MS);
export const METRICS_MS = Number(env.SDKCOMPAT_METRICS_MS);

const out = [];
export function emit(obj) {
  out.push(JSON.stringify(obj));
  if (out.length >= 2000 || obj.kind !== 'eval') flush();
}
export function flush() {
  if (out.length) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
}
export function log(...args) {
  process.stderr.write(`${new Date().toISOString()} ${args.join(' ')}\n`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves when `check()` resolves truthy, polling every `every` ms; false after `timeoutMs`.
export async function waitFor(check, timeoutMs, every = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(every);
  }
}

// Announce the toggle flag, then watch the SDK until it answers "off" (the harness switches it
// off through the admin API when it reads toggle-ready, and measures the time).
export async function watchToggleOff(isEnabled, timeoutMs = 15000, every = 5) {
  const flag = env.SDKCOMPAT_TOGGLE_FLAG;
  emit({ kind: 'toggle-ready', flag });
  const off = await waitFor(async () => !(await isEnabled(flag)), timeoutMs, every);
  if (off) emit({ kind: 'toggle-off' });
  else
    emit({
      kind: 'toggle-timeout',
      message: `flag still on in the SDK ${timeoutMs / 1000} s after the admin API switched it off`,
    });
}

// Kill-switch watch mode ($SDKCOMPAT_WATCH = comma-separated flags): report each flag's answer
// once, then again every time it changes (asked every `every` ms), until the harness ends the
// process. The harness drives the server and checks what the SDK says.
export async function watchFlags(isEnabled, every = 10) {
  const flags = env.SDKCOMPAT_WATCH.split(',');
  const last = new Map();
  for (;;) {
    for (const flag of flags) {
      const enabled = Boolean(await isEnabled(flag));
      if (last.get(flag) !== enabled) {
        last.set(flag, enabled);
        emit({ kind: 'state', flag, enabled });
      }
    }
    await sleep(every);
  }
}

export function fail(message) {
  emit({ kind: 'error', message });
  flush();
}
