#!/usr/bin/env bash
# pg-up.sh brings up a PostgreSQL server with the pgvector extension for Yizhu's
# tests (and documents the production steps). It is idempotent and fast when
# everything is already in place. On success the last line of stdout is a DSN
# for a freshly created database that has `CREATE EXTENSION vector` applied.
#
#   scripts/pg-up.sh            # start (or reuse) the private test cluster
#   scripts/pg-up.sh --stop     # stop it
#
# Environment:
#   YIZHU_TEST_DATABASE_URL  use this server instead of a private cluster
#                            (must allow CREATE DATABASE and have pgvector)
#   YIZHU_PG_PORT            port of the private cluster (default 55432)
#   YIZHU_PG_DIR             data directory (default ${TMPDIR:-/tmp}/yizhu-pg)
#   YIZHU_PG_DB              name of the test database (default yizhu_test)
#
# Debian bookworm ships PostgreSQL 15 but no pgvector package, so pgvector is
# built from Debian's own source package (taken from trixie through a
# temporary deb-src entry) against postgresql-server-dev-15.
set -euo pipefail

PORT=${YIZHU_PG_PORT:-55432}
DIR=${YIZHU_PG_DIR:-${TMPDIR:-/tmp}/yizhu-pg}
DB=${YIZHU_PG_DB:-yizhu_test}
log() { echo "pg-up: $*" >&2; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() {
	if [ "$(id -u)" != 0 ]; then
		log "missing packages ($*) and not root: install them with apt-get"
		exit 1
	fi
	log "installing $* from Debian"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; then
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
	fi
}

if [ "${1:-}" = "--stop" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[ -f "$DIR/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$DIR" -m fast stop >&2 || true
	exit 0
fi

# 1. An external server given by the user.
if [ -n "${YIZHU_TEST_DATABASE_URL:-}" ]; then
	psql "$YIZHU_TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -qc 'CREATE EXTENSION IF NOT EXISTS vector' >&2
	echo "$YIZHU_TEST_DATABASE_URL"
	exit 0
fi

# 2. PostgreSQL server and headers.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	apt_install postgresql postgresql-client
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
pgver=$(basename "$(dirname "$bindir")")
sharedir=/usr/share/postgresql/$pgver

# 3. pgvector.
if [ ! -f "$sharedir/extension/vector.control" ]; then
	command -v pg_config >/dev/null && [ -d "/usr/include/postgresql/$pgver/server" ] ||
		apt_install "postgresql-server-dev-$pgver" make gcc libc6-dev
	command -v dpkg-source >/dev/null || apt_install dpkg-dev
	src=$(mktemp -d)
	list=/etc/apt/sources.list.d/yizhu-trixie-src.sources
	trap 'rm -rf "$src" "$list"' EXIT
	log "building pgvector from Debian's source package"
	cat >"$list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -q >&2
	(cd "$src" && apt-get source -q --download-only pgvector >&2 && dpkg-source -x --no-check ./*.dsc pgvector >&2)
	rm -f "$list"
	apt-get update -q >&2 || true
	make -C "$src/pgvector" -s PG_CONFIG="$bindir/pg_config" OPTFLAGS="" >&2
	make -C "$src/pgvector" -s PG_CONFIG="$bindir/pg_config" install >&2
	log "pgvector installed into $sharedir/extension"
fi

# 4. A private cluster on loopback (PostgreSQL refuses to run as root).
if ! as_pg "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
	if [ ! -f "$DIR/PG_VERSION" ]; then
		mkdir -p "$DIR"
		[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
		chmod 700 "$DIR"
		log "initialising cluster in $DIR"
		as_pg "$bindir/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	fi
	rm -f "$DIR/postmaster.pid"
	log "starting PostgreSQL $pgver on 127.0.0.1:$PORT"
	as_pg "$bindir/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
		-o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c full_page_writes=off -c max_connections=200" start >&2
fi

# 5. A fresh test database.
admin="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
psql "$admin" -v ON_ERROR_STOP=1 -q >&2 <<SQL
DROP DATABASE IF EXISTS $DB WITH (FORCE);
CREATE DATABASE $DB;
\c $DB
CREATE EXTENSION vector;
SQL
echo "postgres://postgres@127.0.0.1:$PORT/$DB?sslmode=disable"
