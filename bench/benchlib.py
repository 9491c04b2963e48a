# SPDX-License-Identifier: GPL-2.0-or-later
"""benchlib.py — what the bench/ scripts share: the generated rulesets, a
fresh network namespace (and one that looks like a host to the pre-flight),
timing a command, a listener on the nftables events, and a fresh fwguardd.

Everything that touches nftables runs in a network namespace made here
(unshare --net): the host's ruleset, routes and addresses are never changed.
"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
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


# A listener on the nftables netlink multicast group, run inside the
# namespace. It prints one line per commit batch when the batch's closing
# NFT_MSG_NEWGEN arrives: the wall clock (CLOCK_REALTIME) at which the
# batch's first event arrived and at which NEWGEN did, the new generation,
# the process that committed, the number of events and the tables they
# named. The kernel sends a commit's events only after it switched to the
# new generation, so the first event's arrival is when the live ruleset
# changed (NEWGEN, the last message, reaches us 10-30 ms later on a 5,000-
# event batch: that is our own parsing). Netlink carries no timestamps.
# Reading netlink directly (rather than `nft monitor`) costs little CPU,
# which matters on a 2-core machine while an apply is being timed.
LISTENER = r'''
import os, socket, struct, sys, time
NFNLGRP_NFTABLES, NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWGEN = 7, 10, 15
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)   # NETLINK_NETFILTER
s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)                # SO_RCVBUFFORCE
s.bind((0, 1 << (NFNLGRP_NFTABLES - 1)))
print("ready", flush=True)

def attrs(b, off, end):
    while off + 4 <= end:
        n, t = struct.unpack_from("HH", b, off)
        if n < 4:
            return
        yield t & 0x3fff, bytes(b[off + 4:off + n])
        off += (n + 3) & ~3

# The kernel puts the table name first in every event, so the scan for it
# stops at once. That keeps the listener ahead of a
# 5,000-event batch, so that NEWGEN is read as soon as it comes.
events, tables, first = 0, set(), None
while True:
    try:
        buf = s.recv(1 << 22)
    except OSError as e:
        print("lost %s" % e, flush=True)
        events, tables, first = 0, set(), None
        continue
    now = time.time()
    off, end = 0, len(buf)
    while off + 20 <= end:
        n, typ = struct.unpack_from("IH", buf, off)
        if typ >> 8 == NFNL_SUBSYS_NFTABLES:
            if typ & 0xff == NFT_MSG_NEWGEN:
                a = dict(attrs(buf, off + 20, off + n))
                gen = struct.unpack(">I", a.get(1, b"\0\0\0\0"))[0]
                proc = a.get(3, b"?").rstrip(b"\0").decode()
                print("gen %.6f %.6f %d %s %d %s" % (first or now, now, gen, proc, events,
                      b",".join(sorted(tables)).decode(errors="replace") or "-"), flush=True)
                events, tables, first = 0, set(), None
            else:
                events += 1
                first = first or now
                for t, v in attrs(buf, off + 20, off + n):
                    if t == 1:      # NFTA_{TABLE_NAME,CHAIN_TABLE,RULE_TABLE,SET_TABLE,...}
                        tables.add(v.rstrip(b"\0"))
                        break
        off += (n + 3) & ~3
'''


class Batch:
    def __init__(self, line):
        _, t, t_gen, gen, proc, events, tables = line.split(' ')
        self.time, self.time_gen = float(t), float(t_gen)
        self.gen, self.proc, self.events = int(gen), proc, int(events)
        self.tables = set() if tables == '-' else set(tables.split(','))


class Listener:
    """The netlink listener above, in a namespace; .batches grows as commits
    arrive."""

    def __init__(self, ns):
        self.batches, self.lost = [], []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(ns.cmd([sys.executable, '-c', LISTENER]), stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != 'ready':
            sys.exit('the netlink listener did not start')
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                if line.startswith('gen '):
                    self.batches.append(Batch(line.strip()))
                else:
                    self.lost.append(line.strip())
                self.cv.notify_all()

    def wait_for(self, pred, timeout):
        with self.cv:
            return self.cv.wait_for(lambda: pred(self.batches), timeout)

    def close(self):
        self.proc.kill()
        self.proc.wait()


def proc_status(pid):
    with open(f'/proc/{pid}/status') as f:
        return dict(line.split(':', 1) for line in f if ':' in line)


class Daemon:
    """A fresh fwguardd in a namespace, with private state and runtime
    directories, as tests/lib/daemon.sh starts it."""

    def __init__(self, ctx, ns, env_extra=None):
        self.ctx, self.ns = ctx, ns
        self.dir = tempfile.mkdtemp(prefix='fwgd.', dir=ctx.tmp)
        self.run_dir = os.path.join(self.dir, 'run')
        conf = os.path.join(self.dir, 'fwguard.conf')
        with open(conf, 'w') as f:
            f.write('[trial]\ntimeout_min_sec = 1\n')
        self.log = os.path.join(self.dir, 'daemon.log')
        env = {k: v for k, v in os.environ.items()
               if k not in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID')}
        env.update(FWGUARD_SANDBOX=ctx.sandbox, FWGUARDD_WALL='/bin/true')
        env.update(env_extra or {})
        self.cli_env = dict(os.environ, FWGUARD_RUNTIME_DIR=self.run_dir)
        with open(self.log, 'w') as log:
            # nsenter without --fork execs: the pid is fwguardd's.
            self.proc = subprocess.Popen(ns.cmd([ctx.fwguardd, '--state-dir', os.path.join(self.dir, 'state'),
                                                 '--runtime-dir', self.run_dir, '--config', conf]),
                                         stderr=log, env=env)
        self.pid = self.proc.pid
        for _ in range(400):
            if self.proc.poll() is not None:
                self.fail('fwguardd died at start')
            if os.path.exists(os.path.join(self.run_dir, 'bus')) and self.fwg(['status'], check=False).returncode == 0:
                return
            time.sleep(0.025)
        self.fail('fwguardd did not answer')

    def fwg(self, args, check=True, **kw):
        p = subprocess.run(self.ns.cmd([self.ctx.fwguard] + args), env=self.cli_env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
        if check and p.returncode != 0:
            self.fail(f'fwguard {" ".join(args)}: exit {p.returncode}: {p.stdout}{p.stderr}')
        return p

    def fail(self, why):
        with open(self.log) as f:
            sys.stderr.write(f.read())
        self.stop()
        sys.exit(why)

    def status(self):
        return proc_status(self.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Ctx:
    pass


def build_ctx(build):
    """A Ctx with the binaries of the build directory @build, as root; exits
    with the reason otherwise."""
    if os.geteuid() != 0:
        sys.exit('run as root (it makes network namespaces)')
    ctx = Ctx()
    build = os.path.abspath(build)
    ctx.fwguard = os.path.join(build, 'cli', 'fwguard')
    ctx.fwguardd = os.path.join(build, 'daemon', 'fwguardd')
    ctx.sandbox = os.path.join(build, 'sandbox', 'fwguard-sandbox')
    for exe in (ctx.fwguard, ctx.fwguardd, ctx.sandbox):
        if not os.access(exe, os.X_OK):
            sys.exit(f'missing {exe}: build first (see bench/README)')
    return ctx


def host_netns():
    """A namespace that looks like a host to the pre-flight: an interface
    with an address (a veth, 192.0.2.1/24), as tests/lib/sshenv.sh has."""
    ns = Netns()
    ns.run(['ip', 'link', 'set', 'lo', 'up'])
    ns.run(['ip', 'link', 'add', 'fwb0', 'type', 'veth', 'peer', 'name', 'fwb1'])
    ns.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'fwb0'])
    ns.run(['ip', 'link', 'set', 'fwb0', 'up'])
    ns.run(['ip', 'link', 'set', 'fwb1', 'up'])
    return ns


def percentile(xs, p):
    """Nearest-rank percentile."""
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, -(-p * len(xs) // 100) - 1))]
