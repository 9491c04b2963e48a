/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c — the settings file /etc/fwguard/fwguard.conf
 *
 * INI syntax, split into lines and "key = value" by libinih; everything else
 * is ours. Each key is one line of config_keys[]: its section, name, parser,
 * place in Config and default. The defaults are written as text and go
 * through the same parsers as the file, so a default can never be a value
 * the file could not hold, and the table is the one list of what exists.
 *
 * Mistakes are errors, never ignored: a misspelt key that silently did
 * nothing would leave the guard or the admin group other than the admin
 * believes. We report the first mistake as "PATH:LINE: ...". libinih tells a
 * key's handler neither the line number (the Debian build lacks
 * INI_HANDLER_LINENO) nor about lines it could not split, so we hand it the
 * lines ourselves through a reader that counts them, and compare our first
 * error with the first line libinih itself rejected.
 *
 * A key's own range is checked as it is parsed; limits between keys (the
 * trial timeouts) only once the whole file is read, since either key may
 * come first and each may be left at its default. Such a mistake has no one
 * line, so its message names the keys instead.
 *
 * Lists (ports, networks, addresses) accept commas and blanks between items.
 * The first time a list key appears it replaces the default; repeating it,
 * or continuing it on an indented line, adds to it. Other keys take the last
 * value given.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ini.h>

#include "config.h"
#include "macro.h"

typedef struct ConfigKey ConfigKey;

/* Parse @value into the field at @field. @append: the key was already given
 * in this file, so a list grows instead of being replaced. On a bad value,
 * return -EINVAL with the reason in @why. */
typedef int (*ConfigParser)(const ConfigKey *key, const char *value, void *field, bool append,
                            char *why, size_t whylen);

struct ConfigKey {
        const char *section;
        const char *name;
        ConfigParser parse;
        size_t offset;
        const char *default_value;      /* NULL: zero, empty list */
        unsigned min, max;              /* for parse_uint */
};

static int parse_ports(const ConfigKey *key, const char *value, void *field, bool append,
                       char *why, size_t whylen);
static int parse_networks(const ConfigKey *key, const char *value, void *field, bool append,
                          char *why, size_t whylen);
static int parse_probe_addresses(const ConfigKey *key, const char *value, void *field, bool append,
                                 char *why, size_t whylen);
static int parse_uint(const ConfigKey *key, const char *value, void *field, bool append,
                      char *why, size_t whylen);
static int parse_group(const ConfigKey *key, const char *value, void *field, bool append,
                       char *why, size_t whylen);
static int parse_absolute_path(const ConfigKey *key, const char *value, void *field, bool append,
                               char *why, size_t whylen);

static int parse_path_list(const ConfigKey *key, const char *value, void *field, bool append,
                           char *why, size_t whylen);
static int parse_bool(const ConfigKey *key, const char *value, void *field, bool append,
                      char *why, size_t whylen);

static const ConfigKey config_keys[] = {
        { "guard",   "ssh_ports",       parse_ports,           offsetof(Config, ssh_ports),           NULL },
        { "guard",   "sources",         parse_networks,        offsetof(Config, sources),             NULL },
        { "guard",   "probe_addresses", parse_probe_addresses, offsetof(Config, probe_addresses),
                                                               "198.51.100.77, 2001:db8:ffff::77" },
        { "sandbox", "timeout_sec",     parse_uint,            offsetof(Config, sandbox_timeout_sec), "10", 1, 3600 },
        { "sandbox", "memory_mb",       parse_uint,            offsetof(Config, sandbox_memory_mb),   "512", 64, 1048576 },
        { "admin",   "group",           parse_group,           offsetof(Config, admin_group),         "sudo" },
        /* Up to a day: a trial that waits longer for its confirmation is
         * more likely forgotten than still being tested. */
        { "trial",   "timeout_default_sec", parse_uint,        offsetof(Config, trial_timeout_default_sec), "120", 1, 86400 },
        { "trial",   "timeout_min_sec", parse_uint,            offsetof(Config, trial_timeout_min_sec), "5", 1, 86400 },
        { "trial",   "timeout_max_sec", parse_uint,            offsetof(Config, trial_timeout_max_sec), "3600", 1, 86400 },
        { "trial",   "history",         parse_uint,            offsetof(Config, history_max),         "20", 1, 1000 },
        { "run",     "overlay_dirs",    parse_path_list,       offsetof(Config, run_overlay_dirs),    "/etc/ufw /etc/iptables" },
        { "run",     "private_files",   parse_path_list,       offsetof(Config, run_private_files),   "/etc/default/ufw /etc/nftables.conf" },
        { "daemon",  "state_dir",       parse_absolute_path,   offsetof(Config, state_dir),           "/var/lib/fwguard" },
        { "monitor", "enabled",         parse_bool,            offsetof(Config, monitor_enabled),     "yes" },
};

