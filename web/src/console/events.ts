// Events: each local outbox's backlog per subscriber, the oldest
// undelivered age, the delivery rate, and the dead letters with their last
// error and a Replay button.
import { adminCall } from "./session";
import { messageOf } from "../common/api";
import { h, replace, byId, announce } from "../common/dom";
import { gather } from "./system";

interface Sub { subscriber: string; pending: number; oldest_pending_seconds: number; dead: number; delivered: number; failed: number }
interface Dead { id: string; type: string; subscriber: string; attempts: number; last_error: string; occurred_at: string }
interface Outbox { module: string; unpublished: number; subscribers: Sub[]; dead_letters: Dead[]; error?: string }

const previous = new Map<string, { at: number; delivered: number; failed: number }>();

export async function refreshEvents(now: number): Promise<void> {
  const answers = await gather<{ outboxes: Outbox[] }>("events");
  const subs: HTMLElement[] = [];
  const dead: HTMLElement[] = [];
  for (const a of answers) {
    for (const o of a.body?.outboxes ?? []) {
      if (o.error) subs.push(h("tr", {}, h("th", { scope: "row" }, o.module), h("td", { colspan: 6, class: "health unhealthy" }, o.error)));
      for (const s of o.subscribers) {
        const key = `${a.admin}|${o.module}|${s.subscriber}`;
        const prev = previous.get(key);
        previous.set(key, { at: now, delivered: s.delivered, failed: s.failed });
        const rate = prev && now > prev.at ? ((s.delivered - prev.delivered) / (now - prev.at)) * 1000 : undefined;
        subs.push(h("tr", {}, h("th", { scope: "row" }, o.module), h("td", {}, s.subscriber), h("td", {}, String(s.pending)),
          h("td", {}, s.pending ? `${s.oldest_pending_seconds.toFixed(1)} s` : "–"), h("td", { class: s.dead ? "health unhealthy" : "" }, String(s.dead)),
          h("td", {}, rate === undefined ? "–" : rate.toFixed(2)), h("td", {}, `${s.delivered} delivered, ${s.failed} failed`)));
      }
      for (const d of o.dead_letters) {
        dead.push(h("tr", {}, h("td", {}, d.type), h("td", {}, h("code", {}, d.id)), h("td", {}, o.module), h("td", {}, d.subscriber),
          h("td", {}, String(d.attempts)), h("td", { class: "last-error" }, d.last_error),
          h("td", {}, h("button", { type: "button", "aria-label": `Replay ${d.type} ${d.id} to ${d.subscriber}`,
            onclick: (ev) => void replay(a.admin, o.module, d, ev.currentTarget as HTMLButtonElement) }, "Replay"))));
      }
    }
  }
  replace(byId("outboxes-body"), ...(subs.length ? subs : [h("tr", {}, h("td", { colspan: 7 }, "No outbox."))]));
  replace(byId("dead-body"), ...(dead.length ? dead : [h("tr", {}, h("td", { colspan: 7 }, "No dead letters."))]));
}

async function replay(admin: string, module: string, d: Dead, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  const status = byId("events-status");
  try {
    const res = await adminCall<{ replayed: number }>("POST", `/admin/v1/system/replay?admin=${encodeURIComponent(admin)}`, {
      body: { module, id: d.id },
    });
    announce(status, `Replayed ${res.body.replayed} ${res.body.replayed === 1 ? "delivery" : "deliveries"} of ${d.type} ${d.id}.`);
    await refreshEvents(Date.now());
  } catch (err) {
    button.disabled = false;
    announce(status, `The replay failed: ${messageOf(err)}`, "error");
  }
}
