/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-proto.h — the whole contract between fwguard and its sandbox child */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "probe.h"

/* The child's end of the SOCK_SEQPACKET socket (a socketpair, or the
 * connection to the sandbox service): one send is one message, so a
 * message is never split or merged with the next one. */
#define SANDBOX_FD 3

#define SANDBOX_GROUPS_MAX 1024
#define SANDBOX_NAME_MAX 256                    /* display name, with its NUL */
#define SANDBOX_TEXT_MAX (32 * 1024)            /* error text, without a NUL */
#define SANDBOX_FDS_MAX 2                       /* the most fds any message carries */

#define SANDBOX_PROBE_PORTS_MAX 16
#define SANDBOX_PROBE_TIMEOUT_MS_MAX 60000      /* per port */
/* The strings of a probed port, each with its NUL. Names are nftables names
 * (NFT_NAME_MAXLEN): never cut. Longer rules and messages are cut, marked
 * with "...", to keep a 16-port answer far below the SOCK_SEQPACKET limit
 * (the socket's send buffer, about 200 KiB by default). */
#define SANDBOX_PROBE_NAME_MAX 256
#define SANDBOX_PROBE_RULE_MAX 512
#define SANDBOX_PROBE_REDIRECT_MAX 64           /* "<IPv6 address> port 65535" */
#define SANDBOX_PROBE_MESSAGE_MAX 768

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
        /* parent → child: SandboxMsgProbe; fd: the ruleset to test (a snapshot) */
        SANDBOX_MSG_PROBE,
        /* child → parent: SandboxMsgProbed; no fd */
        SANDBOX_MSG_PROBED,
        /* parent → child: SandboxMsgList; fd: the ruleset to list (a snapshot) */
        SANDBOX_MSG_LIST,
        /* child → parent: SandboxMsgResult; fd: nft's listing, text in a sealed memfd */
        SANDBOX_MSG_LISTED,
        /* spawner → parent, after everything the child sent: SandboxMsgExited;
         * no fd. Only from the sandbox service (lib/sandbox-child.h), whose
         * spawner, not the parent, reaps the child. */
        SANDBOX_MSG_EXITED,
        _SANDBOX_MSG_MAX,
} SandboxMsgType;

/* The limits the child sets on itself, once in its namespaces. */
typedef struct SandboxMsgLimits {
        uint64_t as;                            /* bytes (RLIMIT_AS) */
        uint32_t cpu;                           /* seconds (RLIMIT_CPU) */
        uint32_t nofile;                        /* RLIMIT_NOFILE */
} SandboxMsgLimits;

typedef struct SandboxMsgCompile {
        uint32_t type;
        /* Whose permissions every file read has (includes are opened by nft). */
        uint32_t uid, gid;
        uint32_t n_groups;
        uint32_t groups[SANDBOX_GROUPS_MAX];
        SandboxMsgLimits limits;
        /* Only ever printed: how the user named the rules ("rules.nft", "-"). */
        char display_name[SANDBOX_NAME_MAX];    /* NUL-terminated, no control characters */
} SandboxMsgCompile;

typedef struct SandboxMsgAddr {
        uint32_t family;                        /* AF_INET or AF_INET6 */
        uint8_t addr[16];                       /* AF_INET: the first 4 bytes, the rest 0 */
} SandboxMsgAddr;

/* No credentials: the probe reads no file, whoever asks. */
typedef struct SandboxMsgProbe {
        uint32_t type;
        uint32_t timeout_ms;                    /* per port, 1..SANDBOX_PROBE_TIMEOUT_MS_MAX */
        SandboxMsgLimits limits;
        /* The host interface whose placeholder is the server side. */
        char host_if[IFNAMSIZ];                 /* NUL-terminated, sandbox_ifname_valid() */
        SandboxMsgAddr server, client;          /* one family, two addresses */
        uint32_t n_ports;                       /* 1..SANDBOX_PROBE_PORTS_MAX */
        uint16_t ports[SANDBOX_PROBE_PORTS_MAX]; /* n_ports distinct ports, not 0; the rest 0 */
} SandboxMsgProbe;

/* Which strings of a SandboxProbePort are set (NULL in ProbePort when not). */
enum {
        SANDBOX_PROBE_HAS_TABLE         = 1 << 0,
        SANDBOX_PROBE_HAS_CHAIN         = 1 << 1,
        SANDBOX_PROBE_HAS_BASE_CHAIN    = 1 << 2,
        SANDBOX_PROBE_HAS_RULE          = 1 << 3,
        SANDBOX_PROBE_HAS_REDIRECT      = 1 << 4,
        _SANDBOX_PROBE_HAS_ALL          = (1 << 5) - 1,
};

