// The topology: every module grouped by the process that runs it, where it
// runs, its health and breaker; the contract calls and event subscriptions
// between them with calls per second, error rate, p50 and p99, local or
// HTTP. Drawn with cytoscape (layered by dagre), and listed in two tables,
// which are what a screen reader (and a test) reads.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import { h, replace, byId } from "../common/dom";
import { Answer, Placement, Health, EdgeCount, Circuit, quantile, ms, processName } from "./system";

cytoscape.use(dagre);

export interface Snapshot {
  placement: Answer<Placement>[];
  health: Answer<Health>[];
  edges: Answer<{ edges: EdgeCount[] }>[];
  circuits: Answer<{ circuits: Circuit[] }>[];
}

interface ModuleRow { module: string; process: string; admin: string; where: string; health: string; breaker: string }
interface EdgeRow { from: string; to: string; kind: "call" | "event"; label: string; transport: string; rate?: number; errors?: number; p50?: number; p99?: number }

let graph: cytoscape.Core | undefined;
let graphKey = "";
const previous = new Map<string, { at: number; calls: number; failures: number }>();

export function renderTopology(s: Snapshot, now: number): void {
  const modules = moduleRows(s);
  const edges = edgeRows(s, now);
  replace(byId("modules-body"), ...modules.map((m) =>
    h("tr", {}, h("th", { scope: "row" }, m.module), h("td", {}, m.process), h("td", {}, m.where),
      h("td", { class: `health ${m.health}` }, m.health), h("td", {}, m.breaker))));
  replace(byId("edges-body"), ...edges.map((e) =>
    h("tr", {}, h("td", {}, e.from), h("td", {}, e.to), h("td", {}, e.kind === "call" ? "contract call" : `event ${e.label}`),
      h("td", {}, e.transport), h("td", {}, e.rate === undefined ? "–" : e.rate.toFixed(2)),
      h("td", {}, e.errors === undefined ? "–" : `${(e.errors * 100).toFixed(1)} %`), h("td", {}, ms(e.p50)), h("td", {}, ms(e.p99)))));
  draw(s, modules, edges);
}

function moduleRows(s: Snapshot): ModuleRow[] {
  const rows: ModuleRow[] = [];
  const seen = new Set<string>();
  const breakers = new Map<string, string[]>();
  for (const a of s.circuits) {
    const caller = placementOf(s, a.admin);
    for (const c of a.body?.circuits ?? []) {
      const list = breakers.get(c.module) ?? [];
      list.push(`${c.state}${caller ? ` (from ${processName(caller)})` : ""}`);
      breakers.set(c.module, list);
    }
  }
  for (const a of s.placement) {
    if (!a.body) continue;
    const health = s.health.find((x) => x.admin === a.admin)?.body;
    for (const m of a.body.modules) {
      if (m.where !== "local") continue;
      seen.add(m.name);
      rows.push({
        module: m.name, process: processName(a.body), admin: a.admin, where: `local in ${a.admin}`,
        health: health?.modules.find((x) => x.name === m.name)?.status ?? "unknown",
        breaker: (breakers.get(m.name) ?? ["–"]).join(", "),
      });
    }
  }
  // Modules run by a process this console does not know (not a peer).
  for (const a of s.placement) {
    for (const m of a.body?.modules ?? []) {
      if (m.where !== "remote" || seen.has(m.name)) continue;
      seen.add(m.name);
      rows.push({ module: m.name, process: "not a peer", admin: "", where: `remote at ${m.url}`, health: "unknown",
        breaker: (breakers.get(m.name) ?? ["–"]).join(", ") });
    }
  }
  return rows.sort((a, b) => a.module.localeCompare(b.module));
}

function placementOf(s: Snapshot, admin: string): Placement | undefined {
  return s.placement.find((x) => x.admin === admin)?.body;
}

