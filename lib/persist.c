/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.c — confirmed applies that survive a reboot
 *
 * The kernel forgets the ruleset at a reboot. nftables.service answers
 * that by loading /etc/nftables.conf, ufw.service by loading /etc/ufw; a
 * change made through fwguard must come back too, once confirmed, and only
 * then. So an apply stages what it applied with its trial (in the trial
 * directory, before the commit: a crash after the commit must not lose it),
 * and the confirmation turns it into an entry of STATE_DIR/persist/:
 *
 *   index.json   {"version": 1, "enabled": true, "entries": [ENTRY...]}, in
 *                confirmation order; replaced whole, never edited in place
 *   ID.nft       the nft text of entry ID, as compiled at the apply
 *   ID.fwg       or the tables of entry ID (a snapshot file), without guard
 *
 * Why nft text is kept as text: names are resolved when nft compiles it
 * (interfaces, users, services, host names), and after a reboot they must be
 * resolved afresh, the way nftables.service does it. Text is compiled at
 * boot in the sandbox as the uid that applied it (its includes are read
 * with that uid's rights, as at the apply), over the ruleset that is live
 * then plus the earlier entries: `add rule inet filter input ...` means
 * "add to what was there", and what was there came from those.
 *
 * Why tables are kept as a snapshot (an apply of a snapshot, `rollback
 * --to`): such tables may hold what no nft text can express (iptables-nft's
 * xtables matches), so they are replayed as the exact objects they were;
 * only their interface indexes are re-resolved, through the names those
 * indexes had when the trial was committed (lib/ifindex). An index that
 * named no interface then cannot be re-resolved: the confirmation says so.
 *
 * Which entries stay: each entry "owns" the tables it changed. A later
 * entry that rebuilds a table from nothing (a snapshot's table, or text
 * whose result for its tables did not depend on what they held: the apply
 * compiled it a second time over a ruleset without them, see
 * PersistSource.standalone) takes the table from earlier entries, and an
 * entry that owns nothing any more is dropped. Text that only adds to a
 * table leaves the earlier owners in place, to be replayed before it. So
 * the index stays as short as the history of independent changes, and
 * replaying it gives each table what the confirmed applies gave it.
 *
 * Everything here runs under the state directory's lock (a TrialStore).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "change.h"
#include "diff.h"
#include "errtext.h"
#include "fileio.h"
#include "guard.h"
#include "ifindex.h"
#include "macro.h"
#include "persist.h"
#include "sandbox.h"
#include "snapshot.h"

#define INDEX_VERSION 1
/* Far above any index of real entries; a bound for what we load. */
#define INDEX_MAX (16 * 1024 * 1024)
#define STAGED_META TRIAL_EXTRA_PREFIX "persist.json"
#define STAGED_TEXT TRIAL_EXTRA_PREFIX "persist.nft"
/* Boot-time loads that lose a race with another writer are made again. */
#define LOAD_ATTEMPTS_MAX 3

static const char *const kind_names[_PERSIST_KIND_MAX] = {
        [PERSIST_TEXT] = "text",
        [PERSIST_TABLES] = "tables",
};

static PersistKind kind_from_string(const char *s) {
        for (int i = 0; s && i < _PERSIST_KIND_MAX; i++)
                if (streq(kind_names[i], s))
                        return (PersistKind) i;
        return _PERSIST_KIND_INVALID;
}

static char *persist_path(const char *state_dir, const char *name) {
        char *p;

        return asprintf(&p, "%s/persist%s%s", state_dir, name ? "/" : "", name ?: "") < 0 ? NULL : p;
}

/* "12.nft" or "12.fwg": the data of an entry. */
static int data_name(uint64_t id, PersistKind kind, char *buf, size_t len) {
        return snprintf(buf, len, "%" PRIu64 ".%s", id, kind == PERSIST_TEXT ? "nft" : "fwg") < (int) len ? 0 : -ENOBUFS;
}

/* ------------------------------------------------------------------ JSON */

static json_t *refs_json(const TableRef *refs, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_pack("[ss]", family_name(refs[i].family), refs[i].name)) < 0)
                        return json_decref(a), NULL;
        return a;
}

