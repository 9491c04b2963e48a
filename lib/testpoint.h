/* SPDX-License-Identifier: GPL-2.0-or-later */
/* testpoint.h — named steps where a test build can be made to crash or pause in a trial */
#pragma once

#if FWGUARD_TEST_POINTS
/* At step @name: SIGKILL ourselves if $FWGUARDD_TEST_CRASH names it (a
 * comma-separated list), or SIGSTOP once if $FWGUARDD_TEST_PAUSE does. */
void testpoint(const char *name);
#else
static inline void testpoint(const char *name) {}
#endif
