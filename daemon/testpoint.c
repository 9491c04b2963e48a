/* SPDX-License-Identifier: GPL-2.0-or-later */
/* testpoint.c — named steps where a test build of fwguardd crashes or pauses
 *
 * Only built with -Dtest-points=true. The crash tests kill the daemon at
 * each step of apply and rollback and check that the restarted daemon
 * converges; the race tests hold it between snapshot and commit and change
 * the ruleset meanwhile. A pause happens once, so that a redo of the same
 * step goes through.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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
                log_info("test point %s: crashing", name);
                raise(SIGKILL);
        }
        if (listed(getenv("FWGUARDD_TEST_PAUSE"), name)) {
                log_info("test point %s: pausing", name);
                (void) unsetenv("FWGUARDD_TEST_PAUSE");
                raise(SIGSTOP);
        }
}
