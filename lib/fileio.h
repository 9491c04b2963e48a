/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fileio.h — durable file replacement */
#pragma once

#include <stddef.h>

typedef int (*fileio_writer)(int fd, void *userdata);

/* Replace @path with what @write puts into a temporary file beside it: the
 * data is fsynced before the rename and the directory after it, so after a
 * crash @path holds either the old or the whole new content. */
int fileio_write_atomic(const char *path, unsigned mode, fileio_writer write, void *userdata);

/* Copy everything from @in to @out until EOF. */
int fileio_copy(int in, int out);