static int refs_from_json(const json_t *a, TableRef **ret, size_t *ret_n) {
        TableRef *refs;
        size_t n = json_array_size(a);

        if (!json_is_array(a))
                return -EBADMSG;
        refs = calloc(n + 1, sizeof(TableRef));
        if (!refs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(a, i);
                const char *fam = json_string_value(json_array_get(e, 0)), *name = json_string_value(json_array_get(e, 1));

                if (json_array_size(e) != 2 || !fam || !name || !*name ||
                    family_from_name(fam, &refs[i].family) < 0 || !(refs[i].name = strdup(name))) {
                        table_refs_free(refs, n);
                        return -EBADMSG;
                }
        }
        *ret = refs;
        *ret_n = n;
        return 0;
}

static bool refs_has(const TableRef *refs, size_t n, uint32_t family, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (refs[i].family == family && streq(refs[i].name, name))
                        return true;
        return false;
}

/* Is @e an entry (with @id) or a staged entry (without it) as we write them? */
static bool entry_valid(const json_t *e, bool with_id) {
        const char *key;
        const json_t *v;
        size_t i;

        if (!json_is_object(e) || kind_from_string(json_string_value(json_object_get(e, "kind"))) < 0 ||
            !json_is_string(json_object_get(e, "name")) || !json_is_integer(json_object_get(e, "uid")) ||
            !json_is_integer(json_object_get(e, "gid")) || !json_is_array(json_object_get(e, "groups")) ||
            !json_is_boolean(json_object_get(e, "standalone")) || !json_is_object(json_object_get(e, "interfaces")) ||
            !json_is_array(json_object_get(e, "unresolved")))
                return false;
        json_array_foreach(json_object_get(e, "groups"), i, v)
                if (!json_is_integer(v))
                        return false;
        json_object_foreach((json_t *) json_object_get(e, "interfaces"), key, v)
                if (!*key || strlen(key) > 10 || strspn(key, "0123456789") != strlen(key) || !json_is_string(v) ||
                    strlen(json_string_value(v)) >= IF_NAMESIZE)
                        return false;
        json_array_foreach(json_object_get(e, "unresolved"), i, v)
                if (!json_is_string(v))
                        return false;
        for (const char *const *k = (const char *const[]) { "tables", "owns", NULL }; *k; k++) {
                TableRef *refs;
                size_t n;

                if (!with_id && streq(*k, "owns"))
                        continue;
                if (refs_from_json(json_object_get(e, *k), &refs, &n) < 0)
                        return false;
                table_refs_free(refs, n);
        }
        return !with_id || (json_is_integer(json_object_get(e, "id")) && json_integer_value(json_object_get(e, "id")) > 0);
}

static int json_read(const char *path, size_t max, json_t **ret, char *err, size_t errlen) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        json_error_t jerr;
        size_t len;
        int r;

        if (fd < 0)
                return errbuf(negative_errno(), err, errlen, "%s: %m", path);
        r = fileio_read_all(fd, max, &buf, &len);
        if (r < 0)
                return errbuf(r, err, errlen, "%s: %s", path, strerror(-r));
        *ret = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!*ret)
                return errbuf(-EBADMSG, err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return 0;
}

static int json_writer(int fd, void *userdata) {
        return json_dumpfd(userdata, fd, JSON_INDENT(1) | JSON_SORT_KEYS) < 0 ? -EIO : 0;
}

/* ------------------------------------------------------------------ the index */

