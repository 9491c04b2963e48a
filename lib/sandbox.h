/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.h — compile nft text with the caller's permissions, and probe rulesets, in an isolated child */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe.h"
#include "ruleset.h"
#include "sandbox-proto.h"      /* SANDBOX_PROBE_PORTS_MAX, SANDBOX_PROBE_TIMEOUT_MS_MAX */

#define SANDBOX_DEFAULT_TIMEOUT_SEC 10
#define SANDBOX_DEFAULT_MEMORY (1024ULL * 1024 * 1024)
#define SANDBOX_DEFAULT_NOFILE 128

/* 0 in any field means its default. */
typedef struct SandboxLimits {
        unsigned timeout_sec;   /* wall clock for the whole run (a probe's own budget comes
                                 * on top); also the CPU-time limit */
        uint64_t memory_bytes;  /* address space of the child (RLIMIT_AS) */
        unsigned nofile;        /* open files of the child (RLIMIT_NOFILE) */
} SandboxLimits;

typedef struct SandboxRequest {
        /* The caller: every file, includes among them, is read with these. */
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        int rules_fd;           /* nft text: a file, or a pipe (stdin); read to EOF by the child */
        const char *display_name; /* only for messages: "rules.nft"; "-" prints as "stdin" */
        const Ruleset *s0;      /* the live ruleset the rules apply to */
        SandboxLimits limits;
} SandboxRequest;

/* From now on, compiles and probes do not fork the sandbox but connect to
 * the sandbox service listening at @socket_path (SOCK_SEQPACKET; systemd's
 * fwguard-sandbox.socket, or anything that runs fwguard-sandbox-spawner per
 * connection the same way), which must run as root. NULL: fork it again.
 * For the whole process: call it before any thread runs the sandbox.
 * @socket_path is kept, not copied. */
void sandbox_set_service(const char *socket_path);
/* Is a sandbox service set? */
bool sandbox_has_service(void);

/* Load @req->s0 into a fresh network namespace whose placeholder links carry
 * the host's interface names, indexes and addresses, run the rules there with
 * libnftables as the caller, and hand back the resulting ruleset S1. Tables
 * that are owned in S0 are marked owned in S1 too. Nothing live is touched.
 * The sandbox executable is $FWGUARD_SANDBOX, else LIBEXECDIR/fwguard-sandbox,
 * forked here or started by the sandbox service (sandbox_set_service()).
 *
 * Returns 0 with *ret_s1 set, or a negative errno with *ret_errors (if not
 * NULL) set to text for the user:
 *   -EINVAL     nft refused the rules; the text is its errors, one
 *               "FILE:LINE:COL: message" line each, then the source context;
 *   -ETIMEDOUT  the child ran out of wall-clock or CPU time and was killed;
 *   -ENOMEM     the child ran out of memory;
 *   -EPROTO     the child crashed, or answered outside the protocol;
 *   other       the sandbox could not be set up (the text says which step).
 * *ret_s1 is untouched on failure, *ret_errors NULL on success. */
int sandbox_compile(const SandboxRequest *req, Ruleset **ret_s1, char **ret_errors);

typedef struct SandboxProbeRequest {
        const Ruleset *rs;              /* the ruleset to test (S1 as written, or guarded) */
        const char *host_if;            /* host interface: its placeholder is the server side */
        ProbeAddr server, client;       /* lib/probe.h */
        const uint16_t *ports;
        size_t n_ports;                 /* 1..SANDBOX_PROBE_PORTS_MAX */
        unsigned timeout_ms;            /* per port, 0: default */
        SandboxLimits limits;
} SandboxProbeRequest;

