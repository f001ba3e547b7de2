#!/usr/bin/env bash
# Test prerequisites that are OS packages, not Python ones:
# * redis-server (the redis rate-limit backend's tests and benchmarks start their own on a free
#   loopback port);
# * the PostgreSQL server binaries, initdb and pg_ctl (the callback store's tests start a throw-away
#   server on a free loopback port: tests/support/postgres.py; e2e/harness.py looks in the same places).
# Installed with apt-get when missing and we are root (CI); otherwise the tests that need them skip
# and say why.
set -uo pipefail

apt_install() {  # package, what needs it
    echo "installing $1 (apt-get) for $2" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$1" >/dev/null \
        || { apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null \
             && apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$1" >/dev/null; } \
        || echo "could not install $1; its tests will be skipped" >&2
}

can_install() {
    [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1
}

if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
    if can_install; then
        apt_install redis-server "the rate-limit tests"
    else
        echo "redis-server is not installed (not root: not installing); its tests will be skipped" >&2
    fi
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    if can_install; then
        apt_install postgresql "the callback store's PostgreSQL tests"
    else
        echo "PostgreSQL (initdb, pg_ctl) is not installed (not root: not installing); its tests will be skipped" >&2
    fi
fi
exit 0
