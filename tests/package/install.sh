#!/usr/bin/env bash
# install.sh TARBALL DIR -- installs the packed hometab into DIR as a user
# would: a new project folder, `npm install` of the tarball and of the
# packages the README's examples use (at the versions this repository pins
# in package.json), from npm's cache where it holds them (`make deps-node`
# put their tarballs there) and from the registry for the rest: `npm ci`
# caches tarballs but not the registry's package documents an `npm install`
# by name reads, so a new machine's cache cannot serve that alone. DIR must lie outside this repository, so that nothing
# resolves from the checkout's own node_modules.
set -euo pipefail
tarball=$1
dir=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
case "$(cd "$dir" && pwd)/" in "$repo"/*) echo "install.sh: $dir is inside the repository" >&2; exit 2;; esac

pin() { node -e "const p = require('$repo/package.json'); console.log('$1@' + p.devDependencies['$1'])"; }

cd "$dir"
printf '{ "name": "hometab-package-check", "private": true, "type": "module" }\n' > package.json
echo "package: npm install --prefer-offline $(basename "$tarball") and the examples' packages in $dir"
npm install --prefer-offline --no-audit --no-fund --loglevel=error \
    "$tarball" "$(pin matrix-js-sdk)" "$(pin vitest)" "$(pin @vitest/browser-playwright)" "$(pin playwright)" \
    "$(pin typescript)" \
    > npm-install.log 2>&1 || { cat npm-install.log >&2; exit 1; }
test -f node_modules/hometab/package.json