/* Run the reachability probe in a fresh sandbox with @req->rs loaded. 0 with
 * @ret filled (ProbeResult as from probe_run, owned by the caller: probe_result_free),
 * or a negative errno with *ret_errors saying why (same conventions as sandbox_compile).
 *
 * The sandbox's network namespace has placeholders of the host's links, as
 * for sandbox_compile(), and @req->rs loaded (owned tables as plain ones).
 * The probe connects from @req->client, through the peer of the
 * placeholder of @req->host_if, to @req->server on that placeholder.
 * Nothing live is touched: the host's ruleset, links, addresses and routes
 * stay as they are. The deadline is @req->limits.timeout_sec (for setting
 * up) plus the probe's own budget (probe_budget_ms()).
 *
 * Returns 0 with @ret filled: blocked ports are a result, not an error.
 * Otherwise *ret_errors (if not NULL) says why:
 *   -EINVAL     the request is invalid (interface name, addresses, ports,
 *               timeout above SANDBOX_PROBE_TIMEOUT_MS_MAX);
 *   -ENODEV     the host has no interface @req->host_if;
 *   -ETIMEDOUT, -ENOMEM, -EPROTO, other: as for sandbox_compile(); among
 *               the others, the probe itself failed (the text says how).
 * @ret is untouched on failure, *ret_errors NULL on success. */
int sandbox_probe(const SandboxProbeRequest *req, ProbeResult *ret, char **ret_errors);

/* nft's listing of @rs, made in a fresh sandbox (as for sandbox_probe(),
 * with placeholders of the host's links: interfaces print by name), written
 * to @out_fd. 0, or a negative errno with *ret_errors saying why (-ETIMEDOUT,
 * -ENOMEM, -EPROTO, other: as for sandbox_compile()). The text is nft's,
 * passed on unchecked: it is for people and for diffs, never parsed. */
int sandbox_list(const Ruleset *rs, int out_fd, char **ret_errors);

/* ---------------------------------------------------------------- the run profile */

#include "runfiles.h"

typedef struct SandboxRunRequest {
        char *const *argv;              /* the command; argv[0] is looked up in $PATH */
        const Ruleset *seed;            /* the live ruleset: loaded into the sandbox's netns */
        char *const *overlay_dirs;      /* [run] overlay_dirs: absolute, normalized */
        size_t n_overlay_dirs;
        char *const *private_files;     /* [run] private_files: absolute, normalized */
        size_t n_private_files;
        int in_fd, out_fd;              /* relayed to and from the command's pty; in_fd -1: none */
        unsigned timeout_sec;           /* 0: no limit (a prompt may wait for a person) */
} SandboxRunRequest;

typedef struct SandboxRunResult {
        int exit_code;                  /* the command's, or 128 + the signal that killed it */
        Ruleset *s1;                    /* the ruleset it left (owned flags as in the seed, genid 0) */
        RunFile *files;                 /* the allow-listed files it created, changed or deleted */
        size_t n_files;
        RunSysctl *sysctls;             /* the network sysctls of lib/netsysctl.h it changed */
        size_t n_sysctls;
} SandboxRunResult;

void sandbox_run_result_done(SandboxRunResult *res);

/* Run @req->argv as root in a sandbox and say what it changed; nothing live
 * is touched. Only for root (-EPERM otherwise). The sandbox: a user namespace
 * mapping every uid and gid to itself (root stays root, but its capabilities
 * hold only for the namespaces below), a fresh network namespace with
 * placeholders of the host's links and @req->seed loaded, and a mount namespace
 * where every mount of the host is read-only and locked so, except overlays
 * (tmpfs upper directories) on @req->overlay_dirs, private copies bind-mounted
 * over @req->private_files, /proc/sys/net (the sandbox's own), /tmp (an
 * overlay whose writes are thrown away), an empty tmpfs on /run (so paths
 * below /run cannot be allow-listed), and a /dev of null, zero, full, random, urandom,
 * tty, ptmx, pts and shm. The command's stdin, stdout and stderr are a pty,
 * relayed from @req->in_fd and to @req->out_fd until it exits; whatever it
 * left running is killed then. The network sysctls of lib/netsysctl.h are
 * copied from the caller's network namespace into the sandbox's before the
 * command runs (a new namespace starts from other defaults), and read back
 * after it: those that differ then are in @ret->sysctls. The host's pid namespace stays (ufw looks
 * for sshd among its ancestors to decide whether to ask before enabling).
 *
 * Returns 0 with @ret filled whatever the command's exit code (even when it
 * could not be executed: 127), or a negative errno with *ret_errors saying
 * which step failed (-ETIMEDOUT: the command ran longer than timeout_sec and
 * was killed). */
int sandbox_run(const SandboxRunRequest *req, SandboxRunResult *ret, char **ret_errors);
