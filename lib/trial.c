/* SPDX-License-Identifier: GPL-2.0-or-later */
/* trial.c — the durable record of a guarded change and its state machine
 *
 * A trial moves IDLE → SNAPSHOT_DURABLE → COMMITTED → ARMED → CONFIRMED |
 * ROLLING_BACK → IDLE, by trial_transition() alone, under the flock of
 * STATE_DIR/lock, so that the daemon and a second dead-man never interleave.
 * Each state is on disk before the kernel sees the matching change, and each
 * implies its recovery when the daemon starts:
 *
 *   IDLE              no record: nothing to do.
 *   SNAPSHOT_DURABLE  S0 and S1' are durable, the commit may or may not have
 *                     happened: converge by comparing the live touched tables
 *                     with S0 (not committed: end the trial) and S1' (committed).
 *   COMMITTED         the commit happened, the timer was not armed: an expired
 *                     deadline rolls back, an unexpired one arms; a live
 *                     ruleset equal to neither S0 nor S1' converges by rolling
 *                     back (COMMITTED → ROLLING_BACK).
 *   ARMED             expired deadline → roll back; unexpired → re-arm with the
 *                     time left. A different boot id: the reboot ended it.
 *   CONFIRMED         the change stays; end the trial.
 *   ROLLING_BACK      the target (the three-way merge) is durable, the batch may
 *                     or may not have happened: compare live with the target
 *                     and retry (ROLLING_BACK → ROLLING_BACK) until it matches.
 * The recovery itself is the daemon's; this file only keeps the facts.
 *
 * Layout of the state directory:
 *   lock                 the flock
 *   trial/record         the pending trial (absent when idle), text, see below
 *   trial/s0.fwg         S0, a snapshot file (snapshot.h)
 *   trial/s1.fwg         S1' as committed
 *   trial/target-N.fwg   the rollback target, N = the record's target_seq
 *   trial/report         free text for the user (optional, see trial_set_report())
 *   trial/extra-*        other modules' files (lib/persist), see trial_store_path()
 *   trial/file-I.old     the old content of the record's I-th file (0-based),
 *   trial/file-I.new     and its new one; absent where the file is absent then
 * (A trial's network sysctls, old and new values, are lines of the record.)
 *   history/ID/          a finished trial: the whole trial/ directory, renamed
 *
 * Every file is replaced with fileio_write_atomic(), and the record is
 * written last: a record never names a snapshot that is not durable. A new
 * rollback target gets a new name, because overwriting the one that the
 * durable record names would break that rule for the time in between.
 * Anything in trial/ that the record does not name, but for the report and
 * the extra files, is a
 * leftover of an interrupted write and is removed once the record has been
 * read. The report is not named by the record because nothing depends on it:
 * it is there or not, whole either way.
 *
 * The record is "key=value" lines after a "fwguard-trial 1" line, ending in a
 * CRC-32 of everything before it: a record is either whole or refused
 * (-EBADMSG), whatever happened to it. Free text is escaped (\\ and \xHH),
 * so every line is one line. Text rather than JSON keeps the library free of
 * another dependency and the file readable with cat.
 *
 * Ending a trial renames trial/ into history/ under its id, in one step: the
 * entry keeps the state the trial ended from (its outcome) and its snapshots,
 * which a later "rollback --to ID" needs. The next id follows the newest
 * history entry, which pruning never removes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "errtext.h"
#include "fileio.h"
#include "macro.h"
#include "snapshot.h"
#include "trial.h"

#define RECORD_MAGIC "fwguard-trial 1"
/* Far above any summary a person reads; a bound for what we load. */
#define RECORD_MAX (1024 * 1024)
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

struct TrialStore {
        char *dir, *trial_dir, *history_dir;
        unsigned history_max;
        int lock_fd;
};

static const char *const state_names[_TRIAL_STATE_MAX] = {
        [TRIAL_IDLE] = "idle",
        [TRIAL_SNAPSHOT_DURABLE] = "snapshot-durable",
        [TRIAL_COMMITTED] = "committed",
        [TRIAL_ARMED] = "armed",
        [TRIAL_CONFIRMED] = "confirmed",
        [TRIAL_ROLLING_BACK] = "rolling-back",
};

const char *trial_state_to_string(TrialState s) {
        return s >= 0 && s < _TRIAL_STATE_MAX ? state_names[s] : NULL;
}

TrialState trial_state_from_string(const char *s) {
        for (int i = 0; s && i < _TRIAL_STATE_MAX; i++)
                if (streq(state_names[i], s))
                        return (TrialState) i;
        return _TRIAL_STATE_INVALID;
}

bool trial_transition_allowed(TrialState from, TrialState to) {
        switch (from) {
        case TRIAL_IDLE:
                return to == TRIAL_SNAPSHOT_DURABLE;
        case TRIAL_SNAPSHOT_DURABLE:    /* committed, or the commit refused or failed */
                return to == TRIAL_COMMITTED || to == TRIAL_IDLE;
        case TRIAL_COMMITTED:           /* armed, or crash recovery rolls back */
                return to == TRIAL_ARMED || to == TRIAL_ROLLING_BACK;
        case TRIAL_ARMED:
                return to == TRIAL_CONFIRMED || to == TRIAL_ROLLING_BACK;
        case TRIAL_CONFIRMED:
                return to == TRIAL_IDLE;
        case TRIAL_ROLLING_BACK:        /* done, or a retry */
                return to == TRIAL_ROLLING_BACK || to == TRIAL_IDLE;
        default:
                return false;
        }
}

static const char *const files_state_names[_TRIAL_FILES_STATE_MAX] = {
        [TRIAL_FILES_PENDING] = "pending",
        [TRIAL_FILES_INSTALLED] = "installed",
        [TRIAL_FILES_RESTORED] = "restored",
};

const char *trial_files_state_to_string(TrialFilesState s) {
        return s >= 0 && s < _TRIAL_FILES_STATE_MAX ? files_state_names[s] : NULL;
}

static const char *state_name(TrialState s) {
        return trial_state_to_string(s) ?: "invalid";
}

