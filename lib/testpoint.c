/* SPDX-License-Identifier: GPL-2.0-or-later */
/* testpoint.c — named steps where a test build crashes or pauses in a trial
 *
 * Only built with -Dtest-points=true. The crash tests kill fwguardd (or
 * `fwguard deadman`, which runs the same driver steps) at each step of
 * apply and rollback and check that the next run converges; the race tests
 * hold it between snapshot and commit and change the ruleset meanwhile. A
 * pause happens once, so that a redo of the same step goes through.
 *
 * The one place in lib/ that prints: the tests look for these lines in the
 * process's stderr, and no shipped build has them.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testpoint.h"

static bool listed(const char *list, const char *name) {
        size_t n = strlen(name);

        for (const char *p = list; p && *p; p += strcspn(p, ",")) {
                p += strspn(p, ",");
                if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
                        return true;
        }
        return false;
}

void testpoint(const char *name) {
        if (listed(getenv("FWGUARDD_TEST_CRASH"), name)) {
                fprintf(stderr, "%s: test point %s: crashing\n", program_invocation_short_name, name);
                raise(SIGKILL);
        }
        if (listed(getenv("FWGUARDD_TEST_PAUSE"), name)) {
                fprintf(stderr, "%s: test point %s: pausing\n", program_invocation_short_name, name);
                (void) unsetenv("FWGUARDD_TEST_PAUSE");
                raise(SIGSTOP);
        }
}
