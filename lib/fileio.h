/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fileio.h — durable file replacement */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef int (*fileio_writer)(int fd, void *userdata);

/* Replace @path with what @write puts into a temporary file beside it: the
 * data is fsynced before the rename and the directory after it, so after a
 * crash @path holds either the old or the whole new content. */
int fileio_write_atomic(const char *path, unsigned mode, fileio_writer write, void *userdata);

/* Copy everything from @in to @out until EOF. */
int fileio_copy(int in, int out);

/* Seal the memfd @fd against any change and rewind it: what a sandbox or the
 * daemon reads from it later is what was written. */
int fileio_seal(int fd);

/* The directory holding @path (absolute, no "." or ".." components), opened
 * component by component from "/" without following any symlink (-ELOOP,
 * -ENOTDIR). *ret_name points into @path at its last component. */
int fileio_open_parent(const char *path, int *ret_dfd, const char **ret_name);

/* Read @path, following no symlink anywhere on the way, at most @max bytes
 * (-EFBIG beyond). Absent: 0 with *ret_exists false. Not a regular file:
 * -EINVAL. *ret_mode gets the permission bits (07777); *ret_data is
 * NUL-terminated after its *ret_len bytes. */
/* The whole content of @fd from offset 0 (pread: the fd's offset stays; a
 * pipe is not allowed), NUL-terminated, at most @max bytes: -EFBIG beyond. */
int fileio_read_all(int fd, size_t max, char **ret, size_t *ret_len);

int fileio_read_nofollow(const char *path, size_t max, bool *ret_exists, unsigned *ret_mode,
                         char **ret_data, size_t *ret_len);

/* Make @path hold exactly @data (@len bytes) with @mode, or, without
 * @exists, not exist; durably, following no symlink: a temporary file in
 * the same directory, fsynced, renamed into place, then the directory
 * fsynced. A replaced file's owner is kept. Doing it again is harmless. */
int fileio_install(const char *path, bool exists, unsigned mode, const char *data, size_t len);
