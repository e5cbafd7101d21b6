#!/usr/bin/env bash
# pg.sh starts, restarts and stops a throwaway PostgreSQL server for the
# riverexec tests and examples: initdb into a fresh directory, listen on
# 127.0.0.1 on a free port, durability off (fsync, synchronous_commit and
# full_page_writes: the data is thrown away), one database named execkit.
#
#   eval "$(bash riverexec/testdata/pg.sh start)"   # exports EXECKIT_PG_URL, EXECKIT_PG_DIR, EXECKIT_PG_RESTART
#   bash riverexec/testdata/pg.sh restart [DIR]
#   bash riverexec/testdata/pg.sh stop [DIR]   # stops the server and removes the directory
#
# DIR defaults to $EXECKIT_PG_DIR, which start exports.
# start prints only the export lines on stdout; everything else goes to
# stderr. PostgreSQL refuses to run as root, so as root the server runs as
# the user "postgres" (created when missing). When no PostgreSQL binaries
# are found and we are root, Debian's postgresql package is installed.
set -euo pipefail

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
log() { echo "pg.sh: $*" >&2; }

bindir() {
	local d
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
	if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then
		d="$(pg_config --bindir)"
	fi
	if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			log "installing Debian's postgresql"
			apt-get update >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
			d="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
		else
			log "no PostgreSQL binaries found (install Debian's postgresql)"
			exit 1
		fi
	fi
	echo "$d"
}

# as runs a command as the server's user: ourselves, or postgres when root.
as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start() {
	local bin dir port
	bin="$(bindir)"
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin postgres
	fi
	dir="${1:-$(mktemp -d /tmp/execkit-pg.XXXXXX)}"
	mkdir -p "$dir/data"
	chmod 755 "$dir"
	if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
	as "$bin/initdb" --no-sync --auth=trust --username=postgres --encoding=UTF8 -D "$dir/data" >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	for _ in $(seq 1 20); do
		port=$((20000 + RANDOM % 20000))
		cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
EOF
		if as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >&2; then
			as "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres execkit
			echo "export EXECKIT_PG_URL='postgres://postgres@127.0.0.1:$port/execkit?sslmode=disable'"
			echo "export EXECKIT_PG_DIR='$dir'"
			echo "export EXECKIT_PG_RESTART='bash $self restart $dir'"
			return
		fi
		log "port $port did not work, trying another"
	done
	log "could not start PostgreSQL; see $dir/server.log"
	exit 1
}

dir="${2:-${EXECKIT_PG_DIR:-}}"
case "${1:-}" in
start) start "${2:-}" ;;
restart | stop)
	if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
		log "$1: no server directory (give DIR or set EXECKIT_PG_DIR)"
		exit 2
	fi
	if [ "$1" = restart ]; then
		as "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 30 restart >&2
	else
		as "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
		rm -rf "$dir"
	fi
	;;
*)
	echo "usage: pg.sh start [DIR] | restart [DIR] | stop [DIR]" >&2
	exit 2
	;;
esac
