# SPDX-License-Identifier: GPL-2.0-or-later
# system.sh — what the system tests share on top of container.sh: the
# daemon's settings, the state it reports, the expected rulesets.
. "$SRCDIR/tests/lib/common.sh"
. "$SRCDIR/tests/system/lib/container.sh"

# The container's fwguard.conf with short trial bounds (tests wait seconds,
# not minutes), then fwguardd restarted to read it. Extra lines go after.
ct_config() {
        mkdir -p "$CT_ROOT/etc/fwguard"
        {
                printf '[trial]\ntimeout_min_sec = 1\ntimeout_default_sec = 30\n'
                printf '%s\n' "$@"
        } > "$CT_ROOT/etc/fwguard/fwguard.conf"
        ct systemctl restart fwguardd.service
}

ct_nft() { ct nft list ruleset; }

# `fwguard status --json` / `history --json`, one field of it (python path).
ct_status() { ct fwguard status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
ct_outcome() { # ID
        ct fwguard history --json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if str(e.get("id")) == sys.argv[1]:
        print(e.get("outcome", ""))' "$1"
}

# Wait until no trial is pending (default 30 s).
ct_wait_idle() {
        local i
        for i in $(seq $((${1:-30} * 10))); do
                [ "$(ct_status "['state']" 2> /dev/null)" = idle ] && return 0
                sleep 0.1
        done
        return 1
}

# What FILE lists as, loaded by plain nft into a scratch namespace.
plain_nft() { unshare -n sh -c "nft -f '$1' && nft list ruleset"; }

# Is LIVE exactly PLAIN plus the SSH guard on PORTS in CHAIN...?
guarded_as() { # PLAIN LIVE PORTS CHAIN...
        python3 "$SRCDIR/tests/tools/guardcheck.py" "$@" || fail "the live ruleset is not the change plus the guard"
}

# Can a client reach sshd (its banner), without logging in (a login would
# run the login hook and confirm)?
ct_banner() { # [PORT]
        ct_in timeout 5 bash -c "exec 3<>/dev/tcp/$CT_ADDR/${1:-22}; head -c 7 <&3" 2> /dev/null | grep -q '^SSH-2.0'
}

# A ruleset that locks SSH out (policy drop, only established traffic and
# loopback), as /root/lock.nft in the container, and what plain nft makes
# of it in $TMP/plain.txt.
ct_lock_file() {
        cat > "$CT_ROOT/root/lock.nft" <<'NFT'
table inet lockme {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		iif "lo" accept
	}
}
NFT
        plain_nft "$CT_ROOT/root/lock.nft" > "$TMP/plain.txt"
}

# `fwguard apply --timeout SEC FILE` in the container: sets TRIAL_ID.
ct_apply() { # SEC FILE
        ct fwguard apply --timeout "$1" --json "$2" > "$TMP/apply.json" || fail "apply failed: $(cat "$TMP/apply.json")"
        TRIAL_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trial"])' "$TMP/apply.json")
}
