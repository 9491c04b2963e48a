#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench-monitor.py — how fast fwguardd's guard monitor answers changes made
outside fwguard, in one run.

Prints p50, p99 and max over N changes of each kind:
  - restore: `nft delete rule` of a guard, until the monitor's batch that
    puts it back is committed (the first netlink event of fwguardd's batch
    at a listener in the namespace). Counted from just before the nft call
    (goal: 10 ms), and from the deletion's own commit (the monitor's part
    alone); beside the wall time of the `nft delete rule` call itself;
  - block: `nft -f` of a table whose input chain drops SSH (a drop policy),
    until the monitor's guard in that chain is committed (goal: 1 s): the
    burst's quiet moment, the pre-flight in the sandbox (the probe of the
    live ruleset, the guard, the probe again) and the batch.
Between two changes the bench waits --gap seconds, so that the check each
change starts (the monitor checks after every change of another writer) is
over before the next one. Machines differ: compare only ratios from one run.

    sudo bench/bench-monitor.py [--build DIR] [--changes N] [--gap S]

Every namespace is made here (unshare --net); the host's ruleset, routes and
addresses are never touched.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Daemon, Listener, build_ctx, host_netns, percentile  # noqa: E402

GUARDED = '''table inet guarded {
        chain input {
                type filter hook input priority 0; policy accept;
                tcp dport 22 counter accept comment "fwguard ssh guard"
                ct state established,related accept
                tcp dport 8080 drop
        }
}
'''

LOCK = '''table inet lock {
        chain input {
                type filter hook input priority 0; policy drop;
                iif "lo" accept
        }
}
'''


def guard_handles(ns, table):
    out = ns.run(['nft', '-a', 'list', 'chain', 'inet', table, 'input'], stdout=subprocess.PIPE, text=True).stdout
    return [int(h) for h in re.findall(r'comment "fwguard ssh guard" # handle (\d+)', out)], out


def commit_of(listener, since, proc, table, timeout):
    """The first batch after the first @since ones that @proc committed and
    that named @table."""
    def find(batches):
        return next((b for b in batches[since:] if b.proc == proc and table in b.tables), None)
    if not listener.wait_for(lambda bs: find(bs) is not None, timeout):
        sys.exit(f'no batch of {proc} naming {table} within {timeout} s')
    return find(listener.batches)


def stats(label, xs, goal=None):
    ms = sorted(x * 1000 for x in xs)
    line = (f'  {label:<48} p50 {statistics.median(ms):8.2f} ms   p99 {percentile(ms, 99):8.2f} ms   '
            f'max {ms[-1]:8.2f} ms')
    if goal:
        line += f'   (goal {goal} ms: p99 is {percentile(ms, 99) / goal:.2f}x the goal)'
    print(line, flush=True)
    return statistics.median(ms)


def restores(ctx, ns, listener, n, gap):
    ns.run(['nft', '-f', '-'], input=GUARDED, text=True)
    time.sleep(gap)
    from_call, from_commit, nft_call = [], [], []
    for i in range(n):
        handles, _ = guard_handles(ns, 'guarded')
        if len(handles) != 1:
            sys.exit(f'change {i}: {len(handles)} guards in inet guarded input')
        since = len(listener.batches)
        t0 = time.time()
        ns.run(['nft', 'delete', 'rule', 'inet', 'guarded', 'input', 'handle', str(handles[0])])
        nft_call.append(time.time() - t0)
        deleted = commit_of(listener, since, 'nft', 'guarded', 5)
        back = commit_of(listener, since, 'fwguardd', 'guarded', 5)
        from_call.append(back.time - t0)
        from_commit.append(back.time - deleted.time)
        time.sleep(gap)
    handles, out = guard_handles(ns, 'guarded')
    rules = [ln.strip() for ln in out.splitlines() if 'handle' in ln and 'chain' not in ln and 'table' not in ln]
    if len(handles) != 1 or 'fwguard ssh guard' not in rules[0] or len(rules) != 3:
        sys.exit(f'after the restores the chain is not the guard and its two rules:\n{out}')
    ns.run(['nft', 'delete', 'table', 'inet', 'guarded'])
    time.sleep(gap)
    return from_call, from_commit, nft_call


def blocks(ctx, ns, listener, n, gap):
    delays = []
    for i in range(n):
        since = len(listener.batches)
        t0 = time.time()
        ns.run(['nft', '-f', '-'], input=LOCK, text=True)
        guarded = commit_of(listener, since, 'fwguardd', 'lock', 15)
        delays.append(guarded.time - t0)
        handles, out = guard_handles(ns, 'lock')
        if len(handles) != 1:
            sys.exit(f'change {i}: the blocking chain holds {len(handles)} guards:\n{out}')
        ns.run(['nft', 'delete', 'table', 'inet', 'lock'])
        time.sleep(gap)
    return delays


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(here, '..', 'build'),
                    help='the build directory (an optimized build without sanitizers)')
    ap.add_argument('--changes', type=int, default=100, help='changes of each kind')
    ap.add_argument('--gap', type=float, default=1.0, help='seconds between two changes')
    args = ap.parse_args()
    ctx = build_ctx(args.build)

    with tempfile.TemporaryDirectory(prefix='bench-monitor.') as tmp:
        os.chmod(tmp, 0o755)
        ctx.tmp = tmp
        ns = host_netns()
        listener = daemon = None
        try:
            listener = Listener(ns)
            daemon = Daemon(ctx, ns)
            time.sleep(args.gap)        # the first check, at start
            print(f'fwguardd\'s guard monitor, {args.changes} changes of each kind, {args.gap} s apart', flush=True)
            from_call, from_commit, nft_call = restores(ctx, ns, listener, args.changes, args.gap)
            print('a removed guard put back:', flush=True)
            p50 = stats('from before `nft delete rule`', from_call, goal=10)
            stats('from the deletion\'s commit (the monitor alone)', from_commit)
            nft50 = stats('the `nft delete rule` call itself', nft_call)
            print(f'  ratio: put back (p50) / nft call (p50) = {p50 / nft50:.2f}', flush=True)
            delays = blocks(ctx, ns, listener, args.changes, args.gap)
            print('a newly blocking chain guarded:', flush=True)
            b50 = stats('from before `nft -f`', delays, goal=1000)
            print(f'  ratio: guarded (p50) / nft call (p50) = {b50 / nft50:.1f}', flush=True)
            if listener.lost:
                print(f'the listener lost events: {listener.lost}', flush=True)
        finally:
            if daemon:
                daemon.stop()
            if listener:
                listener.close()
            ns.close()


if __name__ == '__main__':
    main()
