#!/usr/bin/env bash
# Measures the images' application layers from what docker/Dockerfile copies (target/image, built
# by the package phase), the way a registry stores a layer: tar, then gzip. There is no Docker
# engine in CI; the layers are exactly these directories (the Dockerfile COPYs them as they are).
#
#   .ci/image-check.sh              # after ./mvnw package (or verify)
#
# Fails when the server's application + dependencies layers exceed the budget
# (STEPCAST_SERVER_LAYER_BUDGET_MB, default 120 MB compressed). What the server carries and that
# `run` forecasts from it alone is checked by ServerImageIT (in ./mvnw verify).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMG="$ROOT/target/image"
BUDGET_MB="${STEPCAST_SERVER_LAYER_BUDGET_MB:-120}"

[[ -f "$IMG/server/stepcast.jar" && -d "$IMG/server/lib" && -d "$IMG/trainer/lib" ]] \
  || { echo "[image-check] ERROR: $IMG is missing: run ./mvnw -B package first" >&2; exit 1; }

# Bytes of tar+gzip (level 6, gzip's and Docker's default) of the given paths under a directory.
layer_bytes() { # dir paths...
  local dir="$1"; shift
  tar -C "$dir" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$@" | gzip -6 | wc -c
}
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
unpacked() { du -sb "$@" | awk '{ s += $1 } END { print s }'; }

server_lib=$(layer_bytes "$IMG/server" lib)
server_app=$(layer_bytes "$IMG/server" stepcast.jar)
server=$((server_lib + server_app))
trainer=$(layer_bytes "$IMG/trainer" lib)

echo "image layers (tar+gzip of target/image, as docker/Dockerfile copies them):"
printf '  server  dependencies  %-9s (%s jars, %s unpacked)\n' "$(mb "$server_lib")" \
  "$(find "$IMG/server/lib" -name '*.jar' | wc -l)" "$(mb "$(unpacked "$IMG/server/lib")")"
printf '  server  application   %-9s (stepcast.jar)\n' "$(mb "$server_app")"
printf '  server  total         %-9s (budget %s MB)\n' "$(mb "$server")" "$BUDGET_MB"
printf '  trainer adds          %-9s (%s jars: DJL, PyTorch)\n' "$(mb "$trainer")" \
  "$(find "$IMG/trainer/lib" -name '*.jar' | wc -l)"
echo "server lib:"
(cd "$IMG/server/lib" && ls -S | while read -r j; do printf '  %8s  %s\n' "$(du -k "$j" | cut -f1)K" "$j"; done)

if [[ "$server" -gt $((BUDGET_MB * 1000000)) ]]; then
  echo "[image-check] FAILED: the server's layers are $(mb "$server"), over the budget of ${BUDGET_MB} MB" >&2
  exit 1
fi
echo "image-check: OK"
