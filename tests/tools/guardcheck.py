#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""guardcheck.py — is GUARDED exactly PLAIN plus the SSH guard, where expected?

    guardcheck.py PLAIN GUARDED PORTS CHAIN...

PLAIN and GUARDED are `nft list ruleset` outputs (counter values aside); PORTS is "22" or "22,2222";
each CHAIN is "family table chain[:in|:out]" (default :in) that must start
with the guard rules for PORTS (tcp dport on the in side, tcp sport on the
out side). Every other chain must hold no guard, and GUARDED without its
guard lines must equal PLAIN line for line.
"""
import re
import sys

GUARD = re.compile(r'^\s*(?:meta l4proto tcp )?tcp ([ds]port) (\d+) counter accept comment "fwguard ssh guard"$')
# Counters are state that traffic moves between two listings, not rules.
COUNTERS = re.compile(r'counter packets \d+ bytes \d+')


def chains(lines):
    """(family, table, chain) -> list of rule lines, in order."""
    out, table, chain = {}, None, None
    for line in lines:
        m = re.match(r'^table (\S+) (\S+) \{', line)
        if m:
            table = (m.group(1), m.group(2))
            continue
        m = re.match(r'^\s+chain (\S+) \{', line)
        if m and table:
            chain = table + (m.group(1),)
            out[chain] = []
            continue
        if re.match(r'^\s+\}', line):
            chain = None if line.startswith('\t}') else chain
            continue
        if chain and line.strip() and not re.match(r'^\s+type ', line):
            out[chain].append(line)
    return out


def main():
    plain = COUNTERS.sub('counter', open(sys.argv[1]).read()).splitlines()
    guarded = COUNTERS.sub('counter', open(sys.argv[2]).read()).splitlines()
    ports = [int(p) for p in sys.argv[3].split(',')]
    want = {}
    for spec in sys.argv[4:]:
        name, _, side = spec.partition(':')
        want[tuple(name.split())] = side or 'in'

    stripped = [line for line in guarded if not GUARD.match(line)]
    if stripped != plain:
        import difflib
        sys.stderr.write('\n'.join(difflib.unified_diff(plain, stripped, 'plain', 'guarded-minus-guard', lineterm='')))
        sys.exit('the guarded ruleset differs from the plain one by more than guard rules')

    for key, rules in chains(guarded).items():
        guards = [GUARD.match(r) for r in rules]
        n = sum(1 for g in guards if g)
        if key not in want:
            if n:
                sys.exit(f'{" ".join(key)}: has a guard but should not')
            continue
        side = 'dport' if want[key] == 'in' else 'sport'
        head = [(g.group(1), int(g.group(2))) for g in guards[:len(ports)] if g]
        if head != [(side, p) for p in ports] or n != len(ports):
            sys.exit(f'{" ".join(key)}: want the guard ({side} {ports}) at the head, have {head} ({n} guard rules)')
        del want[key]
    if want:
        sys.exit(f'chains that should carry the guard are missing: {list(want)}')
    print('guard placement exact')


if __name__ == '__main__':
    main()
