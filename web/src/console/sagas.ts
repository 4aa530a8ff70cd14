// Sagas: counts by state, and the sagas in flight or compensating with
// their step history, from the process that runs orders.
import { h, replace, byId } from "../common/dom";
import { gather } from "./system";

interface Step { seq: number; step: string; outcome: string; detail: string; at: string }
interface Running { order_id: string; step: string; compensating: boolean; attempts: number; next_attempt_at: string; failure_reason: string | null; steps: Step[] }
interface Sagas { module: string; counts: { state: string; count: number }[]; running: Running[] }

export async function refreshSagas(): Promise<void> {
  const answers = await gather<Sagas>("sagas");
  const counts = new Map<string, number>();
  const running: Running[] = [];
  for (const a of answers) {
    if (a.status !== 200 || !a.body?.counts) continue; // a process without orders
    for (const c of a.body.counts) counts.set(c.state, (counts.get(c.state) ?? 0) + c.count);
    running.push(...a.body.running);
  }
  replace(byId("saga-counts"), ...(counts.size
    ? Array.from(counts, ([state, n]) => h("tr", {}, h("th", { scope: "row" }, state), h("td", {}, String(n))))
    : [h("tr", {}, h("td", { colspan: 2 }, "No saga yet."))]));
  replace(byId("sagas-running"), ...(running.length
    ? running.map((r) => h("li", {},
      h("p", {}, h("code", {}, r.order_id), ` next: ${r.step}${r.compensating ? " (compensating)" : " (in flight)"}, attempt ${r.attempts}`,
        r.failure_reason ? `, reason ${r.failure_reason}` : ""),
      h("ol", {}, ...r.steps.map((s) => h("li", {}, `${s.step}: ${s.outcome}${s.detail ? ` (${s.detail})` : ""}`)))))
    : [h("li", {}, "No saga in flight or compensating.")]));
}
