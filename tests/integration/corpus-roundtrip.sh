#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# corpus-roundtrip.sh CASE — one round trip of one tests/corpus/ case.
#
# CASE is NNN-name.nft (loaded with nft -f) or NNN-name.sh (a bash script
# that builds the ruleset with the real tools). In a fresh network namespace
# the case is built, listed and saved with `fwguard save`; in a second fresh
# namespace the snapshot is restored with `fwguard restore` and listed again.
# The listings must be identical, counters included, with only the remaining
# time of timed set elements ("expires ...") stripped:
#   - nft list ruleset (and what it warns on stderr)
#   - iptables-nft-save -c, ip6tables-nft-save -c, arptables-nft-save -c and
#     ebtables-nft-save -c (empty when the case made no such table; their
#     "#" comment and date lines are dropped)
# Every restored "expires" must be > 0 and <= the one listed before the save,
# and `fwguard show` of the snapshot must print the original nft listing.
#
# Header lines at the top of a case (comments, before anything else):
#   # requires: NAME [NAME...]  kernel features from tests/kernel-features; the
#                               case is skipped only when a probe, run in a
#                               fresh namespace, says the feature is absent
#   # setup: COMMAND            shell command run in BOTH namespaces before the
#                               case is built or restored (e.g. the veth pair
#                               that netdev chains and flowtables name)
# A .sh case runs with the working directory set to a scratch directory and
# CORPUS_DIR set to tests/corpus. Nothing runs in the host's namespace.
source "${SRCDIR:?}/tests/lib/common.sh"
need_root

CASE=${1:?usage: corpus-roundtrip.sh CASE-FILE}
[ -f "$CASE" ] || fail "no such case: $CASE"
CASE=$(realpath "$CASE")
FEATURES="$SRCDIR/tests/kernel-features"
export CORPUS_DIR="$SRCDIR/tests/corpus"
export FWGUARD TMP

# ---------------------------------------------------------------- headers
requires=()
SETUP=""
while IFS= read -r line; do
        case "$line" in
        "#!"*) ;;
        "# requires:"*) read -ra names <<<"${line#*:}"; requires+=("${names[@]//,/}") ;;
        "# setup:"*) SETUP+="${line#*:}"$'\n' ;;
        "#"* | "") ;;
        *) break ;;
        esac
done <"$CASE"
export SETUP

for f in "${requires[@]}"; do
        probe=$(awk -F'\t' -v n="$f" '$1 == n { sub(/^[^\t]*\t/, ""); print; exit }' "$FEATURES")
        [ -n "$probe" ] || fail "$CASE requires '$f', which tests/kernel-features does not list"
        if ! in_netns sh -c "$probe" >/dev/null 2>&1; then
                skip "kernel-feature $f (absent here: '$probe' failed in a fresh netns)"
        fi
done

# ---------------------------------------------------------------- in a namespace
# list_all PREFIX: every listing that must survive the round trip.
list_all() {
        local p=$1 t
        # nft's warnings ("table ... is managed by iptables-nft") count too.
        nft list ruleset >"$p.nft" 2>"$p.nft-warnings"
        for t in iptables ip6tables arptables ebtables; do
                # The rc is part of the result: a table that iptables
                # cannot read must stay unreadable, not become readable.
                { "$t-nft-save" -c 2>&1; echo "exit status $?"; } | grep -v '^#' >"$p.$t" || true
        done
}

phase_build() {
        local dir=$1
        eval "$SETUP"
        case "$CASE" in
        *.nft) nft -f "$CASE" ;;
        *.sh) (cd "$dir/work" && bash -e "$CASE") ;;
        *) echo "unknown case type: $CASE" >&2; return 1 ;;
        esac
        list_all "$dir/saved"
        ip -o link show | awk -F': ' '{ print $1, $2 }' | sed 's/@.*//' >"$dir/links"
        "$FWGUARD" save "$dir/snap"
}

phase_restore() {
        local dir=$1
        eval "$SETUP"
        "$FWGUARD" restore "$dir/snap"
        list_all "$dir/restored"
}
export -f list_all phase_build phase_restore
export CASE

