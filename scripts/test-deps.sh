#!/usr/bin/env bash
# test-deps.sh installs, idempotently, the external programs Yizhu's tests
# drive for real: PostgreSQL with pgvector (scripts/pg-up.sh does that),
# nats-server (JetStream tests) and Debian's Chromium with npm
# playwright-core (page tests). Fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "test-deps: $*" >&2; }

need=()
command -v nats-server >/dev/null || need+=(nats-server)
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# CJK glyphs for page screenshots (the pages are Chinese first).
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		log "missing ${need[*]} and not root: install them with apt-get"
		exit 1
	fi
	log "installing ${need[*]} from Debian"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2; }
fi

if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
	log "installing playwright-core (npm; the browser itself is Debian's chromium)"
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >&2 || npm install --no-audit --no-fund --loglevel=error >&2)
fi
