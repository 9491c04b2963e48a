/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nl.h — the nftables netlink socket: dumps, generation id, batches */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/netlink.h>

struct nftnl_batch;

typedef struct Nl Nl;

/* Called for each message of a dump; return 0 to go on or a negative errno. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *userdata);

/* Where a failed batch went wrong: the kernel's error for one message. */
typedef struct NlBatchError {
        uint32_t seq;           /* sequence number of the rejected message, 0 if none */
        int error;              /* negative errno from the kernel */
        char message[256];      /* extended ack text, "" if the kernel gave none */
} NlBatchError;

int nl_open(Nl **ret);
Nl *nl_free(Nl *nl);

uint32_t nl_next_seq(Nl *nl);

/* The kernel's nftables generation id: it changes with every commit. */
int nl_genid(Nl *nl, uint32_t *ret);

/* Send the request in @req (header already built, seq is set here) as a dump
 * and feed every answer to @cb. -EINTR means the kernel flagged the dump as
 * inconsistent (NLM_F_DUMP_INTR): the caller must start again. */
int nl_dump(Nl *nl, struct nlmsghdr *req, nl_msg_cb cb, void *userdata);

/* A socket that only listens: subscribed to the nftables events
 * (NFNLGRP_NFTABLES), non-blocking, with a receive buffer of @rcvbuf bytes
 * (the kernel drops events, and says so with ENOBUFS, when it is full). */
int nl_open_events(size_t rcvbuf, Nl **ret);

/* The socket, for an event loop to watch. */
int nl_fd(const Nl *nl);
/* Our netlink port id: the kernel stamps it on every event of a batch that
 * this socket committed. */
uint32_t nl_portid(const Nl *nl);

/* Feed every event queued on an events socket to @cb, until none is left
 * (0). -ENOBUFS: the kernel dropped events because the buffer was full;
 * the ones queued after that can still be read. */
int nl_events_read(Nl *nl, nl_msg_cb cb, void *userdata);

/* Send the request in @req (header built, seq set here) with NLM_F_ACK and
 * feed its answers to @cb until the acknowledgement: a GET of one object.
 * The kernel's error otherwise (-ENOENT: no such object). */
int nl_request(Nl *nl, struct nlmsghdr *req, nl_msg_cb cb, void *userdata);

/* Send a finished batch of @n_msgs messages (each with NLM_F_ACK; seq numbers
 * first_seq..first_seq+n_msgs-1, the batch begin/end excluded) and read every
 * answer. Returns 0 when every message was acknowledged; the kernel's error
 * otherwise, with @ret_err (may be NULL) naming the message. -ERESTART: the
 * batch's generation id was stale and nothing changed. */
int nl_batch_send(Nl *nl, struct nftnl_batch *batch, uint32_t begin_seq,
                  uint32_t first_seq, uint32_t n_msgs, NlBatchError *ret_err);
