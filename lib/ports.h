/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ports.h — discovery of the TCP ports that SSH is served on */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PORTS_SSHD_PATH_DEFAULT "/usr/sbin/sshd"
#define PORTS_FALLBACK_PORT 22

/* Where a port was found; a port found several ways has several bits. */
enum {
        PORT_SRC_LISTEN      = 1u << 0, /* a listening socket of a running sshd */
        PORT_SRC_SSHD_T      = 1u << 1, /* sshd -T: port / listenaddress */
        PORT_SRC_SOCKET_UNIT = 1u << 2, /* ListenStream= of an active ssh.socket */
        PORT_SRC_CONFIG      = 1u << 3, /* ssh_ports in fwguard.conf */
        PORT_SRC_FALLBACK    = 1u << 4, /* nothing else found anything */
};

typedef struct SshPort {
        uint16_t port;
        unsigned sources;       /* PORT_SRC_* */
        pid_t pid;              /* with PORT_SRC_LISTEN: the sshd holding the socket */
} SshPort;

typedef struct PortsOptions {
        const uint16_t *config_ports;   /* the config's ssh_ports */
        size_t n_config_ports;
        const char *sshd_path;          /* NULL: PORTS_SSHD_PATH_DEFAULT */
        const char *sshd_config;        /* passed to sshd -T as -f; NULL: sshd's own default */
        bool skip_sshd_t;               /* tests: do not run sshd -T */
        bool skip_socket_unit;          /* tests: do not ask systemd */
} PortsOptions;

/* The union of all sources, sorted by port, never empty (the fallback is
 * port 22). Sockets are looked up in the caller's network namespace, and
 * processes in its /proc; reading other processes' fds needs root.
 * @notes (may be NULL) receives one line per source that was consulted but
 * could not answer (sshd -T failed, no system bus, processes that could not
 * be inspected, the fallback taken), for the caller to log. Runs sshd -T and may block up to a few seconds.
 * @opt may be NULL for the defaults. Fails only when the sockets or /proc
 * cannot be listed at all. */
int ports_discover(const PortsOptions *opt, SshPort **ret, size_t *ret_n, char *notes, size_t noteslen);

/* "listening socket of sshd (pid 123), sshd -T": the sources of @p in words.
 * Returns @buf. */
const char *ports_source_names(const SshPort *p, char *buf, size_t len);

/* /proc/PID/exe, without the " (deleted)" that an upgrade of the package
 * appends while the old binary keeps running. */
int ports_process_exe(pid_t pid, char *buf, size_t len);

/* The output of `@sshd_path -T` (with `-f @sshd_config` unless NULL): sshd's
 * effective settings, one "keyword value" line each. When sshd cannot say
 * (no binary, a config it refuses, no host key, no answer within 5 s), a
 * negative errno (-EIO when sshd itself failed) with @err saying why in a
 * few words: "exit status 255: /etc/ssh/sshd_config line 3: ...". */
int ports_sshd_t(const char *sshd_path, const char *sshd_config, char **ret_output, char *err, size_t errlen);

/* The parsers behind two sources, exposed for the unit tests. */

/* Ports from `sshd -T` output: those of the listenaddress lines, which hold
 * each address with its port; the port lines only when there is none. */
int ports_parse_sshd_t(const char *output, uint16_t **ret, size_t *ret_n);

/* The port of one entry of a socket unit's Listen property ("Stream",
 * "[::]:22"): 0 when it is not a TCP stream socket. */
uint16_t ports_parse_socket_listen(const char *type, const char *address);
