/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nlschema.h — the nf_tables message schema that libnftnl's parsers rely on */
#pragma once

#include <stddef.h>
#include <linux/netlink.h>

/* 0 if @nlh, an NFT_MSG_NEW{TABLE,CHAIN,SET,SETELEM,OBJ,FLOWTABLE,RULE}
 * message, can be handed to libnftnl 1.2.4's nftnl_*_nlmsg_parse() without
 * it exiting or reading outside the message; -EBADMSG otherwise (including
 * for other message types, unknown expressions and unknown object types). */
int nlschema_validate(const struct nlmsghdr *nlh);

/* Copy @nlh into @buf (@size bytes) in the form nlschema_validate() accepts:
 * libnftnl's builders send a few strings without their NUL (the kernel does
 * not mind), and leave padding bytes uninitialised. Everything else must
 * already be valid. -EBADMSG if it is not, -ENOBUFS if @buf is too small. */
int nlschema_normalise(const struct nlmsghdr *nlh, void *buf, size_t size);
