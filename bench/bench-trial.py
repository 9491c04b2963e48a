#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench-trial.py — fwguardd's guarded apply and dead-man rollback against nft,
in one run.

Prints:
  - the wall time of `fwguard apply --timeout 3600 FILE` of a 5,000-rule file
    (from the call to the answer: compile in the sandbox, guard, pre-flight
    probe, durable record, commit), median of N, each in a fresh network
    namespace with a fresh daemon, beside `nft -f` of the same file:
      over an empty ruleset, and
      with a 100,000-element interval set live in another table, which must
      never be rewritten (checked on every run: no netlink event names it,
      and its listing, handles, counters and element expiry stay);
  - the rollback delay after the deadline over R trials of timeout 1 s:
    p50, p99 and max;
  - the daemon's idle RSS and wake-ups per minute, without a watchdog and
    with WATCHDOG_USEC set.
Machines differ: compare only ratios from one run.

    sudo bench/bench-trial.py [--build DIR] [--runs N] [--trials R] [--idle-sec S]

Every namespace is made here (unshare --net); the host's ruleset, routes and
addresses are never touched. The daemons run with FWGUARDD_WALL=/bin/true so
that rollbacks are not announced on the host's terminals.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Daemon, Listener, Netns, build_ctx, gen_rules, gen_set, host_netns, measure, percentile, proc_status  # noqa: E402,E501

def kib(field):
    return int(field.split()[0])


def wakeups(pid):
    """Times the daemon's threads went to sleep and were woken again: the
    context switches of every task. Reading them does not wake it."""
    total = 0
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            st = proc_status(f'{pid}/task/{tid}')
        except FileNotFoundError:
            continue
        total += int(st['voluntary_ctxt_switches']) + int(st['nonvoluntary_ctxt_switches'])
    return total


def nft_out(ns, *args):
    return ns.run(['nft'] + list(args), stdout=subprocess.PIPE, text=True).stdout


def check_applied(ns, table, n_rules):
    """The 5,000 rules and exactly one guard at the head of the chain."""
    out = nft_out(ns, 'list', 'chain', 'inet', table, 'input').splitlines()
    rules = [l.strip() for l in out if l.strip() and not l.strip().startswith(('table ', 'chain ', 'type ', '}'))]
    if len(rules) != n_rules + 1 or 'fwguard ssh guard' not in rules[0]:
        sys.exit(f'after the apply, inet {table} input has {len(rules)} rules (want {n_rules} + the guard first)')


EXPIRES = re.compile(r' expires ([0-9dhms]+)')


def seconds(s):
    units = {'d': 86400, 'h': 3600, 'm': 60, 's': 1, 'ms': 0.001}
    return sum(int(v) * units[u] for v, u in re.findall(r'(\d+)(ms|[dhms])', s))


def untouched_state(ns):
    """The bystander table as listed (handles, counters, elements), and the
    remaining time of its timed element."""
    text = nft_out(ns, '-a', 'list', 'table', 'inet', 'blocklist')
    m = EXPIRES.search(text)
    return EXPIRES.sub('', text), seconds(m.group(1)) if m else None


def apply_once(ctx, rules, bystander=None):
    """One guarded apply in a fresh namespace with a fresh daemon: its wall
    time and the daemon's peak RSS. With a bystander, verify it untouched."""
    ns = host_netns()
    d = listener = None
    try:
        if bystander:
            ns.run(['nft', '-f', bystander])
            before, exp0 = untouched_state(ns)
        d = Daemon(ctx, ns)
        if bystander:
            listener = Listener(ns)
        wall, _ = measure(ns.cmd([ctx.fwguard, 'apply', '--timeout', '3600', rules]), env=d.cli_env)
        hwm = kib(d.status()['VmHWM']) / 1024.0
        if d.fwg(['status']).stdout.strip() == 'idle':
            d.fail('the apply answered but no trial is pending')
        check_applied(ns, 'bench', ctx.n_rules)
        if bystander:
            ok = listener.wait_for(lambda b: any('bench' in x.tables for x in b), 10)
            touched = [x for x in listener.batches if 'blocklist' in x.tables]
            if not ok or listener.lost or touched:
                sys.exit(f'the bystander check failed: commit seen {ok}, lost events {listener.lost}, '
                         f'batches naming inet blocklist: {[(x.proc, x.events) for x in touched]}')
            after, exp1 = untouched_state(ns)
            if after != before:
                sys.exit('inet blocklist changed during the apply (listing, handles or counters)')
            if exp0 is None or exp1 is None or exp1 > exp0:
                sys.exit(f'the timed element of inet blocklist lost its expiry or was reset: {exp0} s -> {exp1} s')
            ctx.bystander_checks += 1
        return wall, hwm
    finally:
        if listener:
            listener.close()
        if d:
            d.stop()
        ns.close()


