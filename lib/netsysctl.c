/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netsysctl.c — the network sysctls that `fwguard run` carries (see netsysctl.h) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "netsysctl.h"

/* The forwarding switches first: turning IPv4 forwarding on or off also
 * sets accept_redirects (of "all"), so a later key must be able to set it
 * again, in the sandbox, in the commit and in the rollback alike. */
const char *const netsysctl_names[] = {
        "net/ipv4/ip_forward",
        "net/ipv6/conf/all/forwarding",
        "net/ipv6/conf/default/forwarding",
        /* Set by ufw's sysctl.conf. */
        "net/ipv4/conf/all/accept_redirects",
        "net/ipv4/conf/default/accept_redirects",
        "net/ipv6/conf/all/accept_redirects",
        "net/ipv6/conf/default/accept_redirects",
        "net/ipv4/icmp_echo_ignore_broadcasts",
        "net/ipv4/icmp_ignore_bogus_error_responses",
        "net/ipv4/icmp_echo_ignore_all",
        "net/ipv4/conf/all/log_martians",
        "net/ipv4/conf/default/log_martians",
        /* Commented out there, for the admin to turn on (so are the forwarding ones). */
        "net/ipv4/tcp_fin_timeout",
        "net/ipv4/tcp_keepalive_intvl",
        "net/ipv6/conf/default/autoconf",
        "net/ipv6/conf/all/autoconf",
        "net/ipv6/conf/default/use_tempaddr",
        "net/ipv6/conf/all/use_tempaddr",
};
const size_t netsysctl_n_names = ELEMENTSOF(netsysctl_names);

bool netsysctl_known(const char *name) {
        for (size_t i = 0; name && i < netsysctl_n_names; i++)
                if (streq(netsysctl_names[i], name))
                        return true;
        return false;
}

bool netsysctl_value_valid(const char *value) {
        const char *d = value && value[0] == '-' ? value + 1 : value;
        size_t n = d ? strspn(d, "0123456789") : 0;

        return n > 0 && n <= 20 && d[n] == '\0';
}

static int proc_path(const char *name, char *buf, size_t len) {
        if (!netsysctl_known(name))
                return -EINVAL;
        return (size_t) snprintf(buf, len, "/proc/sys/%s", name) >= len ? -ENAMETOOLONG : 0;
}

int netsysctl_read(const char *name, char *buf) {
        char path[128], text[NETSYSCTL_VALUE_MAX + 8];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r;

        r = proc_path(name, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        do
                n = read(fd, text, sizeof(text) - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        text[n] = '\0';
        text[strcspn(text, "\n")] = '\0';
        if (!netsysctl_value_valid(text) || strlen(text) >= NETSYSCTL_VALUE_MAX)
                return -EBADMSG;
        strcpy(buf, text);
        return 0;
}

int netsysctl_write(const char *name, const char *value) {
        char path[128];
        _cleanup_close_ int fd = -1;
        size_t len = value ? strlen(value) : 0;
        ssize_t n;
        int r;

        if (!netsysctl_value_valid(value))
                return -EINVAL;
        r = proc_path(name, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EIO;
}
