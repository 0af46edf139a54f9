// Checks that the PrometheusRule the chart renders holds exactly the rules of the plain rule file
// (prometheus/stepcast-rules.yaml): the chart reads its copy with .Files.Get, and this compares the
// rendering, not the files, so a template that drops or rewrites a rule fails too.
//
//   node rules-check.mjs rendered.yaml prometheus/stepcast-rules.yaml

import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { parse, parseAllDocuments } from "yaml";

const [rendered, rulesFile] = process.argv.slice(2);
const want = parse(readFileSync(rulesFile, "utf8")).groups;
const rules = parseAllDocuments(readFileSync(rendered, "utf8"))
  .map((d) => d.toJS())
  .filter((o) => o?.kind === "PrometheusRule");
if (rules.length !== 1) {
  console.log(`FAIL rules-check: ${rules.length} PrometheusRule objects in ${rendered}, expected 1`);
  process.exit(1);
}
const got = rules[0].spec?.groups;
if (!isDeepStrictEqual(got, want)) {
  console.log(`FAIL rules-check: the rendered PrometheusRule differs from ${rulesFile}`);
  console.log(JSON.stringify({ got, want }, null, 1).slice(0, 4000));
  process.exit(1);
}
const n = want.reduce((a, g) => a + g.rules.length, 0);
console.log(`rules-check: the PrometheusRule holds the ${n} rules of ${rulesFile}`);
