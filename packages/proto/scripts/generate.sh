#!/usr/bin/env bash
# Regenerates packages/proto/src/gen/ from every .proto under proto/ (buf.gen.yaml at the repo root).
#   generate.sh          write into the tree (commit the result)
#   generate.sh --check  lint the contracts, generate into a temp dir, fail if the committed files differ (CI)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
# Why: buf runs the local protoc-gen-es plugin by name, so it must be on PATH; no network needed.
export PATH="$root/node_modules/.bin:$PATH"
gen_dir="packages/proto/src/gen"

if [[ "${1:-}" != "--check" ]]; then
  buf generate
  echo "proto: generated $gen_dir"
  exit 0
fi

buf lint
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# --output prefixes the template's out path, so the fresh copy lands in $tmp/$gen_dir.
buf generate --output "$tmp"
mkdir -p "$tmp/$gen_dir" "$gen_dir"
if ! diff -ru "$gen_dir" "$tmp/$gen_dir"; then
  echo "proto: $gen_dir is out of date with proto/. Run \`npm run proto\` and commit the result." >&2
  exit 1
fi
echo "proto: $gen_dir is up to date"
