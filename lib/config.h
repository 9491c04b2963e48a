/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.h — the settings file /etc/fwguard/fwguard.conf */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "ipnet.h"
#include "macro.h"

#define CONFIG_PATH_DEFAULT "/etc/fwguard/fwguard.conf"

typedef IpNet ConfigAddr;

typedef struct ConfigPorts {
        uint16_t *items;
        size_t n;
} ConfigPorts;

typedef struct ConfigAddrs {
        ConfigAddr *items;
        size_t n;
} ConfigAddrs;

typedef struct ConfigPaths {
        char **items;                   /* absolute, normalized: no "//", "." or "..", no trailing "/" */
        size_t n;
} ConfigPaths;

typedef struct Config {
        char *path;                     /* the file that was read; NULL: defaults only */

        /* [guard] */
        ConfigPorts ssh_ports;          /* guarded in addition to the discovered ones */
        ConfigAddrs sources;            /* networks the guard accepts; empty: any */
        ConfigAddrs probe_addresses;    /* pre-flight source without an admin address */

        /* [sandbox] */
        unsigned sandbox_timeout_sec;
        unsigned sandbox_memory_mb;

        /* [admin] */
        char *admin_group;              /* NULL: root only (root always is an admin) */

        /* [trial] min <= default <= max, checked by config_load() */
        unsigned trial_timeout_default_sec;
        unsigned trial_timeout_min_sec;
        unsigned trial_timeout_max_sec;
        unsigned history_max;           /* finished trials kept (trial_store_open()) */

        /* [run] what `fwguard run` lets the command write (lib/sandbox.h, sandbox_run()) */
        ConfigPaths run_overlay_dirs;   /* directories, behind an overlay */
        ConfigPaths run_private_files;  /* single files, as private copies */

        /* [daemon] */
        char *state_dir;                /* an absolute path */

        /* [monitor] */
        bool monitor_enabled;           /* watch changes made outside fwguard */
} Config;

/* A Config holding the defaults. */
int config_new(Config **ret);

/* Read @path (NULL: CONFIG_PATH_DEFAULT). A missing file gives the defaults
 * and is not an error (->path stays NULL). A bad line returns -EINVAL, and
 * @err (may be NULL) says "PATH:LINE: what is wrong" for the first one.
 * Values that are each good but do not fit together (the trial timeouts)
 * return -EINVAL with "PATH: [section] key ..." naming the keys. */
int config_load(const char *path, Config **ret, char *err, size_t errlen);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);
