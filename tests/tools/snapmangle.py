#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""snapmangle.py — rewrite one attribute of a fwguard snapshot and fix its CRCs.

Used by tests to make an object that parses fine but that the kernel refuses,
so that a restore fails halfway through its batch.

    snapmangle.py IN OUT chain-policy TABLE CHAIN VALUE
"""
import struct
import sys
import zlib

HDR = 56
NFT_MSG_NEWCHAIN = 3
NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, NFTA_CHAIN_POLICY = 1, 3, 5


def attrs(buf, off, end):
    while off + 4 <= end:
        alen, atype = struct.unpack_from('<HH', buf, off)
        if alen < 4:
            break
        yield off, atype & 0x3fff, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def main():
    src, dst, what, table, chain, value = sys.argv[1:7]
    assert what == 'chain-policy'
    d = bytearray(open(src, 'rb').read())
    payload_len = struct.unpack_from('<Q', d, 40)[0]
    off, done = HDR, False
    while off < HDR + payload_len:
        ln, typ = struct.unpack_from('<IH', d, off)
        if typ & 0xff == NFT_MSG_NEWCHAIN:
            a = {t: (o, v) for o, t, v in attrs(d, off + 20, off + ln)}
            if (a.get(NFTA_CHAIN_TABLE, (0, b''))[1].rstrip(b'\0') == table.encode() and
                    a.get(NFTA_CHAIN_NAME, (0, b''))[1].rstrip(b'\0') == chain.encode() and
                    NFTA_CHAIN_POLICY in a):
                struct.pack_into('>I', d, a[NFTA_CHAIN_POLICY][0] + 4, int(value))
                done = True
        off += (ln + 3) & ~3
    if not done:
        sys.exit('no such base chain with a policy')
    struct.pack_into('<I', d, 48, zlib.crc32(bytes(d[HDR:HDR + payload_len])))
    struct.pack_into('<I', d, 52, zlib.crc32(bytes(d[:52])))
    open(dst, 'wb').write(d)


if __name__ == '__main__':
    main()
