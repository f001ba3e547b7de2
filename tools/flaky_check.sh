#!/usr/bin/env bash
# Flakiness proof (issue 24): the tests that used to fail on a loaded machine, run RUNS times in a
# row (default 20) on WORKERS pytest-xdist workers (default 4, as `make test`) while BURNERS busy
# loops (default 2: `yes`) take the cores. Prints one line per run and the count of passes; exits 1 if any run failed.
#
#   tools/flaky_check.sh                 # 20 runs beside 2 burners
#   RUNS=5 BURNERS=4 tools/flaky_check.sh
#   PYTHON=/path/to/python tools/flaky_check.sh
#
# The burners are this script's own children, stopped by their process ids on exit (also on ^C).
# The wall-clock pacing tests measured at a real server (tests/unit/test_pacing_arrivals.py's
# arrival counts) are marked `slow` and are not in this list: they need a core to themselves and
# CI runs them serially (make test-all); their rules are checked on a moved clock in the fast set.
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-20}
BURNERS=${BURNERS:-2}
WORKERS=${WORKERS:-4}
PYTHON=${PYTHON:-.venv/bin/python}

TESTS=(
    # what is left fast in test_pacing_arrivals.py (its arrival counts are `slow`, see above)
    tests/unit/test_pacing_arrivals.py::test_a_stop_during_the_wait_at_the_connection_sends_nothing
    tests/unit/test_pacing_arrivals.py::test_every_session_and_transport_takes_one_slot_per_attempt
    tests/sandbox/test_rate_limits.py  # test_zego_family_codes, test_trtc_20_per_second and the other buckets
    tests/bulk/test_bulk_trtc_zego.py::test_closes_rooms_at_one_per_second  # slow: a lower bound only
    tests/recordings/test_triggers.py  # the ZEGO timeout, the TRTC timeout message, "keeps running"
    # failed in the fast set at load 20 too
    tests/sandbox/test_callbacks.py::test_cos_callbacks_signed_and_complete
    tests/sandbox/test_callbacks.py::test_vod_callbacks_one_311_per_file_then_312
    tests/unit/test_ratelimit.py::test_redis_reservations_are_spaced_on_the_server
    tests/sandbox/test_cli_scenario.py::test_with_receiver_wires_and_prints_the_receiver
)

burners=()
stop_burners() {
    for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
    burners=()
}
trap stop_burners EXIT INT TERM
for _ in $(seq "$BURNERS"); do
    yes >/dev/null &
    burners+=("$!")
done

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $BURNERS burners; $WORKERS workers; $RUNS runs of: ${TESTS[*]}"
passed=0
for run in $(seq "$RUNS"); do
    if out=$("$PYTHON" -m pytest -q -p no:cacheprovider -n "$WORKERS" --maxschedchunk 2 "${TESTS[@]}" 2>&1); then
        passed=$((passed + 1))
        echo "run $run: passed ($(tail -n 1 <<<"$out")) load $(cut -d' ' -f1 /proc/loadavg)"
    else
        echo "run $run: FAILED load $(cut -d' ' -f1 /proc/loadavg)"
        grep -E "^(FAILED|ERROR)|Error|assert" <<<"$out" | head -n 20
    fi
done
stop_burners
echo "passed $passed of $RUNS runs"
[ "$passed" -eq "$RUNS" ]
