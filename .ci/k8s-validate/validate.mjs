// Validates rendered Kubernetes manifests offline, the way `kubeconform -strict` would, plus a
// few consistency checks the API server or the controllers would only report at install time.
//
//   node validate.mjs <label>=<manifest.yaml> [<label>=<manifest.yaml> ...]
//
// Three passes per object:
//   1. schema: the OpenAPI-derived validators of kubernetes-models (types, required fields, enums,
//      int32/int64 formats); prometheus-operator CRDs from @kubernetes-models/prometheus-operator.
//   2. strict: every field must exist in the schema. kubernetes-models' JSON schemas allow unknown
//      properties (as the OpenAPI spec does), so a misspelt or mis-indented field would pass
//      pass 1. The TypeScript compiler's excess-property check against the same models' type
//      declarations catches them, at any depth.
//   3. consistency: names and labels are valid, every volumeMount has a volume, probes name
//      existing ports, Services, PodDisruptionBudgets and ServiceMonitors select something.
// Exit status 1 when anything fails. This file is copied next to its node_modules by
// .ci/helm-check.sh; it is not meant to run from the repository directly.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));

// Packages searched, in order, for a model of <group>/<version>/<Kind>.
const MODEL_PACKAGES = [
  "kubernetes-models",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/keda",
];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
// Name length limits beyond the 253 of a DNS subdomain.
const NAME_LIMITS = { Service: 63, StatefulSet: 52, CronJob: 52, Job: 63 };

function modelSpecifiers(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const sub = group ? `${group}/${version}/${kind}` : `${version}/${kind}`;
  return MODEL_PACKAGES.map((pkg) => `${pkg}/${sub}`);
}

const modelCache = new Map();
async function findModel(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!modelCache.has(key)) {
    let found = null;
    for (const specifier of modelSpecifiers(apiVersion, kind)) {
      try {
        const mod = await import(specifier);
        if (mod[kind]) {
          found = { specifier, Model: mod[kind], typeName: `I${kind}` };
          break;
        }
      } catch (e) {
        if (!["ERR_MODULE_NOT_FOUND", "ERR_PACKAGE_PATH_NOT_EXPORTED"].includes(e.code)) throw e;
      }
    }
    modelCache.set(key, found);
  }
  return modelCache.get(key);
}

// Pretty-prints a JSON value as a TypeScript literal, one property per line, and records the
// JSON path of every line so that compiler errors can name the field.
function toLiteral(value, linePaths, pathNow = "", indent = "") {
  const next = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v, i) => {
      linePaths.push(`${pathNow}[${i}]`);
      return next + toLiteral(v, linePaths, `${pathNow}[${i}]`, next);
    });
    linePaths.push(pathNow);
    return "[\n" + items.join(",\n") + "\n" + indent + "]";
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) return "{}";
    const items = keys.map((k) => {
      const p = `${pathNow}.${k}`;
      linePaths.push(p);
      return next + JSON.stringify(k) + ": " + toLiteral(value[k], linePaths, p, next);
    });
    linePaths.push(pathNow);
    return "{\n" + items.join(",\n") + "\n" + indent + "}";
  }
  return JSON.stringify(value);
}

function describe(obj) {
  return `${obj.kind}/${obj.metadata?.name ?? "<no name>"}`;
}

// ---------------------------------------------------------------------------------------------
// Pass 3: consistency checks.

function podTemplates(obj) {
  switch (obj.kind) {
    case "StatefulSet":
    case "Deployment":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return obj.spec?.template ? [obj.spec.template] : [];
    case "CronJob":
      return obj.spec?.jobTemplate?.spec?.template ? [obj.spec.jobTemplate.spec.template] : [];
    case "Pod":
      return [{ metadata: obj.metadata, spec: obj.spec }];
    default:
      return [];
  }
}

function matches(selector, labels) {
  const want = selector ?? {};
  return Object.entries(want).every(([k, v]) => labels?.[k] === v);
}

