// What every browser test shares: Debian's chromium driven by
// playwright-core (pinned in package-lock.json), every request checked to
// stay on the allowed origins, and any console error or uncaught exception
// failing the test. Screenshots go to $ARTIFACTS (git-ignored).
import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import assert from "node:assert/strict";

const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"];

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const opened = [];

// run launches the browser, calls fn(browser), and closes it; a failure
// exits non-zero with its message, which the Go test prints.
export async function run(fn) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: flags });
  try {
    await fn(browser);
  } catch (err) {
    console.error(err?.stack || String(err));
    for (const g of opened) {
      await g.shot("failed").catch(() => undefined);
      console.error(`${g.name}: errors ${JSON.stringify(g.errors, null, 1)}\nrequests ${JSON.stringify(g.requests, null, 1)}`);
    }
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

// Guarded is a page whose requests may only go to origins; it records
// every request, each one elsewhere (aborted), and every console error.
export class Guarded {
  static async open(browser, name, origins) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const g = new Guarded(name, context, await context.newPage(), origins.map((o) => new URL(o).origin));
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      g.requests.push(url.href);
      if (!g.origins.includes(url.origin)) {
        g.escaped.push(url.href);
        return route.abort("blockedbyclient");
      }
      return route.continue();
    });
    // Chromium logs every answer of 400 and up as an error; a 4xx is the
    // API's problem+json, which the page shows (and each test checks it
    // expects), a 5xx is a failure.
    g.watch(g.page);
    opened.push(g);
    return g;
  }

  constructor(name, context, page, origins) {
    // expected: console errors a script provokes on purpose (regexps).
    Object.assign(this, { name, context, page, origins, requests: [], escaped: [], errors: [], expected: [] });
  }

  // watch fails the test on a console error or an uncaught exception of
  // page, another page of this context (a link opened in a new tab).
  watch(page) {
    page.on("console", (m) => {
      if (m.type() !== "error" || /^Failed to load resource: the server responded with a status of 4\d\d /.test(m.text())) return;
      if (this.expected.some((re) => re.test(`${m.text()} (${m.location().url})`))) return;
      this.errors.push(`console: ${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => this.errors.push(`uncaught: ${e.message}`));
    page.setDefaultTimeout(15_000);
  }

  // shot saves a screenshot as $ARTIFACTS/<name>-<step>.png (of page, by
  // default the context's first).
  async shot(step, page = this.page) {
    const dir = process.env.ARTIFACTS;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${this.name}-${step}.png`), fullPage: this.fullPage ?? true });
  }

  // close fails on any request off the origins or any console error.
  async close() {
    await this.shot("last");
    await this.context.close();
    assert.deepEqual(this.escaped, [], `${this.name}: requests left the origin`);
    assert.deepEqual(this.errors, [], `${this.name}: errors on the page`);
  }
}

// assertEventually polls check until it holds, failing after timeout ms
// with what and the last state (last()).
export async function assertEventually(check, what, last = async () => "", timeout = 15_000) {
  const until = Date.now() + timeout;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > until) throw new Error(`not so after ${timeout} ms: ${what} (last: ${await last().catch((e) => e.message)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// expectText waits until locator's trimmed text matches re.
export async function expectText(locator, re, timeout = 15_000) {
  await assertEventually(async () => re.test(((await locator.textContent()) ?? "").trim()), `text ${re}`, async () => locator.textContent(), timeout);
}
