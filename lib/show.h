/* SPDX-License-Identifier: GPL-2.0-or-later */
/* show.h — print a ruleset model as nft text */
#pragma once

#include <stddef.h>

#include "ruleset.h"

/* Load @rs into a fresh private network namespace in a child process and
 * list it there with libnftables, writing the text to @out_fd: in the
 * sandbox service if one is set (sandbox_set_service()). The live ruleset
 * is never involved. */
int show_ruleset(const Ruleset *rs, int out_fd, char *err, size_t errlen);
