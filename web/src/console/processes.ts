// The process panel: for every process, its build, placement, effective
// configuration (secrets redacted by the server) and migrations per schema.
import { h, replace, byId } from "../common/dom";
import { Answer, Placement, processName } from "./system";

export interface SchemaMigrations { module: string; schema: string; migrations: { name: string; applied: boolean }[]; error?: string }

export function renderProcesses(
  placement: Answer<Placement>[],
  config: Answer<{ config: unknown }>[],
  migrations: Answer<{ schemas: SchemaMigrations[] }>[],
): void {
  replace(byId("processes"), ...placement.map((a) => {
    const p = a.body;
    const title = p ? `Process ${processName(p)}${a.self ? " (this one)" : ""}` : `Process at ${a.admin}`;
    if (!p) return h("section", { class: "process", "aria-label": title }, h("h3", {}, title), h("p", { class: "form-error" }, a.error ?? `HTTP ${a.status}`));
    const cfg = config.find((x) => x.admin === a.admin)?.body?.config;
    const schemas = migrations.find((x) => x.admin === a.admin)?.body?.schemas ?? [];
    return h("section", { class: "process", "aria-label": title },
      h("h3", {}, title),
      h("dl", {},
        h("dt", {}, "Admin"), h("dd", {}, a.admin),
        h("dt", {}, "Version"), h("dd", {}, `${p.process.version} (${p.process.commit})`),
        h("dt", {}, "Host and PID"), h("dd", {}, `${p.process.host}, ${p.process.pid}`),
        h("dt", {}, "Started"), h("dd", {}, new Date(p.process.started_at).toISOString())),
      h("table", { "aria-label": `Placement seen by ${processName(p)}` },
        h("caption", {}, "Placement (what app services prints)"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Module"), h("th", { scope: "col" }, "Where"), h("th", { scope: "col" }, "URL"))),
        h("tbody", {}, ...p.modules.map((m) => h("tr", {}, h("th", { scope: "row" }, m.name), h("td", {}, m.where), h("td", {}, m.url ?? ""))))),
      h("h4", {}, "Migrations"),
      schemas.length === 0 ? h("p", {}, "No schema here.") : h("ul", {}, ...schemas.map((s) =>
        h("li", {}, `${s.module} (schema ${s.schema}): ${s.migrations.filter((m) => m.applied).length} of ${s.migrations.length} applied`,
          s.error ? h("span", { class: "form-error" }, ` ${s.error}`) : null,
          h("details", {}, h("summary", {}, `Migrations of ${s.schema}`),
            h("ul", {}, ...s.migrations.map((m) => h("li", {}, `${m.applied ? "applied" : "pending"} ${m.name}`))))))),
      h("details", {}, h("summary", {}, "Effective configuration (secrets redacted)"), h("pre", {}, JSON.stringify(cfg ?? {}, null, 2))),
    );
  }));
}
