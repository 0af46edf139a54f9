// Checks that the deployment files match the application, offline:
//   1. every STEPCAST_* environment variable that a rendered chart, docker/compose.yaml or a
//      Dockerfile sets is one stepcast reads (.ci/stepcast-env.txt, kept in step with the code by
//      EnvironmentNamesTest; a trailing * is a prefix): a misspelt or renamed setting would
//      otherwise be ignored without a word;
//   2. the chart's default topology ConfigMap holds the repository's topologies/weather.yaml
//      (compared as data, so comments and key order do not matter).
//
//   node app-check.mjs --env .ci/stepcast-env.txt [--topology rendered.yaml=topologies/weather.yaml]
//                      <label>=<file> ...
// A file is a rendered chart (Kubernetes YAML), a Compose file or a Dockerfile (by name).

import { readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse, parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
let envFile = null;
let topologyPair = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--env") envFile = args[++i];
  else if (args[i] === "--topology") topologyPair = args[++i];
  else files.push(args[i]);
}
if (!envFile) {
  console.error("usage: app-check.mjs --env <list> [--topology <rendered>=<spec>] <label>=<file>...");
  process.exit(2);
}

const known = new Set();
const prefixes = [];
for (const line of readFileSync(envFile, "utf8").split("\n")) {
  const name = line.trim();
  if (!name || name.startsWith("#")) continue;
  if (name.endsWith("*")) prefixes.push(name.slice(0, -1));
  else known.add(name);
}
const isRead = (name) => known.has(name) || prefixes.some((p) => name.startsWith(p));

/** [where, name] of every environment variable a file sets. */
function envOf(label, file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  if (path.basename(file).startsWith("Dockerfile")) {
    // ENV instructions, with their continuation lines.
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*ENV\s/.test(lines[i])) continue;
      let block = lines[i];
      while (block.trimEnd().endsWith("\\") && i + 1 < lines.length) block += "\n" + lines[++i];
      for (const m of block.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)=/g)) out.push([`${label} ENV`, m[1]]);
    }
    return out;
  }
  const walk = (node, where) => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, `${where}[${i}]`));
    } else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "env" && Array.isArray(v)) {
          for (const e of v) if (e && typeof e.name === "string") out.push([`${where}.env`, e.name]);
        } else if (k === "environment" && v && typeof v === "object" && !Array.isArray(v)) {
          for (const name of Object.keys(v)) out.push([`${where}.environment`, name]);
        }
        walk(v, where ? `${where}.${k}` : k);
      }
    }
  };
  for (const doc of parseAllDocuments(text, { merge: true })) {
    const js = doc.toJS({ maxAliasCount: -1 });
    if (!js) continue;
    walk(js, js.kind ? `${label} ${js.kind}/${js.metadata?.name}` : label);
  }
  return out;
}

let failed = 0;
let checked = 0;
for (const arg of files) {
  const eq = arg.indexOf("=");
  const [label, file] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, arg];
  for (const [where, name] of envOf(label, file)) {
    if (!name.startsWith("STEPCAST_")) continue; // JAVA_OPTS, POD_NAME, KAFKA_SASL_*: not settings
    checked++;
    if (!isRead(name)) {
      failed++;
      console.log(`FAIL ${where}: ${name} is not read by stepcast (see ${envFile})`);
    }
  }
}
console.log(`app-check: ${checked} STEPCAST_* variables checked against ${envFile}, ${failed} unknown`);

if (topologyPair) {
  const [rendered, specFile] = topologyPair.split("=");
  const spec = parse(readFileSync(specFile, "utf8"));
  const configMaps = parseAllDocuments(readFileSync(rendered, "utf8"))
    .map((d) => d.toJS())
    .filter((o) => o?.kind === "ConfigMap" && o.metadata?.name?.endsWith("-topology"));
  if (configMaps.length !== 1) {
    failed++;
    console.log(`FAIL topology: expected one *-topology ConfigMap in ${rendered}, found ${configMaps.length}`);
  } else {
    const data = configMaps[0].data ?? {};
    const keys = Object.keys(data);
    const rendered = keys.length === 1 ? parse(data[keys[0]]) : null;
    if (!isDeepStrictEqual(rendered, spec)) {
      failed++;
      console.log(
        `FAIL topology: ConfigMap ${configMaps[0].metadata.name} (${keys.join(", ")}) is not ${specFile}:\n` +
          `  rendered: ${JSON.stringify(rendered)}\n  spec:     ${JSON.stringify(spec)}`,
      );
    } else {
      console.log(`app-check: ConfigMap ${configMaps[0].metadata.name} holds ${specFile}`);
    }
  }
}
process.exit(failed ? 1 : 0);
