#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""trialrecord.py — read or rewrite one field of a trial record (lib/trial.c).

    trialrecord.py RECORD get KEY
    trialrecord.py RECORD set KEY VALUE

The record is "key=value" lines after a "fwguard-trial 1" line, ending in
"crc32=%08x" of everything before that line. `set` replaces the value of KEY
(which must be there, once), writes a new checksum, and replaces the file by
a rename, as the daemon does, so that the result is a record the daemon
believes.
"""
import os
import sys
import zlib

MAGIC = 'fwguard-trial 1'


def load(path):
    text = open(path, encoding='ascii').read()
    body, sep, crc_line = text.rstrip('\n').rpartition('\n')
    body += sep
    if not body.startswith(MAGIC + '\n') or not crc_line.startswith('crc32='):
        sys.exit(f'{path}: not a trial record')
    if int(crc_line[6:], 16) != zlib.crc32(body.encode()):
        sys.exit(f'{path}: the checksum does not match')
    return body.splitlines()


def main():
    path, op, key = sys.argv[1:4]
    lines = load(path)
    found = [i for i, line in enumerate(lines) if line.startswith(key + '=')]
    if len(found) != 1:
        sys.exit(f'{path}: {key} appears {len(found)} times')
    if op == 'get':
        print(lines[found[0]].split('=', 1)[1])
        return
    if op != 'set':
        sys.exit(f'unknown operation {op}')
    lines[found[0]] = f'{key}={sys.argv[4]}'
    body = '\n'.join(lines) + '\n'
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='ascii') as f:
        f.write(body + f'crc32={zlib.crc32(body.encode()):08x}\n')
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


if __name__ == '__main__':
    main()
