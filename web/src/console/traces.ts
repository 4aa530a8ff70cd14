// Traces: each process keeps its recent spans in memory; the list merges
// what every process holds of each trace, and one trace is drawn as a
// waterfall across the processes that took part.
import { h, replace, byId, announce } from "../common/dom";
import { gather, Answer, Placement, processName } from "./system";

interface Summary { trace_id: string; root: string; start: string; duration_ms: number; error: boolean; services: string[]; spans: number }
interface Span { trace_id: string; span_id: string; parent_id?: string; name: string; service: string; kind: string; start: string; end: string; error: boolean; status?: string }

let names = new Map<string, string>(); // admin URL → process name

export function setProcesses(placement: Answer<Placement>[]): void {
  names = new Map(placement.filter((a) => a.body).map((a) => [a.admin, processName(a.body!)]));
  const select = byId<HTMLSelectElement>("trace-module");
  const have = new Set(Array.from(select.options).map((o) => o.value));
  for (const a of placement) {
    for (const m of a.body?.modules ?? []) {
      if (m.where === "local" && !have.has(m.name)) {
        select.append(new Option(m.name, m.name));
        have.add(m.name);
      }
    }
  }
}

export async function listTraces(): Promise<void> {
  const form = byId<HTMLFormElement>("trace-filter");
  const data = new FormData(form);
  const q = new URLSearchParams();
  const [min, max] = String(data.get("latency") || "").split("-");
  if (min) q.set("min_ms", min);
  if (max) q.set("max_ms", max);
  if (data.get("errors")) q.set("errors", "true");
  // Health probes (the monitors' GET /health/ready every few seconds)
  // would bury the requests people made; they are left out unless asked.
  if (data.get("probes")) q.set("probes", "true");
  if (data.get("module")) q.set("module", String(data.get("module")));
  const answers = await gather<{ enabled: boolean; traces: Summary[] }>("traces", q.toString());
  const merged = new Map<string, { s: Summary; end: number; procs: Set<string> }>();
  for (const a of answers) {
    for (const s of a.body?.traces ?? []) {
      const start = Date.parse(s.start);
      const end = start + s.duration_ms;
      const m = merged.get(s.trace_id);
      if (!m) {
        merged.set(s.trace_id, { s: { ...s, services: [...s.services] }, end, procs: new Set([a.admin]) });
        continue;
      }
      m.procs.add(a.admin);
      m.s.spans += s.spans;
      m.s.error ||= s.error;
      for (const sv of s.services) if (!m.s.services.includes(sv)) m.s.services.push(sv);
      if (start < Date.parse(m.s.start)) Object.assign(m.s, { start: s.start, root: s.root });
      m.end = Math.max(m.end, end);
    }
  }
  const rows = Array.from(merged.values())
    .map((m) => ({ ...m, dur: m.end - Date.parse(m.s.start) }))
    .sort((a, b) => Date.parse(b.s.start) - Date.parse(a.s.start))
    .slice(0, 100);
  const off = answers.filter((a) => a.body && !a.body.enabled).map((a) => names.get(a.admin) ?? a.admin);
  byId("traces-note").textContent = off.length ? `Tracing is off (TRACING=off) in: ${off.join(", ")}.` : "";
  replace(byId("traces-body"), ...rows.map((r) => h("tr", {},
    h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Show trace ${r.s.trace_id}`, onclick: () => void showTrace(r.s.trace_id) },
      r.s.trace_id.slice(0, 12))),
    h("td", {}, r.s.root), h("td", {}, `${r.dur.toFixed(1)} ms`), h("td", {}, String(r.s.spans)),
    h("td", {}, Array.from(r.procs).map((p) => names.get(p) ?? p).join(", ")),
    h("td", { class: r.s.error ? "health unhealthy" : "" }, r.s.error ? "error" : "ok"))));
  announce(byId("traces-status"), `${rows.length} traces.`);
}

export async function showTrace(id: string): Promise<void> {
  const answers = await gather<{ enabled: boolean; spans: Span[] }>("traces", `trace_id=${encodeURIComponent(id)}`);
  const spans = answers.flatMap((a) => (a.body?.spans ?? []).map((s) => ({ ...s, process: names.get(a.admin) ?? a.admin })));
  const region = byId("waterfall");
  byId("waterfall-title").textContent = `Trace ${id}`;
  region.hidden = false;
  if (spans.length === 0) {
    replace(byId("waterfall-list"), h("li", {}, "No process holds a span of this trace (yet, or any more)."));
    announce(byId("traces-status"), `Trace ${id}: no spans.`, "error");
    return;
  }
  const t0 = Math.min(...spans.map((s) => Date.parse(s.start)));
  const t1 = Math.max(...spans.map((s) => Date.parse(s.end)));
  const total = Math.max(t1 - t0, 1);
  // Depth by parent, across processes (a remote parent is another
  // process's span of the same trace).
  const byId2 = new Map(spans.map((s) => [s.span_id, s]));
  const depth = (s: Span, n = 0): number => (s.parent_id && byId2.has(s.parent_id) && n < 32 ? depth(byId2.get(s.parent_id)!, n + 1) : n);
  spans.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  replace(byId("waterfall-list"), ...spans.map((s) => {
    const start = Date.parse(s.start) - t0;
    const dur = Date.parse(s.end) - Date.parse(s.start);
    const bar = h("span", { class: `span-bar${s.error ? " error" : ""}`, "aria-hidden": "true" });
    bar.style.marginLeft = `${(start / total) * 100}%`;
    bar.style.width = `${Math.max((dur / total) * 100, 0.5)}%`;
    const label = h("span", { class: "span-label" }, `process ${s.process} · ${s.service} · ${s.name} · ${dur.toFixed(1)} ms${s.error ? ` · error ${s.status ?? ""}` : ""}`);
    label.style.paddingLeft = `${depth(s) * 0.75}rem`;
    return h("li", { class: "span-row" }, label, h("span", { class: "track" }, bar));
  }));
  const procs = new Set(spans.map((s) => s.process));
  announce(byId("traces-status"), `Trace ${id}: ${spans.length} spans from ${procs.size} processes.`);
  region.scrollIntoView({ block: "start" });
}
