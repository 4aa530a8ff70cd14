// /docs renders the API with the vendored Redoc, every request on the
// server's origin: none leaves it, so the page works offline.
import assert from "node:assert/strict";
import { run, env, Guarded } from "./lib.mjs";

const base = env("BASE_URL");

await run(async (browser) => {
  const g = await Guarded.open(browser, "docs", [base]);
  g.fullPage = false; // the whole document is tens of thousands of pixels tall
  const res = await g.page.goto(`${base}/docs`);
  assert.equal(res.status(), 200);
  const csp = res.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /style-src 'self' 'nonce-[A-Za-z0-9_-]{24}';/);
  assert.doesNotMatch(csp, /unsafe/);
  // Redoc parses and lays out the whole document first: seconds of CPU,
  // many more when make test runs every package at once.
  await g.page.getByRole("heading", { name: "Place an order and pay for it from the wallet" }).first().waitFor({ timeout: 60_000 });
  await g.page.getByText("Mitosis", { exact: false }).first().waitFor();
  assert.ok(g.requests.some((u) => u.endsWith("/openapi.json")), "the document was fetched");
  assert.ok(g.requests.every((u) => new URL(u).origin === new URL(base).origin), `every request on ${base}`);
  await g.close();
  console.log(`docs: rendered with ${g.requests.length} requests, all to ${base}`);
});
