// Parses every PromQL expression of a Grafana dashboard (panel targets, annotations, query
// variables) with Prometheus' own lezer grammar, so a broken query fails CI instead of showing
// "parse error" in a panel. Grafana's variables are replaced by plausible values first.
//
//   node promql-check.mjs grafana/stepcast-dashboard.json

import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";

const file = process.argv[2];
const dashboard = JSON.parse(readFileSync(file, "utf8"));
const GRAFANA_VARS = {
  $__rate_interval: "1m",
  $__interval: "1m",
  $__range: "1h",
};

const exprs = [];
const walk = (panels) => {
  for (const p of panels ?? []) {
    for (const t of p.targets ?? []) if (t.expr) exprs.push([`panel "${p.title}" ${t.refId}`, t.expr]);
    walk(p.panels);
  }
};
walk(dashboard.panels);
for (const a of dashboard.annotations?.list ?? []) if (a.expr) exprs.push([`annotation "${a.name}"`, a.expr]);
for (const v of dashboard.templating?.list ?? []) {
  const q = typeof v.query === "object" ? v.query.query : v.query;
  const m = v.type === "query" && /^label_values\((.*),\s*\w+\)$/.exec(q ?? "");
  if (m) exprs.push([`variable "${v.name}"`, m[1]]);
}
const customVars = Object.fromEntries(
  (dashboard.templating?.list ?? [])
    .filter((v) => v.type === "custom")
    .map((v) => [`$${v.name}`, String(v.current?.value ?? v.query.split(",")[0])]),
);

let bad = 0;
for (const [where, expr] of exprs) {
  let s = expr;
  for (const [k, v] of Object.entries({ ...GRAFANA_VARS, ...customVars })) s = s.replaceAll(k, v);
  s = s.replace(/\$\{?\w+\}?/g, ".*"); // label-value variables in =~ matchers
  let errorAt = -1;
  parser.parse(s).iterate({
    enter: (n) => {
      if (n.type.isError && errorAt < 0) errorAt = n.from;
    },
  });
  if (errorAt >= 0) {
    bad++;
    console.log(`FAIL ${where}: syntax error at column ${errorAt}:\n       ${s.replaceAll("\n", " ")}`);
  }
}
console.log(`promql-check: ${exprs.length} expressions in ${file}, ${bad} invalid`);
process.exit(bad ? 1 : 0);
