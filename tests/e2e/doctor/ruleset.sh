#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ruleset.sh — a live ruleset that blocks SSH, loaded with raw nft (no
# fwguardd runs here, so nothing guards it): a NEW login fails; the doctor
# runs the pre-flight on the live ruleset and names the blocking chain and
# rule, with an nft command as the fix; that fix, run as printed, makes a
# NEW login work and the finding go away. The same for a drop policy in a
# second table; a table that blocks only another port is not named.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up

srv nft -f - <<'NFT'
table inet blocker {
        chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 22 drop
        }
}
table ip other {
        chain input {
                type filter hook input priority 10; policy accept;
                tcp dport 8080 drop
        }
}
NFT
login && fail "a NEW login works through the blocking rule"
doctor "$TMP/rule"
[ "$DOCTOR_RC" = 1 ] || fail "a blocking ruleset: exit $DOCTOR_RC"
what=$(finding "$TMP/rule" ruleset-blocks-ssh what)
case $what in
"the live ruleset blocks SSH from 198.51.100.77 to 192.0.2.1 port 22 "*": port 22 is blocked by inet blocker input: rule \`tcp dport 22 drop\`") ;;
*) fail "the finding does not name the rule and its chain: $what" ;;
esac
grep -q "other" <<< "$what" && fail "the finding names a table that does not block SSH: $what"
[ "$(finding "$TMP/rule" ruleset-blocks-ssh fix)" = "nft insert rule inet blocker input tcp dport 22 accept" ] ||
        fail "unexpected fix: $(findings "$TMP/rule" ruleset-blocks-ssh)"
# The fix is for the server's ruleset: run it there.
fix=$(finding "$TMP/rule" ruleset-blocks-ssh fix)
srv sh -ec "$fix"
login || fail "no NEW login after the fix"
doctor "$TMP/rule-fixed"
no_finding "$TMP/rule-fixed" ruleset-blocks-ssh

note "a drop policy in another table"
srv nft add table inet lock
srv nft add chain inet lock input '{ type filter hook input priority 20; policy drop; }'
login && fail "a NEW login works through the drop policy"
doctor "$TMP/policy"
finding "$TMP/policy" ruleset-blocks-ssh what | grep -q "inet lock input: policy drop" ||
        fail "the finding does not name the policy: $(findings "$TMP/policy" ruleset-blocks-ssh)"
fix=$(finding "$TMP/policy" ruleset-blocks-ssh fix)
[ "$fix" = "nft insert rule inet lock input tcp dport 22 accept" ] || fail "unexpected fix: $fix"
srv sh -ec "$fix"
login || fail "no NEW login after the fix"
doctor "$TMP/policy-fixed"
no_finding "$TMP/policy-fixed" ruleset-blocks-ssh
echo ok