/* Keys of [trial] whose values must not decrease in this order. */
static const struct {
        const char *name;
        size_t offset;
} trial_timeout_order[] = {
        { "timeout_min_sec",     offsetof(Config, trial_timeout_min_sec) },
        { "timeout_default_sec", offsetof(Config, trial_timeout_default_sec) },
        { "timeout_max_sec",     offsetof(Config, trial_timeout_max_sec) },
};

/* ---------------------------------------------------------------- value parsers */

static int why_fmt(char *why, size_t whylen, const char *fmt, ...) _printf_(3, 4);
static int why_fmt(char *why, size_t whylen, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* The next item of a list, or NULL at its end. Items are separated by commas
 * and blanks; the item is copied to @buf so that it is NUL-terminated. */
static const char *next_item(const char **p, char *buf, size_t buflen, bool *too_long) {
        const char *s = *p + strspn(*p, ", \t");
        size_t n = strcspn(s, ", \t");

        *too_long = false;
        if (n == 0)
                return NULL;
        *p = s + n;
        if (n >= buflen) {
                *too_long = true;
                n = buflen - 1;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        return buf;
}

/* A decimal number with nothing else around it: strtoul() alone would take
 * " 12", "+12", "-1" (as ULONG_MAX) and "12abc". */
static bool parse_decimal(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        if (!isdigit((unsigned char) s[0]))
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return false;
        *ret = v;
        return true;
}

/* Append @n items of @size bytes to the array at *@items (holding *@n_items),
 * or replace it when !@append. */
static int list_merge(void **items, size_t *n_items, void *add, size_t n, size_t size, bool append) {
        void *merged;

        if (!append) {
                free(*items);
                *items = add;
                *n_items = n;
                return 0;
        }
        merged = reallocarray(*items, *n_items + n, size);
        if (!merged)
                return -ENOMEM;
        memcpy((char *) merged + *n_items * size, add, n * size);
        free(add);
        *items = merged;
        *n_items += n;
        return 0;
}

static int parse_ports(const ConfigKey *key, const char *value, void *field, bool append,
                       char *why, size_t whylen) {
        ConfigPorts *ports = field;
        _cleanup_free_ uint16_t *add = NULL;
        size_t n = 0;
        const char *p = value, *item;
        char buf[32];
        bool too_long;
        int r;

        while ((item = next_item(&p, buf, sizeof(buf), &too_long))) {
                unsigned long v;
                uint16_t *grown;

                if (too_long || !parse_decimal(item, 65535, &v) || v == 0)
                        return why_fmt(why, whylen, "\"%s\" is not a port (1-65535)", item);
                grown = reallocarray(add, n + 1, sizeof(*add));
                if (!grown)
                        return -ENOMEM;
                add = grown;
                add[n++] = (uint16_t) v;
        }
        if (n == 0)
                return why_fmt(why, whylen, "no port given");
        r = list_merge((void **) &ports->items, &ports->n, add, n, sizeof(*add), append);
        if (r >= 0)
                TAKE_PTR(add);
        return r;
}

/* "ADDR" or "ADDR/PREFIXLEN", IPv4 or IPv6. A network with bits set after
 * its prefix is refused: "10.0.0.1/8" is more likely a typo than a wish for
 * 10.0.0.0/8. */
static int parse_network(const char *s, bool allow_prefix, ConfigAddr *ret, char *why, size_t whylen) {
        char addr[INET6_ADDRSTRLEN + 1];
        const char *slash = strchr(s, '/');
        size_t alen = slash ? (size_t) (slash - s) : strlen(s);
        ConfigAddr a = {};
        unsigned long prefixlen;
        uint8_t *bytes;

        if (slash && !allow_prefix)
                return why_fmt(why, whylen, "\"%s\": an address, not a network, is needed here", s);
        if (alen >= sizeof(addr))
                return why_fmt(why, whylen, "\"%s\" is not an IPv4 or IPv6 address", s);
        memcpy(addr, s, alen);
        addr[alen] = '\0';
        if (inet_pton(AF_INET, addr, &a.addr.in) == 1) {
                a.family = AF_INET;
                a.prefixlen = 32;
        } else if (inet_pton(AF_INET6, addr, &a.addr.in6) == 1) {
                a.family = AF_INET6;
                a.prefixlen = 128;
        } else
                return why_fmt(why, whylen, "\"%s\" is not an IPv4 or IPv6 address", s);

        if (slash) {
                if (!parse_decimal(slash + 1, a.prefixlen, &prefixlen))
                        return why_fmt(why, whylen, "\"%s\": the prefix length must be 0-%u",
                                       s, a.prefixlen);
                a.prefixlen = (unsigned) prefixlen;
        }
        bytes = a.family == AF_INET ? (uint8_t *) &a.addr.in : a.addr.in6.s6_addr;
        for (unsigned bit = a.prefixlen; bit < (a.family == AF_INET ? 32u : 128u); bit++)
                if (bytes[bit / 8] & (0x80 >> (bit % 8)))
                        return why_fmt(why, whylen, "\"%s\" has address bits set after the prefix", s);
        *ret = a;
        return 0;
}

/* The probe pretends to be the administrator's machine, so it must be an
 * address that a remote machine can have. */
static int check_probe_address(const char *s, const ConfigAddr *a, char *why, size_t whylen) {
        bool bad;

        if (a->family == AF_INET) {
                uint32_t v = ntohl(a->addr.in.s_addr);
                bad = v == 0 || (v >> 24) == 127 || (v >> 28) == 0xe || v == 0xffffffffu;
        } else
                bad = IN6_IS_ADDR_UNSPECIFIED(&a->addr.in6) || IN6_IS_ADDR_LOOPBACK(&a->addr.in6) ||
                      IN6_IS_ADDR_MULTICAST(&a->addr.in6) || IN6_IS_ADDR_V4MAPPED(&a->addr.in6);
        if (bad)
                return why_fmt(why, whylen, "\"%s\" cannot be the address of a remote machine", s);
        return 0;
}

static int parse_addr_list(const char *value, void *field, bool append, bool probe,
                           char *why, size_t whylen) {
        ConfigAddrs *list = field;
        _cleanup_free_ ConfigAddr *add = NULL;
        size_t n = 0;
        const char *p = value, *item;
        char buf[INET6_ADDRSTRLEN + 8];
        bool too_long;
        int r;

        while ((item = next_item(&p, buf, sizeof(buf), &too_long))) {
                ConfigAddr a, *grown;

                if (too_long)
                        return why_fmt(why, whylen, "\"%s...\" is not an IPv4 or IPv6 address", item);
                r = parse_network(item, !probe, &a, why, whylen);
                if (r >= 0 && probe)
                        r = check_probe_address(item, &a, why, whylen);
                if (r < 0)
                        return r;
                grown = reallocarray(add, n + 1, sizeof(*add));
                if (!grown)
                        return -ENOMEM;
                add = grown;
                add[n++] = a;
        }
        if (n == 0)
                return why_fmt(why, whylen, "no address given");
        r = list_merge((void **) &list->items, &list->n, add, n, sizeof(*add), append);
        if (r >= 0)
                TAKE_PTR(add);
        return r;
}

static int parse_networks(const ConfigKey *key, const char *value, void *field, bool append,
                          char *why, size_t whylen) {
        return parse_addr_list(value, field, append, false, why, whylen);
}

static int parse_probe_addresses(const ConfigKey *key, const char *value, void *field, bool append,
                                 char *why, size_t whylen) {
        return parse_addr_list(value, field, append, true, why, whylen);
}

static int parse_uint(const ConfigKey *key, const char *value, void *field, bool append,
                      char *why, size_t whylen) {
        unsigned long v;

        if (!parse_decimal(value, UINT_MAX, &v) || v < key->min || v > key->max)
                return why_fmt(why, whylen, "\"%s\" is not a number from %u to %u",
                               value, key->min, key->max);
        *(unsigned *) field = (unsigned) v;
        return 0;
}

/* "yes" or "no" and nothing else: a misspelt value must not leave the
 * monitor other than the admin believes. */
static int parse_bool(const ConfigKey *key, const char *value, void *field, bool append,
                      char *why, size_t whylen) {
        if (streq(value, "yes"))
                *(bool *) field = true;
        else if (streq(value, "no"))
                *(bool *) field = false;
        else
                return why_fmt(why, whylen, "\"%s\" is neither yes nor no", value);
        return 0;
}

/* Only what cannot be a group name in /etc/group or from NSS is refused; an
 * empty value means that no group is admin, only root. */
static int parse_group(const ConfigKey *key, const char *value, void *field, bool append,
                       char *why, size_t whylen) {
        char **group = field, *copy = NULL;

        for (const char *c = value; *c; c++)
                if (*c == ':' || iscntrl((unsigned char) *c))
                        return why_fmt(why, whylen, "\"%s\" is not a group name", value);
        if (strlen(value) > 256)
                return why_fmt(why, whylen, "the group name is longer than 256 characters");
        if (*value && !(copy = strdup(value)))
                return -ENOMEM;
        free(*group);
        *group = copy;
        return 0;
}

/* The daemon is started from anywhere (systemd, a shell): a relative path
 * would depend on its working directory. */
static int parse_absolute_path(const ConfigKey *key, const char *value, void *field, bool append,
                               char *why, size_t whylen) {
        char **path = field, *copy;

        if (value[0] != '/')
                return why_fmt(why, whylen, "\"%s\" is not an absolute path", value);
        for (const char *c = value; *c; c++)
                if (iscntrl((unsigned char) *c))
                        return why_fmt(why, whylen, "the path contains a control character");
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*path);
        *path = copy;
        return 0;
}

static void paths_free(ConfigPaths *p) {
        for (size_t i = 0; i < p->n; i++)
                free(p->items[i]);
        free(p->items);
        *p = (ConfigPaths) {};
}

/* Absolute paths, separated by commas and blanks: each one normalized, and
 * refused when it is "/" itself, climbs with "..", or holds a control
 * character. Paths with blanks or commas cannot be listed. */
static int parse_path_list(const ConfigKey *key, const char *value, void *field, bool append,
                           char *why, size_t whylen) {
        ConfigPaths *paths = field, add = {};
        const char *p = value;
        char buf[PATH_MAX];
        bool too_long;
        int r = 0;

        while (next_item(&p, buf, sizeof(buf), &too_long)) {
                char norm[PATH_MAX], **items;
                size_t n = 0;

                if (too_long) {
                        r = why_fmt(why, whylen, "a path is longer than %d bytes", PATH_MAX - 1);
                        break;
                }
                if (buf[0] != '/') {
                        r = why_fmt(why, whylen, "\"%s\" is not an absolute path", buf);
                        break;
                }
                for (const char *c = buf; *c; c++)
                        if (iscntrl((unsigned char) *c)) {
                                r = why_fmt(why, whylen, "a path contains a control character");
                                break;
                        }
                if (r < 0)
                        break;
                /* Component by component: drop "" and ".", refuse "..". */
                for (const char *c = buf; *c; ) {
                        size_t len;

                        c += strspn(c, "/");
                        len = strcspn(c, "/");
                        if (len == 0)
                                break;
                        if (len == 2 && c[0] == '.' && c[1] == '.') {
                                r = why_fmt(why, whylen, "\"%s\" contains \"..\"", buf);
                                break;
                        }
                        if (!(len == 1 && c[0] == '.')) {
                                norm[n++] = '/';
                                memcpy(norm + n, c, len);
                                n += len;
                        }
                        c += len;
                }
                if (r < 0)
                        break;
                if (n == 0) {
                        r = why_fmt(why, whylen, "\"/\" cannot be listed: everything would be writable");
                        break;
                }
                norm[n] = '\0';
                items = reallocarray(add.items, add.n + 1, sizeof(char *));
                if (!items) {
                        r = -ENOMEM;
                        break;
                }
                add.items = items;
                add.items[add.n] = strdup(norm);
                if (!add.items[add.n]) {
                        r = -ENOMEM;
                        break;
                }
                add.n++;
        }
        if (r < 0) {
                paths_free(&add);
                return r;
        }
        if (!append)
                paths_free(paths);
        for (size_t i = 0; i < add.n; i++) {
                char **items = reallocarray(paths->items, paths->n + 1, sizeof(char *));

                if (!items) {
                        paths_free(&add);
                        return -ENOMEM;
                }
                paths->items = items;
                paths->items[paths->n++] = TAKE_PTR(add.items[i]);
        }
        paths_free(&add);
        return 0;
}

/* ---------------------------------------------------------------- the file */

typedef struct ParseCtx {
        Config *config;
        FILE *f;
        char *line;
        size_t linesize;
        unsigned lineno;                /* of the line last handed to libinih */
        unsigned err_line;              /* of our first error; 0: none yet */
        char why[256];
        int err;
        bool seen[ELEMENTSOF(config_keys)];
} ParseCtx;

static void ctx_error(ParseCtx *c, int err, const char *fmt, ...) _printf_(3, 4);
static void ctx_error(ParseCtx *c, int err, const char *fmt, ...) {
        va_list ap;

        if (c->err_line)
                return;
        c->err_line = c->lineno;
        c->err = err;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof(c->why), fmt, ap);
        va_end(ap);
}

