#!/usr/bin/env bash
# Makes sure the real backends the tests use answer on loopback: PostgreSQL (127.0.0.1:5432,
# database `test`), Redis (127.0.0.1:6379) and Memcached (127.0.0.1:11211). Starts them when stopped and installs them from
# Debian's packages when missing. Idempotent: does nothing when both already answer.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"; }

# Debian's chromium for the browser test of examples/chat (tests/test_chat_browser.py skips,
# saying so, when it cannot be installed). Never a browser downloaded from elsewhere.
command -v chromium >/dev/null || apt_install chromium || echo "chromium could not be installed: the browser test will skip"

# Debian's nginx: tests/test_many_instances.py and tests/test_staticfiles_nginx.py start their own
# on free ports with their own configuration (the package's default site is never started here).
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx
# Debian's Prometheus server for tests/test_metrics.py (it starts its own, on loopback).
command -v prometheus >/dev/null || apt_install prometheus

if ! up 6379; then
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p /tmp/covet-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/covet-redis --logfile /tmp/covet-redis/redis.log
fi

if ! up 11211; then
    command -v memcached >/dev/null || apt_install memcached
    memcached -d -l 127.0.0.1 -p 11211 -U 0 -m 64 -u "$(id -un)"
fi

if ! up 5432; then
    ls /etc/postgresql/*/main >/dev/null 2>&1 || apt_install postgresql
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi

for _ in $(seq 50); do up 6379 && up 5432 && up 11211 && break; sleep 0.2; done
up 6379 || { echo "Redis is not answering on 127.0.0.1:6379"; exit 1; }
up 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432"; exit 1; }
up 11211 || { echo "Memcached is not answering on 127.0.0.1:11211"; exit 1; }
# The tests' database; trust auth on loopback is the machine's (and CI's) set-up.
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test"
