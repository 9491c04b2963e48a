/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-sandbox-proto.c — the PROBE, PROBED, LIST, LISTED and EXITED messages of sandbox-proto.h
 *
 * Over a real SOCK_SEQPACKET socketpair, as the sandbox uses it:
 *   - a 16-port PROBED with every string at its longest crosses whole, and
 *     unpacks to the ProbePorts that were packed (long rules and messages
 *     cut with "...", never inside a UTF-8 sequence; names never cut);
 *   - every way of breaking the contract is refused with -EBADMSG and no fd
 *     left open: lengths one byte off, port counts 0 and 17, a string
 *     without its NUL, values out of range, strings that say they are unset
 *     but are not, a PROBE without its fd or with a bad name, address,
 *     port list or timeout;
 *   - LIST and LISTED carry exactly one fd; EXITED (the sandbox service's
 *     last word) none, and only a wait status that says "exited" or
 *     "killed".
 */
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>

#include "macro.h"
#include "probe.h"
#include "sandbox-proto.h"

static unsigned n_failed;

static void check(bool ok, const char *fmt, ...) _printf_(2, 3);
static void check(bool ok, const char *fmt, ...) {
        va_list ap;

        if (ok)
                return;
        va_start(ap, fmt);
        fprintf(stderr, "FAIL: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        n_failed++;
}

static int pair[2];

/* Send @len bytes of @msg as they are (with @fd if >= 0), receive: the type or an error. */
static int roundtrip(const void *msg, size_t len, int fd, SandboxMsg *ret, int fds[static SANDBOX_FDS_MAX]) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) msg, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (sendmsg(pair[0], &mh, 0) != (ssize_t) len)
                return -errno;
        return sandbox_msg_recv(pair[1], MSG_DONTWAIT, ret, fds);
}

static int open_fds(void) {
        int n = 0;

        for (int fd = 0; fd < 1024; fd++)
                n += fcntl(fd, F_GETFD) >= 0;
        return n;
}

static char *repeat(const char *unit, size_t n) {
        size_t len = strlen(unit);
        char *s = malloc(len * n + 1);

        for (size_t i = 0; i < n; i++)
                memcpy(s + i * len, unit, len);
        s[len * n] = '\0';
        return s;
}

static size_t probed_size(uint32_t n_ports) {
        return offsetof(SandboxMsgProbed, ports) + n_ports * sizeof(SandboxProbePort);
}