static bool section_exists(const char *section, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strlen(config_keys[i].section) == len && strncmp(config_keys[i].section, section, len) == 0)
                        return true;
        return false;
}

/* A misspelt section is reported at its own line, even when no key follows.
 * Only a header at the start of a line is looked at here: an indented one
 * may be a continuation line to libinih, and is caught at its first key. */
static void check_section_header(ParseCtx *c, const char *line) {
        const char *name, *end;

        if (c->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
                line += 3;      /* libinih skips a UTF-8 BOM on line 1 */
        if (line[0] != '[')
                return;
        name = line + 1;
        end = strchr(name, ']');
        if (end && !section_exists(name, (size_t) (end - name)))
                ctx_error(c, -EINVAL, "unknown section [%.*s]", (int) (end - name), name);
}

/* libinih's fgets()-like line source. Handing over exactly one line per call
 * keeps libinih's line numbers equal to ours; a line too long for its buffer
 * would be split and counted twice, so it is refused here instead. */
static char *read_line(char *str, int num, void *stream) {
        ParseCtx *c = stream;
        ssize_t n;

        n = getline(&c->line, &c->linesize, c->f);
        if (n < 0)
                return NULL;
        c->lineno++;
        if ((size_t) n > (size_t) num - 1 || memchr(c->line, '\0', (size_t) n)) {
                if ((size_t) n > (size_t) num - 1)
                        ctx_error(c, -EINVAL, "line longer than %d characters", num - 2);
                else
                        ctx_error(c, -EINVAL, "line contains a NUL byte");
                strcpy(str, "\n");
                return str;
        }
        memcpy(str, c->line, (size_t) n + 1);
        check_section_header(c, str);
        return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
        ParseCtx *c = user;
        const ConfigKey *key = NULL;
        size_t i;
        int r;

        if (c->err_line)
                return 0;
        for (i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].section, section) && streq(config_keys[i].name, name)) {
                        key = &config_keys[i];
                        break;
                }
        if (!key) {
                if (!*section)
                        ctx_error(c, -EINVAL, "\"%s\" is outside of any [section]", name);
                else if (!section_exists(section, strlen(section)))
                        ctx_error(c, -EINVAL, "unknown section [%s]", section);
                else
                        ctx_error(c, -EINVAL, "unknown key \"%s\" in [%s]", name, section);
                return 0;
        }
        r = key->parse(key, value, (char *) c->config + key->offset, c->seen[i], c->why, sizeof(c->why));
        if (r < 0) {
                /* The parser wrote the reason into c->why; put the key in front. */
                char reason[sizeof(c->why)];

                snprintf(reason, sizeof(reason), "%s", r == -ENOMEM ? strerror(ENOMEM) : c->why);
                ctx_error(c, r, "%s: %s", name, reason);
                return 0;
        }
        c->seen[i] = true;
        return 1;
}

