/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifindex.h — the interface indexes that a table's rules and sets hold */
#pragma once

#include <stdint.h>

#include "ruleset.h"

/* Called for each interface index that @t holds, with @where naming the
 * place for people ("chain input", "set allowed", "map __map0 (data)").
 * @fn may change *@index; the change is written back into the model. A
 * negative return stops the walk and is returned. */
typedef int (*ifindex_fn)(uint32_t *index, const char *where, void *userdata);

/* Walk every interface index in @t: `meta iif`/`oif` compared in a rule or
 * looked up in a set (the set's elements, keys or concatenation fields), the
 * device of `fwd`/`dup` given as an immediate, and the elements of sets and
 * maps whose key or data type is iface_index. Names
 * (`iifname`, a netdev chain's device, a flowtable's devices) are not
 * indexes and are not walked. An index in an interval set is reported
 * with @where ending in " (interval)", where a changed value is not
 * written back: a range of indexes names no interfaces. */
int ifindex_foreach(RsTable *t, ifindex_fn fn, void *userdata);
