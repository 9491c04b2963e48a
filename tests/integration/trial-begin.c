/* SPDX-License-Identifier: GPL-2.0-or-later */
/* trial-begin.c — test helper: leave a pending trial record in a state directory
 *
 * Usage: trial-begin STATE_DIR SECONDS SUMMARY. The record is the one
 * lib/trial writes for IDLE → SNAPSHOT_DURABLE (empty rulesets, no table
 * touched), so the daemon's Status can be checked against a real record
 * without committing anything to a kernel.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "macro.h"
#include "trial.h"

int main(int argc, char **argv) {
        _cleanup_(trial_store_freep) TrialStore *s = NULL;
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        _cleanup_(trial_freep) Trial *t = NULL;
        struct timespec now;
        char err[512] = "";
        int r;

        if (argc != 4) {
                fprintf(stderr, "usage: trial-begin STATE_DIR SECONDS SUMMARY\n");
                return 2;
        }
        if (clock_gettime(CLOCK_BOOTTIME, &now) < 0)
                return 1;
        r = trial_store_open(argv[1], 5, TRIAL_LOCK_WAIT_FOREVER, &s);
        if (r >= 0)
                r = ruleset_new(&rs);
        if (r >= 0)
                r = trial_begin(s, rs, rs, NULL, 0, (const uint16_t[]) { 22 }, 1,
                                (uint64_t) now.tv_sec * 1000000000 + (uint64_t) now.tv_nsec +
                                strtoull(argv[2], NULL, 10) * 1000000000,
                                0, 0, argv[3], &t, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "trial-begin: %s\n", *err ? err : strerror(-r));
                return 1;
        }
        printf("%" PRIu64 "\n", t->id);
        return 0;
}
