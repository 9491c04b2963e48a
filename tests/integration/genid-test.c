/* SPDX-License-Identifier: GPL-2.0-or-later */
/* genid-test.c — a batch conditioned on a stale generation id changes nothing.
 * Runs inside a private network namespace (meson wraps it in unshare -n). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "batch.h"
#include "macro.h"
#include "nl.h"
#include "ruleset.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static char *listing(void) {
        struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
        char *s;

        CHECK(nft, "nft_ctx_new");
        nft_ctx_buffer_output(nft);
        CHECK(nft_run_cmd_from_buffer(nft, "list ruleset") == 0, "list ruleset");
        s = strdup(nft_ctx_get_output_buffer(nft));
        nft_ctx_free(nft);
        return s;
}

static void run(const char *cmd) {
        struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

        CHECK(nft && nft_run_cmd_from_buffer(nft, cmd) == 0, "nft: %s", cmd);
        nft_ctx_free(nft);
}

int main(void) {
        _cleanup_(ruleset_freep) Ruleset *old = NULL, *target = NULL, *empty = NULL;
        Nl *nl = NULL;
        char err[512] = "";
        uint32_t g;
        int r;

        CHECK(nl_open(&nl) == 0, "nl_open");
        run("add table inet t; add chain inet t c { type filter hook input priority 0; policy accept; }");
        CHECK(ruleset_dump(nl, &old) == 0, "dump");
        CHECK(nl_genid(nl, &g) == 0 && g == old->genid, "genid of the dump");

        /* The target: what we want to write (a different table). */
        run("add table ip other; add chain ip other c");
        CHECK(ruleset_dump(nl, &target) == 0, "dump target");
        run("delete table ip other");

        /* Someone else commits after our read. */
        run("add rule inet t c tcp dport 22 accept");
        _cleanup_free_ char *before = listing();

        r = batch_replace_tables(nl, target, old, NULL, 0, old->genid, err, sizeof(err));
        CHECK(r == -ERESTART, "stale genid: got %d (%s), want -ERESTART", r, err);
        CHECK(strstr(err, "nothing was changed"), "message: %s", err);
        _cleanup_free_ char *after = listing();
        CHECK(streq(before, after), "a stale batch changed the ruleset:\n%s\n---\n%s", before, after);

        /* The same batch on the current generation goes through. */
        _cleanup_(ruleset_freep) Ruleset *live = NULL;
        CHECK(ruleset_dump(nl, &live) == 0, "dump live");
        r = batch_replace_tables(nl, target, live, NULL, 0, live->genid, err, sizeof(err));
        CHECK(r == 0, "fresh genid: %d (%s)", r, err);
        _cleanup_free_ char *final = listing();
        CHECK(strstr(final, "table ip other") && strstr(final, "table inet t"), "result:\n%s", final);
        CHECK(!strstr(final, "dport 22"), "inet t must be the target's, without the rule:\n%s", final);

        /* genid 0: no condition. */
        CHECK(ruleset_new(&empty) == 0, "new");
        run("add table ip x");
        _cleanup_(ruleset_freep) Ruleset *live2 = NULL;
        CHECK(ruleset_dump(nl, &live2) == 0, "dump live2");
        run("add table ip y");
        r = batch_replace_tables(nl, empty, live2, NULL, 0, 0, err, sizeof(err));
        CHECK(r == 0, "unconditioned batch: %d (%s)", r, err);
        nl_free(nl);
        printf("ok\n");
        return 0;
}
