// The split advisor's panel: what each candidate placement of the modules
// would add to every public route, the CPU and the traffic over the
// network, and the edges to blame, as `app advise` prints it. The report
// comes from GET /admin/v1/advise on the console's own listener, which
// reads this process and its peers and probes a hop; it is worked out on
// demand (a button), not at every poll. The panel builds its own section
// and navigation link, so the page only has to load it.
import { messageOf } from "../common/api";
import { adminCall } from "./session";
import { h, replace, append, announce } from "../common/dom";

interface EdgeCost {
  caller: string; callee: string; method: string;
  calls_per_request?: number; calls_per_second?: number; bytes_per_call: number; hop_p50_seconds: number; added_seconds: number;
}
interface RoutePrediction {
  method: string; route: string; requests_per_second: number; recorded: number; now_p50_seconds: number;
  added_p50_seconds: number; added_p99_seconds: number; fan_out: number; crossing_calls_per_request: number;
  crossing_bytes_per_request: number;
}
interface Prediction {
  name: string; groups: string[][]; routes: RoutePrediction[]; added_cpu_seconds_per_second: number;
  network_calls_per_second: number; network_bytes_per_second: number; expensive: EdgeCost[];
}
interface Hop { request_bytes: number; response_bytes: number; p50_seconds: number; p99_seconds: number; cpu_seconds: number }
interface Report {
  processes: string[] | null; unreachable: string[]; note?: string; hop_source: string; hops: Hop[] | null; candidates: Prediction[];
}

function us(seconds: number, signed = false): string {
  const v = Math.round(seconds * 1e6);
  const text = Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v} µs`;
  return signed && v >= 0 ? `+${text}` : text;
}

function bytes(b: number): string {
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`;
  return `${Math.round(b)} B`;
}

const edgeName = (e: EdgeCost) => `${e.caller || "(process)"} → ${e.callee}.${e.method}`;
const groups = (gs: string[][] | null) => (gs ?? []).map((g) => `{${g.join(", ")}}`).join(" ");

function table(caption: string, head: string[], rows: HTMLElement[]): HTMLElement {
  return h("table", {}, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, ...rows));
}

function candidate(c: Prediction, i: number): HTMLElement {
  const title = `advisor-candidate-${i}`;
  const routes = (c.routes ?? []).filter((r) => r.fan_out > 0);
  return h("section", { "aria-labelledby": title, class: "candidate" },
    h("h3", { id: title }, `${c.name}: ${groups(c.groups)}`),
    table(`Routes with ${c.name}`, ["Route", "Requests/s", "Now p50", "Added p50", "Added p99", "Fan-out", "Crossing calls/request", "Bytes/request"],
      routes.length ? routes.map((r) => h("tr", {}, h("th", { scope: "row" }, `${r.method} ${r.route}`),
        h("td", {}, r.requests_per_second.toFixed(1)), h("td", {}, us(r.now_p50_seconds)),
        h("td", {}, us(r.added_p50_seconds, true)), h("td", {}, us(r.added_p99_seconds, true)),
        h("td", {}, r.fan_out.toFixed(1)), h("td", {}, r.crossing_calls_per_request.toFixed(1)),
        h("td", {}, bytes(r.crossing_bytes_per_request))))
        : [h("tr", {}, h("td", { colspan: 8 }, "No recorded route makes a contract call."))]),
    h("p", {}, `Added CPU ${us(c.added_cpu_seconds_per_second)}/s; over the network ${c.network_calls_per_second.toFixed(1)} calls/s, ` +
      `${bytes(c.network_bytes_per_second)}/s.`),
    table(`Expensive edges with ${c.name}`, ["Edge", "Calls/s", "Bytes a call", "Hop p50"],
      c.expensive?.length ? c.expensive.map((e) => h("tr", {}, h("th", { scope: "row" }, edgeName(e)),
        h("td", {}, (e.calls_per_second ?? 0).toFixed(1)), h("td", {}, bytes(e.bytes_per_call)), h("td", {}, us(e.hop_p50_seconds))))
        : [h("tr", {}, h("td", { colspan: 4 }, "Nothing crosses the network."))]));
}

function render(out: HTMLElement, r: Report): void {
  const hops = r.hops ?? [];
  replace(out,
    h("p", {}, `Records of ${(r.processes ?? []).join(", ") || "no process"}.`,
      r.unreachable?.length ? ` Not answering (left out): ${r.unreachable.join(", ")}.` : ""),
    r.note ? h("p", {}, r.note) : null,
    hops.length ? h("p", {}, `One hop over HTTP, ${r.hop_source}: `,
      hops.map((x) => `${x.request_bytes} B in, ${x.response_bytes} B out: p50 ${us(x.p50_seconds)}, p99 ${us(x.p99_seconds)}, CPU ${us(x.cpu_seconds)}`).join("; "),
      ".") : null,
    ...(r.candidates ?? []).map(candidate));
}

function mount(): void {
  const section = h("section", { id: "advisor", "aria-labelledby": "advisor-title" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", "aria-label": "Advisor status" });
  const out = h("div", { id: "advisor-report" });
  const separate = h("input", { id: "advisor-separate", name: "separate", type: "text", placeholder: "orders,payments", size: 18 }) as HTMLInputElement;
  const form = h("form", { class: "inline", "aria-label": "Advise" },
    h("label", { for: "advisor-separate" }, "Modules that must run apart (optional)"), separate,
    h("button", { type: "submit" }, "Advise"));
  append(section, h("h2", { id: "advisor-title" }, "Split advisor"),
    h("p", {}, "Predicted from the requests each process recorded (RECORD_EVERY) and a hop this process measures."), form, status, out);
  const main = document.querySelector("main");
  const processes = document.getElementById("processes-section");
  if (processes && main) main.insertBefore(section, processes);
  else main?.appendChild(section);
  document.querySelector("nav[aria-label='Sections']")?.appendChild(h("a", { href: "#advisor" }, "Advisor"));

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    announce(status, "Advising: reading the records and probing a hop…");
    const q = separate.value.trim() ? `?separate=${encodeURIComponent(separate.value.trim())}` : "";
    adminCall<Report>("GET", `/admin/v1/advise${q}`)
      .then((res) => {
        render(out, res.body);
        announce(status, `${(res.body.candidates ?? []).length} placements weighed at ${new Date().toLocaleTimeString()}.`);
      })
      .catch((err) => announce(status, `The advisor could not answer: ${messageOf(err)}`, "error"));
  });
}

mount();
