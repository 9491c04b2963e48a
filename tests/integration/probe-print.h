/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe-print.h — a ProbeResult as "key: value" lines, for the tests' tools */
#pragma once

#include <stdbool.h>

#include "probe.h"

/* One block of lines per port on stdout. Returns whether every port is reachable. */
bool probe_print(const ProbeResult *res);
