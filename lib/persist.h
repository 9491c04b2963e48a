/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.h — confirmed applies that survive a reboot: kept at confirmation, loaded at boot */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "batch.h"
#include "config.h"
#include "nl.h"
#include "trial.h"

/* The largest nft text kept for a reboot. */
#define PERSIST_TEXT_MAX (64 * 1024 * 1024)

typedef enum PersistKind {
        PERSIST_TEXT,           /* nft text: compiled afresh at boot, names resolved afresh */
        PERSIST_TABLES,         /* tables as committed (a snapshot, rollback --to): replayed
                                 * with their interface indexes re-resolved by name */
        _PERSIST_KIND_MAX,
        _PERSIST_KIND_INVALID = -EINVAL,
} PersistKind;

/* What an apply keeps for a reboot once its trial is confirmed. */
typedef struct PersistSource {
        PersistKind kind;
        const char *name;               /* for people: "rules.nft", "-" */
        const char *text;               /* PERSIST_TEXT: the text, as compiled */
        size_t text_len;
        uid_t uid;                      /* PERSIST_TEXT: compiled as them at boot, as at the */
        gid_t gid;                      /* apply (its includes are read with their rights) */
        const gid_t *groups;
        size_t n_groups;
        const TableRef *tables;         /* what it changed, as written (S0 → S1) */
        size_t n_tables;
        /* PERSIST_TEXT: its tables came out the same when compiled over a
         * ruleset without them, so it replaces what earlier applies made of
         * them. Otherwise (it adds to a table, `add rule`) the earlier ones
         * stay, and it is compiled over their result at boot. A table
         * snapshot always replaces. */
        bool standalone;
} PersistSource;

/* Is persistence on in @state_dir (1, the default) or off (0)? Read without
 * the lock: the index is only ever replaced whole. -EBADMSG for a damaged
 * index. */
int persist_enabled(const char *state_dir);

/* Keep @src with the pending trial @t, before its commit, so that a
 * confirmation (or a recovery that finds it confirmed) can make it
 * persistent whatever happens in between. */
int persist_stage(TrialStore *s, const Trial *t, const PersistSource *src, char *err, size_t errlen);

/* @t is CONFIRMED: what persist_stage() kept with it becomes a persistent
 * entry, and earlier entries give up the tables it replaces. Nothing
 * happens when nothing was staged (fwguard run: the tool's own files persist
 * it), when persistence is off, or when the entry is there already (a
 * recovery doing it again). For tables, the interface indexes are mapped to
 * the names they have now; *ret_warnings (NULL when none) names the
 * references that no interface has now, one per line. */
int persist_confirm(TrialStore *s, const Trial *t, char **ret_warnings, char *err, size_t errlen);

/* `fwguard persist on|off`: off also forgets every entry, so that turning
 * it on again starts from the next confirmed apply. */
int persist_set(TrialStore *s, bool on, char *err, size_t errlen);

/* `fwguard persist status`: on or off, and the entries in the order the boot
 * loads them, with the tables each provides; as text or JSON on @f. */
int persist_status(TrialStore *s, FILE *f, bool json, char *err, size_t errlen);

/* `fwguard persist load`, at boot: build the persisted tables over the live
 * ruleset, entry by entry in confirmation order (text compiled in the
 * sandbox over what is live plus the earlier entries, as the uid that
 * applied it; tables with their interface indexes re-resolved by name),
 * guard them (the guard at the head of their base chains, for the SSH
 * ports found now), and write them in one transaction. An entry that
 * cannot be built is reported on @f and left out; the others load.
 * Returns 0 when everything loaded, 1 when some entry was left out, or a
 * negative errno (nothing written) with @err saying why. */
int persist_load(TrialStore *s, Nl *nl, const Config *cfg, FILE *f, char *err, size_t errlen);
