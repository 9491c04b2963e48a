#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-tests.sh — install the dependencies, build with ASan+UBSan and -Werror,
# and run every suite. A skipped test fails the run, except a test that
# needs a kernel feature this kernel lacks: it must say
# "SKIP: kernel-feature NAME" for a NAME listed in tests/kernel-features,
# and the feature's probe is re-run here to confirm that it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run-tests.sh: the test suites need root (network namespaces)" >&2; exit 1; }
tools/install-deps.sh
BUILD=${BUILD:-build-test}
if [ ! -d "$BUILD" ]; then
        meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Dtest-points=true
fi
ninja -C "$BUILD"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
meson test -C "$BUILD" --num-processes "$(nproc)" --print-errorlogs "$@" || rc=$?
python3 tools/check-skips.py "$BUILD/meson-logs/testlog.json" tests/kernel-features || rc=1
exit $rc
