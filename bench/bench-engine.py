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
import statistics
import subprocess
import sys
import tempfile
import time


def gen_set(path, n=100_000):
    with open(path, 'w') as f:
        f.write('table inet bench {\n\tset blocks {\n\t\ttype ipv4_addr; flags interval;\n\t\telements = {\n')
        # Disjoint /24 blocks inside 10.0.0.0/8 and beyond.
        out = []
        for i in range(n):
            a = 10 + (i >> 16)
            out.append(f'\t\t\t{a}.{(i >> 8) & 255}.{i & 255}.0/24')
        f.write(',\n'.join(out))
        f.write('\n\t\t}\n\t}\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n'
                '\t\tip saddr @blocks drop\n\t}\n}\n')


def gen_rules(path, n=5000):
    with open(path, 'w') as f:
        f.write('table inet bench {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n')
        for i in range(n):
            f.write(f'\t\tip saddr 198.18.{i >> 8}.{i & 255} tcp dport {1024 + i % 60000} counter drop\n')
        f.write('\t}\n}\n')


class Netns:
    def __init__(self):
        self.holder = subprocess.Popen(['unshare', '--net', 'sleep', '3600'])
        for _ in range(100):
            if os.readlink(f'/proc/{self.holder.pid}/ns/net') != os.readlink('/proc/self/ns/net'):
                break
            time.sleep(0.01)

    def cmd(self, argv):
        return ['nsenter', '-t', str(self.holder.pid), '-n', '--'] + argv

    def close(self):
        self.holder.kill()
        self.holder.wait()


def measure(argv, stdout=subprocess.DEVNULL):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=stdout)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'failed: {" ".join(argv)}')
    return wall, ru.ru_maxrss / 1024.0   # MiB


def median_of(runs, fn):
    walls, mems = [], []
    for _ in range(runs):
        w, m = fn()
        walls.append(w)
        mems.append(m)
    return statistics.median(walls), statistics.median(mems)


def bench_case(name, text, fwguard, runs, tmp):
    snap = os.path.join(tmp, name + '.fwg')
    ns = Netns()
    measure(ns.cmd(['nft', '-f', text]))
    measure(ns.cmd([fwguard, 'save', snap]))

    save = median_of(runs, lambda: measure(ns.cmd([fwguard, 'save', os.path.join(tmp, 'x.fwg')])))
    lst = median_of(runs, lambda: measure(ns.cmd(['nft', 'list', 'ruleset'])))
    ns.close()

    def fresh(argv_fn):
        def run():
            n = Netns()
            try:
                return measure(n.cmd(argv_fn()))
            finally:
                n.close()
        return run

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
