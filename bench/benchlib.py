# SPDX-License-Identifier: GPL-2.0-or-later
"""benchlib.py — what the bench/ scripts share: the generated rulesets, a
fresh network namespace, and timing a command.

Everything that touches nftables runs in a network namespace made here
(unshare --net): the host's ruleset, routes and addresses are never changed.
"""
import os
import statistics
import subprocess
import sys
import time


def gen_set(path, n=100_000, table='bench'):
    """A table with an n-element interval set of disjoint /24 blocks and the
    rule that uses it."""
    with open(path, 'w') as f:
        f.write(f'table inet {table} {{\n\tset blocks {{\n\t\ttype ipv4_addr; flags interval;\n\t\telements = {{\n')
        # Disjoint /24 blocks inside 10.0.0.0/8 and beyond.
        out = []
        for i in range(n):
            a = 10 + (i >> 16)
            out.append(f'\t\t\t{a}.{(i >> 8) & 255}.{i & 255}.0/24')
        f.write(',\n'.join(out))
        f.write('\n\t\t}\n\t}\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n'
                '\t\tip saddr @blocks drop\n\t}\n}\n')


def gen_rules(path, n=5000, table='bench'):
    """A table with one base chain of n rules."""
    with open(path, 'w') as f:
        f.write(f'table inet {table} {{\n\tchain input {{\n\t\ttype filter hook input priority 0; policy accept;\n')
        for i in range(n):
            f.write(f'\t\tip saddr 198.18.{i >> 8}.{i & 255} tcp dport {1024 + i % 60000} counter drop\n')
        f.write('\t}\n}\n')


class Netns:
    """A fresh network namespace, kept alive by a sleeping holder process."""

    def __init__(self):
        self.holder = subprocess.Popen(['unshare', '--net', 'sleep', '3600'])
        self.pid = self.holder.pid
        # unshare runs after fork(): until it has, the pid is in our namespace.
        for _ in range(500):
            if os.readlink(f'/proc/{self.pid}/ns/net') != os.readlink('/proc/self/ns/net'):
                return
            time.sleep(0.01)
        self.close()
        sys.exit('unshare --net did not make a new namespace')

    def cmd(self, argv):
        """argv run inside the namespace (nsenter execs it: same pid)."""
        return ['nsenter', '-t', str(self.pid), '-n', '--'] + argv

    def run(self, argv, **kw):
        return subprocess.run(self.cmd(argv), check=True, **kw)

    def close(self):
        self.holder.kill()
        self.holder.wait()


def measure(argv, stdout=subprocess.DEVNULL, env=None):
    """Wall time (s) and peak RSS (MiB) of one command, which must succeed."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=stdout, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'failed: {" ".join(argv)}')
    return wall, ru.ru_maxrss / 1024.0   # MiB


def median_of(runs, fn):
    """Medians of the (wall, mem) pairs of runs calls of fn."""
    walls, mems = [], []
    for _ in range(runs):
        w, m = fn()
        walls.append(w)
        mems.append(m)
    return statistics.median(walls), statistics.median(mems)


def fresh(argv_fn):
    """A run of median_of: the command in a namespace of its own."""
    def run():
        n = Netns()
        try:
            return measure(n.cmd(argv_fn()))
        finally:
            n.close()
    return run
