/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.h — compile nft text in an isolated child, with the caller's permissions */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ruleset.h"

#define SANDBOX_DEFAULT_TIMEOUT_SEC 10
#define SANDBOX_DEFAULT_MEMORY (1024ULL * 1024 * 1024)
#define SANDBOX_DEFAULT_NOFILE 128

/* 0 in any field means its default. */
typedef struct SandboxLimits {
        unsigned timeout_sec;   /* wall clock for the whole run; also the CPU-time limit */
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

/* Load @req->s0 into a fresh network namespace whose placeholder links carry
 * the host's interface names, indexes and addresses, run the rules there with
 * libnftables as the caller, and hand back the resulting ruleset S1. Tables
 * that are owned in S0 are marked owned in S1 too. Nothing live is touched.
 * The sandbox executable is $FWGUARD_SANDBOX, else LIBEXECDIR/fwguard-sandbox.
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
