/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-ports.c — the parts of SSH port discovery that need no sshd: the
 * parsers of sshd -T output and of ssh.socket's Listen, and the wording.
 * tests/integration/ports.sh runs the discovery against a real sshd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ports.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static void check_sshd_t(const char *output, const uint16_t *want, size_t n_want) {
        _cleanup_free_ uint16_t *ports = NULL;
        size_t n = 0;

        CHECK(ports_parse_sshd_t(output, &ports, &n) == 0, "parse");
        CHECK(n == n_want, "got %zu ports, want %zu, from:\n%s", n, n_want, output);
        for (size_t i = 0; i < n; i++)
                CHECK(ports[i] == want[i], "port %zu: %u, want %u", i, ports[i], want[i]);
}

static void test_sshd_t(void) {
        /* sshd prints "port 22" although every ListenAddress has its own port. */
        check_sshd_t("port 22\naddressfamily any\nlistenaddress 127.0.0.1:2222\n"
                     "listenaddress [::1]:2200\nusepam yes\n",
                     (const uint16_t[]) { 2222, 2200 }, 2);
        check_sshd_t("port 22\nport 2022\nlistenaddress 0.0.0.0:22\nlistenaddress [::]:22\n"
                     "listenaddress 0.0.0.0:2022\nlistenaddress [::]:2022\n",
                     (const uint16_t[]) { 22, 22, 2022, 2022 }, 4);
        check_sshd_t("listenaddress 192.0.2.1:2022 rdomain blue\n", (const uint16_t[]) { 2022 }, 1);
        /* Without listenaddress lines the port lines count. */
        check_sshd_t("port 2022\nport 22", (const uint16_t[]) { 2022, 22 }, 2);
        /* Nothing else is taken for a port. */
        check_sshd_t("ports 23\nxport 24\nport 0\nport 65536\nport 22x\nlistenaddress 1.2.3.4\n"
                     "gatewayports no\n", NULL, 0);
        check_sshd_t("", NULL, 0);
}

static void test_socket_listen(void) {
        static const struct {
                const char *type, *address;
                uint16_t port;
        } cases[] = {
                { "Stream",   "[::]:22",             22 },
                { "Stream",   "0.0.0.0:2222",        2222 },
                { "Stream",   "192.0.2.1:22",        22 },
                { "Stream",   "[fe80::1%eth0]:2200", 2200 },
                { "Stream",   "/run/ssh.sock",       0 },
                { "Stream",   "@abstract:22",        0 },
                { "Stream",   "vsock:2:22",          0 },
                { "Stream",   "[::]:70000",          0 },
                { "Stream",   "[::]",                0 },
                { "Datagram", "0.0.0.0:22",          0 },
                { "Netlink",  "route 0",             0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint16_t p = ports_parse_socket_listen(cases[i].type, cases[i].address);
                CHECK(p == cases[i].port, "%s %s: %u, want %u", cases[i].type, cases[i].address,
                      p, cases[i].port);
        }
}

static void test_source_names(void) {
        char buf[256], small[20];

        ports_source_names(&(SshPort) { 2222, PORT_SRC_LISTEN | PORT_SRC_SSHD_T, 123 }, buf, sizeof(buf));
        CHECK(streq(buf, "listening socket of sshd (pid 123), sshd -T"), "%s", buf);
        ports_source_names(&(SshPort) { 22, PORT_SRC_SOCKET_UNIT | PORT_SRC_CONFIG, 0 }, buf, sizeof(buf));
        CHECK(streq(buf, "ssh.socket, config"), "%s", buf);
        ports_source_names(&(SshPort) { 22, PORT_SRC_FALLBACK, 0 }, buf, sizeof(buf));
        CHECK(streq(buf, "fallback: nothing else found"), "%s", buf);
        /* Too small a buffer keeps whole names only. */
        ports_source_names(&(SshPort) { 22, PORT_SRC_SSHD_T | PORT_SRC_CONFIG, 0 }, small, 12);
        CHECK(streq(small, "sshd -T"), "%s", small);
}

int main(void) {
        test_sshd_t();
        test_socket_listen();
        test_source_names();
        printf("ok\n");
        return 0;
}
