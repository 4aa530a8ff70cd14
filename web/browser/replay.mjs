// A dead letter (a delivery that gave up while its subscriber was down)
// is listed in the console with its last error, replayed from there, and
// delivered.
import assert from "node:assert/strict";
import { run, env, Guarded, assertEventually } from "./lib.mjs";

const admin = env("ADMIN_URL");
const type = env("EVENT_TYPE");

await run(async (browser) => {
  const g = await Guarded.open(browser, "console-events", [admin]);
  const { page } = g;
  await page.goto(`${admin}/console#events`);
  const dead = page.getByRole("table", { name: "Dead letters" });
  const row = dead.getByRole("row").filter({ hasText: type });
  await row.first().waitFor();
  const cells = await row.first().getByRole("cell").allTextContents();
  assert.equal(cells[0], type);
  assert.equal(cells[3], "payments", "the subscriber");
  assert.ok(cells[5].length > 0, "the last error is shown");
  await g.shot("dead-letter");
  // As an operator would: payments is back and healthy before the replay.
  const payments = page.getByRole("table", { name: "Modules" }).getByRole("row", { name: /^payments\b/ });
  await assertEventually(async () => (await payments.getByRole("cell").allTextContents())[2] === "healthy", "payments healthy again",
    async () => (await payments.getByRole("cell").allTextContents()).join(" | "), 20_000);

  await row.first().getByRole("button", { name: new RegExp(`^Replay ${type.replace(".", "\\.")} `) }).click();
  await page.getByRole("status", { name: "Events status" }).getByText(/Replayed 1 delivery/).waitFor();
  await dead.getByText("No dead letters.").waitFor({ timeout: 20_000 });
  const outboxes = page.getByRole("table", { name: "Outboxes" });
  const line = outboxes.getByRole("row").filter({ hasText: "payments" }).filter({ has: page.getByRole("rowheader", { name: "users" }) });
  await assertEventually(async () => {
    const c = await line.first().getByRole("cell").allTextContents();
    return c[1] === "0" && c[3] === "0" && /[1-9]\d* delivered/.test(c[5]);
  }, "delivered: nothing pending, nothing dead", async () => (await line.first().getByRole("cell").allTextContents()).join(" | "), 20_000);
  await g.shot("replayed");
  await g.close();
  console.log(`replay: ${type} replayed from the console and delivered`);
});