def nft_once(rules, bystander=None):
    ns = host_netns()
    try:
        if bystander:
            ns.run(['nft', '-f', bystander])
        return measure(ns.cmd(['nft', '-f', rules]))
    finally:
        ns.close()


def medians(runs, fn):
    got = [fn() for _ in range(runs)]
    return statistics.median(g[0] for g in got), statistics.median(g[1] for g in got)


def rollback_trials(ctx, rules, table, trials):
    """R trials of timeout 1 s in one namespace and one daemon, each left to
    roll back. The delay is from the deadline the daemon announced
    (deadline_realtime_usec) to the first netlink event of the rollback's
    kernel transaction (the second batch naming the table in this trial),
    both on CLOCK_REALTIME: the moment the live ruleset is back. We watch
    netlink rather than poll `nft list` (a poll of 5,000 rules takes ~0.1 s
    and competes for the CPU) or read the daemon's log (it has no
    timestamps outside the journal). The daemon then verifies, records and
    signals; `apply --wait` exits 4 on that signal: the end of the trial."""
    ns = host_netns()
    d = listener = None
    back, ended = [], []
    try:
        d = Daemon(ctx, ns)
        listener = Listener(ns)
        baseline = nft_out(ns, 'list', 'ruleset')
        for i in range(trials):
            first = len(listener.batches)
            p = d.fwg(['apply', '--timeout', '1', '--wait', '--json', rules], check=False)
            t_end = time.time()
            if p.returncode != 4:
                d.fail(f'trial {i}: apply --wait exit {p.returncode}, want 4: {p.stdout}{p.stderr}')
            deadline = json.JSONDecoder().raw_decode(p.stdout.lstrip())[0]['deadline_realtime_usec'] / 1e6

            def ours(b):
                return [x for x in b[first:] if table in x.tables]
            if not listener.wait_for(lambda b: len(ours(b)) >= 2, 10) or listener.lost:
                d.fail(f'trial {i}: did not see the commit and the rollback ({listener.lost})')
            commit, rollback = ours(listener.batches)[:2]
            if rollback.proc != 'fwguardd':
                d.fail(f'trial {i}: the second batch came from {rollback.proc}')
            back.append(rollback.time - deadline)
            ended.append(t_end - deadline)
            if nft_out(ns, 'list', 'ruleset') != baseline:
                d.fail(f'trial {i}: the ruleset after the rollback is not the one before')
        return back, ended, d, ns, listener
    except BaseException:
        if listener:
            listener.close()
        if d:
            d.stop()
        ns.close()
        raise


