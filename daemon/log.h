/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.h — fwguardd's (and `fwguard deadman`'s) messages: the journal under systemd, stderr otherwise */
#pragma once

#include <syslog.h>

#include "macro.h"

/* The fixed MESSAGE_IDs of the events an administrator may want to find
 * (journalctl MESSAGE_ID=...); fwguardd(8) lists them. */
#define LOG_ID_APPLY    "298e9c1ff204480d8498417e9c45c26b"
#define LOG_ID_COMMIT   "2751a49242204d02abea942c78f3701a"
#define LOG_ID_CONFIRM  "69ab526d2259416298bd8a84ef823c53"
#define LOG_ID_ROLLBACK "df8af50ae3d645d190b82366b783dd78"
#define LOG_ID_REFUSAL  "bbd4b9c82fa04886866598fed923d79c"
#define LOG_ID_RECOVERY "9fbf1d00e2484dc6862be8d22718ae11"
/* The guard monitor: a guard that another writer removed was put back; a
 * change made outside fwguard blocked SSH and the blocking chains were
 * guarded; SSH is blocked and no guard can fix it. */
#define LOG_ID_GUARD_RESTORED "134e2fcb720d4c959242e4be9e5cecf8"
#define LOG_ID_SSH_BLOCKED    "b425a118dfcd431185b4a6c6a28e9850"
#define LOG_ID_SSH_UNFIXABLE  "16c37e0f34e147cfbda9e0e5aa9c2260"
/* Logged by `fwguard deadman` alone: the second dead-man rolled a trial back. */
#define LOG_ID_DEADMAN  "be9d46f507484fd8a16061d2f5629ca9"

/* Log one line at @priority, with @message_id (NULL: none) and, if not 0,
 * FWGUARD_TRIAL_ID= as journal fields. */
_printf_(4, 5) void log_event(int priority, const char *message_id, unsigned long long trial_id,
                              const char *fmt, ...);

#define log_error(...) log_event(LOG_ERR, NULL, 0, __VA_ARGS__)
#define log_warning(...) log_event(LOG_WARNING, NULL, 0, __VA_ARGS__)
#define log_info(...) log_event(LOG_INFO, NULL, 0, __VA_ARGS__)
