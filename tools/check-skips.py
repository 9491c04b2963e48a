#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""check-skips.py — no test may skip, unless this kernel lacks a listed feature.

A test that skips must print "SKIP: kernel-feature NAME" where NAME has a
line "NAME<TAB>probe command" in tests/kernel-features; the probe (exit 0 =
present) is run again here in a fresh network namespace and must fail.
Prints every accepted skip, then the closing line "N passed, N failed,
N skipped" counted over the whole log.
"""
import json
import re
import subprocess
import sys


def load_features(path):
    feats = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip('\n')
                if not line or line.startswith('#'):
                    continue
                name, _, probe = line.partition('\t')
                feats[name.strip()] = probe.strip()
    except FileNotFoundError:
        pass
    return feats


def main():
    log, features_file = sys.argv[1], sys.argv[2]
    feats = load_features(features_file)
    bad, accepted, total = [], [], 0
    passed = failed = skipped = 0
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            total += 1
            result = t.get('result')
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            else:
                failed += 1
            if result != 'SKIP':
                continue
            m = re.search(r'SKIP: kernel-feature (\S+)', t.get('stdout', '') + t.get('stderr', ''))
            if not m or m.group(1) not in feats:
                bad.append(f"{t['name']}: skipped without a listed kernel feature")
                continue
            name = m.group(1)
            probe = subprocess.run(['unshare', '--net', 'sh', '-c', feats[name]],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if probe.returncode == 0:
                bad.append(f"{t['name']}: skipped for {name}, but the probe finds it present")
            else:
                accepted.append(f"{t['name']}: kernel lacks {name}")
    for a in accepted:
        print(f"skipped (kernel feature absent): {a}")
    for b in bad:
        print(f"FAIL: {b}")
    print(f"skip check: {total} tests, {len(accepted)} allowed skips, {len(bad)} forbidden skips")
    print(f"{passed} passed, {failed + len(bad)} failed, {skipped} skipped")
    return 1 if bad or failed else 0


if __name__ == '__main__':
    sys.exit(main())
