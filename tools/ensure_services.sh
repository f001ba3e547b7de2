#!/usr/bin/env bash
# Test prerequisites that are OS packages, not Python ones: redis-server (the redis rate-limit
# backend's tests and benchmarks start their own on a free loopback port). Installed with apt-get
# when missing and we are root (CI); otherwise the tests that need it skip and say why.
set -uo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server (apt-get) for the rate-limit tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends redis-server >/dev/null \
        || { apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null \
             && apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends redis-server >/dev/null; } \
        || echo "could not install redis-server; its tests will be skipped" >&2
else
    echo "redis-server is not installed (not root: not installing); its tests will be skipped" >&2
fi
exit 0
