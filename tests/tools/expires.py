#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""expires.py — check restored set element expirations against saved ones.

    expires.py SAVED_LISTING RESTORED_LISTING

Both are `nft list ruleset` outputs. Every "expires" of the restored listing
must be > 0 and no more than the one at the same place in the saved listing,
and both listings must have the same number of them (at least one).
"""
import re
import sys

UNITS = {'d': 86400000, 'h': 3600000, 'm': 60000, 's': 1000, 'ms': 1}


def ms(token):
    return sum(int(n) * UNITS[u] for n, u in re.findall(r'(\d+)(ms|d|h|m|s)', token))


def expiries(path):
    with open(path) as f:
        return [ms(t) for t in re.findall(r'expires ((?:\d+(?:ms|d|h|m|s))+)', f.read())]


def main():
    saved, restored = expiries(sys.argv[1]), expiries(sys.argv[2])
    if not saved:
        sys.exit('no expiring elements in the saved listing')
    if len(saved) != len(restored):
        sys.exit(f'{len(saved)} expiring elements saved, {len(restored)} restored')
    for i, (s, r) in enumerate(zip(saved, restored)):
        if not 0 < r <= s:
            sys.exit(f'element {i + 1}: restored expires {r} ms, saved {s} ms')
    print(f'{len(saved)} expirations restored, each in (0, saved]')


if __name__ == '__main__':
    main()
