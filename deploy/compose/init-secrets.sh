#!/bin/sh
# One-shot service of docker-compose.yml: creates the farm's secrets on first
# start (never overwrites them) in four volumes, so each service sees only its
# own: /secrets/aoinb (the coordinator's and worker's tokens, Redis password),
# /secrets/redis (its requirepass include), /secrets/prometheus (the reader
# token), /secrets/grafana (the admin password).
set -eu
umask 077
# SECRETS_ROOT: where the volumes are mounted (tests point it elsewhere).
root="${SECRETS_ROOT:-/secrets}"
mkdir -p "$root/aoinb" "$root/redis" "$root/prometheus" "$root/grafana"

new_secret() {
	if [ ! -s "$1" ]; then
		od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$1"
		echo "created $1"
	fi
}

for name in maintainer worker reader; do
	new_secret "$root/aoinb/$name.token"
done
new_secret "$root/aoinb/redis.password"
new_secret "$root/grafana/admin.password"
cp "$root/aoinb/reader.token" "$root/prometheus/aoinb-reader.token"
# The Redis server reads its password from a config include.
printf 'requirepass %s\n' "$(cat "$root/aoinb/redis.password")" >"$root/redis/redis-auth.conf"
# Redis, Prometheus and Grafana do not run as root in their images; each of
# these volumes is mounted in its one service only.
chmod 0755 "$root/redis" "$root/prometheus" "$root/grafana"
chmod 0644 "$root/redis/redis-auth.conf" "$root/prometheus/aoinb-reader.token" "$root/grafana/admin.password"