static void test_probed_whole(SandboxMsg *msg, SandboxMsg *got) {
        _cleanup_free_ char *name = repeat("n", SANDBOX_PROBE_NAME_MAX - 1);
        _cleanup_free_ char *rule = repeat("r", 1000);
        /* "é" is two bytes: the cut must not split one. */
        _cleanup_free_ char *message = repeat("é", 1000);
        ProbePort in = {
                .port = 22, .verdict = PROBE_BLOCKED_RULE, .error = -ETIMEDOUT, .packet = PROBE_PACKET_TCP,
                .guard_fixable = true, .answer = true, .family = NFPROTO_INET, .handle = 1ULL << 40,
                .table = name, .chain = (char *) "input", .base_chain = (char *) "input", .rule = rule,
                .message = message,
        };
        int fds[SANDBOX_FDS_MAX], r;

        memset(msg, 0, sizeof(*msg));
        msg->probed.type = SANDBOX_MSG_PROBED;
        msg->probed.n_ports = SANDBOX_PROBE_PORTS_MAX;
        msg->probed.traces_lost = 1;
        for (unsigned i = 0; i < SANDBOX_PROBE_PORTS_MAX; i++) {
                in.port = (uint16_t) (22 + i);
                r = sandbox_probe_port_pack(&in, &msg->probed.ports[i]);
                check(r == 0, "pack port %u: %d", i, r);
        }
        check(sandbox_msg_size(msg) == probed_size(SANDBOX_PROBE_PORTS_MAX), "size of a 16-port PROBED");
        r = sandbox_msg_send(pair[0], msg, NULL, 0);
        check(r == 0, "a 16-port PROBED of %zu bytes cannot be sent: %s", sandbox_msg_size(msg), strerror(-r));
        r = sandbox_msg_recv(pair[1], MSG_DONTWAIT, got, fds);
        check(r == SANDBOX_MSG_PROBED, "a 16-port PROBED is not received: %d", r);
        check(memcmp(msg, got, sandbox_msg_size(msg)) == 0, "the PROBED changed on the way");

        for (unsigned i = 0; i < SANDBOX_PROBE_PORTS_MAX; i++) {
                _cleanup_(probe_result_free) ProbeResult res = { .n_ports = 1 };
                ProbePort *o;

                res.ports = calloc(1, sizeof(ProbePort));
                o = res.ports;
                r = sandbox_probe_port_unpack(&got->probed.ports[i], o);
                check(r == 0, "unpack port %u", i);
                check(o->port == 22 + i && !o->ok && o->verdict == PROBE_BLOCKED_RULE && o->error == -ETIMEDOUT &&
                      o->packet == PROBE_PACKET_TCP && o->guard_fixable && o->answer && !o->reject &&
                      !o->connected && !o->existing_server && o->family == NFPROTO_INET &&
                      o->handle == 1ULL << 40, "port %u: the numbers differ", i);
                check(streq_ptr(o->table, name), "the longest table name was changed");
                check(streq_ptr(o->chain, "input") && streq_ptr(o->base_chain, "input"), "chain names");
                check(!o->redirect, "an unset redirect came back set");
                check(o->rule && strlen(o->rule) == SANDBOX_PROBE_RULE_MAX - 1 &&
                      strncmp(o->rule, rule, SANDBOX_PROBE_RULE_MAX - 4) == 0 &&
                      streq(o->rule + SANDBOX_PROBE_RULE_MAX - 4, "..."), "the long rule is not cut to \"...\"");
                /* 764 bytes fit before "...": 382 whole "é". */
                check(o->message && strlen(o->message) == SANDBOX_PROBE_MESSAGE_MAX - 1 &&
                      strncmp(o->message, message, SANDBOX_PROBE_MESSAGE_MAX - 4) == 0 &&
                      streq(o->message + SANDBOX_PROBE_MESSAGE_MAX - 4, "..."),
                      "the long message is not cut to \"...\": %s", o->message);
        }

        /* One byte more in front: the cut would fall inside an "é" and backs off a byte. */
        {
                _cleanup_free_ char *odd = malloc(strlen(message) + 2);

                odd[0] = 'x';
                strcpy(odd + 1, message);
                in.message = odd;
                r = sandbox_probe_port_pack(&in, &msg->probed.ports[0]);
                in.message = message;
                check(r == 0 && strlen(msg->probed.ports[0].message) == SANDBOX_PROBE_MESSAGE_MAX - 2,
                      "a cut inside a UTF-8 sequence: %zu", strlen(msg->probed.ports[0].message));
        }

        /* A name too long for nftables is an error, not a cut; so is no message. */
        {
                _cleanup_free_ char *toolong = repeat("n", SANDBOX_PROBE_NAME_MAX);
                ProbePort bad = in;
                SandboxProbePort w;

                bad.chain = toolong;
                check(sandbox_probe_port_pack(&bad, &w) == -EINVAL, "a 256-byte chain name was packed");
                bad = in;
                bad.message = NULL;
                check(sandbox_probe_port_pack(&bad, &w) == -EINVAL, "a port without a message was packed");
        }
}

/* One damage to a valid 2-port PROBED: refused, whatever it is. */
typedef void (*Damage)(SandboxMsgProbed *m, SandboxProbePort *p);
static void d_no_nul_table(SandboxMsgProbed *m, SandboxProbePort *p) { memset(p->table, 'x', sizeof(p->table)); }
static void d_no_nul_chain(SandboxMsgProbed *m, SandboxProbePort *p) { memset(p->chain, 'x', sizeof(p->chain)); }
static void d_no_nul_base(SandboxMsgProbed *m, SandboxProbePort *p) { memset(p->base_chain, 'x', sizeof(p->base_chain)); }
static void d_no_nul_rule(SandboxMsgProbed *m, SandboxProbePort *p) { memset(p->rule, 'x', sizeof(p->rule)); }
static void d_no_nul_redirect(SandboxMsgProbed *m, SandboxProbePort *p) { memset(p->redirect, 'x', sizeof(p->redirect)); }
static void d_no_nul_message(SandboxMsgProbed *m, SandboxProbePort *p) { memset(p->message, 'x', sizeof(p->message)); }
static void d_empty_message(SandboxMsgProbed *m, SandboxProbePort *p) { p->message[0] = '\0'; }
static void d_unset_but_filled(SandboxMsgProbed *m, SandboxProbePort *p) { strcpy(p->redirect, "port 2222"); }
static void d_unknown_present(SandboxMsgProbed *m, SandboxProbePort *p) { p->present |= 1U << 5; }
static void d_port_0(SandboxMsgProbed *m, SandboxProbePort *p) { p->port = 0; }
static void d_bool_2(SandboxMsgProbed *m, SandboxProbePort *p) { p->reject = 2; }
static void d_verdict(SandboxMsgProbed *m, SandboxProbePort *p) { p->verdict = PROBE_UNEXPLAINED + 1; }
static void d_ok_mismatch(SandboxMsgProbed *m, SandboxProbePort *p) { p->ok = !p->ok; }
static void d_packet(SandboxMsgProbed *m, SandboxProbePort *p) { p->packet = PROBE_PACKET_ND + 1; }
static void d_error_positive(SandboxMsgProbed *m, SandboxProbePort *p) { p->error = 1; }
static void d_error_huge(SandboxMsgProbed *m, SandboxProbePort *p) { p->error = -4096; }
static void d_family(SandboxMsgProbed *m, SandboxProbePort *p) { p->family = 99; }
static void d_traces_lost(SandboxMsgProbed *m, SandboxProbePort *p) { m->traces_lost = 2; }
static void d_reserved(SandboxMsgProbed *m, SandboxProbePort *p) { m->reserved = 1; }