static int index_read_dir(const char *state_dir, json_t **ret, char *err, size_t errlen) {
        _cleanup_free_ char *path = persist_path(state_dir, "index.json");
        _cleanup_(json_decrefp) json_t *idx = NULL;
        const json_t *e;
        size_t i;
        int r;

        if (!path)
                return -ENOMEM;
        r = json_read(path, INDEX_MAX, &idx, err, errlen);
        if (r == -ENOENT) {
                *ret = json_pack("{s:i, s:b, s:[]}", "version", INDEX_VERSION, "enabled", true, "entries");
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        if (json_integer_value(json_object_get(idx, "version")) != INDEX_VERSION ||
            !json_is_boolean(json_object_get(idx, "enabled")) || !json_is_array(json_object_get(idx, "entries")))
                return errbuf(-EBADMSG, err, errlen, "%s: not a persistence index of version %d", path, INDEX_VERSION);
        json_array_foreach(json_object_get(idx, "entries"), i, e)
                if (!entry_valid(e, true))
                        return errbuf(-EBADMSG, err, errlen, "%s: entry %zu is damaged", path, i + 1);
        *ret = TAKE_PTR(idx);
        return 0;
}

int persist_enabled(const char *state_dir) {
        _cleanup_(json_decrefp) json_t *idx = NULL;
        int r = index_read_dir(state_dir, &idx, NULL, 0);

        return r < 0 ? r : json_is_true(json_object_get(idx, "enabled"));
}

/* Is @name a data file that @idx names? */
static bool data_named(const json_t *idx, const char *name) {
        const json_t *e;
        size_t i;

        json_array_foreach(json_object_get(idx, "entries"), i, e) {
                char n[64];

                if (data_name((uint64_t) json_integer_value(json_object_get(e, "id")),
                              kind_from_string(json_string_value(json_object_get(e, "kind"))), n, sizeof(n)) >= 0 &&
                    streq(n, name))
                        return true;
        }
        return false;
}

/* Replace the index, durably, then remove the data that it no longer names
 * (dropped entries, and leftovers of writes a crash interrupted). */
static int index_write(TrialStore *s, json_t *idx, char *err, size_t errlen) {
        _cleanup_free_ char *dir = persist_path(trial_store_dir(s), NULL), *path = persist_path(trial_store_dir(s), "index.json");
        DIR *d;
        struct dirent *de;
        int r;

        if (!dir || !path)
                return -ENOMEM;
        r = fileio_write_atomic(path, 0600, json_writer, idx);
        if (r < 0)
                return errbuf(r, err, errlen, "writing %s: %s", path, strerror(-r));
        d = opendir(dir);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && !streq(de->d_name, "index.json") && !data_named(idx, de->d_name))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        return 0;
}

