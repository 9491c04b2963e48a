#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bad-snapshot.sh — `fwguard restore` of damaged and wrong files.
#
# A valid snapshot is saved in one namespace and damaged in every way a file
# can be: cut at many offsets, single bits flipped, a wrong magic or version,
# a huge payload size, broken records behind correct checksums, empty,
# /dev/null, a directory, a path that does not exist. In a second namespace
# that holds a ruleset of its own, each restore must exit with exactly 1, say
# which file and what is wrong with it, and leave `nft list ruleset` as it was.
. "$SRCDIR/tests/lib/common.sh"
need_root

cat > "$TMP/snap.nft" <<'NFT'
table inet filter {
        set allowed {
                type ipv4_addr
                elements = { 192.0.2.1, 192.0.2.2 }
        }
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                ip saddr @allowed tcp dport 22 counter accept
                log prefix "dropped: " drop
        }
}
NFT
cat > "$TMP/live.nft" <<'NFT'
table ip live {
        counter seen {
                packets 5 bytes 500
        }
        chain output {
                type filter hook output priority 0; policy accept;
                udp dport 53 counter name "seen" accept
                meta mark 0x00000007 drop
        }
}
NFT
in_netns sh -c "nft -f '$TMP/snap.nft' && '$FWGUARD' save '$TMP/good.fwg'" || fail "cannot build the snapshot"

# ---------------------------------------------------------------- the bad files
# cases.tsv: FILE <tab> what its message must say
mkdir "$TMP/bad"
python3 - "$TMP/good.fwg" "$TMP/bad" > "$TMP/cases.tsv" <<'PY'
import struct, sys, zlib

good, out = open(sys.argv[1], 'rb').read(), sys.argv[2]
HDR = 56
n = 0

def case(data, want):
    global n
    n += 1
    path = '%s/%03d.fwg' % (out, n)
    open(path, 'wb').write(bytes(data))
    print('%s\t%s' % (path, want))

def fixed(data, crcs=('header',)):
    d = bytearray(data)
    if 'payload' in crcs:
        size = len(d) - HDR
        struct.pack_into('<Q', d, 40, size)
        struct.pack_into('<I', d, 48, zlib.crc32(bytes(d[HDR:])))
    struct.pack_into('<I', d, 52, zlib.crc32(bytes(d[:52])))
    return d

# Cut short, from nothing to one byte less than the whole.
for cut in sorted({0, 1, 7, 8, 9, 31, 52, 55, 56, 57, 60, 75, 100, len(good) // 3, len(good) // 2,
                   len(good) - 8, len(good) - 4, len(good) - 1}):
    case(good[:cut], 'wrong magic' if cut < 8 else 'truncated')

# One bit flipped: the magic, the header, its CRC, the payload.
for bit in (0, 3 * 8 + 1, 8 * 8, 20 * 8 + 5, 40 * 8 + 7, 47 * 8, 48 * 8 + 2, 52 * 8, 55 * 8 + 7,
            HDR * 8, (HDR + 4) * 8 + 3, (len(good) // 2) * 8 + 6, len(good) * 8 - 1):
    d = bytearray(good)
    d[bit // 8] ^= 1 << (bit % 8)
    byte = bit // 8
    case(d, 'wrong magic' if byte < 8 else 'corrupt header' if byte < HDR else 'corrupt payload')

d = bytearray(good); d[0:8] = b'FWGSNAP1'; case(d, 'wrong magic')
case(b'table inet filter {\n}\n', 'wrong magic')
d = bytearray(good); struct.pack_into('<I', d, 8, 2); case(fixed(d), 'format version 2')
d = bytearray(good); struct.pack_into('<I', d, 8, 0); case(fixed(d), 'format version 0')
d = bytearray(good); struct.pack_into('<Q', d, 40, 1 << 62); case(fixed(d), 'exceeds the limit')
d = bytearray(good); struct.pack_into('<Q', d, 40, 1 << 30); case(fixed(d), 'truncated')
case(fixed(good + b'\0' * 8, ('header', 'payload')), 'bad length')
case(good + b'junk', 'trailing garbage')

# Broken records behind correct checksums.
recs, off = [], HDR
while off < len(good):
    ln = struct.unpack_from('<I', good, off)[0]
    recs.append(bytearray(good[off:off + ((ln + 3) & ~3)]))
    off += (ln + 3) & ~3

def records(rs, want):
    d = bytearray(good[:HDR]) + b''.join(rs)
    struct.pack_into('<I', d, 24, len(rs))
    case(fixed(d, ('header', 'payload')), want)

r = [bytearray(x) for x in recs]; struct.pack_into('<H', r[0], 4, 0x0a00 | 0x10); records(r, 'invalid')
r = [bytearray(x) for x in recs]; struct.pack_into('<I', r[1], 0, 7); records(r, 'bad length')
records([recs[1], recs[0]] + recs[2:], 'invalid chain')
records(recs + [recs[0]], 'invalid table')
r = [bytearray(x) for x in recs]; struct.pack_into('<I', r[-1], 0, len(r[-1]) - 2); records(r, 'invalid rule')

# Attributes libnftnl would exit on, or read past: the table's flags as 16
# bits, its name without the NUL.
def table_attr(atype, delta):
    r = [bytearray(x) for x in recs]
    t, off = r[0], 20
    while off < len(t):
        alen, at = struct.unpack_from('<HH', t, off)
        if at & 0x3fff == atype:
            struct.pack_into('<H', t, off, alen + delta)
            return r
        off += (alen + 3) & ~3
    sys.exit('no attribute %d in the table record' % atype)
records(table_attr(2, -2), 'invalid table')
records(table_attr(1, -1), 'invalid table')
PY

# ---------------------------------------------------------------- restoring them
mkdir "$TMP/a-directory"
printf '%s\t%s\n' "$TMP/empty.fwg" "wrong magic" /dev/null "wrong magic" \
        "$TMP/a-directory" "Is a directory" "$TMP/does-not-exist.fwg" "No such file or directory" >> "$TMP/cases.tsv"
: > "$TMP/empty.fwg"
note "$(grep -c '' "$TMP/cases.tsv") bad files"

export FWGUARD TMP
in_netns bash -euo pipefail -c '
        nft -f "$TMP/live.nft"
        nft list ruleset > "$TMP/before.txt"
        [ -s "$TMP/before.txt" ]
        bad=0
        while IFS=$'"'"'\t'"'"' read -r file want; do
                rc=0
                "$FWGUARD" restore "$file" > "$TMP/out.txt" 2> "$TMP/err.txt" || rc=$?
                msg=$(cat "$TMP/err.txt")
                problem=""
                [ "$rc" = 1 ] || problem="exit code $rc, not 1"
                grep -qF -- "$file: " "$TMP/err.txt" || problem+="${problem:+; }the message does not name the file"
                grep -qF -- "$want" "$TMP/err.txt" || problem+="${problem:+; }the message does not say \"$want\""
                [ "$(grep -c "" "$TMP/err.txt")" = 1 ] || problem+="${problem:+; }not one line of error"
                nft list ruleset | cmp -s - "$TMP/before.txt" || problem+="${problem:+; }the ruleset changed"
                if [ -n "$problem" ]; then
                        echo "FAIL: $file: $problem: $msg" >&2
                        bad=1
                fi
        done < "$TMP/cases.tsv"
        nft list ruleset > "$TMP/after.txt"
        exit $bad
' || fail "some bad files were not refused cleanly"
same "$TMP/before.txt" "$TMP/after.txt" "the live ruleset changed"
note "every bad file refused with exit code 1 and a message; the live ruleset untouched"