static char *path_join(const char *dir, const char *name) {
        char *p;

        return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int fsync_dir(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

/* mkdir that survives a crash: the new entry is fsynced into @parent. */
static int mkdir_durable(const char *path, const char *parent) {
        if (mkdir(path, 0700) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        return fsync_dir(parent);
}

static int read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return negative_errno();
        return fileio_read_all(fd, max, ret, ret_len);
}

/* ------------------------------------------------------------------ lock */

int trial_lock(const char *state_dir, uint64_t timeout_usec, int *ret_fd) {
        _cleanup_free_ char *path = path_join(state_dir, "lock");
        _cleanup_close_ int fd = -1;
        uint64_t deadline;

        if (!path)
                return -ENOMEM;
        /* Read-only is enough for flock, and lets a read-only state directory be
         * locked (and then refused at the first write, with -EROFS). */
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        if (timeout_usec == TRIAL_LOCK_WAIT_FOREVER) {
                while (flock(fd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return negative_errno();
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        /* flock() has no timeout: poll, which only happens when contended. */
        deadline = now_nsec(CLOCK_MONOTONIC) / 1000 + MIN(timeout_usec, UINT64_MAX / 2);
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                uint64_t now = now_nsec(CLOCK_MONOTONIC) / 1000;

                if (errno != EWOULDBLOCK && errno != EINTR)
                        return negative_errno();
                if (timeout_usec == 0)
                        return -EBUSY;
                if (now >= deadline)
                        return -ETIMEDOUT;
                (void) usleep((useconds_t) MIN(deadline - now, 10000));
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ------------------------------------------------------------------ the record */

static void put_escaped(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '\\')
                        fputs("\\\\", f);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

static int unescape(const char *s, char **ret) {
        _cleanup_free_ char *out = malloc(strlen(s) + 1);
        char *o = out;

        if (!out)
                return -ENOMEM;
        while (*s) {
                if (*s != '\\')
                        *o++ = *s++;
                else if (s[1] == '\\') {
                        *o++ = '\\';
                        s += 2;
                } else if (s[1] == 'x' && isxdigit((unsigned char) s[2]) && isxdigit((unsigned char) s[3])) {
                        char hex[3] = { s[2], s[3], 0 };
                        unsigned long c = strtoul(hex, NULL, 16);

                        if (c == 0)
                                return -EBADMSG;
                        *o++ = (char) c;
                        s += 4;
                } else
                        return -EBADMSG;
        }
        *o = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static int record_format(const Trial *t, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        fprintf(f, RECORD_MAGIC "\n"
                "id=%" PRIu64 "\n"
                "state=%s\n"
                "created_usec=%" PRIu64 "\n"
                "committed_usec=%" PRIu64 "\n"
                "committed_boottime_ns=%" PRIu64 "\n"
                "deadline_boottime_ns=%" PRIu64 "\n"
                "deadline_realtime_usec=%" PRIu64 "\n"
                "boot_id=%s\n"
                "genid=%" PRIu32 "\n"
                "uid=%u\n"
                "target_seq=%u\n",
                t->id, state_name(t->state), t->created_usec, t->committed_usec,
                t->committed_boottime_ns, t->deadline_boottime_ns, t->deadline_realtime_usec, t->boot_id, t->genid,
                (unsigned) t->uid, t->target_seq);
        for (size_t i = 0; i < t->n_touched; i++) {
                fprintf(f, "touched=%s ", family_name(t->touched[i].family));
                put_escaped(f, t->touched[i].name);
                fputc('\n', f);
        }
        fputs("ssh_ports=", f);
        for (size_t i = 0; i < t->n_ssh_ports; i++)
                fprintf(f, "%s%u", i ? " " : "", (unsigned) t->ssh_ports[i]);
        fputc('\n', f);
        fputs("summary=", f);
        put_escaped(f, t->summary ?: "");
        fputc('\n', f);
        /* Only with files: a trial without any keeps the record it always had. */
        for (size_t i = 0; i < t->n_files; i++) {
                const TrialFile *tf = &t->files[i];

                fputs("file=", f);
                if (tf->old_exists)
                        fprintf(f, "%04o ", tf->old_mode & 07777);
                else
                        fputs("- ", f);
                if (tf->new_exists)
                        fprintf(f, "%04o ", tf->new_mode & 07777);
                else
                        fputs("- ", f);
                put_escaped(f, tf->path);
                fputc('\n', f);
        }
        /* Values are integers and names come from a fixed list: no escaping. */
        for (size_t i = 0; i < t->n_sysctls; i++)
                fprintf(f, "sysctl=%s %s %s\n", t->sysctls[i].name, t->sysctls[i].old_value,
                        t->sysctls[i].new_value);
        if (t->n_files > 0 || t->n_sysctls > 0)
                fprintf(f, "files=%s\n", trial_files_state_to_string(t->files_state) ?: "pending");
        if (fflush(f) != 0) {
                fclose(f);
                return -ENOMEM;
        }
        fprintf(f, "crc32=%08lx\n", crc32(crc32(0L, Z_NULL, 0), (const Bytef *) text, (uInt) len));
        if (fclose(f) != 0 || !text)
                return -ENOMEM;
        if (len > RECORD_MAX)
                return -E2BIG;
        *ret = TAKE_PTR(text);
        return 0;
}

static int write_text(int fd, void *userdata) {
        _cleanup_close_ int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        FILE *f;
        int r = 0;

        if (copy < 0)
                return negative_errno();
        f = fdopen(copy, "w");
        if (!f)
                return negative_errno();
        TAKE_FD(copy);
        if (fputs(userdata, f) == EOF)
                r = negative_errno();
        if (fclose(f) != 0 && r == 0)
                r = negative_errno();
        return r;
}

static int write_snapshot(int fd, void *userdata) {
        return snapshot_write(fd, userdata, now_nsec(CLOCK_REALTIME) / 1000);
}

static int store_write(TrialStore *s, const char *name, fileio_writer writer, void *userdata,
                       char *err, size_t errlen) {
        _cleanup_free_ char *path = path_join(s->trial_dir, name);
        int r;

        if (!path)
                return -ENOMEM;
        r = fileio_write_atomic(path, 0600, writer, userdata);
        if (r < 0)
                return errbuf(r, err, errlen, "writing %s: %s", path, strerror(-r));
        return 0;
}

static int record_write(TrialStore *s, const Trial *t, char *err, size_t errlen) {
        _cleanup_free_ char *text = NULL;
        int r = record_format(t, &text);

        if (r < 0)
                return errbuf(r, err, errlen, "formatting the trial record: %s", strerror(-r));
        return store_write(s, "record", write_text, text, err, errlen);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!isdigit((unsigned char) s[0]))
                return -EBADMSG;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static bool boot_id_valid(const char *s) {
        if (strlen(s) != TRIAL_BOOT_ID_LEN)
                return false;
        for (; *s; s++)
                if (!isxdigit((unsigned char) *s) && *s != '-')
                        return false;
        return true;
}

typedef enum RecordKey {
        KEY_ID,
        KEY_STATE,
        KEY_CREATED,
        KEY_COMMITTED,
        KEY_DEADLINE_BOOTTIME,
        KEY_DEADLINE_REALTIME,
        KEY_BOOT_ID,
        KEY_GENID,
        KEY_UID,
        KEY_TARGET_SEQ,
        KEY_COMMITTED_BOOTTIME,
        KEY_SSH_PORTS,
        KEY_SUMMARY,
        KEY_TOUCHED,            /* repeats; it and the keys after it are optional */
        KEY_FILE,               /* repeats */
        KEY_FILES_STATE,
        KEY_SYSCTL,             /* repeats */
        _KEY_MAX,
} RecordKey;

static const char *const key_names[_KEY_MAX] = {
        [KEY_ID] = "id",
        [KEY_STATE] = "state",
        [KEY_CREATED] = "created_usec",
        [KEY_COMMITTED] = "committed_usec",
        [KEY_DEADLINE_BOOTTIME] = "deadline_boottime_ns",
        [KEY_DEADLINE_REALTIME] = "deadline_realtime_usec",
        [KEY_BOOT_ID] = "boot_id",
        [KEY_GENID] = "genid",
        [KEY_UID] = "uid",
        [KEY_TARGET_SEQ] = "target_seq",
        [KEY_COMMITTED_BOOTTIME] = "committed_boottime_ns",
        [KEY_SSH_PORTS] = "ssh_ports",
        [KEY_SUMMARY] = "summary",
        [KEY_TOUCHED] = "touched",
        [KEY_FILE] = "file",
        [KEY_FILES_STATE] = "files",
        [KEY_SYSCTL] = "sysctl",
};

/* "0644" or "-" (absent), as record_format() writes them. */
static int mode_parse(const char *s, size_t len, bool *ret_exists, unsigned *ret_mode) {
        unsigned v = 0;

        if (len == 1 && s[0] == '-') {
                *ret_exists = false;
                *ret_mode = 0;
                return 0;
        }
        if (len != 4)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '7')
                        return -EBADMSG;
                v = v * 8 + (unsigned) (s[i] - '0');
        }
        *ret_exists = true;
        *ret_mode = v;
        return 0;
}

/* "OLDMODE NEWMODE PATH" */
static int file_add(Trial *t, const char *value) {
        const char *sp1 = strchr(value, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        _cleanup_free_ char *path = NULL;
        TrialFile f = {}, *files;

        if (!sp2 || t->n_files >= TRIAL_FILES_MAX)
                return -EBADMSG;
        if (mode_parse(value, (size_t) (sp1 - value), &f.old_exists, &f.old_mode) < 0 ||
            mode_parse(sp1 + 1, (size_t) (sp2 - sp1 - 1), &f.new_exists, &f.new_mode) < 0 ||
            unescape(sp2 + 1, &path) < 0 || path[0] != '/')
                return -EBADMSG;
        files = realloc(t->files, (t->n_files + 1) * sizeof(TrialFile));
        if (!files)
                return -ENOMEM;
        t->files = files;
        f.path = TAKE_PTR(path);
        files[t->n_files++] = f;
        return 0;
}

/* "NAME OLD NEW" */
static int sysctl_add(Trial *t, const char *value) {
        TrialSysctl v = {}, *grown;

        if (t->n_sysctls >= TRIAL_SYSCTLS_MAX ||
            sscanf(value, "%63s %23s %23s", v.name, v.old_value, v.new_value) != 3 ||
            !netsysctl_known(v.name) || !netsysctl_value_valid(v.old_value) ||
            !netsysctl_value_valid(v.new_value) ||
            strlen(v.name) + strlen(v.old_value) + strlen(v.new_value) + 2 != strlen(value))
                return -EBADMSG;
        grown = reallocarray(t->sysctls, t->n_sysctls + 1, sizeof(TrialSysctl));
        if (!grown)
                return -ENOMEM;
        t->sysctls = grown;
        grown[t->n_sysctls++] = v;
        return 0;
}

static int touched_add(Trial *t, const char *value) {
        const char *sp = strchr(value, ' ');
        _cleanup_free_ char *family = NULL, *name = NULL;
        TableRef *refs;
        uint32_t fam;

        if (!sp)
                return -EBADMSG;
        family = strndup(value, (size_t) (sp - value));
        if (!family)
                return -ENOMEM;
        if (family_from_name(family, &fam) < 0 || unescape(sp + 1, &name) < 0 || !name[0])
                return -EBADMSG;
        refs = realloc(t->touched, (t->n_touched + 1) * sizeof(TableRef));
        if (!refs)
                return -ENOMEM;
        t->touched = refs;
        refs[t->n_touched++] = (TableRef) { .family = fam, .name = TAKE_PTR(name) };
        return 0;
}

/* "22 2222": as record_format() writes them, nothing else. */
static int ports_parse(Trial *t, const char *value) {
        const char *p = value;

        t->n_ssh_ports = 0;
        while (*p) {
                uint64_t v = 0;
                size_t len = strspn(p, "0123456789");

                if (len == 0 || len > 5 || t->n_ssh_ports == TRIAL_PORTS_MAX || (p[0] == '0'))
                        return -EBADMSG;
                for (size_t i = 0; i < len; i++)
                        v = v * 10 + (uint64_t) (p[i] - '0');
                if (v > UINT16_MAX)
                        return -EBADMSG;
                t->ssh_ports[t->n_ssh_ports++] = (uint16_t) v;
                p += len;
                if (*p == ' ' && p[1])
                        p++;
                else if (*p)
                        return -EBADMSG;
        }
        return 0;
}

static int record_field(Trial *t, RecordKey key, const char *value) {
        uint64_t *const u64[_KEY_MAX] = {
                [KEY_ID] = &t->id,
                [KEY_CREATED] = &t->created_usec,
                [KEY_COMMITTED] = &t->committed_usec,
                [KEY_COMMITTED_BOOTTIME] = &t->committed_boottime_ns,
                [KEY_DEADLINE_BOOTTIME] = &t->deadline_boottime_ns,
                [KEY_DEADLINE_REALTIME] = &t->deadline_realtime_usec,
        };
        uint64_t v = 0;
        int r = 0;

        if (u64[key])
                return parse_u64(value, UINT64_MAX, u64[key]);
        switch (key) {
        case KEY_STATE:
                t->state = trial_state_from_string(value);
                return t->state == TRIAL_IDLE || t->state < 0 ? -EBADMSG : 0;
        case KEY_BOOT_ID:
                if (!boot_id_valid(value))
                        return -EBADMSG;
                strcpy(t->boot_id, value);
                return 0;
        case KEY_GENID:
                r = parse_u64(value, UINT32_MAX, &v);
                t->genid = (uint32_t) v;
                return r;
        case KEY_UID:
                /* (uid_t) -1 is "no uid" everywhere, never a caller. */
                r = parse_u64(value, UINT32_MAX - 1, &v);
                t->uid = (uid_t) v;
                return r;
        case KEY_TARGET_SEQ:
                r = parse_u64(value, UINT32_MAX, &v);
                t->target_seq = (unsigned) v;
                return r;
        case KEY_SSH_PORTS:
                return ports_parse(t, value);
        case KEY_SUMMARY:
                return unescape(value, &t->summary);
        case KEY_TOUCHED:
                return touched_add(t, value);
        case KEY_FILE:
                return file_add(t, value);
        case KEY_SYSCTL:
                return sysctl_add(t, value);
        case KEY_FILES_STATE:
                for (int i = 0; i < _TRIAL_FILES_STATE_MAX; i++)
                        if (streq(files_state_names[i], value)) {
                                t->files_state = (TrialFilesState) i;
                                return 0;
                        }
                return -EBADMSG;
        default:
                return -EBADMSG;
        }
}

/* Parse a whole record into @t (fresh, zeroed): the CRC first, so that
 * nothing of a damaged record is believed. */
static int record_parse(char *buf, size_t len, Trial *t, char *err, size_t errlen) {
        char *crc_line, *line, *next;
        unsigned seen = 0, lineno = 1;
        unsigned long crc;

        if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\0', len))
                return errbuf(-EBADMSG, err, errlen, "record is truncated or not text");
        buf[len - 1] = '\0';
        crc_line = strrchr(buf, '\n');
        crc_line = crc_line ? crc_line + 1 : buf;
        /* Exactly as written (8 lowercase digits): any other spelling of the
         * same number would be a change that the checksum lets through. */
        if (strncmp(crc_line, "crc32=", 6) != 0 || strlen(crc_line) != 14 ||
            strspn(crc_line + 6, "0123456789abcdef") != 8)
                return errbuf(-EBADMSG, err, errlen, "record is truncated: no checksum line at its end");
        crc = strtoul(crc_line + 6, NULL, 16);
        if (crc != crc32(crc32(0L, Z_NULL, 0), (const Bytef *) buf, (uInt) (crc_line - buf)))
                return errbuf(-EBADMSG, err, errlen, "record does not match its checksum");
        *crc_line = '\0';

        next = strchr(buf, '\n');
        if (!next || (size_t) (next - buf) != strlen(RECORD_MAGIC) || strncmp(buf, RECORD_MAGIC, strlen(RECORD_MAGIC)) != 0)
                return errbuf(-EBADMSG, err, errlen, "record does not start with \"" RECORD_MAGIC "\"");
        for (line = next + 1; *line; line = next + 1) {
                char *eq;
                int key = -1, r;

                lineno++;
                next = strchr(line, '\n');
                *next = '\0';
                eq = strchr(line, '=');
                if (eq) {
                        *eq = '\0';
                        for (int k = 0; k < _KEY_MAX; k++)
                                if (streq(key_names[k], line))
                                        key = k;
                }
                if (key < 0)
                        return errbuf(-EBADMSG, err, errlen, "record line %u: unknown or no key", lineno);
                if (key != KEY_TOUCHED && key != KEY_FILE && key != KEY_SYSCTL && (seen & (1U << key)))
                        return errbuf(-EBADMSG, err, errlen, "record line %u: %s given twice", lineno, line);
                seen |= 1U << key;
                r = record_field(t, (RecordKey) key, eq + 1);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return errbuf(-EBADMSG, err, errlen, "record line %u: bad %s", lineno, line);
        }
        for (int k = 0; k < KEY_TOUCHED; k++)
                if (!(seen & (1U << k)))
                        return errbuf(-EBADMSG, err, errlen, "record has no %s", key_names[k]);
        if (t->state == TRIAL_ROLLING_BACK && t->target_seq == 0)
                return errbuf(-EBADMSG, err, errlen, "record is rolling back without a target");
        if ((t->n_files > 0 || t->n_sysctls > 0) && !(seen & (1U << KEY_FILES_STATE)))
                return errbuf(-EBADMSG, err, errlen, "record names files or sysctls but not their state");
        return 0;
}

/* read_file() for the files of a trial, which we wrote within @max: a larger
 * one is damaged. -ENOENT leaves @err alone, for the caller to judge. */
static int trial_file_read(const char *path, size_t max, char **ret, size_t *ret_len,
                           char *err, size_t errlen) {
        int r = read_file(path, max, ret, ret_len);

        if (r == -EFBIG)
                return errbuf(-EBADMSG, err, errlen, "%s: larger than %zu bytes", path, max);
        if (r < 0 && r != -ENOENT)
                return errbuf(r, err, errlen, "reading %s: %s", path, strerror(-r));
        return r;
}

static int record_read(const char *dir, Trial *t, char *err, size_t errlen) {
        _cleanup_free_ char *path = path_join(dir, "record"), *buf = NULL;
        char e[256] = "";
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = trial_file_read(path, RECORD_MAX, &buf, &len, err, errlen);
        /* Callers read a directory that holds a trial: one without its
         * record is damaged, not absent. */
        if (r == -ENOENT)
                return errbuf(-EBADMSG, err, errlen, "%s is missing", path);
        if (r < 0)
                return r;
        r = record_parse(buf, len, t, e, sizeof(e));
        if (r < 0)
                return errbuf(r, err, errlen, "%s: %s", path, e);
        return 0;
}

static int snapshot_load(const char *dir, const char *name, Ruleset **ret, char *err, size_t errlen) {
        _cleanup_free_ char *path = path_join(dir, name);
        _cleanup_close_ int fd = -1;
        char e[256] = "";
        int r;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return errbuf(-EBADMSG, err, errlen, "the record names %s, which is missing", path);
        if (fd < 0)
                return errbuf(negative_errno(), err, errlen, "opening %s: %m", path);
        r = snapshot_read(fd, ret, NULL, e, sizeof(e));
        if (r < 0)
                return errbuf(r, err, errlen, "%s: %s", path, r == -EBADMSG ? e : strerror(-r));
        return 0;
}

static int target_name(unsigned seq, char **ret) {
        return asprintf(ret, "target-%u.fwg", seq) < 0 ? -ENOMEM : 0;
}

/* The report in @dir, NULL when there is none. */
static int report_read(const char *dir, char **ret, char *err, size_t errlen) {
        _cleanup_free_ char *path = path_join(dir, "report"), *buf = NULL;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = trial_file_read(path, TRIAL_REPORT_MAX, &buf, &len, err, errlen);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        if (strlen(buf) != len)
                return errbuf(-EBADMSG, err, errlen, "%s: not text", path);
        *ret = TAKE_PTR(buf);
        return 0;
}

/* ------------------------------------------------------------------ trial objects */

Trial *trial_free(Trial *t) {
        if (!t)
                return NULL;
        ruleset_free(t->s0);
        ruleset_free(t->s1);
        ruleset_free(t->target);
        table_refs_free(t->touched, t->n_touched);
        free(t->summary);
        free(t->report);
        trial_files_free(t->files, t->n_files);
        free(t->sysctls);
        free(t);
        return NULL;
}

void trial_files_free(TrialFile *f, size_t n) {
        for (size_t i = 0; f && i < n; i++) {
                free(f[i].path);
                free(f[i].old_data);
                free(f[i].new_data);
        }
        free(f);
}

static int file_content_name(size_t i, bool new, char **ret) {
        return asprintf(ret, "file-%zu.%s", i, new ? "new" : "old") < 0 ? -ENOMEM : 0;
}

/* Is @name a content file that @t's record names? */
static bool file_content_kept(const Trial *t, const char *name) {
        for (size_t i = 0; i < t->n_files; i++)
                for (int new = 0; new <= 1; new++) {
                        _cleanup_free_ char *n = NULL;

                        if ((new ? t->files[i].new_exists : t->files[i].old_exists) &&
                            file_content_name(i, new, &n) >= 0 && streq(n, name))
                                return true;
                }
        return false;
}

void trial_summary_clear(TrialSummary *s) {
        free(s->summary);
        free(s->report);
        *s = (TrialSummary) {};
}

void trial_summaries_free(TrialSummary *s, size_t n) {
        for (size_t i = 0; s && i < n; i++)
                trial_summary_clear(&s[i]);
        free(s);
}

/* Remove what @keep's record does not name from trial/ (everything if @keep
 * is NULL): temporary files of interrupted writes, a snapshot written by a
 * trial_begin() that never got to its record, an older target. */
static int trial_dir_clean(TrialStore *s, const Trial *keep) {
        _cleanup_free_ char *target = NULL;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (keep && keep->target_seq > 0 && target_name(keep->target_seq, &target) < 0)
                return -ENOMEM;
        d = opendir(s->trial_dir);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (keep && (streq(de->d_name, "record") || streq(de->d_name, "s0.fwg") ||
                             streq(de->d_name, "s1.fwg") || streq(de->d_name, "report") ||
                             strncmp(de->d_name, TRIAL_EXTRA_PREFIX, strlen(TRIAL_EXTRA_PREFIX)) == 0 ||
                             streq_ptr(de->d_name, target) || file_content_kept(keep, de->d_name)))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && r == 0)
                        r = negative_errno();
        }
        closedir(d);
        return r;
}

/* The trial kept in @dir (trial/ or a history entry): its record, its report
 * and, with @snapshots, the snapshots that the record names. */
static int trial_read(const char *dir, bool snapshots, Trial **ret, char *err, size_t errlen) {
        _cleanup_(trial_freep) Trial *t = calloc(1, sizeof(Trial));
        _cleanup_free_ char *target = NULL;
        int r;

        if (!t)
                return -ENOMEM;
        r = record_read(dir, t, err, errlen);
        if (r < 0)
                return r;
        r = report_read(dir, &t->report, err, errlen);
        if (r < 0)
                return r;
        if (snapshots) {
                r = snapshot_load(dir, "s0.fwg", &t->s0, err, errlen);
                if (r < 0)
                        return r;
                r = snapshot_load(dir, "s1.fwg", &t->s1, err, errlen);
                if (r < 0)
                        return r;
        }
        if (snapshots && t->target_seq > 0) {
                if (target_name(t->target_seq, &target) < 0)
                        return -ENOMEM;
                r = snapshot_load(dir, target, &t->target, err, errlen);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; snapshots && i < t->n_files; i++)
                for (int new = 0; new <= 1; new++) {
                        TrialFile *tf = &t->files[i];
                        _cleanup_free_ char *name = NULL, *path = NULL;

                        if (!(new ? tf->new_exists : tf->old_exists))
                                continue;
                        if (file_content_name(i, new, &name) < 0 || !(path = path_join(dir, name)))
                                return -ENOMEM;
                        r = trial_file_read(path, TRIAL_FILE_MAX, new ? &tf->new_data : &tf->old_data,
                                            new ? &tf->new_len : &tf->old_len, err, errlen);
                        if (r == -ENOENT)
                                return errbuf(-EBADMSG, err, errlen, "the record names %s, which is missing", path);
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(t);
        return 0;
}

int trial_peek(const char *state_dir, Trial **ret, char *err, size_t errlen) {
        _cleanup_free_ char *dir = path_join(state_dir, "trial"), *record = NULL;

        if (!dir || !(record = path_join(dir, "record")))
                return -ENOMEM;
        if (access(record, F_OK) < 0) {
                if (errno != ENOENT)
                        return errbuf(negative_errno(), err, errlen, "%s: %m", record);
                *ret = NULL;
                return 0;
        }
        return trial_read(dir, false, ret, err, errlen);
}

int trial_load(TrialStore *s, Trial **ret, char *err, size_t errlen) {
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_free_ char *record = path_join(s->trial_dir, "record");
        int r;

        if (!record)
                return -ENOMEM;
        if (access(record, F_OK) < 0) {
                if (errno != ENOENT)
                        return errbuf(negative_errno(), err, errlen, "%s: %m", record);
                r = trial_dir_clean(s, NULL);
                if (r < 0)
                        return errbuf(r, err, errlen, "cleaning %s: %s", s->trial_dir, strerror(-r));
                *ret = NULL;
                return 0;
        }
        r = trial_read(s->trial_dir, true, &t, err, errlen);
        if (r < 0)
                return r;
        /* Only now that the record and all it names are good: a damaged
         * record keeps everything for a person to look at. */
        r = trial_dir_clean(s, t);
        if (r < 0)
                return errbuf(r, err, errlen, "cleaning %s: %s", s->trial_dir, strerror(-r));
        *ret = TAKE_PTR(t);
        return 0;
}

int trial_is_current(TrialStore *s, const Trial *t, char *err, size_t errlen) {
        _cleanup_free_ char *path = path_join(s->trial_dir, "record"), *ours = NULL, *theirs = NULL;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = record_format(t, &ours);
        if (r < 0)
                return errbuf(r, err, errlen, "formatting the trial record: %s", strerror(-r));
        r = trial_file_read(path, RECORD_MAX, &theirs, &len, err, errlen);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* Byte for byte: every write of the record goes through
         * record_format(), and @t changes only once its record is durable. */
        return len == strlen(ours) && memcmp(ours, theirs, len) == 0;
}

/* ------------------------------------------------------------------ history */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static int remove_dir(int parent, const char *name) {
        _cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *d;
        struct dirent *de;

        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);
        /* History entries hold files only. */
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}

static char *history_entry(TrialStore *s, uint64_t id) {
        char *p;

        return asprintf(&p, "%s/%" PRIu64, s->history_dir, id) < 0 ? NULL : p;
}

/* The ids in history/, sorted. Entries named ".ID" are prunings that a crash
 * interrupted, and finish here. */
static int history_ids(TrialStore *s, uint64_t **ret, size_t *ret_n) {
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n = 0, cap = 0;
        DIR *d = opendir(s->history_dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                uint64_t id;

                if (de->d_name[0] == '.' && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) remove_dir(dirfd(d), de->d_name);
                if (parse_u64(de->d_name, UINT64_MAX, &id) < 0)
                        continue;
                if (n == cap) {
                        uint64_t *p = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(uint64_t));
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        ids = p;
                }
                ids[n++] = id;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (n > 0)
                qsort(ids, n, sizeof(uint64_t), cmp_u64);
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

/* Drop the oldest entries beyond the store's length. Renamed out of sight
 * first, so that a crash halfway never leaves a half entry that looks whole. */
static void history_prune(TrialStore *s) {
        _cleanup_free_ uint64_t *ids = NULL;
        _cleanup_close_ int fd = -1;
        size_t n;

        if (history_ids(s, &ids, &n) < 0)
                return;
        fd = open(s->history_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        for (size_t i = 0; i + s->history_max < n; i++) {
                char name[32], hidden[33];

                snprintf(name, sizeof(name), "%" PRIu64, ids[i]);
                snprintf(hidden, sizeof(hidden), ".%s", name);
                if (renameat(fd, name, fd, hidden) == 0)
                        (void) remove_dir(fd, hidden);
        }
}

/* @t as the history lists it; its texts move into the summary. */
static TrialSummary summary_take(Trial *t) {
        return (TrialSummary) {
                .id = t->id,
                .state = t->state,
                .created_usec = t->created_usec,
                .committed_usec = t->committed_usec,
                .uid = t->uid,
                .summary = TAKE_PTR(t->summary),
                .report = TAKE_PTR(t->report),
        };
}

int trial_history(TrialStore *s, TrialSummary **ret, size_t *ret_n, char *err, size_t errlen) {
        _cleanup_free_ uint64_t *ids = NULL;
        TrialSummary *list;
        size_t n;
        int r = history_ids(s, &ids, &n);

        if (r < 0)
                return errbuf(r, err, errlen, "listing %s: %s", s->history_dir, strerror(-r));
        list = calloc(n ?: 1, sizeof(TrialSummary));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(trial_freep) Trial *t = NULL;
                _cleanup_free_ char *dir = history_entry(s, ids[i]);

                /* The snapshots are for trial_history_load(): a listing reads
                 * only what it shows. */
                r = !dir ? -ENOMEM : trial_read(dir, false, &t, err, errlen);
                if (r < 0) {
                        trial_summaries_free(list, i);
                        return r;
                }
                list[i] = summary_take(t);
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* The history entry of trial @id, with its snapshots or without. */
static int history_read(TrialStore *s, uint64_t id, bool snapshots, Trial **ret, char *err, size_t errlen) {
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_free_ char *entry = history_entry(s, id);
        int r;

        if (!entry)
                return -ENOMEM;
        if (access(entry, F_OK) < 0) {
                if (errno == ENOENT)
                        return errbuf(-ENOENT, err, errlen, "trial %" PRIu64 " is not in the history", id);
                return errbuf(negative_errno(), err, errlen, "%s: %m", entry);
        }
        r = trial_read(entry, snapshots, &t, err, errlen);
        if (r < 0)
                return r;
        /* A record under another id's name would hand out the wrong snapshots. */
        if (t->id != id)
                return errbuf(-EBADMSG, err, errlen, "%s: the record is of trial %" PRIu64, entry, t->id);
        *ret = TAKE_PTR(t);
        return 0;
}

int trial_history_load(TrialStore *s, uint64_t id, Trial **ret, char *err, size_t errlen) {
        return history_read(s, id, true, ret, err, errlen);
}

int trial_history_summary(TrialStore *s, uint64_t id, TrialSummary *ret, char *err, size_t errlen) {
        _cleanup_(trial_freep) Trial *t = NULL;
        int r = history_read(s, id, false, &t, err, errlen);

        if (r < 0)
                return r;
        *ret = summary_take(t);
        return 0;
}

/* ------------------------------------------------------------------ transitions */

static int read_boot_id(char ret[static TRIAL_BOOT_ID_LEN + 1]) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file(BOOT_ID_PATH, 64, &buf, &len);

        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (!boot_id_valid(buf))
                return -EBADMSG;
        strcpy(ret, buf);
        return 0;
}

int trial_this_boot(const Trial *t) {
        char now[TRIAL_BOOT_ID_LEN + 1];
        int r = read_boot_id(now);

        return r < 0 ? r : streq(now, t->boot_id);
}

static int touched_copy(Trial *t, const TableRef *touched, size_t n) {
        t->touched = calloc(n ?: 1, sizeof(TableRef));
        if (!t->touched)
                return -ENOMEM;
        for (; t->n_touched < n; t->n_touched++) {
                if (!family_name(touched[t->n_touched].family) || !touched[t->n_touched].name[0])
                        return -EINVAL;
                t->touched[t->n_touched].family = touched[t->n_touched].family;
                t->touched[t->n_touched].name = strdup(touched[t->n_touched].name);
                if (!t->touched[t->n_touched].name)
                        return -ENOMEM;
        }
        return 0;
}

static int files_copy(Trial *t, const TrialFile *files, size_t n) {
        if (n > TRIAL_FILES_MAX)
                return -E2BIG;
        t->files = calloc(n ?: 1, sizeof(TrialFile));
        if (!t->files)
                return -ENOMEM;
        for (; t->n_files < n; t->n_files++) {
                const TrialFile *f = &files[t->n_files];
                TrialFile *c = &t->files[t->n_files];

                if (!f->path || f->path[0] != '/')
                        return -EINVAL;
                if (f->old_len > TRIAL_FILE_MAX || f->new_len > TRIAL_FILE_MAX)
                        return -E2BIG;
                *c = (TrialFile) {
                        .old_exists = f->old_exists, .old_mode = f->old_mode & 07777, .old_len = f->old_len,
                        .new_exists = f->new_exists, .new_mode = f->new_mode & 07777, .new_len = f->new_len,
                };
                c->path = strdup(f->path);
                c->old_data = malloc(f->old_len + 1);
                c->new_data = malloc(f->new_len + 1);
                if (!c->path || !c->old_data || !c->new_data) {
                        t->n_files++;
                        return -ENOMEM;
                }
                if (f->old_data)
                        memcpy(c->old_data, f->old_data, f->old_len);
                if (f->new_data)
                        memcpy(c->new_data, f->new_data, f->new_len);
                c->old_data[f->old_len] = c->new_data[f->new_len] = '\0';
        }
        t->files_state = TRIAL_FILES_PENDING;
        return 0;
}

static int sysctls_copy(Trial *t, const TrialSysctl *sysctls, size_t n) {
        if (n > TRIAL_SYSCTLS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                if (!netsysctl_known(sysctls[i].name) || !netsysctl_value_valid(sysctls[i].old_value) ||
                    !netsysctl_value_valid(sysctls[i].new_value))
                        return -EINVAL;
        t->sysctls = calloc(n ?: 1, sizeof(TrialSysctl));
        if (!t->sysctls)
                return -ENOMEM;
        memcpy_safe(t->sysctls, sysctls, n * sizeof(TrialSysctl));
        t->n_sysctls = n;
        return 0;
}

static int trial_new(TrialStore *s, const Ruleset *s0, const Ruleset *s1, const TableRef *touched,
                     size_t n_touched, const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns, uint32_t genid, uid_t uid,
                     const char *summary, const TrialFile *files, size_t n_files,
                     const TrialSysctl *sysctls, size_t n_sysctls, Trial **ret) {
        _cleanup_(trial_freep) Trial *t = calloc(1, sizeof(Trial));
        _cleanup_free_ uint64_t *ids = NULL;
        uint64_t boot_now = now_nsec(CLOCK_BOOTTIME), real_now = now_nsec(CLOCK_REALTIME);
        size_t n;
        int r;

        if (!t)
                return -ENOMEM;
        r = history_ids(s, &ids, &n);
        if (r < 0)
                return r;
        t->id = n > 0 ? ids[n - 1] + 1 : 1;
        t->state = TRIAL_SNAPSHOT_DURABLE;
        t->genid = genid;
        t->uid = uid;
        if (n_ssh_ports > TRIAL_PORTS_MAX)
                return -E2BIG;
        memcpy_safe(t->ssh_ports, ssh_ports, n_ssh_ports * sizeof(uint16_t));
        t->n_ssh_ports = n_ssh_ports;
        t->created_usec = real_now / 1000;
        t->deadline_boottime_ns = deadline_boottime_ns;
        /* The same instant on the wall clock, as it reads now. */
        t->deadline_realtime_usec = deadline_boottime_ns >= boot_now
                ? (real_now + (deadline_boottime_ns - boot_now)) / 1000
                : (real_now - MIN(real_now, boot_now - deadline_boottime_ns)) / 1000;
        t->summary = strdup(summary ?: "");
        if (!t->summary)
                return -ENOMEM;
        r = read_boot_id(t->boot_id);
        if (r < 0)
                return r;
        r = touched_copy(t, touched, n_touched);
        if (r < 0)
                return r;
        r = ruleset_copy(s0, &t->s0);
        if (r < 0)
                return r;
        r = ruleset_copy(s1, &t->s1);
        if (r < 0)
                return r;
        r = files_copy(t, files, n_files);
        if (r < 0)
                return r;
        r = sysctls_copy(t, sysctls, n_sysctls);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

typedef struct Data {
        const char *data;
        size_t len;
} Data;

static int write_data(int fd, void *userdata) {
        const Data *d = userdata;

        for (size_t done = 0; done < d->len;) {
                ssize_t n = write(fd, d->data + done, d->len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                done += (size_t) n;
        }
        return 0;
}

static int files_write(TrialStore *s, const Trial *t, char *err, size_t errlen) {
        for (size_t i = 0; i < t->n_files; i++)
                for (int new = 0; new <= 1; new++) {
                        const TrialFile *f = &t->files[i];
                        _cleanup_free_ char *name = NULL;
                        Data d = { new ? f->new_data : f->old_data, new ? f->new_len : f->old_len };
                        int r;

                        if (!(new ? f->new_exists : f->old_exists))
                                continue;
                        if (file_content_name(i, new, &name) < 0)
                                return -ENOMEM;
                        r = store_write(s, name, write_data, &d, err, errlen);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int trial_begin(TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                const TableRef *touched, size_t n_touched,
                const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                uint32_t genid, uid_t uid, const char *summary, Trial **ret,
                char *err, size_t errlen) {
        return trial_begin_files(s, s0, s1, touched, n_touched, ssh_ports, n_ssh_ports, deadline_boottime_ns,
                                 genid, uid, summary, NULL, 0, ret, err, errlen);
}

int trial_begin_files(TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                      const TableRef *touched, size_t n_touched,
                      const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                      uint32_t genid, uid_t uid, const char *summary,
                      const TrialFile *files, size_t n_files, Trial **ret,
                      char *err, size_t errlen) {
        return trial_begin_run(s, s0, s1, touched, n_touched, ssh_ports, n_ssh_ports, deadline_boottime_ns,
                               genid, uid, summary, files, n_files, NULL, 0, ret, err, errlen);
}

int trial_begin_run(TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                    const TableRef *touched, size_t n_touched,
                    const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                    uint32_t genid, uid_t uid, const char *summary,
                    const TrialFile *files, size_t n_files, const TrialSysctl *sysctls, size_t n_sysctls,
                    Trial **ret, char *err, size_t errlen) {
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_free_ char *record = path_join(s->trial_dir, "record");
        int r;

        if (!record)
                return -ENOMEM;
        if (access(record, F_OK) == 0)
                return errbuf(-EBUSY, err, errlen, "a trial is pending; confirm it or roll it back first");
        r = trial_new(s, s0, s1, touched, n_touched, ssh_ports, n_ssh_ports, deadline_boottime_ns, genid, uid, summary,
                      files, n_files, sysctls, n_sysctls, &t);
        if (r < 0)
                return errbuf(r, err, errlen, "preparing the trial: %s", strerror(-r));
        r = trial_dir_clean(s, NULL);
        if (r < 0)
                return errbuf(r, err, errlen, "cleaning %s: %s", s->trial_dir, strerror(-r));
        r = store_write(s, "s0.fwg", write_snapshot, t->s0, err, errlen);
        if (r >= 0)
                r = store_write(s, "s1.fwg", write_snapshot, t->s1, err, errlen);
        if (r >= 0)
                r = files_write(s, t, err, errlen);
        if (r >= 0)
                r = record_write(s, t, err, errlen);
        if (r < 0) {
                /* No record, so nothing names these; leaving them would only
                 * keep a full disk full. */
                (void) trial_dir_clean(s, NULL);
                return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int trial_set_target(TrialStore *s, Trial *t, const Ruleset *target, char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *copy = NULL;
        _cleanup_free_ char *name = NULL, *path = NULL, *old = NULL;
        Trial next = *t;
        int r;

        if (!trial_transition_allowed(t->state, TRIAL_ROLLING_BACK))
                return errbuf(-EPERM, err, errlen, "trial %" PRIu64 ": no rollback from %s",
                            t->id, state_name(t->state));
        r = ruleset_copy(target, &copy);
        if (r < 0)
                return errbuf(r, err, errlen, "copying the rollback target: %s", strerror(-r));
        next.target_seq = t->target_seq + 1;
        if (target_name(next.target_seq, &name) < 0 || (t->target_seq > 0 && target_name(t->target_seq, &old) < 0))
                return -ENOMEM;
        r = store_write(s, name, write_snapshot, copy, err, errlen);
        if (r < 0)
                return r;
        r = record_write(s, &next, err, errlen);
        path = path_join(s->trial_dir, r < 0 ? name : old);
        /* The file that the durable record does not name: best effort, as
         * trial_load() removes it anyway. */
        if (path)
                (void) unlink(path);
        if (r < 0)
                return r;
        ruleset_free(t->target);
        t->target = TAKE_PTR(copy);
        t->target_seq = next.target_seq;
        return 0;
}

int trial_set_files_state(TrialStore *s, Trial *t, TrialFilesState st, char *err, size_t errlen) {
        Trial next = *t;
        int r;

        if (t->state == TRIAL_IDLE)
                return errbuf(-EPERM, err, errlen, "trial %" PRIu64 " has ended", t->id);
        if (!trial_files_state_to_string(st))
                return -EINVAL;
        next.files_state = st;
        r = record_write(s, &next, err, errlen);
        if (r < 0)
                return r;
        t->files_state = st;
        return 0;
}

int trial_set_deadline(TrialStore *s, Trial *t, uint64_t deadline_boottime_ns,
                       uint64_t deadline_realtime_usec, char *err, size_t errlen) {
        Trial next = *t;
        int r;

        /* Only while the timer runs or is about to be armed: before the
         * commit, trial_begin() has only just set the deadline, and once
         * confirmed or rolling back nothing waits for it any more. */
        if (t->state != TRIAL_COMMITTED && t->state != TRIAL_ARMED)
                return errbuf(-EPERM, err, errlen, "trial %" PRIu64 ": no new deadline in %s",
                            t->id, state_name(t->state));
        next.deadline_boottime_ns = deadline_boottime_ns;
        next.deadline_realtime_usec = deadline_realtime_usec;
        r = record_write(s, &next, err, errlen);
        if (r < 0)
                return r;
        t->deadline_boottime_ns = deadline_boottime_ns;
        t->deadline_realtime_usec = deadline_realtime_usec;
        return 0;
}

int trial_set_report(TrialStore *s, Trial *t, const char *text, char *err, size_t errlen) {
        _cleanup_free_ char *copy = NULL;
        int r;

        /* An ended trial's directory is its history entry, which stays as it
         * ended. */
        if (t->state == TRIAL_IDLE)
                return errbuf(-EPERM, err, errlen, "trial %" PRIu64 " has ended", t->id);
        if (strlen(text) > TRIAL_REPORT_MAX)
                return errbuf(-E2BIG, err, errlen, "trial %" PRIu64 ": the report is longer than %d bytes",
                            t->id, TRIAL_REPORT_MAX);
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        r = store_write(s, "report", write_text, copy, err, errlen);
        if (r < 0)
                return r;
        free(t->report);
        t->report = TAKE_PTR(copy);
        return 0;
}

/* To IDLE: the trial directory becomes the history entry in one rename. */
static int trial_finish(TrialStore *s, Trial *t, char *err, size_t errlen) {
        _cleanup_free_ char *entry = history_entry(s, t->id);
        int r;

        if (!entry)
                return -ENOMEM;
        if (rename(s->trial_dir, entry) < 0)
                return errbuf(negative_errno(), err, errlen, "moving %s to %s: %m", s->trial_dir, entry);
        r = fsync_dir(s->history_dir);
        if (r >= 0)
                r = fsync_dir(s->dir);
        if (r >= 0)
                r = mkdir_durable(s->trial_dir, s->dir);
        if (r < 0)
                return errbuf(r, err, errlen, "ending trial %" PRIu64 ": %s", t->id, strerror(-r));
        t->state = TRIAL_IDLE;
        history_prune(s);
        return 0;
}

int trial_transition(TrialStore *s, Trial *t, TrialState to, char *err, size_t errlen) {
        Trial next = *t;
        int r;

        if (!trial_transition_allowed(t->state, to))
                return errbuf(-EPERM, err, errlen, "trial %" PRIu64 ": %s → %s is not allowed",
                            t->id, state_name(t->state), state_name(to));
        if (t->state == TRIAL_IDLE)
                return errbuf(-EINVAL, err, errlen, "a trial begins with trial_begin()");
        if (to == TRIAL_IDLE)
                return trial_finish(s, t, err, errlen);
        if (to == TRIAL_ROLLING_BACK && !t->target)
                return errbuf(-EINVAL, err, errlen, "trial %" PRIu64 ": no rollback target saved", t->id);
        next.state = to;
        if (to == TRIAL_COMMITTED) {
                next.committed_usec = now_nsec(CLOCK_REALTIME) / 1000;
                next.committed_boottime_ns = now_nsec(CLOCK_BOOTTIME);
        }
        r = record_write(s, &next, err, errlen);
        if (r < 0)
                return r;
        t->state = next.state;
        t->committed_usec = next.committed_usec;
        t->committed_boottime_ns = next.committed_boottime_ns;
        return 0;
}

/* ------------------------------------------------------------------ store */

TrialStore *trial_store_free(TrialStore *s) {
        if (!s)
                return NULL;
        free(s->dir);
        free(s->trial_dir);
        free(s->history_dir);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        free(s);
        return NULL;
}

int trial_store_open(const char *state_dir, unsigned history_max, uint64_t lock_timeout_usec,
                     TrialStore **ret) {
        _cleanup_(trial_store_freep) TrialStore *s = NULL;
        _cleanup_free_ char *copy = strdup(state_dir);
        int r;

        if (history_max == 0)
                return -EINVAL;
        if (!copy)
                return -ENOMEM;
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        s = calloc(1, sizeof(TrialStore));
        if (!s)
                return -ENOMEM;
        s->lock_fd = -1;
        s->history_max = history_max;
        s->dir = TAKE_PTR(copy);
        s->trial_dir = path_join(state_dir, "trial");
        s->history_dir = path_join(state_dir, "history");
        if (!s->trial_dir || !s->history_dir)
                return -ENOMEM;
        r = trial_lock(state_dir, lock_timeout_usec, &s->lock_fd);
        if (r < 0)
                return r;
        /* Under the lock: a finish interrupted after its rename left no trial/. */
        r = mkdir_durable(s->trial_dir, s->dir);
        if (r < 0)
                return r;
        r = mkdir_durable(s->history_dir, s->dir);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

const char *trial_store_dir(const TrialStore *s) {
        return s->dir;
}

char *trial_store_path(const TrialStore *s, const char *name) {
        return path_join(s->trial_dir, name);
}
