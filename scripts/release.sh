#!/usr/bin/env bash
# Release: check that the tree is clean, dist/ is what the sources build and
# the tests pass, then tag vX.Y.Z (package.json's version) and move the major
# tag (v1) to it — what `uses: org/tuna-setup@v1` resolves. Pushes only with
# --push; without it, prints what it would push.
#   scripts/release.sh [--push]
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p 'require("./package.json").version')
major="v${version%%.*}"
[ "$major" = v0 ] && major=v1   # 0.x releases ship as v1 until 1.0
if [ -n "$(git status --porcelain)" ]; then echo "the tree has uncommitted changes" >&2; exit 1; fi
npm ci --no-audit --no-fund
if [ -n "$(git status --porcelain -- dist)" ]; then echo "dist/ is out of date: run 'npm run build' and commit it" >&2; exit 1; fi
npm test
git tag -a "v$version" -m "tuna-setup $version"
git tag -f -a "$major" -m "tuna-setup $version"
if [ "${1:-}" = --push ]; then
  git push origin "v$version"
  git push -f origin "$major"
else
  echo "tagged v$version and $major; push with: git push origin v$version && git push -f origin $major"
fi
