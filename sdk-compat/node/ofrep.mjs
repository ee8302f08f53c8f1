// sdk-compat driver for OpenFeature: the server SDK (npm `@openfeature/server-sdk`) with the
// OFREP provider (npm `@openfeature/ofrep-provider`), unmodified, against flagwatch's
// /ofrep/v1/evaluate/flags/{key}. The provider asks the server on every evaluation.
//
// The context is OpenFeature's: targetingKey = the user id, the custom properties as flat
// attributes. A flag is asked as a boolean first; when the server answers a variant (its value
// is the variant's payload, or its name), the typed call that matches the value's type is used,
// as an application that knows its flag's type would.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { cases, emit, env, fail, flush, log, sleep, watchToggleOff } from './common.mjs';

const t0 = Date.now();
try {
  await OpenFeature.setProviderAndWait(
    new OFREPProvider({
      baseUrl: env.SDKCOMPAT_URL,
      headers: { Authorization: env.SDKCOMPAT_FRONTEND_TOKEN },
    }),
  );
} catch (e) {
  fail(`the OFREP provider did not start: ${e?.message || e}`);
  process.exit(1);
}
const client = OpenFeature.getClient(env.SDKCOMPAT_APP_NAME);
emit({ kind: 'ready', ms: Date.now() - t0 });

const ofContext = (ctx) => ({ targetingKey: ctx.userId, ...(ctx.properties || {}) });

async function evaluate(flag, context) {
  let d = await client.getBooleanDetails(flag, false, context);
  if (d.errorCode === 'TYPE_MISMATCH') {
    for (const [getter, dflt] of [
      ['getStringDetails', ''],
      ['getNumberDetails', 0],
      ['getObjectDetails', {}],
    ]) {
      d = await client[getter](flag, dflt, context);
      if (d.errorCode !== 'TYPE_MISMATCH') break;
    }
  }
  return d;
}

let firstError = null;
for (const ctx of cases.users) {
  const context = ofContext(ctx);
  const answers = await Promise.all(cases.flags.map((flag) => evaluate(flag, context)));
  cases.flags.forEach((flag, i) => {
    const d = answers[i];
    if (d.errorCode && d.errorCode !== 'FLAG_NOT_FOUND' && !firstError) {
      firstError = `${flag} for ${ctx.userId}: ${d.errorCode} ${d.errorMessage || ''}`;
      log('evaluation error:', firstError);
    }
    const isVariant = typeof d.value !== 'boolean' && !d.errorCode;
    emit({
      kind: 'eval',
      user: ctx.userId,
      flag,
      enabled: d.value === true || isVariant,
      value: d.value,
      errorCode: d.errorCode ?? null,
      reason: d.reason ?? null,
      variant: { name: d.variant ?? (d.value === true ? 'enabled' : 'disabled'), enabled: isVariant },
    });
  });
}
flush();
if (firstError) emit({ kind: 'info', message: `first evaluation error: ${firstError}` });

await watchToggleOff(async (flag) => client.getBooleanValue(flag, false, { targetingKey: 'toggle-watcher' }));

await OpenFeature.close();
emit({ kind: 'done' });
flush();
process.exit(0);