function edgeRows(s: Snapshot, now: number): EdgeRow[] {
  const byKey = new Map<string, EdgeRow & { calls: number; failures: number; latency?: EdgeCount["latency"] }>();
  for (const a of s.edges) {
    for (const e of a.body?.edges ?? []) {
      const key = `${e.caller}→${e.callee}|${e.transport}`;
      const failures = Object.values(e.failures ?? {}).reduce((x, y) => x + y, 0);
      const row = byKey.get(key) ?? { from: e.caller || "(process)", to: e.callee, kind: "call" as const, label: "", transport: e.transport, calls: 0, failures: 0 };
      row.calls += e.calls;
      row.failures += failures;
      if (e.latency) {
        row.latency = row.latency
          ? { count: row.latency.count + e.latency.count, sum_seconds: row.latency.sum_seconds + e.latency.sum_seconds,
              buckets: row.latency.buckets.map((b, i) => b + e.latency!.buckets[i]) }
          : { ...e.latency, buckets: [...e.latency.buckets] };
      }
      byKey.set(key, row);
    }
  }
  const out: EdgeRow[] = [];
  for (const [key, r] of byKey) {
    const prev = previous.get(key);
    previous.set(key, { at: now, calls: r.calls, failures: r.failures });
    if (prev && now > prev.at) {
      const dc = r.calls - prev.calls;
      r.rate = (dc / (now - prev.at)) * 1000;
      r.errors = dc > 0 ? (r.failures - prev.failures) / dc : 0;
    } else {
      r.rate = undefined;
      r.errors = r.calls > 0 ? r.failures / r.calls : 0;
    }
    r.p50 = quantile(r.latency, 0.5);
    r.p99 = quantile(r.latency, 0.99);
    out.push(r);
  }
  // Event subscriptions: publisher → subscriber, per event type.
  const where = new Map<string, string>();
  for (const a of s.placement) for (const m of a.body?.modules ?? []) if (m.where === "local") where.set(m.name, a.admin);
  const mods = new Map<string, { publishes: string[]; subscribes: string[] }>();
  for (const a of s.placement) for (const m of a.body?.modules ?? []) if (!mods.has(m.name)) mods.set(m.name, m);
  for (const [pub, pm] of mods) {
    for (const typ of pm.publishes) {
      for (const [sub, sm] of mods) {
        if (!sm.subscribes.includes(typ)) continue;
        out.push({ from: pub, to: sub, kind: "event", label: typ,
          transport: where.get(pub) && where.get(pub) === where.get(sub) ? "local" : "http" });
      }
    }
  }
  return out.sort((a, b) => `${a.from}${a.to}${a.kind}`.localeCompare(`${b.from}${b.to}${b.kind}`));
}

function draw(s: Snapshot, modules: ModuleRow[], edges: EdgeRow[]): void {
  const elements: cytoscape.ElementDefinition[] = [];
  const procs = new Set<string>();
  for (const m of modules) {
    const parent = m.admin ? `proc:${m.admin}` : "proc:unknown";
    if (!procs.has(parent)) {
      procs.add(parent);
      elements.push({ data: { id: parent, label: m.admin ? `process ${m.process}\n${m.admin}` : "not a peer" }, classes: "process" });
    }
    elements.push({ data: { id: `mod:${m.module}`, parent, label: `${m.module}\n${m.health}` }, classes: `module ${m.health}` });
  }
  for (const e of edges) {
    if (!modules.some((m) => m.module === e.from) || !modules.some((m) => m.module === e.to)) continue;
    const label = e.kind === "event"
      ? `${e.label} (${e.transport})`
      : `${e.transport} · ${e.rate === undefined ? "–" : e.rate.toFixed(1)}/s · ${e.errors === undefined ? "–" : (e.errors * 100).toFixed(0)}% err · p50 ${ms(e.p50)} · p99 ${ms(e.p99)}`;
    elements.push({ data: { id: `edge:${e.from}:${e.to}:${e.kind}:${e.label}:${e.transport}`, source: `mod:${e.from}`, target: `mod:${e.to}`, label },
      classes: `${e.kind} ${e.transport}` });
  }
  const key = elements.map((x) => x.data.id).join("|");
  if (graph && key === graphKey) {
    for (const el of elements) graph.getElementById(el.data.id!).data("label", el.data.label);
    for (const m of modules) graph.getElementById(`mod:${m.module}`).classes(`module ${m.health}`);
    return;
  }
  graphKey = key;
  graph?.destroy();
  graph = cytoscape({
    container: byId("graph"),
    elements,
    autoungrabify: true,
    userZoomingEnabled: false,
    style: [
      { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "text-valign": "center", "font-size": 12,
        "background-color": "#e7f0fa", "border-width": 1, "border-color": "#0b5cad", shape: "round-rectangle", width: 110, height: 44 } },
      { selector: "node.process", style: { "text-valign": "top", "text-halign": "center", "background-color": "#f6f8fa", "border-color": "#59636e",
        "font-weight": "bold", padding: "18px" } },
      { selector: "node.healthy", style: { "border-color": "#1a7f37", "border-width": 2 } },
      { selector: "node.degraded", style: { "border-color": "#9a6700", "border-width": 3 } },
      { selector: "node.unhealthy", style: { "border-color": "#b3261e", "border-width": 3 } },
      { selector: "edge", style: { label: "data(label)", "font-size": 10, "curve-style": "bezier", "target-arrow-shape": "triangle",
        width: 1.5, "line-color": "#59636e", "target-arrow-color": "#59636e", "text-background-color": "#fff", "text-background-opacity": 0.8,
        "text-rotation": "autorotate" } },
      { selector: "edge.event", style: { "line-style": "dashed", "line-color": "#8250df", "target-arrow-color": "#8250df" } },
      { selector: "edge.http", style: { width: 2.5 } },
    ],
    layout: { name: "dagre", rankDir: "LR", nodeSep: 40, rankSep: 160 } as cytoscape.LayoutOptions,
  });
}