static void test_probed_broken(SandboxMsg *msg, SandboxMsg *got) {
        static const struct {
                const char *name;
                Damage damage;
        } damages[] = {
                { "table without NUL", d_no_nul_table },
                { "chain without NUL", d_no_nul_chain },
                { "base chain without NUL", d_no_nul_base },
                { "rule without NUL", d_no_nul_rule },
                { "redirect without NUL", d_no_nul_redirect },
                { "message without NUL", d_no_nul_message },
                { "empty message", d_empty_message },
                { "unset string with text", d_unset_but_filled },
                { "unknown present bit", d_unknown_present },
                { "port 0", d_port_0 },
                { "bool 2", d_bool_2 },
                { "verdict out of range", d_verdict },
                { "ok not matching the verdict", d_ok_mismatch },
                { "packet out of range", d_packet },
                { "positive error", d_error_positive },
                { "error -4096", d_error_huge },
                { "unknown family", d_family },
                { "traces_lost 2", d_traces_lost },
                { "reserved set", d_reserved },
        };
        ProbePort blocked = {
                .port = 22, .verdict = PROBE_BLOCKED_RULE, .error = -ETIMEDOUT, .packet = PROBE_PACKET_TCP,
                .family = NFPROTO_IPV4, .handle = 4, .table = (char *) "filter", .chain = (char *) "input",
                .base_chain = (char *) "input", .rule = (char *) "tcp dport 22 drop",
                .message = (char *) "port 22 is blocked",
        };
        ProbePort ok = { .port = 80, .ok = true, .connected = true, .message = (char *) "port 80 is reachable" };
        int fds[SANDBOX_FDS_MAX], before = open_fds(), r;
        SandboxMsgProbed *m = &msg->probed;

        for (size_t k = 0; k < ELEMENTSOF(damages); k++)
                for (unsigned victim = 0; victim < 2; victim++) {
                        memset(msg, 0, sizeof(*msg));
                        m->type = SANDBOX_MSG_PROBED;
                        m->n_ports = 2;
                        check(sandbox_probe_port_pack(&blocked, &m->ports[0]) == 0 &&
                              sandbox_probe_port_pack(&ok, &m->ports[1]) == 0, "pack");
                        r = roundtrip(msg, probed_size(2), -1, got, fds);
                        check(r == SANDBOX_MSG_PROBED, "the undamaged PROBED is refused: %d", r);
                        damages[k].damage(m, &m->ports[victim]);
                        r = roundtrip(msg, probed_size(2), -1, got, fds);
                        check(r == -EBADMSG, "PROBED with %s in port %u: %d", damages[k].name, victim, r);
                }

        /* Lengths: one byte off either way, and port counts 0 and 17. */
        memset(msg, 0, sizeof(*msg));
        m->type = SANDBOX_MSG_PROBED;
        m->n_ports = 2;
        check(sandbox_probe_port_pack(&blocked, &m->ports[0]) == 0 && sandbox_probe_port_pack(&ok, &m->ports[1]) == 0,
              "pack");
        check(roundtrip(msg, probed_size(2) - 1, -1, got, fds) == -EBADMSG, "PROBED one byte short");
        check(roundtrip(msg, probed_size(2) + 1, -1, got, fds) == -EBADMSG, "PROBED one byte long");
        check(roundtrip(msg, probed_size(1), -1, got, fds) == -EBADMSG, "PROBED a port short");
        check(roundtrip(msg, offsetof(SandboxMsgProbed, ports) - 1, -1, got, fds) == -EBADMSG, "PROBED header cut");
        m->n_ports = 0;
        check(roundtrip(msg, probed_size(0), -1, got, fds) == -EBADMSG, "PROBED without ports");
        {
                _cleanup_free_ char *big = calloc(1, probed_size(SANDBOX_PROBE_PORTS_MAX + 1));
                SandboxMsgProbed *b = (SandboxMsgProbed *) big;

                memcpy(big, msg, probed_size(2));
                b->n_ports = SANDBOX_PROBE_PORTS_MAX + 1;
                for (unsigned i = 0; i <= SANDBOX_PROBE_PORTS_MAX; i++)
                        check(sandbox_probe_port_pack(&ok, &b->ports[i]) == 0, "pack");
                check(roundtrip(big, probed_size(SANDBOX_PROBE_PORTS_MAX + 1), -1, got, fds) == -EBADMSG,
                      "PROBED with 17 ports");
        }
        /* An fd where none belongs. */
        m->n_ports = 2;
        check(roundtrip(msg, probed_size(2), pair[0], got, fds) == -EBADMSG, "PROBED with an fd");
        check(open_fds() == before, "a refused message left an fd open");
}

