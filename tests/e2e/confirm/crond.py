#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# crond.py DIR — a cron-like root daemon for confirm/outside.sh: it detaches
# (double fork, setsid: its parent becomes PID 1, or the nearest
# subreaper), calls itself "sshd" and, for each DIR/NAME.job that appears,
# runs it with /bin/sh in an environment that claims an ssh login; NAME.out
# gets the output, NAME.rc the exit status. DIR/pid: the daemon's pid.
import ctypes, os, sys, time

d = sys.argv[1]
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
ctypes.CDLL(None).prctl(15, b"sshd", 0, 0, 0)  # PR_SET_NAME
fd = os.open("/dev/null", os.O_RDWR)
for i in (0, 1, 2):
    os.dup2(fd, i)
os.chdir("/")
with open(os.path.join(d, "pid.new"), "w") as f:
    f.write(f"{os.getpid()}\n")
os.rename(os.path.join(d, "pid.new"), os.path.join(d, "pid"))
env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LOGNAME": "root", "USER": "root",
       "SHELL": "/bin/sh", "SSH_CONNECTION": "192.0.2.2 40000 192.0.2.1 22",
       "SSH_CLIENT": "192.0.2.2 40000 22", "SSH_TTY": "/dev/pts/0"}
while True:
    for name in sorted(os.listdir(d)):
        if not name.endswith(".job"):
            continue
        job = os.path.join(d, name)
        base = job[:-4]
        os.rename(job, base + ".run")
        pid = os.fork()
        if pid == 0:
            out = os.open(base + ".out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.execve("/bin/sh", ["/bin/sh", base + ".run"], env)
        _, status = os.waitpid(pid, 0)
        with open(base + ".rc.new", "w") as f:
            f.write(f"{os.waitstatus_to_exitcode(status)}\n")
        os.rename(base + ".rc.new", base + ".rc")
    time.sleep(0.05)
