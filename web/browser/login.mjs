// The console outside development: an admin login form (email and
// password), a customer refused, an admin in, the token renewed, logout.
import assert from "node:assert/strict";
import { run, env, Guarded, assertEventually } from "./lib.mjs";

const admin = env("ADMIN_URL");
const password = env("PASSWORD");

await run(async (browser) => {
  const g = await Guarded.open(browser, "console-login", [admin]);
  const { page } = g;
  const requests = [];
  page.on("request", (r) => requests.push(r));
  await page.goto(`${admin}/console`);
  const form = page.getByRole("form", { name: "Admin login" });
  await form.waitFor();
  await page.getByRole("status", { name: "Console status" }).getByText("The console needs an admin's login.").waitFor();
  const modules = page.getByRole("table", { name: "Modules" });
  assert.equal(await modules.getByRole("row").count(), 1, "no module shown before the login (the header row only)");
  await g.shot("login");

  // A wrong password, then a customer: refused, said in the form's alert.
  const alert = form.getByRole("alert");
  await form.getByLabel("Email").fill(env("ADMIN_EMAIL"));
  await form.getByLabel("Password").fill("not the password");
  await form.getByRole("button", { name: "Log in" }).click();
  await assertEventually(async () => /invalid/i.test(await alert.textContent()), "a wrong password refused", async () => alert.textContent());
  await form.getByLabel("Email").fill(env("CUSTOMER_EMAIL"));
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Log in" }).click();
  await alert.getByText(/is not an admin: the console is for admins only/).waitFor();
  assert.equal(await modules.getByRole("row").count(), 1, "nothing shown to a customer");
  await g.shot("customer-refused");

  // Calls sent without a token just before the login, answered (401)
  // only after it: their refusal must not end the new session. The
  // processes' refresh sends three; they are held until the login's
  // answer is in.
  let held = [];
  let loggedIn = false;
  await page.route("**/admin/v1/system/**", async (route) => {
    if (!loggedIn && !route.request().headers()["authorization"]) {
      await new Promise((release) => held.push(release));
    }
    await route.fallback();
  });
  await page.getByRole("button", { name: "Refresh processes" }).click();
  await assertEventually(async () => held.length >= 3, "the processes' calls held", async () => held.length);
  await form.getByLabel("Email").focus();

  // The admin, from the keyboard: the email field has the focus after a
  // refusal; Tab to the password, Enter submits.
  const loginAnswer = page.waitForResponse((r) => r.url().endsWith("/admin/v1/console/login") && r.status() === 200);
  await page.keyboard.type(env("ADMIN_EMAIL"));
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await (await loginAnswer).finished();
  await page.getByText(`Signed in as ${env("ADMIN_EMAIL")} (admin)`).waitFor();
  loggedIn = true;
  const refusedLate = page.waitForResponse((r) => r.url().includes("/admin/v1/system/") && r.status() === 401);
  for (const release of held) release();
  held = [];
  // The route stays: unrouted while a released call is still in its
  // handler, playwright would continue that call twice.
  await refusedLate;
  await page.waitForTimeout(300);
  assert.ok(await page.getByText(`Signed in as ${env("ADMIN_EMAIL")} (admin)`).isVisible(), "still signed in after the late refusals");
  assert.ok(await form.isHidden(), "the form goes once logged in");
  for (const m of ["users", "orders", "payments"]) {
    await modules.getByRole("row", { name: new RegExp(`^${m}\\b`) }).waitFor();
  }
  await page.getByRole("region", { name: /^Process / }).first().waitFor();
  await page.getByRole("table", { name: "Outboxes" }).getByRole("row").filter({ hasText: "users" }).first().waitFor();
  await g.shot("admin");

  // Tokens of 4 s: the page renews its token and keeps showing the system.
  const renewed = page.waitForResponse((r) => r.url().endsWith("/admin/v1/console/refresh") && r.status() === 200, { timeout: 15_000 });
  await renewed;
  const updated = await page.locator("#updated").textContent();
  await assertEventually(async () => (await page.locator("#updated").textContent()) !== updated, "still updating after the renewal");
  assert.ok(await form.isHidden(), "no login asked for after a renewal");

  // No token in any URL; the session is this tab's only.
  for (const r of requests) assert.ok(!/token|password/i.test(new URL(r.url()).search), `no secret in ${r.url()}`);
  await page.getByRole("button", { name: "Log out" }).click();
  await form.waitFor();
  await alert.getByText("Logged out.").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "nothing kept after logout");
  await g.shot("logged-out");
  await g.close();
  console.log("login: customer refused, admin in, token renewed, logged out");
});
