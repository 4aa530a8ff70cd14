// What the console reads: /admin/v1/system/<part> on its own listener,
// which gathers that part from this process and every peer.
import { adminCall } from "./session";

export interface Answer<T> {
  admin: string;
  self: boolean;
  status: number;
  body?: T;
  error?: string;
}

export async function gather<T>(part: string, query = ""): Promise<Answer<T>[]> {
  const res = await adminCall<{ processes: Answer<T>[] }>("GET", `/admin/v1/system/${part}${query ? "?" + query : ""}`);
  return res.body.processes;
}

export interface ModulePlacement {
  name: string;
  where: "local" | "remote" | "not used";
  url?: string;
  depends_on: string[];
  publishes: string[];
  subscribes: string[];
}

export interface Placement {
  process: { services: string[]; pid: number; host: string; version: string; commit: string; started_at: string };
  modules: ModulePlacement[];
}

export interface HealthItem { name: string; kind: string; status: string; breaker?: string; error?: string; url?: string }
export interface Health { status: string; version: string; modules: { name: string; status: string; checks: HealthItem[] }[] }

export interface Latency { count: number; sum_seconds: number; buckets: number[] }
export interface EdgeCount {
  caller: string;
  callee: string;
  method: string;
  transport: string;
  calls: number;
  failures: Record<string, number>;
  latency?: Latency;
}

export interface Circuit { module: string; url: string; state: string; in_flight: number; slots: number }

// The upper bounds of the latency buckets, in seconds (contract.DurationBuckets).
export const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// quantile is the upper bound of the bucket holding the q-th call, or
// undefined without calls.
export function quantile(l: Latency | undefined, q: number): number | undefined {
  if (!l || l.count === 0) return undefined;
  const want = q * l.count;
  for (let i = 0; i < l.buckets.length; i++) if (l.buckets[i] >= want) return buckets[i];
  return Infinity;
}

export function ms(seconds: number | undefined): string {
  if (seconds === undefined) return "–";
  if (!Number.isFinite(seconds)) return "> 10 s";
  return seconds < 1 ? `≤ ${+(seconds * 1000).toFixed(1)} ms` : `≤ ${seconds} s`;
}

// processName names a process by the modules it runs.
export function processName(p: Placement): string {
  return p.process.services.join("+");
}