/* ---------------------------------------------------------------- lifecycle */

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->path);
        free(c->ssh_ports.items);
        free(c->sources.items);
        free(c->probe_addresses.items);
        free(c->admin_group);
        paths_free(&c->run_overlay_dirs);
        paths_free(&c->run_private_files);
        free(c->state_dir);
        free(c);
        return NULL;
}

int config_new(Config **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        char why[256];

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const ConfigKey *key = &config_keys[i];
                int r;

                if (!key->default_value)
                        continue;
                r = key->parse(key, key->default_value, (char *) c + key->offset, false, why, sizeof(why));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) _printf_(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;

        if (!err || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

static int check_trial_timeouts(const Config *c, const char *path, char *err, size_t errlen) {
        for (size_t i = 0; i + 1 < ELEMENTSOF(trial_timeout_order); i++) {
                unsigned lower = *(const unsigned *) ((const char *) c + trial_timeout_order[i].offset);
                unsigned upper = *(const unsigned *) ((const char *) c + trial_timeout_order[i + 1].offset);

                if (lower <= upper)
                        continue;
                set_err(err, errlen, "%s: [trial] %s = %u is more than %s = %u "
                        "(timeout_min_sec <= timeout_default_sec <= timeout_max_sec)",
                        path, trial_timeout_order[i].name, lower, trial_timeout_order[i + 1].name, upper);
                return -EINVAL;
        }
        return 0;
}

int config_load(const char *path, Config **ret, char *err, size_t errlen) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        ParseCtx ctx = {};
        struct stat st;
        int r, bad_line;

        if (!path)
                path = CONFIG_PATH_DEFAULT;
        r = config_new(&c);
        if (r < 0)
                return r;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT) {
                        *ret = TAKE_PTR(c);
                        return 0;
                }
                r = negative_errno();
                set_err(err, errlen, "%s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fileno(f), &st) < 0) {
                r = negative_errno();
                set_err(err, errlen, "%s: %s", path, strerror(-r));
                return r;
        }
        /* A directory opens fine and then fails to read with a less clear message. */
        if (!S_ISREG(st.st_mode)) {
                set_err(err, errlen, "%s: not a regular file", path);
                return -EINVAL;
        }

        ctx.config = c;
        ctx.f = f;
        bad_line = ini_parse_stream(read_line, &ctx, on_key, &ctx);
        free(ctx.line);
        if (ferror(f)) {
                set_err(err, errlen, "%s: %s", path, strerror(EIO));
                return -EIO;
        }
        /* libinih reports the first line it rejected: ours (a handler error),
         * or an earlier one it could not split into [section] or key = value. */
        if (bad_line > 0 && (!ctx.err_line || (unsigned) bad_line < ctx.err_line)) {
                set_err(err, errlen, "%s:%d: expected \"[section]\" or \"key = value\"", path, bad_line);
                return -EINVAL;
        }
        if (ctx.err_line) {
                set_err(err, errlen, "%s:%u: %s", path, ctx.err_line, ctx.why);
                return ctx.err;
        }
        if (bad_line < 0)
                return -ENOMEM;
        r = check_trial_timeouts(c, path, err, errlen);
        if (r < 0)
                return r;

        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}