function matchesSelector(labelSelector, labels) {
  if (!labelSelector) return false;
  if (!matches(labelSelector.matchLabels, labels)) return false;
  return (labelSelector.matchExpressions ?? []).every((e) => {
    const has = labels && Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case "In":
        return has && e.values.includes(labels[e.key]);
      case "NotIn":
        return !has || !e.values.includes(labels[e.key]);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
}

function consistencyErrors(obj, all) {
  const errors = [];
  const md = obj.metadata ?? {};
  const name = md.name ?? "";
  const limit = NAME_LIMITS[obj.kind] ?? 253;
  const nameRule = obj.kind === "Service" ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  if (!nameRule.test(name) || name.length > limit) {
    errors.push(`.metadata.name "${name}" must be a DNS-1123 name of at most ${limit} characters`);
  }
  const checkLabels = (labels, where) => {
    for (const [k, v] of Object.entries(labels ?? {})) {
      const [prefix, key] = k.includes("/") ? k.split("/", 2) : [null, k];
      if (!LABEL_NAME.test(key) || key.length > 63 || (prefix !== null && !DNS1123_SUBDOMAIN.test(prefix))) {
        errors.push(`${where} label key "${k}" is invalid`);
      }
      if (typeof v !== "string" || !LABEL_VALUE.test(v) || v.length > 63) {
        errors.push(`${where} label ${k}="${v}" is not a valid label value (63 characters, alphanumeric ends)`);
      }
    }
  };
  checkLabels(md.labels, ".metadata");

  for (const template of podTemplates(obj)) {
    const spec = template.spec ?? {};
    const where = obj.kind === "Pod" ? ".spec" : ".spec...template.spec";
    checkLabels(template.metadata?.labels, `${where.replace(/\.spec$/, "")}.metadata`);
    const volumes = new Set();
    for (const v of spec.volumes ?? []) {
      if (volumes.has(v.name)) errors.push(`${where}.volumes has "${v.name}" twice`);
      volumes.add(v.name);
    }
    if (obj.kind === "StatefulSet") {
      for (const claim of obj.spec.volumeClaimTemplates ?? []) {
        if (volumes.has(claim.metadata?.name)) {
          errors.push(`volumeClaimTemplate "${claim.metadata?.name}" clashes with a pod volume of the same name`);
        }
        volumes.add(claim.metadata?.name);
      }
      if (!matches(obj.spec.selector?.matchLabels, template.metadata?.labels)) {
        errors.push(".spec.selector does not match .spec.template.metadata.labels");
      }
      const governing = all.find(
        (o) => o.kind === "Service" && o.metadata?.name === obj.spec.serviceName,
      );
      if (!governing) {
        errors.push(`.spec.serviceName "${obj.spec.serviceName}" names no Service in this release`);
      } else if (governing.spec?.clusterIP !== "None") {
        errors.push(`.spec.serviceName "${obj.spec.serviceName}" is not a headless Service`);
      }
    }
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const cw = `container "${c.name}"`;
      const mounts = new Set();
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) errors.push(`${cw} mounts volume "${m.name}" that the pod does not define`);
        if (mounts.has(m.mountPath)) errors.push(`${cw} mounts two volumes at ${m.mountPath}`);
        mounts.add(m.mountPath);
      }
      const envNames = new Set();
      for (const e of c.env ?? []) {
        if (!ENV_NAME.test(e.name)) errors.push(`${cw} env name "${e.name}" is invalid`);
        if (envNames.has(e.name)) errors.push(`${cw} sets env ${e.name} twice`);
        envNames.add(e.name);
        // $(VAR) references expand only to variables defined earlier in the list.
        for (const ref of (e.value ?? "").matchAll(/\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g)) {
          if (!envNames.has(ref[1])) {
            errors.push(`${cw} env ${e.name} references $(${ref[1]}) before it is defined`);
          }
        }
      }
      const portNames = new Set();
      for (const p of c.ports ?? []) {
        if (p.name !== undefined) {
          if (p.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name)) {
            errors.push(`${cw} port name "${p.name}" is not an IANA service name (15 characters max)`);
          }
          portNames.add(p.name);
        }
      }
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (typeof port === "string" && !portNames.has(port)) {
          errors.push(`${cw} ${probe} uses port "${port}" that the container does not declare`);
        }
      }
    }
  }

  const podLabelSets = all.flatMap((o) => podTemplates(o).map((t) => t.metadata?.labels ?? {}));
  if (obj.kind === "Service" && obj.spec?.selector) {
    if (!podLabelSets.some((labels) => matches(obj.spec.selector, labels))) {
      errors.push(".spec.selector selects no pod of this release");
    }
  }
  if (obj.kind === "PodDisruptionBudget") {
    if (!podLabelSets.some((labels) => matchesSelector(obj.spec?.selector, labels))) {
      errors.push(".spec.selector selects no pod of this release");
    }
  }
  if (obj.kind === "NetworkPolicy") {
    if (!podLabelSets.some((labels) => matchesSelector(obj.spec?.podSelector, labels))) {
      errors.push(".spec.podSelector selects no pod of this release");
    }
  }
  if (obj.kind === "ScaledObject") {
    const ref = obj.spec?.scaleTargetRef ?? {};
    const target = all.find((o) => o.kind === (ref.kind ?? "Deployment") && o.metadata?.name === ref.name);
    if (!target) errors.push(`.spec.scaleTargetRef names no ${ref.kind ?? "Deployment"} ${ref.name} of this release`);
    else if (target.spec?.replicas !== undefined) {
      errors.push(`${ref.kind} ${ref.name} sets .spec.replicas: every helm upgrade would fight the autoscaler`);
    }
  }
  if (obj.kind === "ServiceMonitor") {
    const services = all.filter(
      (o) => o.kind === "Service" && matchesSelector(obj.spec?.selector, o.metadata?.labels),
    );
    if (services.length === 0) errors.push(".spec.selector selects no Service of this release");
    if (services.length > 1) {
      errors.push(
        `.spec.selector selects ${services.length} Services (${services.map((s) => s.metadata.name).join(", ")}): every target would be scraped twice`,
      );
    }
    for (const ep of obj.spec?.endpoints ?? []) {
      for (const s of services) {
        if (ep.port && !(s.spec?.ports ?? []).some((p) => p.name === ep.port)) {
          errors.push(`endpoint port "${ep.port}" is not a port name of Service ${s.metadata.name}`);
        }
      }
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const cases = process.argv.slice(2).map((arg) => {
    const i = arg.indexOf("=");
    return i > 0 ? { label: arg.slice(0, i), file: arg.slice(i + 1) } : { label: arg, file: arg };
  });
  if (cases.length === 0) {
    console.error("usage: node validate.mjs <label>=<manifest.yaml> ...");
    process.exit(2);
  }

  const workDir = path.join(here, `work-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });

  const results = []; // { label, objects: [{ id, errors: [] }] }
  const tsFiles = new Map(); // file name -> { entry, linePaths, headerLines }

  try {
    for (const [ci, c] of cases.entries()) {
      const result = { label: c.label, objects: [], fatal: [] };
      results.push(result);
      const docs = parseAllDocuments(readFileSync(c.file, "utf8"));
      const objects = [];
      for (const doc of docs) {
        if (doc.errors.length) {
          result.fatal.push(...doc.errors.map((e) => `YAML: ${e.message}`));
          continue;
        }
        const obj = doc.toJS();
        if (obj === null || obj === undefined) continue;
        objects.push(obj);
      }
      for (const [oi, obj] of objects.entries()) {
        const entry = { id: obj && obj.kind ? describe(obj) : `document ${oi}`, errors: [] };
        result.objects.push(entry);
        if (!obj || typeof obj !== "object" || !obj.apiVersion || !obj.kind) {
          entry.errors.push("not a Kubernetes object (apiVersion and kind are required)");
          continue;
        }
        const model = await findModel(obj.apiVersion, obj.kind);
        if (!model) {
          entry.errors.push(`no schema for ${obj.apiVersion} ${obj.kind}: add its model package to validate.mjs`);
          continue;
        }
        entry.schema = model.specifier;
        // Pass 1: schema.
        try {
          new model.Model(obj).validate();
        } catch (e) {
          const errs = e.errors ?? [{ instancePath: "", message: e.message }];
          for (const err of errs) {
            const where = (err.instancePath || "/").replaceAll("/", ".").replace(/^\.$/, "(root)");
            const extra = err.params?.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : "";
            entry.errors.push(`schema: ${where} ${err.message}${extra}`);
          }
        }
        // Pass 2: strict fields, compiled below in one TypeScript program.
        const linePaths = [];
        const header = [
          `import type { ${model.typeName} } from ${JSON.stringify(model.specifier)};`,
          `export const doc: ${model.typeName} = `,
        ];
        const body = toLiteral(obj, linePaths);
        const file = path.join(workDir, `c${ci}-o${oi}.ts`);
        writeFileSync(file, header.join("\n") + body + ";\n");
        tsFiles.set(file, { entry, linePaths, headerLines: header.length - 1 });
        // Pass 3: consistency.
        entry.errors.push(...consistencyErrors(obj, objects).map((m) => `check: ${m}`));
      }
    }

    if (tsFiles.size > 0) {
      const program = ts.createProgram([...tsFiles.keys()], {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: [],
      });
      for (const [file, info] of tsFiles) {
        const sf = program.getSourceFile(file);
        const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
        for (const d of diags) {
          const { line } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
          const p = info.linePaths[line - info.headerLines - 1] ?? "(root)";
          const text = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n");
          // The first line says what is wrong; the last usually names the offending field.
          const msg = text.length > 1 ? `${text[0]} ... ${text[text.length - 1].trim()}` : text[0];
          info.entry.errors.push(`strict: ${p || "(root)"}: ${msg}`);
        }
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  let failed = 0;
  for (const r of results) {
    const bad = r.objects.filter((o) => o.errors.length).length + (r.fatal.length ? 1 : 0);
    const kinds = r.objects.map((o) => o.id).join(", ");
    console.log(`${bad ? "FAIL" : "ok  "} ${r.label}: ${r.objects.length} objects${bad ? `, ${bad} invalid` : ""} [${kinds}]`);
    for (const f of r.fatal) console.log(`       ${f}`);
    for (const o of r.objects) for (const e of o.errors) console.log(`       ${o.id}: ${e}`);
    if (bad) failed++;
  }
  if (failed) {
    console.log(`k8s-validate: ${failed} of ${results.length} renderings invalid`);
    process.exit(1);
  }
  console.log(`k8s-validate: all ${results.length} renderings valid`);
}

if (!existsSync(path.join(here, "node_modules"))) {
  console.error(`validate.mjs: no node_modules beside ${here}; run it through .ci/helm-check.sh`);
  process.exit(2);
}
await main();
