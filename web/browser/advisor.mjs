// The console's split advisor panel, after some orders in one process:
// the placement "payments alone" adds latency to POST /api/v1/orders, and
// its expensive edge is orders → payments.Charge.
import assert from "node:assert/strict";
import { run, env, Guarded } from "./lib.mjs";

const admin = env("ADMIN_URL");

await run(async (browser) => {
  const g = await Guarded.open(browser, "console-advisor", [admin]);
  const { page } = g;
  assert.equal((await page.goto(`${admin}/console`)).status(), 200);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Advisor" }).click();
  const panel = page.getByRole("region", { name: "Split advisor" });
  await panel.getByRole("form", { name: "Advise" }).getByRole("button", { name: "Advise" }).click();
  const status = panel.getByRole("status", { name: "Advisor status" });
  await status.filter({ hasText: /placements weighed|could not/ }).waitFor({ timeout: 30_000 });
  assert.match(await status.textContent(), /placements weighed/);

  const alone = panel.getByRole("region", { name: /^payments alone: / });
  const routes = alone.getByRole("table", { name: "Routes with payments alone" });
  const head = await routes.getByRole("columnheader").allTextContents();
  const col = head.indexOf("Added p50");
  assert.ok(col > 0, `an Added p50 column: ${head}`);
  const row = routes.getByRole("row", { name: /^POST \/api\/v1\/orders\b/ });
  const cells = await row.locator("th, td").allTextContents();
  assert.match(cells[col], /^\+\d/, `added p50 of POST /api/v1/orders: ${cells}`);
  assert.doesNotMatch(cells[col], /^\+0 µs$/, `added p50 of POST /api/v1/orders is not zero: ${cells}`);
  const expensive = alone.getByRole("table", { name: "Expensive edges with payments alone" });
  await expensive.getByRole("rowheader", { name: "orders → payments.Charge" }).waitFor();
  await g.close();
});
