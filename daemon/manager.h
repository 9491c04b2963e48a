/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager.h — fwguardd's one Manager: the event loop, the bus socket, the methods */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"

typedef struct Manager Manager;

/* A Manager for @state_dir and @runtime_dir, with @config_path read
 * (NULL: the default path). Nothing listens yet. */
int manager_new(const char *state_dir, const char *runtime_dir, const char *config_path,
                Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Listen on RUNTIME_DIR/bus, read the state directory once, and say READY.
 * Logs what goes wrong. */
int manager_start(Manager *m);

/* Run the loop until SIGTERM or SIGINT. Returns 0 or a negative errno. */
int manager_run(Manager *m);
