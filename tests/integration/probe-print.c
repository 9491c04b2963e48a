/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe-print.c — a ProbeResult as "key: value" lines, for the tests' tools
 *
 * probe-tool (probe_run() directly) and sandbox-tool (sandbox_probe()) print
 * the same lines, so that probe.sh and sandbox-probe.sh read them alike.
 */
#include <stdio.h>
#include <string.h>

#include "probe-print.h"
#include "ruleset.h"

static const char *verdict_name(ProbeVerdict v) {
        switch (v) {
        case PROBE_REACHABLE: return "reachable";
        case PROBE_BLOCKED_RULE: return "rule";
        case PROBE_BLOCKED_POLICY: return "policy";
        case PROBE_REDIRECTED: return "redirect";
        case PROBE_UNEXPLAINED: return "unexplained";
        }
        return "?";
}

static const char *packet_name(ProbePacket k) {
        switch (k) {
        case PROBE_PACKET_NONE: return "none";
        case PROBE_PACKET_TCP: return "tcp";
        case PROBE_PACKET_ARP: return "arp";
        case PROBE_PACKET_ND: return "nd";
        }
        return "?";
}

bool probe_print(const ProbeResult *res) {
        bool all_ok = true;

        for (size_t i = 0; i < res->n_ports; i++) {
                const ProbePort *o = &res->ports[i];

                all_ok = all_ok && o->ok;
                printf("port %u: %s\n", o->port, o->ok ? "reachable" : "blocked");
                printf("message: %s\n", o->message);
                printf("verdict: %s\n", verdict_name(o->verdict));
                printf("error: %s\n", o->error ? strerror(-o->error) : "none");
                printf("connected: %s\n", o->connected ? "yes" : "no");
                if (o->ok)
                        continue;
                printf("packet: %s\n", packet_name(o->packet));
                if (o->table)
                        printf("blocker: %s %s %s\n", family_name(o->family), o->table, o->chain);
                if (o->base_chain)
                        printf("base-chain: %s\n", o->base_chain);
                if (o->rule)
                        printf("rule: %s\n", o->rule);
                if (o->redirect)
                        printf("redirect: %s\n", o->redirect);
                printf("guard-fixable: %s\n", o->guard_fixable ? "yes" : "no");
                printf("reject: %s\n", o->reject ? "yes" : "no");
                printf("answer: %s\n", o->answer ? "yes" : "no");
        }
        if (res->traces_lost)
                printf("traces-lost: yes\n");
        return all_ok;
}
