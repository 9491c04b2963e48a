/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unitstate.h — whether a systemd unit is installed, enabled and running */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct UnitState {
        bool installed;         /* a unit file exists */
        bool enabled;           /* it starts at boot */
        bool live;              /* the fields below come from a running systemd */
        char active[16];        /* ActiveState: "active", "inactive", "failed", ... */
        char sub[32];           /* SubState: "running", "exited", "dead", ... */
        char result[32];        /* services: "success", "exit-code", "watchdog", ... */
        uint32_t n_restarts;    /* services: restarts by Restart= */
} UnitState;

/* The state of @unit ("nftables.service"). With @bus (the system bus), as
 * systemd sees it. Without, from the files alone: installed if a unit file
 * is in /etc/systemd/system, /usr/lib/systemd/system or /lib/systemd/system,
 * enabled if a .wants/ or .requires/ directory of /etc/systemd/system links
 * it; ->live stays false. Fails only for an error of the bus itself
 * (@err says it); a unit systemd does not know is just not installed. */
int unitstate_get(sd_bus *bus, const char *unit, UnitState *ret, char *err, size_t errlen);
