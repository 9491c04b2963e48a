/* SPDX-License-Identifier: GPL-2.0-or-later */
/* owner-holder.c — create a table with NFT_TABLE_F_OWNER (like systemd or
 * firewalld do) and hold it until stdin closes: the table lives as long as
 * our netlink socket. Prints "ready" once the table exists.
 *     owner-holder FAMILY NAME */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>

#include "nl.h"
#include "ruleset.h"

int main(int argc, char **argv) {
        struct nftnl_batch *b = nftnl_batch_alloc(65536, 65536);
        struct nftnl_table *t = nftnl_table_alloc();
        struct nlmsghdr *nlh;
        uint32_t family, seq;
        Nl *nl = NULL;
        char c;

        if (argc != 3 || family_from_name(argv[1], &family) < 0 || nl_open(&nl) < 0)
                return 2;
        seq = nl_next_seq(nl);
        nftnl_batch_begin(nftnl_batch_buffer(b), seq);
        nftnl_batch_update(b);
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, argv[2]);
        nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
        nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b), NFT_MSG_NEWTABLE, (uint16_t) family,
                                    NLM_F_CREATE | NLM_F_ACK, seq + 1);
        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_batch_update(b);
        nftnl_batch_end(nftnl_batch_buffer(b), seq + 2);
        nftnl_batch_update(b);
        if (nl_batch_send(nl, b, seq, seq + 1, 1, NULL) < 0)
                return 1;
        nl_next_seq(nl);
        nl_next_seq(nl);
        printf("ready\n");
        fflush(stdout);
        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
        nl_free(nl);
        return 0;
}
