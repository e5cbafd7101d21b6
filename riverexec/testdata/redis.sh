#!/usr/bin/env bash
# redis.sh starts and stops a throwaway Redis server for the Celery sides of
# the celery-river example and of the benchmark: listening on 127.0.0.1 on
# a free port, no persistence, its files in a fresh directory.
#
#   eval "$(bash riverexec/testdata/redis.sh start)"   # exports EXECKIT_REDIS_URL, EXECKIT_REDIS_DIR
#   bash riverexec/testdata/redis.sh stop [DIR]         # stops the server and removes the directory
#
# DIR defaults to $EXECKIT_REDIS_DIR, which start exports. start prints only
# the export lines on stdout; everything else goes to stderr. It needs
# Debian's redis-server (apt-get install redis-server).
set -euo pipefail
log() { echo "redis.sh: $*" >&2; }

start() {
	local dir port
	if ! command -v redis-server >/dev/null 2>&1; then
		log "no redis-server (install Debian's redis-server)"
		exit 1
	fi
	dir="$(mktemp -d /tmp/execkit-redis.XXXXXX)"
	for _ in $(seq 1 20); do
		port=$((20000 + RANDOM % 20000))
		if redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
			--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2; then
			for _ in $(seq 1 100); do
				if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
					echo "export EXECKIT_REDIS_URL='redis://127.0.0.1:$port'"
					echo "export EXECKIT_REDIS_DIR='$dir'"
					return
				fi
				if [ -s "$dir/redis.pid" ] && ! kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
					break
				fi
				sleep 0.05
			done
		fi
		log "port $port did not work, trying another"
		if [ -s "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
		rm -f "$dir/redis.pid"
	done
	log "could not start Redis; see $dir/redis.log"
	exit 1
}

stop() {
	local dir="$1" pid
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		log "stop: no server directory (give DIR or set EXECKIT_REDIS_DIR)"
		exit 2
	fi
	if [ -s "$dir/redis.pid" ]; then
		pid="$(cat "$dir/redis.pid")"
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-${EXECKIT_REDIS_DIR:-}}" ;;
*)
	echo "usage: redis.sh start | stop [DIR]" >&2
	exit 2
	;;
esac
