/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netsysctl.h — the network sysctls that `fwguard run` carries from its sandbox into a trial
 *
 * A fixed list, the same for the CLI (what the sandbox copies in and reads
 * back) and for fwguardd (what Run accepts, applies with the commit and
 * restores on rollback): every key that ufw's /etc/ufw/sysctl.conf names,
 * set or commented out, plus net/ipv4/ip_forward and
 * net/ipv6/conf/all/forwarding (iptables users turn routing on by hand).
 * All of them are per network namespace, so the sandbox has its own copy
 * and the daemon changes those of the namespace it runs in. Names are paths
 * below /proc/sys ("net/ipv4/tcp_fin_timeout"); values are integers, as
 * text ("0", "1800").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The longest value, with its NUL. */
#define NETSYSCTL_VALUE_MAX 24
/* The longest name, with its NUL. */
#define NETSYSCTL_NAME_MAX 64

extern const char *const netsysctl_names[];
extern const size_t netsysctl_n_names;

/* Is @name one of netsysctl_names (spelled exactly so)? */
bool netsysctl_known(const char *name);

/* Is @value an integer as /proc/sys prints one: "-"? then 1 to 20 digits? */
bool netsysctl_value_valid(const char *value);

/* /proc/sys/@name of the caller's network namespace, without the newline,
 * into @buf (NETSYSCTL_VALUE_MAX bytes). -ENOENT: the kernel has no such
 * key (IPv6 disabled, for one); -EBADMSG: not an integer. */
int netsysctl_read(const char *name, char *buf);

/* Write @value to /proc/sys/@name of the caller's network namespace. */
int netsysctl_write(const char *name, const char *value);
