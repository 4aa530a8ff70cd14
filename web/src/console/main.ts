// The operator console: polls its own admin listener, which gathers each
// part from every process it knows, and renders the topology and the
// processes.
import { messageOf } from "../common/api";
import { byId, announce } from "../common/dom";
import { gather, Placement, Health, EdgeCount, Circuit } from "./system";
import { renderTopology } from "./topology";
import { renderProcesses, SchemaMigrations } from "./processes";
import { setProcesses, listTraces, showTrace } from "./traces";
import { refreshEvents } from "./events";
import { refreshSagas } from "./sagas";
import "./advisor";
import { setupSession, refused, signedIn } from "./session";

const status = byId("status");
const pollMs = 2000;
let lastProblem = "";

async function refresh(): Promise<void> {
  try {
    const [placement, health, edges, circuits] = await Promise.all([
      gather<Placement>("placement"),
      gather<Health>("health"),
      gather<{ edges: EdgeCount[] }>("edges"),
      gather<{ circuits: Circuit[] }>("circuits"),
    ]);
    renderTopology({ placement, health, edges, circuits }, Date.now());
    setProcesses(placement);
    await Promise.all([refreshEvents(Date.now()), refreshSagas()]);
    const down = placement.filter((a) => !a.body).map((a) => `${a.admin}: ${a.error ?? a.status}`);
    const problem = down.length ? `Not answering: ${down.join("; ")}` : "";
    if (problem !== lastProblem || !status.textContent) {
      announce(status, problem || `${placement.length} processes answering.`, problem ? "error" : "info");
      lastProblem = problem;
    }
    byId("updated").textContent = new Date().toLocaleTimeString();
  } catch (err) {
    if (refused(err)) {
      if (!signedIn()) announce(status, "The console needs an admin's login.", "error");
      return;
    }
    announce(status, `The console could not load: ${messageOf(err)}`, "error");
  }
}

async function refreshProcesses(): Promise<void> {
  try {
    const [placement, config, migrations] = await Promise.all([
      gather<Placement>("placement"),
      gather<{ config: unknown }>("config"),
      gather<{ schemas: SchemaMigrations[] }>("migrations"),
    ]);
    renderProcesses(placement, config, migrations);
  } catch (err) {
    if (refused(err)) return;
    announce(status, `The processes could not load: ${messageOf(err)}`, "error");
  }
}

byId("refresh-processes").addEventListener("click", () => void refreshProcesses());

// Outside development on loopback, the console's routes need an admin's
// login (see session.ts); after one, everything loads again.
setupSession(() => {
  void refresh().then(() => listTraces()).catch(failed("The traces could not load"));
  void refreshProcesses();
});

const failed = (what: string) => (err: unknown) => {
  if (!refused(err)) announce(byId("traces-status"), `${what}: ${messageOf(err)}`, "error");
};
byId<HTMLFormElement>("trace-filter").addEventListener("submit", (ev) => {
  ev.preventDefault();
  listTraces().catch(failed("The traces could not load"));
});
byId<HTMLFormElement>("trace-find").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const id = (byId<HTMLInputElement>("trace-id").value || "").trim().toLowerCase();
  if (id) showTrace(id).catch(failed("The trace could not load"));
});

// #trace=<id> opens that trace (the storefront shows each order's trace id).
function fromHash(): void {
  const m = /^#trace=([0-9a-f]{32})$/.exec(location.hash);
  if (m) {
    byId<HTMLInputElement>("trace-id").value = m[1];
    refresh().then(() => showTrace(m[1])).catch(failed("The trace could not load"));
  }
}
window.addEventListener("hashchange", fromHash);
fromHash();

void refresh().then(() => listTraces()).catch(failed("The traces could not load"));
void refreshProcesses();
window.setInterval(() => void refresh(), pollMs);
