/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errtext.h — the error text that goes with a negative errno */
#pragma once

#include <stddef.h>

#include "macro.h"

/* Fill *@ret (may be NULL) with the formatted text and return @r: for
 * functions that hand back a negative errno and text for the user. Out of
 * memory leaves *@ret NULL, which such callers allow. */
_printf_(3, 4) int errtext(char **ret, int r, const char *fmt, ...);

/* The same into a caller's buffer @err of @errlen bytes (may be NULL or 0). */
_printf_(4, 5) int errbuf(int r, char *err, size_t errlen, const char *fmt, ...);
