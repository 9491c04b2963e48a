#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench-engine.py — the exact engine against nft, side by side, in one run.

For a 100,000-element interval set and a 5,000-rule chain, each loaded in a
fresh network namespace, prints the median of N runs of wall time and peak
memory (max RSS) of:
  fwguard save       vs  nft list ruleset
  fwguard restore    vs  nft -f (the same ruleset as text)
and the ratios. Machines differ: compare only ratios from one run.

    sudo bench/bench-engine.py [--fwguard PATH] [--runs N]
"""
import argparse
import os
import sys
import tempfile

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Netns, fresh, gen_rules, gen_set, measure, median_of  # noqa: E402


def bench_case(name, text, fwguard, runs, tmp):
    snap = os.path.join(tmp, name + '.fwg')
    ns = Netns()
    measure(ns.cmd(['nft', '-f', text]))
    measure(ns.cmd([fwguard, 'save', snap]))

    save = median_of(runs, lambda: measure(ns.cmd([fwguard, 'save', os.path.join(tmp, 'x.fwg')])))
    lst = median_of(runs, lambda: measure(ns.cmd(['nft', 'list', 'ruleset'])))
    ns.close()

    restore = median_of(runs, fresh(lambda: [fwguard, 'restore', snap]))
    nftf = median_of(runs, fresh(lambda: ['nft', '-f', text]))
    return save, lst, restore, nftf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fwguard', default=os.path.join(os.path.dirname(__file__), '..', 'build', 'cli', 'fwguard'))
    ap.add_argument('--runs', type=int, default=5)
    args = ap.parse_args()
    fwguard = os.path.abspath(args.fwguard)
    with tempfile.TemporaryDirectory() as tmp:
        cases = [('set-100k', gen_set), ('rules-5k', gen_rules)]
        print(f'medians of {args.runs} runs, each in a fresh network namespace')
        print(f'{"case":10} {"operation":28} {"wall s":>8} {"peak MiB":>9}   {"ratio wall":>10} {"ratio mem":>9}')
        for name, gen in cases:
            text = os.path.join(tmp, name + '.nft')
            gen(text)
            save, lst, restore, nftf = bench_case(name, text, fwguard, args.runs, tmp)
            rows = [('fwguard save', save, lst), ('nft list ruleset', lst, None),
                    ('fwguard restore', restore, nftf), ('nft -f', nftf, None)]
            for op, (w, m), ref in rows:
                ratio = f'{w / ref[0]:10.2f} {m / ref[1]:9.2f}' if ref else ''
                print(f'{name:10} {op:28} {w:8.3f} {m:9.1f}   {ratio}')
        print('goals: save <= 0.5x wall and <= 0.5x memory of nft list; restore <= 0.7x wall of nft -f')


if __name__ == '__main__':
    main()