/* One ProbePort (probe.h), field by field. Every string is NUL-terminated;
 * one that is not set is empty. The message is always set. */
typedef struct SandboxProbePort {
        uint64_t handle;                        /* of the rule, 0 for a policy */
        uint16_t port;
        uint8_t ok, connected, existing_server; /* 0 or 1, like the ones below */
        uint8_t answer, reject, guard_fixable;
        uint32_t verdict;                       /* ProbeVerdict; ok exactly if PROBE_REACHABLE */
        uint32_t packet;                        /* ProbePacket */
        int32_t error;                          /* 0 or a negative errno */
        uint32_t family;                        /* NFPROTO_* of the table, 0 if none */
        uint32_t present;                       /* SANDBOX_PROBE_HAS_* */
        char table[SANDBOX_PROBE_NAME_MAX];
        char chain[SANDBOX_PROBE_NAME_MAX];
        char base_chain[SANDBOX_PROBE_NAME_MAX];
        char rule[SANDBOX_PROBE_RULE_MAX];
        char redirect[SANDBOX_PROBE_REDIRECT_MAX];
        char message[SANDBOX_PROBE_MESSAGE_MAX];
} SandboxProbePort;

/* On the wire: the header and exactly @n_ports ports. */
typedef struct SandboxMsgProbed {
        uint32_t type;
        uint32_t n_ports;                       /* 1..SANDBOX_PROBE_PORTS_MAX */
        uint32_t traces_lost;                   /* 0 or 1 */
        uint32_t reserved;                      /* 0 */
        SandboxProbePort ports[SANDBOX_PROBE_PORTS_MAX];
} SandboxMsgProbed;

/* No credentials: nothing is read but the ruleset. */
typedef struct SandboxMsgList {
        uint32_t type;
        SandboxMsgLimits limits;
} SandboxMsgList;

typedef struct SandboxMsgResult {
        uint32_t type;
} SandboxMsgResult;

/* How the child ended: a wait status that says it exited or was killed. */
typedef struct SandboxMsgExited {
        uint32_t type;
        int32_t status;
} SandboxMsgExited;

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
        SandboxMsgProbe probe;
        SandboxMsgProbed probed;
        SandboxMsgList list;
        SandboxMsgExited exited;
} SandboxMsg;

/* A display name the protocol carries: 1..SANDBOX_NAME_MAX-1 bytes, no
 * control characters (a newline would forge lines of error text). */
bool sandbox_display_name_valid(const char *s);

/* An interface name the protocol carries: 1..IFNAMSIZ-1 bytes, a name the
 * kernel accepts (no '/', ':' or whitespace), no control characters, and no
 * '"' or '\\' (the probe quotes it in nft text). */
bool sandbox_ifname_valid(const char *s);

/* NULL if @m is a PROBE request within the contract, else what is wrong
 * with it, in words for the user. */
const char *sandbox_msg_probe_check(const SandboxMsgProbe *m);

/* Between ProbeAddr and its wire form. Unpacking an address that
 * sandbox_msg_recv() accepted cannot fail. */
void sandbox_addr_pack(const ProbeAddr *a, SandboxMsgAddr *ret);
void sandbox_addr_unpack(const SandboxMsgAddr *a, ProbeAddr *ret);

/* Between ProbePort and its wire form. Packing cuts a rule or message that
 * is too long (and marks the cut); -EINVAL for a name too long for any
 * nftables object, or a port without a message. Unpacking allocates the
 * strings of @ret (free with probe_result_free()): 0 or -ENOMEM, @ret
 * untouched then. */
int sandbox_probe_port_pack(const ProbePort *p, SandboxProbePort *ret);
int sandbox_probe_port_unpack(const SandboxProbePort *p, ProbePort *ret);

/* The length that @msg occupies on the wire. */
size_t sandbox_msg_size(const SandboxMsg *msg);

/* Send one message with @n_fds fds (SCM_RIGHTS). Never raises SIGPIPE. */
int sandbox_msg_send(int sock, const SandboxMsg *msg, const int *fds, size_t n_fds);

/* Receive one message and check it against the contract: known type, exact
 * length, exact number of fds, for COMPILE a bounded group count and a
 * clean display name, for PROBE a clean interface name, valid addresses and
 * ports, for PROBED a bounded port count and in each port values in range
 * and NUL-terminated strings, for EXITED the wait status of an exit or a
 * signal. Received fds are O_CLOEXEC, in order in @ret_fds, the
 * unused slots -1. Returns the type, 0 when
 * the peer has closed, -EAGAIN with @flags MSG_DONTWAIT and nothing queued,
 * -EBADMSG for anything outside the contract (no fd is left open). */
int sandbox_msg_recv(int sock, int flags, SandboxMsg *ret, int ret_fds[static SANDBOX_FDS_MAX]);
