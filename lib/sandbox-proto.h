/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-proto.h — the whole contract between fwguard and its sandbox child */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The child's end of the SOCK_SEQPACKET socketpair: one send is one message,
 * so a message is never split or merged with the next one. */
#define SANDBOX_FD 3

#define SANDBOX_GROUPS_MAX 1024
#define SANDBOX_NAME_MAX 256                    /* display name, with its NUL */
#define SANDBOX_TEXT_MAX (32 * 1024)            /* error text, without a NUL */
#define SANDBOX_FDS_MAX 2                       /* the most fds any message carries */

/* Every message there is. A message of any other type, of any other length,
 * or with any other number of fds is refused whole (its fds closed). */
typedef enum SandboxMsgType {
        /* parent → child: SandboxMsgCompile; fds: the rules, then S0 (a snapshot) */
        SANDBOX_MSG_COMPILE = 1,
        /* child → parent: SandboxMsgResult; fd: S1, a snapshot in a sealed memfd */
        SANDBOX_MSG_RESULT,
        /* child → parent: SandboxMsgText; nft refused the rules, text is its errors */
        SANDBOX_MSG_REJECTED,
        /* child → parent: SandboxMsgText; the sandbox itself failed, text says how */
        SANDBOX_MSG_FAILED,
        _SANDBOX_MSG_MAX,
} SandboxMsgType;

typedef struct SandboxMsgCompile {
        uint32_t type;
        /* Whose permissions every file read has (includes are opened by nft). */
        uint32_t uid, gid;
        uint32_t n_groups;
        uint32_t groups[SANDBOX_GROUPS_MAX];
        uint64_t limit_as;                      /* bytes (RLIMIT_AS) */
        uint32_t limit_cpu;                     /* seconds (RLIMIT_CPU) */
        uint32_t limit_nofile;                  /* RLIMIT_NOFILE */
        /* Only ever printed: how the user named the rules ("rules.nft", "-"). */
        char display_name[SANDBOX_NAME_MAX];    /* NUL-terminated, no control characters */
} SandboxMsgCompile;

typedef struct SandboxMsgResult {
        uint32_t type;
} SandboxMsgResult;

/* On the wire: the header and exactly @len bytes of text. */
typedef struct SandboxMsgText {
        uint32_t type;
        int32_t error;                          /* FAILED: a negative errno; REJECTED: 0 */
        uint32_t len;
        char text[SANDBOX_TEXT_MAX];
} SandboxMsgText;

typedef union SandboxMsg {
        uint32_t type;
        SandboxMsgCompile compile;
        SandboxMsgResult result;
        SandboxMsgText text;
} SandboxMsg;

/* A display name the protocol carries: 1..SANDBOX_NAME_MAX-1 bytes, no
 * control characters (a newline would forge lines of error text). */
bool sandbox_display_name_valid(const char *s);

/* The length that @msg occupies on the wire. */
size_t sandbox_msg_size(const SandboxMsg *msg);

/* Send one message with @n_fds fds (SCM_RIGHTS). Never raises SIGPIPE. */
int sandbox_msg_send(int sock, const SandboxMsg *msg, const int *fds, size_t n_fds);

/* Receive one message and check it against the contract: known type, exact
 * length, exact number of fds, and for COMPILE a bounded group count and a
 * clean display name. Received fds are O_CLOEXEC, in order in @ret_fds, the
 * unused slots -1. Returns the type, 0 when
 * the peer has closed, -EAGAIN with @flags MSG_DONTWAIT and nothing queued,
 * -EBADMSG for anything outside the contract (no fd is left open). */
int sandbox_msg_recv(int sock, int flags, SandboxMsg *ret, int ret_fds[static SANDBOX_FDS_MAX]);
