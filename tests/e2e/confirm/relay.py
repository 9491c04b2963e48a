# SPDX-License-Identifier: GPL-2.0-or-later
# relay.py HOST PORT CONNECTED GO — an ssh ProxyCommand that opens the TCP
# connection at once (touching CONNECTED), then holds the SSH protocol back
# until the file GO exists: a connection that came in before a commit whose
# login (and shell) completes after it.
import os, socket, sys, threading, time

s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[4]):
    time.sleep(0.05)


def up():
    while True:
        d = os.read(0, 65536)
        if not d:
            s.shutdown(socket.SHUT_WR)
            return
        s.sendall(d)


threading.Thread(target=up, daemon=True).start()
while True:
    d = s.recv(65536)
    if not d:
        break
    os.write(1, d)
