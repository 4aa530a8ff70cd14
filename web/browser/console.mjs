// The console of one process (the gateway's) in the split topology shows
// the whole system: four modules, each with its health and the process
// that runs it, and the four processes.
import assert from "node:assert/strict";
import { run, env, Guarded, assertEventually } from "./lib.mjs";

const admin = env("ADMIN_URL");
const base = env("BASE_URL");
const want = JSON.parse(env("WANT")); // module → process name

await run(async (browser) => {
  const g = await Guarded.open(browser, "console-topology", [admin]);
  const { page } = g;
  const res = await page.goto(`${admin}/console`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()["content-security-policy"], /script-src 'self'; style-src 'self';/);

  const modules = page.getByRole("table", { name: "Modules" });
  await assertEventually(async () => {
    const rows = await modules.locator("tbody tr").allTextContents();
    return rows.length === Object.keys(want).length && rows.every((r) => r.includes("healthy"));
  }, "every module listed, healthy", async () => (await modules.locator("tbody tr").allTextContents()).join(" | "));
  for (const [module, process] of Object.entries(want)) {
    const row = modules.getByRole("row", { name: new RegExp(`^${module}\\b`) });
    const cells = await row.getByRole("cell").allTextContents();
    assert.equal(cells[0], process, `${module} runs in process ${process}`);
    assert.match(cells[1], /^local in http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(cells[2], "healthy", `${module} is healthy`);
  }
  // The diagram is drawn (a canvas in the graph's container).
  await page.getByRole("img", { name: /Topology diagram/ }).locator("canvas").first().waitFor();
  // Calls and event subscriptions, local or over HTTP.
  const edges = page.getByRole("table", { name: "Calls and events" });
  await assertEventually(async () => /event user\.registered/.test(await edges.textContent()), "the user.registered subscription");
  await g.shot("topology");

  // Every process, with its build, placement, migrations and redacted configuration.
  const processes = page.getByRole("region", { name: /^Process / });
  await assertEventually(async () => (await processes.count()) === new Set(Object.values(want)).size, "every process");
  const text = await page.locator("#processes").textContent();
  assert.match(text, /applied/);
  await page.getByText("Effective configuration (secrets redacted)").first().click();
  const html = await page.content();
  for (const secret of JSON.parse(env("SECRETS"))) assert.ok(!html.includes(secret), "no secret shown");
  assert.match(html, /\[redacted\]/);
  await g.close();

  // An order placed in the storefront, and its trace in the console, with
  // spans from the processes it crossed.
  const shop = await Guarded.open(browser, "console-order", [base, admin]);
  await shop.page.goto(`${base}/`);
  const register = shop.page.getByRole("form", { name: "Register" });
  await register.getByLabel("Name").fill("Traced Shopper");
  await register.getByLabel("Email").fill(`traced-${Date.now()}@example.com`);
  await register.getByLabel("Password").fill("correct horse battery");
  await register.getByRole("button", { name: "Register" }).click();
  await shop.page.getByLabel("Amount in cents").fill("5000");
  await shop.page.getByRole("button", { name: "Deposit" }).click();
  await shop.page.getByRole("button", { name: "Add Coffee beans, 1 kg to the cart" }).click();
  await shop.page.getByRole("button", { name: "Place order" }).click();
  await shop.page.getByRole("status", { name: "Shop status" }).getByText(/confirmed/).waitFor();
  const traceId = (await shop.page.locator("li.order").first().locator(".trace code").textContent()).trim();
  assert.match(traceId, /^[0-9a-f]{32}$/);
  // The order links to its trace in the console (the admin listener on
  // loopback, in development); following it shows the waterfall.
  const link = shop.page.getByRole("link", { name: /^Trace of order .* in the console$/ });
  assert.equal(await link.getAttribute("href"), `${admin}/console#trace=${traceId}`);
  const [followed] = await Promise.all([shop.context.waitForEvent("page"), link.click()]);
  shop.watch(followed);
  const waterfall = followed.getByRole("region", { name: `Trace ${traceId}` });
  let seen = new Set();
  await assertEventually(async () => {
    const rows = await waterfall.getByRole("listitem").allTextContents();
    seen = new Set(rows.map((r) => /^process (\S+)/.exec(r)?.[1]).filter(Boolean));
    return [want.gateway, want.orders, want.payments].every((p) => seen.has(p)); // the processes they run in
  }, "spans from the gateway, orders and payments", async () => [...seen].join(", "));
  await shop.shot("trace", followed);
  await shop.close();

  const tr = await Guarded.open(browser, "console-trace", [admin]);
  await tr.page.goto(`${admin}/console`);
  // The list finds it too, among traces touching orders.
  await tr.page.getByLabel("Module", { exact: true }).selectOption("orders");
  await tr.page.getByRole("button", { name: "List traces" }).click();
  await tr.page.getByRole("button", { name: `Show trace ${traceId}` }).waitFor();
  // The order's saga is counted, confirmed.
  const sagas = tr.page.getByRole("table", { name: "Sagas by state" });
  await assertEventually(async () => /confirmed\s*[1-9]/.test(await sagas.textContent()), "a confirmed saga", async () => sagas.textContent());
  await tr.close();
  console.log(`console: ${Object.keys(want).length} modules in ${new Set(Object.values(want)).size} processes; trace ${traceId} from ${[...seen].join(", ")}`);
});