class NotifySocket:
    """A NOTIFY_SOCKET for a daemon with WATCHDOG_USEC: counts the pings."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path, self.pings = path, []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                msg = self.sock.recv(4096).decode(errors='replace')
            except OSError:
                return
            if 'WATCHDOG=1' in msg.split('\n'):
                self.pings.append(time.monotonic())


# While a trial is armed, STATUS= counts down every 5 s; that tick fires once
# more after the trial ends (then finds it gone and stops), and the last
# client's disconnection is processed a moment after it leaves. Idle means
# after that: the sample starts this long after the last activity.
IDLE_SETTLE_SEC = 6


def idle_sample(daemons, seconds_):
    """RSS, and wake-ups per minute over seconds_ seconds, per daemon; and
    the window, on CLOCK_MONOTONIC."""
    time.sleep(IDLE_SETTLE_SEC)
    t0 = time.monotonic()
    before = [wakeups(d.pid) for d in daemons]
    time.sleep(seconds_)
    out = []
    for d, w0 in zip(daemons, before):
        w1, t1 = wakeups(d.pid), time.monotonic()
        out.append((kib(d.status()['VmRSS']) / 1024.0, (w1 - w0) * 60.0 / (t1 - t0)))
    return out, (t0, time.monotonic())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(here, '..', 'build'),
                    help='the build directory (an optimized build without sanitizers)')
    ap.add_argument('--runs', type=int, default=5, help='runs per apply case (median)')
    ap.add_argument('--rules', type=int, default=5000, help='rules in the applied file')
    ap.add_argument('--set-size', type=int, default=100_000, help='elements of the bystander interval set')
    ap.add_argument('--trials', type=int, default=100, help='rollback trials')
    ap.add_argument('--trial-rules', type=int, default=5000, help='rules in the file of the rollback trials')
    ap.add_argument('--idle-sec', type=float, default=60, help='idle sample duration')
    ap.add_argument('--watchdog-sec', type=float, default=10,
                    help='WATCHDOG_USEC of the second idle daemon (0: none)')
    args = ap.parse_args()
    ctx = build_ctx(args.build)
    ctx.n_rules = args.rules
    ctx.bystander_checks = 0

    with tempfile.TemporaryDirectory(prefix='bench-trial.') as tmp:
        os.chmod(tmp, 0o755)
        ctx.tmp = tmp
        rules = os.path.join(tmp, 'rules.nft')
        gen_rules(rules, args.rules)
        bystander = os.path.join(tmp, 'blocklist.nft')
        gen_set(bystander, args.set_size, table='blocklist')
        with open(bystander, 'a') as f:
            # Something a rewrite would show: a timed element and a counter.
            f.write('table inet blocklist {\n\tset timed {\n\t\ttype ipv4_addr; flags timeout;\n'
                    '\t\telements = { 203.0.113.7 timeout 1h }\n\t}\n'
                    '\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n'
                    '\t\tip daddr @timed counter packets 42 bytes 4200 drop\n\t}\n}\n')
        trial_rules = rules
        if args.trial_rules != args.rules:
            trial_rules = os.path.join(tmp, 'trial.nft')
            gen_rules(trial_rules, args.trial_rules)

        print(f'fwguard apply --timeout 3600 (compile in the sandbox, guard, pre-flight probe, commit), '
              f'{args.rules} rules;\nmedians of {args.runs} runs, each in a fresh network namespace '
              f'with a fresh daemon', flush=True)
        print(f'{"case":26} {"operation":30} {"wall s":>8} {"peak MiB":>9}   {"ratio wall":>10}')
        cases = [('over an empty ruleset', None),
                 (f'{args.set_size // 1000}k set in another table', bystander)]
        for name, by in cases:
            apply = medians(args.runs, lambda: apply_once(ctx, rules, by))
            nft = medians(args.runs, lambda: nft_once(rules, by))
            print(f'{name:26} {"fwguard apply (daemon peak)":30} {apply[0]:8.3f} {apply[1]:9.1f}   '
                  f'{apply[0] / nft[0]:10.2f}')
            print(f'{"":26} {"nft -f":30} {nft[0]:8.3f} {nft[1]:9.1f}', flush=True)
        print(f'untouched table inet blocklist: in all {ctx.bystander_checks} applies no netlink event named it, '
              'and its listing (handles, counters, elements) and the expiry of its timed element stayed')

        print(f'\nrollback after the deadline: {args.trials} trials of timeout 1 s, '
              f'{args.trial_rules} rules, one daemon', flush=True)
        back, ended, rd, rns, rlistener = rollback_trials(ctx, trial_rules, 'bench', args.trials)
        try:
            ms = [x * 1000 for x in back]
            ms_end = [x * 1000 for x in ended]
            print(f'  deadline -> live ruleset back (kernel commit): p50 {percentile(ms, 50):7.1f} ms  '
                  f'p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms  min {min(ms):6.1f} ms')
            print(f'  deadline -> trial ended (apply --wait exits):  p50 {percentile(ms_end, 50):7.1f} ms  '
                  f'p99 {percentile(ms_end, 99):7.1f} ms  max {max(ms_end):7.1f} ms')

            print(f'\nidle daemon, sampled over {args.idle_sec:g} s', flush=True)
            rlistener.close()
            wd = wns = None
            daemons = [rd]
            if args.watchdog_sec > 0:
                wns = host_netns()
                notify = NotifySocket(os.path.join(tmp, 'notify'))
                wd = Daemon(ctx, wns, {'NOTIFY_SOCKET': notify.path,
                                       'WATCHDOG_USEC': str(int(args.watchdog_sec * 1e6))})
                fresh_rss = kib(wd.status()['VmRSS']) / 1024.0
                daemons.append(wd)
            try:
                got, (t0, t1) = idle_sample(daemons, args.idle_sec)
            finally:
                if wd:
                    wd.stop()
                    wns.close()
            rss, wpm = got[0]
            print(f'  after the {args.trials} trials, no watchdog:  RSS {rss:6.1f} MiB  wake-ups/min {wpm:6.1f}')
            if wd:
                rss_w, wpm_w = got[1]
                ppm = sum(t0 <= t <= t1 for t in notify.pings) * 60.0 / (t1 - t0)
                print(f'  fresh, WATCHDOG_USEC={args.watchdog_sec:g} s:       RSS {rss_w:6.1f} MiB  '
                      f'wake-ups/min {wpm_w:6.1f}  (WATCHDOG=1 pings/min {ppm:.1f}; RSS at start {fresh_rss:.1f} MiB)')
        finally:
            rd.stop()
            rns.close()
        print('\ngoals: apply <= 2x nft -f over an empty ruleset; rollback p99 <= 1 s; '
              'idle: no wake-ups but the watchdog\'s (0 without WATCHDOG_USEC)')


if __name__ == '__main__':
    main()