mkdir -p "$TMP/work"
in_netns bash -euo pipefail -c 'phase_build "$1"' _ "$TMP" || fail "building or saving $CASE failed"
in_netns bash -euo pipefail -c 'phase_restore "$1"' _ "$TMP" || fail "restoring $CASE failed"

note "$(basename "$CASE"): $(grep -c '' "$TMP/saved.nft") lines of nft listing, snapshot $(stat -c %s "$TMP/snap") bytes"
[ -s "$TMP/saved.nft" ] || fail "$CASE built an empty ruleset"

# ---------------------------------------------------------------- compare
strip_expires <"$TMP/saved.nft" >"$TMP/saved.cmp"
strip_expires <"$TMP/restored.nft" >"$TMP/restored.cmp"
same "$TMP/saved.cmp" "$TMP/restored.cmp" "nft list ruleset differs after the round trip"
same "$TMP/saved.nft-warnings" "$TMP/restored.nft-warnings" "nft list ruleset warns differently after the round trip"
for t in iptables ip6tables arptables ebtables; do
        same "$TMP/saved.$t" "$TMP/restored.$t" "$t-nft-save -c differs after the round trip"
done

# Remaining times, in listing order, as milliseconds.
expires_ms() {
        { grep -oE ' expires [0-9dhms]+' "$1" || true; } | awk '{
                s = $2; ms = 0
                while (match(s, /^[0-9]+(ms|d|h|m|s)/)) {
                        tok = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
                        n = tok + 0; u = tok; sub(/^[0-9]+/, "", u)
                        ms += n * (u == "d" ? 86400000 : u == "h" ? 3600000 : u == "m" ? 60000 : u == "s" ? 1000 : 1)
                }
                print ms
        }'
}
expires_ms "$TMP/saved.nft" >"$TMP/saved.exp"
expires_ms "$TMP/restored.nft" >"$TMP/restored.exp"
n_exp=$(grep -c '' "$TMP/saved.exp" || true)
[ "$n_exp" = "$(grep -c '' "$TMP/restored.exp" || true)" ] || fail "the number of timed elements changed"
if [ "$n_exp" -gt 0 ]; then
        paste "$TMP/saved.exp" "$TMP/restored.exp" | awk '
                !($2 > 0 && $2 <= $1) { printf "element %d: expires %d ms before the save, %d ms after the restore\n", NR, $1, $2; bad = 1 }
                END { exit bad }' >&2 || fail "a restored element's remaining time is not in (0, saved]"
        note "$n_exp timed elements: remaining times restored within (0, saved]"
fi

# ---------------------------------------------------------------- show
# show loads the snapshot into an empty namespace of its own and lists it
# there with libnftables: it must print what nft listed before the save.
# One thing it cannot represent: dup and fwd statements hold an interface
# INDEX (hooks hold names), and show's namespace has no such interface, so
# nft prints the bare number there. Those are compared as numbers: each
# `to "NAME"` / `device "NAME"` outside a hook line becomes the index that
# NAME had where the case was built.
sed_ifindex=""
while read -r idx name; do
        sed_ifindex+="/ hook /!s/ (to|device) \"$name\"/ \\1 $idx/g;"
done <"$TMP/links"
sed -E "$sed_ifindex" "$TMP/saved.cmp" >"$TMP/show.expected"
"$FWGUARD" show "$TMP/snap" >"$TMP/show.nft" || fail "fwguard show failed"
strip_expires <"$TMP/show.nft" >"$TMP/show.cmp"
same "$TMP/show.expected" "$TMP/show.cmp" "fwguard show differs from the original listing"
xt=""
for t in iptables ip6tables arptables ebtables; do
        n=$(grep -c '^-A\|^\[' "$TMP/saved.$t" || true)
        [ "$n" = 0 ] || xt+=" $t-nft-save: $n rules;"
done
note "round trip identical: nft list ruleset;${xt:- no xtables rules;} fwguard show"
# CORPUS_KEEP=DIR keeps every listing and the snapshot for a look.
if [ -n "${CORPUS_KEEP:-}" ]; then
        mkdir -p "$CORPUS_KEEP/$(basename "$CASE")"
        cp -r "$TMP/." "$CORPUS_KEEP/$(basename "$CASE")/"
fi
