/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapshot.h — the on-disk format of an exact ruleset snapshot */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

#define SNAPSHOT_MAGIC "FWGSNAP\0"
#define SNAPSHOT_MAGIC_LEN 8
#define SNAPSHOT_VERSION 1
/* Refuse anything larger: a 100,000-element set needs about 10 MiB. */
#define SNAPSHOT_MAX_PAYLOAD (1024ULL * 1024 * 1024)

typedef struct SnapshotInfo {
        uint32_t version;
        uint32_t genid;
        uint32_t n_records;
        uint64_t created_usec;  /* CLOCK_REALTIME */
} SnapshotInfo;

/* Does this start like a snapshot (the magic)? For telling snapshots from nft text. */
bool snapshot_has_magic(const void *data, size_t len);

int snapshot_write(int fd, const Ruleset *rs, uint64_t created_usec);

/* Parse a whole snapshot. On failure, @err (may be NULL) says what is wrong
 * in words for the user. Returns -EBADMSG for any malformed input. */
int snapshot_parse(const void *data, size_t len, Ruleset **ret, SnapshotInfo *ret_info,
                   char *err, size_t errlen);

/* Read a snapshot from @fd (a file or a pipe) to EOF and parse it. Memory
 * grows with the data actually read, never with what a header claims. */
int snapshot_read(int fd, Ruleset **ret, SnapshotInfo *ret_info, char *err, size_t errlen);
