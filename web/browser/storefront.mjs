// The storefront walk, as a person does it: register (a bad password first),
// deposit, order, cancel and see the refund, an order over the balance, a
// double click that orders once, log out and in again from the keyboard.
// Elements are found by role and label only.
import assert from "node:assert/strict";
import { run, env, Guarded, assertEventually, expectText } from "./lib.mjs";

const base = env("BASE_URL");
const name = env("NAME");

await run(async (browser) => {
  const g = await Guarded.open(browser, `storefront-${name}`, [base]);
  const { page } = g;
  const refreshes = [];
  page.on("request", (r) => r.url().endsWith("/api/v1/auth/refresh") && refreshes.push(r.url()));
  const orderKeys = [];
  page.on("request", (r) => r.method() === "POST" && r.url().endsWith("/api/v1/orders") && orderKeys.push(r.headers()["idempotency-key"]));

  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()["content-security-policy"], /script-src 'self'; style-src 'self';/);
  const status = page.getByRole("status", { name: "Shop status" });
  await page.getByText("Coffee beans, 1 kg").waitFor();
  await g.shot("catalog");

  // A password too short: the problem's field message sits by the field.
  const register = page.getByRole("form", { name: "Register" });
  const email = `shopper-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await register.getByLabel("Name").fill("Ada Shopper");
  await register.getByLabel("Email").fill(email);
  await register.getByLabel("Password").fill("short");
  await register.getByRole("button", { name: "Register" }).click();
  const password = register.getByLabel("Password");
  await assertEventually(async () => (await password.getAttribute("aria-invalid")) === "true", "the password is marked invalid");
  const describedBy = await password.getAttribute("aria-describedby");
  const fieldError = page.locator(`#${describedBy}`);
  await assertEventually(async () => /password/i.test(await fieldError.textContent()), "the field's error is next to it");
  await g.shot("register-error");

  await password.fill("correct horse battery");
  await register.getByRole("button", { name: "Register" }).click();
  await expectText(status, /Registered and logged in/);
  await expectText(page.getByText(/Logged in as Ada Shopper/), /Ada Shopper/);

  // Deposit $50.00.
  const balance = page.locator("#balance");
  await page.getByLabel("Amount in cents").fill("5000");
  await page.getByRole("button", { name: "Deposit" }).click();
  await expectText(balance, /^\$50\.00$/);
  // A deposit of nothing: the problem names amount_cents, shown at its input.
  await page.getByLabel("Amount in cents").fill("0");
  await page.getByRole("button", { name: "Deposit" }).click();
  await assertEventually(async () => (await page.getByLabel("Amount in cents").getAttribute("aria-invalid")) === "true", "the amount is marked invalid");
  await expectText(page.locator("#deposit-amount-error"), /amount_cents/);
  await expectText(balance, /^\$50\.00$/);

  // One coffee: confirmed, the balance down, the saga's steps.
  const orders = page.getByRole("list").filter({ has: page.getByRole("heading", { name: /^Order / }) });
  await page.getByRole("button", { name: "Add Coffee beans, 1 kg to the cart" }).click();
  await page.getByRole("button", { name: "Place order" }).click();
  await expectText(status, /Order [0-9a-f]{8} confirmed/);
  await expectText(balance, /^\$25\.10$/);
  const first = orders.getByRole("listitem").first();
  await expectText(first, /confirmed/);
  await first.getByRole("button", { name: /^Steps of order/ }).click();
  await expectText(first.getByRole("list"), /charge: succeeded/);
  await g.shot("confirmed");

  // Cancel it: refunded, the balance restored.
  await first.getByRole("button", { name: /^Cancel order/ }).click();
  await expectText(status, /refunded, the balance is \$50\.00/);
  await expectText(balance, /^\$50\.00$/);
  await expectText(orders.getByRole("listitem").first(), /cancelled: cancelled_by_customer/);
  await g.shot("refunded");

  // Three coffees ($74.70) over a $50.00 balance: cancelled, nothing charged.
  const coffee = page.getByRole("button", { name: "Add Coffee beans, 1 kg to the cart" });
  for (let i = 0; i < 3; i++) await coffee.click();
  await page.getByRole("button", { name: "Place order" }).click();
  await expectText(status, /cancelled: insufficient_funds/);
  await expectText(orders.getByRole("listitem").first(), /cancelled: insufficient_funds/);
  await expectText(balance, /^\$50\.00$/);
  await g.shot("insufficient-funds");

  // A double click places one order, charged once.
  const before = await orders.getByRole("listitem").count();
  const keysBefore = orderKeys.length;
  await coffee.click();
  await page.getByRole("button", { name: "Place order" }).dblclick();
  await expectText(status, /Order [0-9a-f]{8} confirmed/);
  await expectText(balance, /^\$25\.10$/);
  await assertEventually(async () => (await orders.getByRole("listitem").count()) === before + 1, "one more order");
  assert.equal(orderKeys.length - keysBefore, 1, "one request for a double click");
  assert.equal(new Set(orderKeys).size, orderKeys.length, "a fresh Idempotency-Key per click");
  for (const k of orderKeys) assert.match(k, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  // The access token (TOKEN_TTL of a few seconds here) was renewed before
  // it expired, and calls still work.
  await assertEventually(async () => refreshes.length > 0, "the access token was refreshed");
  await page.getByLabel("Amount in cents").fill("100");
  await page.getByRole("button", { name: "Deposit" }).click();
  await expectText(balance, /^\$26\.10$/);

  // Log out, then in again from the keyboard only.
  await page.getByRole("button", { name: "Log out" }).click();
  await expectText(status, /Logged out/);
  const login = page.getByRole("form", { name: "Log in" });
  await login.getByLabel("Email").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("correct horse battery");
  await page.keyboard.press("Enter");
  await expectText(status, /Logged in\./);
  await expectText(balance, /^\$26\.10$/);
  assert.equal(await orders.getByRole("listitem").count(), before + 1);
  await g.close();
  console.log(`storefront (${name}): walked with ${g.requests.length} requests, ${refreshes.length} refreshes, all to ${base}`);
});