static void probe_valid(SandboxMsgProbe *p) {
        ProbeAddr server, client;

        memset(p, 0, sizeof(*p));
        p->type = SANDBOX_MSG_PROBE;
        p->timeout_ms = 2000;
        p->limits = (SandboxMsgLimits) { .as = 1 << 30, .cpu = 16, .nofile = 128 };
        strcpy(p->host_if, "eth0");
        check(probe_addr_parse("192.0.2.1", &server) == 0 && probe_addr_parse("198.51.100.77", &client) == 0,
              "addresses");
        sandbox_addr_pack(&server, &p->server);
        sandbox_addr_pack(&client, &p->client);
        p->n_ports = 2;
        p->ports[0] = 22;
        p->ports[1] = 2222;
}

static void test_probe(SandboxMsg *msg, SandboxMsg *got) {
        static const char *const bad_names[] = { "", "a/b", "a:b", "a b", "a\tb", "a\"b", "a\\b", ".", "..", "a\nb" };
        SandboxMsgProbe *p = &msg->probe;
        int memfd = memfd_create("test", MFD_CLOEXEC), before, fds[SANDBOX_FDS_MAX], r;
        ProbeAddr a;

        before = open_fds();
        probe_valid(p);
        r = roundtrip(msg, sizeof(*p), memfd, got, fds);
        check(r == SANDBOX_MSG_PROBE && fds[0] >= 0 && fds[1] == -1, "a valid PROBE is refused: %d", r);
        if (fds[0] >= 0)
                close(fds[0]);
        sandbox_addr_unpack(&got->probe.client, &a);
        check(a.family == AF_INET && a.in.s_addr == htonl(0xc633644d), "the client address changed on the way");

        check(roundtrip(msg, sizeof(*p), -1, got, fds) == -EBADMSG, "PROBE without its fd");
        check(roundtrip(msg, sizeof(*p) - 1, memfd, got, fds) == -EBADMSG, "PROBE one byte short");
        check(roundtrip(msg, sizeof(*p) + 1, memfd, got, fds) == -EBADMSG, "PROBE one byte long");

        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                probe_valid(p);
                strcpy(p->host_if, bad_names[i]);
                check(roundtrip(msg, sizeof(*p), memfd, got, fds) == -EBADMSG, "PROBE of interface \"%s\"",
                      bad_names[i]);
        }
        probe_valid(p);
        memset(p->host_if, 'e', sizeof(p->host_if));
        check(roundtrip(msg, sizeof(*p), memfd, got, fds) == -EBADMSG, "PROBE of an interface name without NUL");

