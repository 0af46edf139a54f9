// Parses every PromQL expression of a Grafana dashboard (panel targets, annotations, query
// variables) with Prometheus' own lezer grammar, so a broken query fails CI instead of showing
// "parse error" in a panel. Grafana's variables are replaced by plausible values first.
// With a metrics reference (grafana/metrics-reference.txt: "name label,label,..." per line, made
// from a real scrape by MetricsEndpointIT), every selected metric must be in it and every label a
// selector or label_values() uses must be one of that metric's labels: a query on a renamed or
// misspelt metric fails here instead of drawing an empty panel.
//
//   node promql-check.mjs grafana/stepcast-dashboard.json [grafana/metrics-reference.txt]
//   node promql-check.mjs prometheus/stepcast-rules.yaml [grafana/metrics-reference.txt]   (alert rules)

import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";
import { parse as parseYaml } from "yaml";

const file = process.argv[2];
const referenceFile = process.argv[3];
// --pending a,b: metrics an alert uses before the application exposes them (reported, not failed).
const pendingArg = process.argv.indexOf("--pending");
const PENDING = new Set(pendingArg > 0 ? process.argv[pendingArg + 1].split(",") : []);
const isRules = /\.ya?ml$/.test(file);
const dashboard = isRules ? {} : JSON.parse(readFileSync(file, "utf8"));
// Labels Prometheus adds at scrape time (target labels), not present in the exposition.
const TARGET_LABELS = new Set(["job", "instance", "__name__"]);
// Series Prometheus writes for every target itself (never in a scrape), with the target labels only.
const SCRAPE_SERIES = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);
const reference = referenceFile
  ? new Map(
      readFileSync(referenceFile, "utf8")
        .split("\n")
        .filter((l) => l.trim() && !l.startsWith("#"))
        .map((l) => {
          const [name, labels = ""] = l.trim().split(/\s+/);
          return [name, new Set(labels.split(",").filter(Boolean))];
        }),
    )
  : null;
const GRAFANA_VARS = {
  $__rate_interval: "1m",
  $__interval: "1m",
  $__range: "1h",
};

const exprs = [];
// A Prometheus rule file (prometheus/stepcast-rules.yaml): every rule's expression.
if (isRules) {
  for (const g of parseYaml(readFileSync(file, "utf8")).groups ?? []) {
    for (const r of g.rules ?? []) exprs.push([`rule ${r.alert ?? r.record}`, r.expr]);
  }
}
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
  if (m) exprs.push([`variable "${v.name}"`, m[1], /,\s*(\w+)\)$/.exec(q)[1]]);
}
const customVars = Object.fromEntries(
  (dashboard.templating?.list ?? [])
    .filter((v) => v.type === "custom")
    .map((v) => [`$${v.name}`, String(v.current?.value ?? v.query.split(",")[0])]),
);

let bad = 0;
let unknown = 0;
for (const [where, expr, labelValuesOf] of exprs) {
  let s = expr;
  for (const [k, v] of Object.entries({ ...GRAFANA_VARS, ...customVars })) s = s.replaceAll(k, v);
  s = s.replace(/\$\{?\w+\}?/g, ".*"); // label-value variables in =~ matchers
  let errorAt = -1;
  const selectors = []; // [metric name, [label names]]
  parser.parse(s).iterate({
    enter: (n) => {
      if (n.type.isError && errorAt < 0) errorAt = n.from;
      if (n.name === "VectorSelector") {
        const name = n.node.getChild("Identifier");
        const labels = [];
        const matchers = n.node.getChild("LabelMatchers");
        for (const m of matchers ? matchers.getChildren("UnquotedLabelMatcher") : []) {
          const l = m.getChild("LabelName");
          if (l) labels.push(s.slice(l.from, l.to));
        }
        selectors.push([name ? s.slice(name.from, name.to) : null, labels]);
      }
    },
  });
  if (errorAt >= 0) {
    bad++;
    console.log(`FAIL ${where}: syntax error at column ${errorAt}:\n       ${s.replaceAll("\n", " ")}`);
    continue;
  }
  if (!reference) continue;
  for (const [name, labels] of selectors) {
    if (!name) continue;
    if (SCRAPE_SERIES.has(name)) {
      for (const l of labels) {
        if (!TARGET_LABELS.has(l)) {
          unknown++;
          console.log(`FAIL ${where}: ${name} has only target labels, not ${l}`);
        }
      }
      continue;
    }
    const known = reference.get(name);
    if (!known && PENDING.has(name)) {
      console.log(`PENDING ${where}: metric ${name} is not exposed yet (listed as pending)`);
      continue;
    }
    if (!known) {
      unknown++;
      console.log(`FAIL ${where}: metric ${name} is not in ${referenceFile}`);
      continue;
    }
    const wanted = labelValuesOf && selectors.length === 1 ? [...labels, labelValuesOf] : labels;
    for (const l of wanted) {
      if (!TARGET_LABELS.has(l) && !known.has(l)) {
        unknown++;
        console.log(`FAIL ${where}: ${name} has no label ${l} (it has ${[...known].join(", ")})`);
      }
    }
  }
}
console.log(
  `promql-check: ${exprs.length} expressions in ${file}, ${bad} invalid` +
    (reference ? `, ${unknown} unknown metrics or labels (reference ${referenceFile})` : ""),
);
process.exit(bad || unknown ? 1 : 0);
