// One flagwatch server and one browser per test file; each test screenshots the page if it fails.

import { after, before, test } from "node:test";
import { launch, newPage, signIn, snapshot } from "./browser.js";
import { startServer } from "./server.js";

export function suite(name, { setup } = {}) {
  const ctx = { server: null, browser: null, page: null };
  before(async () => {
    ctx.server = await startServer();
    ctx.browser = await launch();
    if (setup) await setup(ctx);
  });
  after(async () => {
    if (ctx.browser) await ctx.browser.close().catch(() => {});
    if (ctx.server) await ctx.server.cleanup(name);
  });
  /** A fresh signed-in page (its own session), kept as ctx.page. */
  ctx.signedIn = async (opts) => {
    if (ctx.page) await ctx.page.context().close().catch(() => {});
    ctx.page = await newPage(ctx.browser, opts);
    await signIn(ctx.page, ctx.server);
    return ctx.page;
  };
  ctx.fresh = async (opts) => {
    if (ctx.page) await ctx.page.context().close().catch(() => {});
    ctx.page = await newPage(ctx.browser, opts);
    return ctx.page;
  };
  /** A test bounded in time; on failure the page is saved under ui-tests/artifacts/. */
  ctx.test = (title, fn, { timeout = 60_000 } = {}) =>
    test(title, { timeout }, async () => {
      try {
        await fn();
      } catch (e) {
        await snapshot(ctx.page, `${name}-${title}`);
        if (ctx.server) e.message += `\n--- flagwatch log (tail) ---\n${ctx.server.tail()}`;
        throw e;
      }
    });
  return ctx;
}