#define REFUSED(what, change) do {                                                      \
                probe_valid(p);                                                         \
                change;                                                                 \
                check(sandbox_msg_probe_check(p) != NULL, "PROBE check: %s", what);     \
                check(roundtrip(msg, sizeof(*p), memfd, got, fds) == -EBADMSG, "PROBE with %s", what); \
        } while (0)
        REFUSED("no ports", p->n_ports = 0);
        REFUSED("17 ports", p->n_ports = SANDBOX_PROBE_PORTS_MAX + 1);
        REFUSED("port 0", p->ports[1] = 0);
        REFUSED("a port twice", p->ports[1] = 22);
        REFUSED("a port beyond the count", p->ports[5] = 80);
        REFUSED("timeout 0", p->timeout_ms = 0);
        REFUSED("timeout too long", p->timeout_ms = SANDBOX_PROBE_TIMEOUT_MS_MAX + 1);
        REFUSED("an unknown family", p->server.family = p->client.family = AF_UNIX);
        REFUSED("two families", p->client.family = AF_INET6);
        REFUSED("IPv4 with bytes past 4", p->server.addr[4] = 1);
        REFUSED("server and client the same", p->client = p->server);
#undef REFUSED
        check(open_fds() == before, "a refused PROBE left an fd open");
        close(memfd);
}

static void test_list_exited(SandboxMsg *msg, SandboxMsg *got) {
        int memfd = memfd_create("test", MFD_CLOEXEC), before, fds[SANDBOX_FDS_MAX], r;
        static const int good[] = { 0, 1 << 8, 127 << 8, SIGKILL, SIGSEGV | 0x80 /* core dumped */ };
        static const int bad[] = { 0x137f /* stopped by SIGSTOP */, 0xffff /* continued */ };

        before = open_fds();
        memset(msg, 0, sizeof(*msg));
        msg->list = (SandboxMsgList) { .type = SANDBOX_MSG_LIST, .limits = { .as = 1 << 30, .cpu = 10, .nofile = 128 } };
        r = roundtrip(msg, sizeof(SandboxMsgList), memfd, got, fds);
        check(r == SANDBOX_MSG_LIST && fds[0] >= 0 && fds[1] == -1 && got->list.limits.cpu == 10,
              "a valid LIST is refused: %d", r);
        if (fds[0] >= 0)
                close(fds[0]);
        check(roundtrip(msg, sizeof(SandboxMsgList), -1, got, fds) == -EBADMSG, "LIST without its fd");
        check(roundtrip(msg, sizeof(SandboxMsgList) - 1, memfd, got, fds) == -EBADMSG, "LIST one byte short");
        check(roundtrip(msg, sizeof(SandboxMsgList) + 1, memfd, got, fds) == -EBADMSG, "LIST one byte long");

        msg->result = (SandboxMsgResult) { .type = SANDBOX_MSG_LISTED };
        r = roundtrip(msg, sizeof(SandboxMsgResult), memfd, got, fds);
        check(r == SANDBOX_MSG_LISTED && fds[0] >= 0, "a valid LISTED is refused: %d", r);
        if (fds[0] >= 0)
                close(fds[0]);
        check(roundtrip(msg, sizeof(SandboxMsgResult), -1, got, fds) == -EBADMSG, "LISTED without its fd");

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                msg->exited = (SandboxMsgExited) { .type = SANDBOX_MSG_EXITED, .status = good[i] };
                r = roundtrip(msg, sizeof(SandboxMsgExited), -1, got, fds);
                check(r == SANDBOX_MSG_EXITED && got->exited.status == good[i], "EXITED 0x%x is refused: %d",
                      (unsigned) good[i], r);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                msg->exited = (SandboxMsgExited) { .type = SANDBOX_MSG_EXITED, .status = bad[i] };
                check(roundtrip(msg, sizeof(SandboxMsgExited), -1, got, fds) == -EBADMSG,
                      "EXITED with wait status 0x%x", (unsigned) bad[i]);
        }
        msg->exited = (SandboxMsgExited) { .type = SANDBOX_MSG_EXITED };
        check(roundtrip(msg, sizeof(SandboxMsgExited), memfd, got, fds) == -EBADMSG, "EXITED with an fd");
        check(roundtrip(msg, sizeof(SandboxMsgExited) + 1, -1, got, fds) == -EBADMSG, "EXITED one byte long");
        check(open_fds() == before, "a refused LIST, LISTED or EXITED left an fd open");
        close(memfd);
}

int main(void) {
        _cleanup_free_ SandboxMsg *msg = malloc(sizeof(SandboxMsg));
        _cleanup_free_ SandboxMsg *got = malloc(sizeof(SandboxMsg));

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                perror("socketpair");
                return 1;
        }
        test_probed_whole(msg, got);
        test_probed_broken(msg, got);
        test_probe(msg, got);
        test_list_exited(msg, got);
        if (n_failed) {
                fprintf(stderr, "%u checks failed\n", n_failed);
                return 1;
        }
        printf("ok\n");
        return 0;
}
