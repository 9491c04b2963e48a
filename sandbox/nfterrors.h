/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfterrors.h — libnftables' error text, as FILE:LINE:COL lines under the user's file name */
#pragma once

/* Rewrite @text (libnftables' error buffer): every @scratch_path becomes
 * @display_name, each "FILE:L:C1-C2: Error: msg" line becomes
 * "FILE:L:C1: msg" (warnings keep a "warning: "), the source and caret lines
 * after it stay, empty lines go. Returns NULL only when out of memory. */
char *nfterrors_format(const char *text, const char *scratch_path, const char *display_name);