static int persist_mkdir(TrialStore *s, char *err, size_t errlen) {
        _cleanup_free_ char *dir = persist_path(trial_store_dir(s), NULL);
        _cleanup_close_ int fd = -1;

        if (!dir)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return errbuf(negative_errno(), err, errlen, "creating %s: %m", dir);
        fd = open(trial_store_dir(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return errbuf(negative_errno(), err, errlen, "%s: %m", trial_store_dir(s));
        return 0;
}

static json_t *entry_by_id(const json_t *idx, uint64_t id) {
        json_t *e;
        size_t i;

        json_array_foreach(json_object_get(idx, "entries"), i, e)
                if ((uint64_t) json_integer_value(json_object_get(e, "id")) == id)
                        return e;
        return NULL;
}

/* ------------------------------------------------------------------ stage */

typedef struct IfCollect {
        json_t *interfaces;     /* index → name, as now */
        json_t *unresolved;     /* text for people */
        const RsTable *t;
} IfCollect;

static int collect_if(uint32_t *index, const char *where, void *userdata) {
        IfCollect *c = userdata;
        char key[16], name[IF_NAMESIZE];

        snprintf(key, sizeof(key), "%" PRIu32, *index);
        if (json_object_get(c->interfaces, key))
                return 0;
        if (strstr(where, "(interval)") || !if_indextoname(*index, name))
                return json_array_append_new(c->unresolved,
                                             json_sprintf("%s %s, %s: interface index %" PRIu32 "%s", family_name(c->t->family),
                                                          c->t->name, where, *index,
                                                          strstr(where, "(interval)") ? " in a range" : " names no interface now"))
                       < 0 ? -ENOMEM : 0;
        return json_object_set_new(c->interfaces, key, json_string(name)) < 0 ? -ENOMEM : 0;
}

/* The tables of @src in @s1, without their guard, and the names their
 * interface indexes have now. */
static int tables_of(const Ruleset *s1, const TableRef *refs, size_t n, Ruleset **ret, json_t *interfaces,
                     json_t *unresolved) {
        _cleanup_(ruleset_freep) Ruleset *copy = NULL, *out = NULL;
        int r;

        r = ruleset_copy(s1, &copy);
        if (r >= 0)
                r = ruleset_new(&out);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                RsTable *t = ruleset_find_table(copy, refs[i].family, refs[i].name);
                IfCollect c = { .interfaces = interfaces, .unresolved = unresolved, .t = t };

                if (!t || t->owned)
                        continue;
                r = guard_table_strip(t);
                if (r >= 0 && interfaces)
                        r = ifindex_foreach(t, collect_if, &c);
                if (r >= 0)
                        r = ruleset_take_table(out, copy, t);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

int persist_stage(TrialStore *s, const Trial *t, const PersistSource *src, char *err, size_t errlen) {
        _cleanup_free_ char *meta = trial_store_path(s, STAGED_META), *text = trial_store_path(s, STAGED_TEXT);
        _cleanup_(json_decrefp) json_t *e = NULL, *groups = json_array(), *tables = refs_json(src->tables, src->n_tables),
                                        *interfaces = json_object(), *unresolved = json_array();
        int r;

        if (!meta || !text || !groups || !tables || !interfaces || !unresolved)
                return -ENOMEM;
        if (src->kind == PERSIST_TEXT && src->text_len > PERSIST_TEXT_MAX)
                return errbuf(-EFBIG, err, errlen, "%s is longer than %d bytes: too long to keep for a reboot",
                            src->name, PERSIST_TEXT_MAX);
        for (size_t i = 0; i < src->n_groups; i++)
                if (json_array_append_new(groups, json_integer(src->groups[i])) < 0)
                        return -ENOMEM;
        /* The interfaces' names now, while the indexes in S1' are this
         * boot's: a confirmation may come after a reboot (recovery). */
        if (src->kind == PERSIST_TABLES) {
                _cleanup_(ruleset_freep) Ruleset *unused = NULL;

                r = tables_of(t->s1, src->tables, src->n_tables, &unused, interfaces, unresolved);
                if (r < 0)
                        return errbuf(r, err, errlen, "reading the interfaces of trial %" PRIu64 ": %s", t->id, strerror(-r));
        }
        e = json_pack("{s:s, s:s, s:I, s:I, s:O, s:b, s:O, s:O, s:O}", "kind", kind_names[src->kind],
                      "name", src->name, "uid", (json_int_t) src->uid, "gid", (json_int_t) src->gid, "groups", groups,
                      "standalone", src->kind == PERSIST_TABLES || src->standalone, "tables", tables,
                      "interfaces", interfaces, "unresolved", unresolved);
        if (!e)
                return -ENOMEM;
        if (src->kind == PERSIST_TEXT) {
                r = fileio_install(text, true, 0600, src->text, src->text_len);
                if (r < 0)
                        return errbuf(r, err, errlen, "writing %s: %s", text, strerror(-r));
        }
        /* Last: it names the kind, and so the text beside it. */
        r = fileio_write_atomic(meta, 0600, json_writer, e);
        if (r < 0)
                return errbuf(r, err, errlen, "writing %s: %s", meta, strerror(-r));
        return 0;
}

/* ------------------------------------------------------------------ confirm */

static int snapshot_writer(int fd, void *userdata) {
        return snapshot_write(fd, userdata, now_usec(CLOCK_REALTIME));
}

/* The data of the new entry @id, from what the trial staged. */
static int entry_data_write(TrialStore *s, const Trial *t, uint64_t id, const json_t *e, char *err, size_t errlen) {
        PersistKind kind = kind_from_string(json_string_value(json_object_get(e, "kind")));
        _cleanup_free_ char *dir = persist_path(trial_store_dir(s), NULL), *path = NULL;
        char name[64];
        int r;

        r = data_name(id, kind, name, sizeof(name));
        if (r < 0 || !dir || asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (kind == PERSIST_TEXT) {
                _cleanup_free_ char *staged = trial_store_path(s, STAGED_TEXT), *text = NULL;
                _cleanup_close_ int fd = -1;
                size_t len;

                if (!staged)
                        return -ENOMEM;
                fd = open(staged, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return errbuf(negative_errno(), err, errlen, "%s: %m", staged);
                r = fileio_read_all(fd, PERSIST_TEXT_MAX, &text, &len);
                if (r >= 0)
                        r = fileio_install(path, true, 0600, text, len);
        } else {
                _cleanup_(ruleset_freep) Ruleset *tables = NULL;
                TableRef *refs;
                size_t n;

                r = refs_from_json(json_object_get(e, "tables"), &refs, &n);
                if (r < 0)
                        return r;
                r = tables_of(t->s1, refs, n, &tables, NULL, NULL);
                table_refs_free(refs, n);
                if (r >= 0)
                        r = fileio_write_atomic(path, 0600, snapshot_writer, tables);
        }
        if (r < 0)
                return errbuf(r, err, errlen, "writing %s: %s", path, strerror(-r));
        return 0;
}

/* A standalone entry @e takes its tables from the earlier entries; those
 * left with none are dropped from @entries. */
static int take_tables(json_t *entries, const json_t *e) {
        TableRef *mine;
        size_t n_mine;
        int r;

        if (!json_is_true(json_object_get(e, "standalone")))
                return 0;
        r = refs_from_json(json_object_get(e, "tables"), &mine, &n_mine);
        if (r < 0)
                return r;
        for (size_t i = json_array_size(entries); r >= 0 && i > 0; i--) {
                json_t *old = json_array_get(entries, i - 1), *owns = json_object_get(old, "owns");

                for (size_t j = json_array_size(owns); j > 0; j--) {
                        const json_t *o = json_array_get(owns, j - 1);
                        uint32_t fam;

                        if (family_from_name(json_string_value(json_array_get(o, 0)), &fam) >= 0 &&
                            refs_has(mine, n_mine, fam, json_string_value(json_array_get(o, 1))))
                                json_array_remove(owns, j - 1);
                }
                if (json_array_size(owns) == 0)
                        json_array_remove(entries, i - 1);
        }
        table_refs_free(mine, n_mine);
        return r;
}

static int warnings_text(const json_t *unresolved, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, i;
        const json_t *v;
        FILE *f;

        *ret = NULL;
        if (json_array_size(unresolved) == 0)
                return 0;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        json_array_foreach(unresolved, i, v)
                fprintf(f, "%s: after a reboot it stays that number, whatever interface has it then\n",
                        json_string_value(v));
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

int persist_confirm(TrialStore *s, const Trial *t, char **ret_warnings, char *err, size_t errlen) {
        _cleanup_free_ char *meta = trial_store_path(s, STAGED_META);
        _cleanup_(json_decrefp) json_t *idx = NULL, *e = NULL;
        int r;

        *ret_warnings = NULL;
        if (!meta)
                return -ENOMEM;
        r = json_read(meta, INDEX_MAX, &e, err, errlen);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!entry_valid(e, false))
                return errbuf(-EBADMSG, err, errlen, "%s is damaged", meta);
        r = index_read_dir(trial_store_dir(s), &idx, err, errlen);
        if (r < 0)
                return r;
        if (!json_is_true(json_object_get(idx, "enabled")) || entry_by_id(idx, t->id))
                return 0;
        if (json_array_size(json_object_get(e, "tables")) == 0)
                return 0;       /* only other tables got the guard */
        r = persist_mkdir(s, err, errlen);
        if (r < 0)
                return r;
        r = entry_data_write(s, t, t->id, e, err, errlen);
        if (r < 0)
                return r;
        if (json_object_set_new(e, "id", json_integer((json_int_t) t->id)) < 0 ||
            json_object_set(e, "owns", json_object_get(e, "tables")) < 0)
                return -ENOMEM;
        r = take_tables(json_object_get(idx, "entries"), e);
        if (r < 0)
                return r;
        if (json_array_append(json_object_get(idx, "entries"), e) < 0)
                return -ENOMEM;
        r = index_write(s, idx, err, errlen);
        if (r < 0)
                return r;
        return warnings_text(json_object_get(e, "unresolved"), ret_warnings);
}

int persist_set(TrialStore *s, bool on, char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *idx = NULL;
        int r;

        r = index_read_dir(trial_store_dir(s), &idx, err, errlen);
        if (r < 0)
                return r;
        if (json_object_set_new(idx, "enabled", json_boolean(on)) < 0 ||
            (!on && json_object_set_new(idx, "entries", json_array()) < 0))
                return -ENOMEM;
        r = persist_mkdir(s, err, errlen);
        if (r < 0)
                return r;
        return index_write(s, idx, err, errlen);
}

/* ------------------------------------------------------------------ status */

static void print_refs(FILE *f, const json_t *refs) {
        const json_t *v;
        size_t i;

        json_array_foreach(refs, i, v)
                fprintf(f, "%s%s %s", i ? ", " : "", json_string_value(json_array_get(v, 0)),
                        json_string_value(json_array_get(v, 1)));
}

int persist_status(TrialStore *s, FILE *f, bool json, char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *idx = NULL;
        const json_t *e;
        size_t i;
        int r;

        r = index_read_dir(trial_store_dir(s), &idx, err, errlen);
        if (r < 0)
                return r;
        if (json) {
                _cleanup_free_ char *text = json_dumps(idx, JSON_INDENT(2) | JSON_SORT_KEYS);

                if (!text)
                        return -ENOMEM;
                fprintf(f, "%s\n", text);
                return 0;
        }
        if (!json_is_true(json_object_get(idx, "enabled"))) {
                fprintf(f, "persistence: off (confirmed applies are not loaded at boot; `fwguard persist on` "
                           "keeps those confirmed from then on)\n");
                return 0;
        }
        fprintf(f, "persistence: on\n");
        if (json_array_size(json_object_get(idx, "entries")) == 0) {
                fprintf(f, "nothing to load at boot yet: no confirmed apply since persistence was turned on\n");
                return 0;
        }
        fprintf(f, "At boot, after nftables.service, ufw.service and netfilter-persistent.service have loaded "
                   "their rules and before the network comes up, fwguard-persist.service loads these "
                   "confirmed applies, in this order, with the SSH guard: the tables they provide become "
                   "what the applies made of them, whatever /etc/nftables.conf made of them; other tables "
                   "stay as the boot loaded them. `fwguard persist off` leaves the boot to those services.\n");
        json_array_foreach(json_object_get(idx, "entries"), i, e) {
                bool text = streq(json_string_value(json_object_get(e, "kind")), "text");
                const char *key;
                const json_t *v;
                size_t j;

                fprintf(f, "  trial %" PRIu64 ": %s %s", (uint64_t) json_integer_value(json_object_get(e, "id")),
                        text ? "nft text" : "tables of", json_string_value(json_object_get(e, "name")));
                if (text)
                        fprintf(f, " (compiled afresh as uid %" JSON_INTEGER_FORMAT "%s)",
                                json_integer_value(json_object_get(e, "uid")),
                                json_is_true(json_object_get(e, "standalone")) ? "" : ", over the entries before it");
                fprintf(f, ": ");
                print_refs(f, json_object_get(e, "owns"));
                fprintf(f, "\n");
                        json_object_foreach((json_t *) json_object_get(e, "interfaces"), key, v)
                        fprintf(f, "    interface index %s is looked up as %s\n", key, json_string_value(v));
                json_array_foreach(json_object_get(e, "unresolved"), j, v)
                        fprintf(f, "    cannot be re-resolved: %s\n", json_string_value(v));
        }
        return 0;
}

/* ------------------------------------------------------------------ load */

typedef struct Remap {
        const json_t *interfaces;       /* index at the commit → name */
        char missing[IF_NAMESIZE + 64]; /* the first name that has no interface now */
} Remap;

static int remap_if(uint32_t *index, const char *where, void *userdata) {
        Remap *m = userdata;
        char key[16];
        const char *name;
        unsigned now;

        snprintf(key, sizeof(key), "%" PRIu32, *index);
        name = json_string_value(json_object_get(m->interfaces, key));
        if (!name)
                return 0;       /* reported when it was confirmed */
        now = if_nametoindex(name);
        if (now == 0) {
                snprintf(m->missing, sizeof(m->missing), "%s (index %" PRIu32 " when it was committed)", name, *index);
                return -ENODEV;
        }
        *index = now;
        return 0;
}

/* Replace @work's tables that @owns names by @from's (absent ones deleted). */
static int take_owned(Ruleset *work, Ruleset *from, const TableRef *owns, size_t n) {
        for (size_t i = 0; i < n; i++) {
                RsTable *old = ruleset_find_table(work, owns[i].family, owns[i].name);
                RsTable *t = ruleset_find_table(from, owns[i].family, owns[i].name);
                int r;

                if (old && old->owned)
                        continue;       /* another process's: we cannot write it */
                if (old)
                        ruleset_drop_table(work, old);
                r = t ? ruleset_take_table(work, from, t) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What text entry @e compiles over: @work, or for a standalone one @work
 * without the tables it changed, as the apply found it standalone. So its
 * tables replace what the boot loaded of them (nftables.conf), rather than
 * add to it, and loading twice changes nothing. */
static int text_base(const json_t *e, const Ruleset *work, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *base = NULL;
        TableRef *tables;
        size_t n;
        int r;

        r = ruleset_copy(work, &base);
        if (r < 0)
                return r;
        if (json_is_true(json_object_get(e, "standalone"))) {
                r = refs_from_json(json_object_get(e, "tables"), &tables, &n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        RsTable *t = ruleset_find_table(base, tables[i].family, tables[i].name);

                        if (t && !t->owned)
                                ruleset_drop_table(base, t);
                }
                table_refs_free(tables, n);
        }
        *ret = TAKE_PTR(base);
        return 0;
}

/* What entry @e makes of @work's tables that it owns. */
static int entry_build(TrialStore *s, const json_t *e, const Config *cfg, Ruleset *work, char **ret_errors) {
        PersistKind kind = kind_from_string(json_string_value(json_object_get(e, "kind")));
        uint64_t id = (uint64_t) json_integer_value(json_object_get(e, "id"));
        _cleanup_free_ char *dir = persist_path(trial_store_dir(s), NULL), *path = NULL;
        _cleanup_(ruleset_freep) Ruleset *built = NULL;
        _cleanup_close_ int fd = -1;
        TableRef *owns;
        size_t n_owns;
        char name[64], e_text[256] = "";
        int r;

        if (data_name(id, kind, name, sizeof(name)) < 0 || !dir || asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errtext(ret_errors, negative_errno(), "%s: %m", path);
        if (kind == PERSIST_TEXT) {
                const json_t *jg = json_object_get(e, "groups");
                size_t n_groups = json_array_size(jg);
                _cleanup_free_ gid_t *groups = calloc(n_groups + 1, sizeof(gid_t));
                _cleanup_(ruleset_freep) Ruleset *base = NULL;

                if (!groups)
                        return -ENOMEM;
                r = text_base(e, work, &base);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_groups; i++)
                        groups[i] = (gid_t) json_integer_value(json_array_get(jg, i));
                SandboxRequest req = {
                        .uid = (uid_t) json_integer_value(json_object_get(e, "uid")),
                        .gid = (gid_t) json_integer_value(json_object_get(e, "gid")),
                        .groups = groups, .n_groups = n_groups,
                        .rules_fd = fd, .display_name = json_string_value(json_object_get(e, "name")), .s0 = base,
                        .limits = { .timeout_sec = cfg->sandbox_timeout_sec,
                                    .memory_bytes = (uint64_t) cfg->sandbox_memory_mb << 20 },
                };
                r = sandbox_compile(&req, &built, ret_errors);
                if (r < 0)
                        return r;
        } else {
                Remap m = { .interfaces = json_object_get(e, "interfaces") };

                r = snapshot_read(fd, &built, NULL, e_text, sizeof(e_text));
                if (r < 0)
                        return errtext(ret_errors, r, "%s: %s", path, *e_text ? e_text : strerror(-r));
                for (size_t i = 0; i < built->tables.n; i++) {
                        r = ifindex_foreach(ruleset_table(built, i), remap_if, &m);
                        if (r == -ENODEV)
                                return errtext(ret_errors, r, "interface %s does not exist now", m.missing);
                        if (r < 0)
                                return errtext(ret_errors, r, "%s", strerror(-r));
                }
        }
        r = refs_from_json(json_object_get(e, "owns"), &owns, &n_owns);
        if (r < 0)
                return errtext(ret_errors, r, "%s", strerror(-r));
        r = take_owned(work, built, owns, n_owns);
        table_refs_free(owns, n_owns);
        return r < 0 ? errtext(ret_errors, r, "%s", strerror(-r)) : 0;
}

/* The live ruleset with every entry of @idx built over it, guarded. */
static int load_once(TrialStore *s, Nl *nl, const Config *cfg, const json_t *idx, FILE *f, size_t *ret_failed,
                     char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *live = NULL, *work = NULL;
        _cleanup_(change_check_freep) ChangeCheck *check = NULL;
        _cleanup_free_ char *errors = NULL;
        TableRef *touched = NULL;
        size_t n_touched = 0, failed = 0, i;
        const json_t *e;
        int r;

        r = ruleset_dump(nl, &live);
        if (r < 0)
                return errbuf(r, err, errlen, "cannot read the live ruleset: %s", strerror(-r));
        r = ruleset_copy(live, &work);
        if (r < 0)
                return r;
        json_array_foreach(json_object_get(idx, "entries"), i, e) {
                _cleanup_free_ char *why = NULL;

                r = entry_build(s, e, cfg, work, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        fprintf(f, "trial %" PRIu64 " (%s) is NOT loaded: %s\n",
                                (uint64_t) json_integer_value(json_object_get(e, "id")),
                                json_string_value(json_object_get(e, "name")), why ?: strerror(-r));
                        failed++;
                }
        }
        /* The guard, for the SSH ports found now, in every base chain of
         * the tables that change: what the daemon does for an apply. */
        r = change_check(live, work, cfg, 0, false, &check, &errors);
        if (r < 0)
                return errbuf(r, err, errlen, "%s", errors ?: strerror(-r));
        r = diff_changed_tables(live, check->preflight->guarded, 0, &touched, &n_touched);
        if (r >= 0 && n_touched > 0)
                r = batch_replace_tables(nl, check->preflight->guarded, live, touched, n_touched, live->genid,
                                         err, errlen);
        if (r >= 0 && n_touched == 0)
                fprintf(f, "nothing to change: the persisted tables are live already\n");
        else if (r >= 0) {
                fprintf(f, "loaded");
                for (size_t j = 0; j < n_touched; j++)
                        fprintf(f, "%s %s %s", j ? "," : "", family_name(touched[j].family), touched[j].name);
                fprintf(f, ", with the SSH guard for port");
                for (size_t j = 0; j < check->n_ports; j++)
                        fprintf(f, "%s%u", j ? ", " : check->n_ports > 1 ? "s " : " ", check->ports[j].port);
                fprintf(f, "\n");
        }
        table_refs_free(touched, n_touched);
        *ret_failed = failed;
        return r;
}

int persist_load(TrialStore *s, Nl *nl, const Config *cfg, FILE *f, char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *idx = NULL;
        size_t failed = 0;
        int r, attempt = 0;

        r = index_read_dir(trial_store_dir(s), &idx, err, errlen);
        if (r < 0)
                return r;
        if (!json_is_true(json_object_get(idx, "enabled"))) {
                fprintf(f, "persistence is off: nothing to load\n");
                return 0;
        }
        if (json_array_size(json_object_get(idx, "entries")) == 0) {
                fprintf(f, "no confirmed apply to load\n");
                return 0;
        }
        do
                r = load_once(s, nl, cfg, idx, f, &failed, err, errlen);
        while (r == -ERESTART && ++attempt < LOAD_ATTEMPTS_MAX);
        if (r == -ERESTART)
                return errbuf(r, err, errlen, "the ruleset kept changing while the persisted tables were loaded");
        if (r < 0)
                return r;
        return failed > 0;
}
