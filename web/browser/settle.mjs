// An order the API answers while its saga still runs (202, pending) is
// shown pending, then followed live until it settles: confirmed, or
// cancelled with its reason.
import assert from "node:assert/strict";
import { run, env, Guarded } from "./lib.mjs";

const base = env("BASE_URL");

await run(async (browser) => {
  const g = await Guarded.open(browser, "storefront-settle", [base]);
  const { page } = g;
  const answers = [];
  page.on("response", (r) => r.request().method() === "POST" && r.url().endsWith("/api/v1/orders") && answers.push(r.status()));
  const cancels = [];
  page.on("response", (r) => r.request().method() === "POST" && r.url().endsWith("/cancel") && cancels.push(r.status()));
  await page.goto(`${base}/`);
  const status = page.getByRole("status", { name: "Shop status" });
  const register = page.getByRole("form", { name: "Register" });
  await register.getByLabel("Name").fill("Patient Shopper");
  await register.getByLabel("Email").fill(`patient-${Date.now()}@example.com`);
  await register.getByLabel("Password").fill("correct horse battery");
  await register.getByRole("button", { name: "Register" }).click();
  await status.getByText(/Registered and logged in/).waitFor();
  await page.getByLabel("Amount in cents").fill("3000");
  await page.getByRole("button", { name: "Deposit" }).click();
  await page.locator("#balance").getByText("$30.00").waitFor();

  const coffee = page.getByRole("button", { name: "Add Coffee beans, 1 kg to the cart" });
  await coffee.click();
  await page.getByRole("button", { name: "Place order" }).click();
  await status.getByText(/Order [0-9a-f]{8} pending/).waitFor();
  await g.shot("pending");
  await status.getByText(/Order [0-9a-f]{8} confirmed/).waitFor({ timeout: 30_000 });
  await page.locator("#balance").getByText("$5.10").waitFor();
  const orders = page.locator("#orders");
  await orders.getByRole("listitem").first().getByText("confirmed").waitFor();

  // Over the balance: pending, then cancelled with the reason.
  await coffee.click();
  await page.getByRole("button", { name: "Place order" }).click();
  await status.getByText(/Order [0-9a-f]{8} pending/).waitFor();
  await status.getByText(/Order [0-9a-f]{8} cancelled: insufficient_funds/).waitFor({ timeout: 30_000 });
  await orders.getByRole("listitem").first().getByText("cancelled: insufficient_funds").waitFor();
  assert.deepEqual(answers, [202, 202], "both orders answered before their saga was done");

  // The confirmed order cancelled: refunded, the balance back. Orders
  // answers 202, the order still confirmed, while its worker finishes the
  // refund (an inline time of 1 ms); the page then follows the order until
  // it is cancelled.
  const confirmed = orders.getByRole("listitem").filter({ hasText: "confirmed" }).first();
  await confirmed.getByRole("button", { name: /^Cancel order / }).click();
  await status.getByText(/Order [0-9a-f]{8} .*refunded/).waitFor({ timeout: 30_000 });
  await page.locator("#balance").getByText("$30.00").waitFor({ timeout: 30_000 });
  await g.shot("cancelled");
  assert.equal(cancels.length, 1, "one cancel asked: the page follows the order, never cancels twice");
  assert.ok([200, 202].includes(cancels[0]), `the cancellation answered ${cancels[0]}, not an error`);
  await g.close();
  console.log(`settle: two orders answered pending and followed until they settled; cancel answered ${cancels.join(", ")}`);
});
