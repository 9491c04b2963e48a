/* SPDX-License-Identifier: GPL-2.0-or-later */
/* change.h — from a caller's file to a guarded, checked change: what check, diff and apply share */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "ports.h"
#include "preflight.h"
#include "ruleset.h"

/* Who the change is for: files, includes among them, are read with these
 * credentials, and the caller's SSH connection (found from @pid) is where
 * the reachability probe comes from. */
typedef struct ChangeCaller {
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        pid_t pid;              /* 0: unknown, probe from the config's probe addresses */
} ChangeCaller;

/* Make S1 from @s0 and the input @fd (a file or a pipe, read to EOF; its
 * magic tells a snapshot from nft text).
 *   snapshot: its tables replace the live ones of the same name; live tables
 *             it does not hold stay, unless @replace_all (then they are
 *             deleted; tables owned by another process never are);
 *   nft text: compiled in the sandbox as @caller.
 * Returns 0 with *ret_s1, or a negative errno with *ret_errors (text for
 * the user, may be NULL on -ENOMEM):
 *   -EINVAL   nft refused the text: "FILE:LINE:COL: message" lines;
 *   -EBADMSG  a damaged snapshot;
 *   -EPERM    the snapshot holds a table that another process owns here;
 *   other     as sandbox_compile(). */
int change_load(int fd, const char *display_name, const Ruleset *s0, const Config *cfg,
                const ChangeCaller *caller, bool replace_all, Ruleset **ret_s1, char **ret_errors);

typedef struct ChangeCheck {
        SshPort *ports;                 /* the SSH ports, and how each was found */
        size_t n_ports;
        char notes[1024];               /* about the ports; "" if nothing to say */
        PreflightTarget *targets;       /* where the probes came from */
        size_t n_targets;
        Preflight *preflight;           /* S1', the touched tables, the verdicts */
        char legacy[256];               /* iptables-legacy tables found, "" if none */
} ChangeCheck;

ChangeCheck *change_check_free(ChangeCheck *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ChangeCheck *, change_check_free);

/* Find the SSH ports and, if @probe, the probe targets (the caller's own SSH
 * connection when @caller_pid leads to one, else the config's probe
 * addresses), then guard S1 and, if @probe, probe S1 and S1' in the sandbox
 * (preflight_run()). Without @probe the touched tables are guarded, there
 * are no targets, and both verdicts say "reachable" with no results.
 * Returns 0, or a negative errno with *ret_errors saying what failed. */
int change_check(const Ruleset *s0, const Ruleset *s1, const Config *cfg, pid_t caller_pid,
                 bool probe, ChangeCheck **ret, char **ret_errors);

/* The iptables-legacy tables of this network namespace (from
 * /proc/net/{ip,ip6,arp}_tables_names), as "filter (iptables), nat
 * (ip6tables)"; "" when there are none. */
void change_legacy_tables(char *buf, size_t len);

/* Which tool a table belongs to, by the names those tools give it:
 * "docker", "fail2ban", "ufw", "firewalld", or NULL. */
const char *change_table_owner(const RsTable *t);

/* The report of `fwguard check` on @f, as text or JSON; @what names the
 * input ("rules.nft", "the live ruleset"). Returns the check's exit code:
 * 0 when SSH stays reachable as written, 3 when it does not. */
int change_report_check(FILE *f, const char *what, const ChangeCheck *c, bool json);

/* The report of `fwguard diff` on @f: what turning @s0 into @s1 changes,
 * table by table, as nft text or JSON; @what names the input. In JSON the
 * warnings (a deleted table, and the tool it belongs to) are in the object;
 * as text they go to @warn (the CLI's stderr; NULL: @f). Returns 0, or a
 * negative errno with @err saying what failed. */
int change_report_diff(FILE *f, FILE *warn, const char *what, const Ruleset *s0, const Ruleset *s1,
                       bool json, char *err, size_t errlen);
