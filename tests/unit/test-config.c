/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-config.c — fwguard.conf: defaults, every key, and errors that name the line */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static char dir[] = "/tmp/fwguard-test-config.XXXXXX";
static char path[sizeof(dir) + 32];

static void write_file(const char *text) {
        FILE *f = fopen(path, "we");

        CHECK(f, "fopen %s: %m", path);
        CHECK(fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
}

static Config *load_ok(const char *text) {
        Config *c = NULL;
        char err[512] = "";
        int r;

        write_file(text);
        r = config_load(path, &c, err, sizeof(err));
        CHECK(r == 0, "config_load: %s (%s)\n--- input:\n%s", strerror(-r), err, text);
        CHECK(streq_ptr(c->path, path), "path: %s", c->path);
        return c;
}

/* The first mistake is reported as "PATH:LINE: ..." and contains @what
 * (and @what2, unless NULL). */
static void load_bad2(const char *text, unsigned line, const char *what, const char *what2) {
        Config *c = (Config *) 0x1;
        char err[512] = "", prefix[128];
        int r;

        write_file(text);
        r = config_load(path, &c, err, sizeof(err));
        CHECK(r == -EINVAL, "want -EINVAL, got %d (%s)\n--- input:\n%s", r, err, text);
        CHECK(c == (Config *) 0x1, "ret was written on failure");
        snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0, "want prefix \"%s\", got \"%s\"", prefix, err);
        CHECK(strstr(err, what), "want \"%s\" in \"%s\"", what, err);
        CHECK(!what2 || strstr(err, what2), "want \"%s\" in \"%s\"", what2, err);
}

static void load_bad(const char *text, unsigned line, const char *what) {
        load_bad2(text, line, what, NULL);
}

static bool addr_is(const ConfigAddr *a, const char *text, unsigned prefixlen) {
        char buf[INET6_ADDRSTRLEN];

        return inet_ntop(a->family, &a->addr, buf, sizeof(buf)) && streq(buf, text) &&
               a->prefixlen == prefixlen;
}

static void check_defaults(const Config *c) {
        CHECK(c->ssh_ports.n == 0, "default ssh_ports: %zu", c->ssh_ports.n);
        CHECK(c->sources.n == 0, "default sources: %zu", c->sources.n);
        CHECK(c->probe_addresses.n == 2, "default probe_addresses: %zu", c->probe_addresses.n);
        CHECK(addr_is(&c->probe_addresses.items[0], "198.51.100.77", 32), "probe 0");
        CHECK(c->probe_addresses.items[0].family == AF_INET, "probe 0 family");
        CHECK(addr_is(&c->probe_addresses.items[1], "2001:db8:ffff::77", 128), "probe 1");
        CHECK(c->probe_addresses.items[1].family == AF_INET6, "probe 1 family");
        CHECK(c->sandbox_timeout_sec == 10, "timeout_sec %u", c->sandbox_timeout_sec);
        CHECK(c->sandbox_memory_mb == 512, "memory_mb %u", c->sandbox_memory_mb);
        CHECK(streq_ptr(c->admin_group, "sudo"), "group %s", c->admin_group);
        CHECK(c->trial_timeout_default_sec == 120 && c->trial_timeout_min_sec == 5 &&
              c->trial_timeout_max_sec == 3600, "trial timeouts %u %u %u", c->trial_timeout_default_sec,
              c->trial_timeout_min_sec, c->trial_timeout_max_sec);
        CHECK(c->history_max == 20, "history %u", c->history_max);
        CHECK(streq_ptr(c->state_dir, "/var/lib/fwguard"), "state_dir %s", c->state_dir);
        CHECK(c->monitor_enabled, "the monitor is not on by default");
        CHECK(c->run_overlay_dirs.n == 2 && streq(c->run_overlay_dirs.items[0], "/etc/ufw") &&
              streq(c->run_overlay_dirs.items[1], "/etc/iptables"), "default overlay_dirs");
        CHECK(c->run_private_files.n == 2 && streq(c->run_private_files.items[0], "/etc/default/ufw") &&
              streq(c->run_private_files.items[1], "/etc/nftables.conf"), "default private_files");
}

static void test_defaults(void) {
        _cleanup_(config_freep) Config *c = NULL, *d = NULL, *e = NULL;
        char missing[sizeof(dir) + 32], err[256] = "";

        CHECK(config_new(&c) == 0, "config_new");
        check_defaults(c);
        CHECK(!c->path, "config_new has a path");

        /* A missing file is the defaults, not an error. */
        snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
        CHECK(config_load(missing, &d, err, sizeof(err)) == 0, "missing file: %s", err);
        check_defaults(d);
        CHECK(!d->path, "a missing file has a path");

        /* An empty file and one with only comments are the defaults too. */
        e = load_ok("# nothing here\n; nor here\n\n[guard]\n");
        check_defaults(e);
}

static void test_keys(void) {
        _cleanup_(config_freep) Config *c = NULL;

        c = load_ok("# every key\n"
                    "[guard]\n"
                    "ssh_ports = 22, 2222\n"
                    "sources = 10.0.0.0/8 192.0.2.1, 2001:db8::/32\n"
                    "probe_addresses = 203.0.113.5\n"
                    "\n"
                    "[sandbox]\n"
                    "timeout_sec = 30\n"
                    "memory_mb = 1024 ; inline comment\n"
                    "[admin]\n"
                    "group = fw admins\n"
                    "[trial]\n"
                    "timeout_default_sec = 300\n"
                    "timeout_min_sec = 30\n"
                    "timeout_max_sec = 900\n"
                    "history = 50\n"
                    "[run]\n"
                    "overlay_dirs = /etc//ufw/, /./etc/x\n"
                    "overlay_dirs = /opt/fw\n"
                    "private_files =\n"
                    "[daemon]\n"
                    "state_dir = /srv/fw guard/state\n"
                    "[monitor]\n"
                    "enabled = no\n");
        CHECK(c->run_overlay_dirs.n == 3 && streq(c->run_overlay_dirs.items[0], "/etc/ufw") &&
              streq(c->run_overlay_dirs.items[1], "/etc/x") && streq(c->run_overlay_dirs.items[2], "/opt/fw"),
              "overlay_dirs normalized, repeated key appends");
        CHECK(c->run_private_files.n == 0, "empty private_files: %zu", c->run_private_files.n);
        CHECK(c->ssh_ports.n == 2 && c->ssh_ports.items[0] == 22 && c->ssh_ports.items[1] == 2222,
              "ssh_ports");
        CHECK(c->sources.n == 3, "sources: %zu", c->sources.n);
        CHECK(addr_is(&c->sources.items[0], "10.0.0.0", 8), "sources 0");
        CHECK(addr_is(&c->sources.items[1], "192.0.2.1", 32), "sources 1");
        CHECK(addr_is(&c->sources.items[2], "2001:db8::", 32), "sources 2");
        CHECK(c->probe_addresses.n == 1 && addr_is(&c->probe_addresses.items[0], "203.0.113.5", 32),
              "probe_addresses replaces the defaults");
        CHECK(c->sandbox_timeout_sec == 30, "timeout_sec %u", c->sandbox_timeout_sec);
        CHECK(c->sandbox_memory_mb == 1024, "memory_mb %u", c->sandbox_memory_mb);
        CHECK(streq_ptr(c->admin_group, "fw admins"), "group %s", c->admin_group);
        CHECK(c->trial_timeout_default_sec == 300 && c->trial_timeout_min_sec == 30 &&
              c->trial_timeout_max_sec == 900, "trial timeouts");
        CHECK(c->history_max == 50, "history %u", c->history_max);
        CHECK(streq_ptr(c->state_dir, "/srv/fw guard/state"), "state_dir %s", c->state_dir);
        CHECK(!c->monitor_enabled, "[monitor] enabled = no");
}

static void test_repeats(void) {
        _cleanup_(config_freep) Config *c = NULL, *d = NULL, *e = NULL, *f = NULL;

        /* A list grows when repeated or continued; a number takes the last value. */
        c = load_ok("[guard]\n"
                    "ssh_ports = 22\n"
                    "ssh_ports = 2222,\n"
                    "    2200\n"
                    "[sandbox]\n"
                    "timeout_sec = 5\n"
                    "timeout_sec = 7\n"
                    "[guard]\n"
                    "probe_addresses = 203.0.113.5\n"
                    "probe_addresses = 2001:db8:1::5\n");
        CHECK(c->ssh_ports.n == 3 && c->ssh_ports.items[0] == 22 && c->ssh_ports.items[1] == 2222 &&
              c->ssh_ports.items[2] == 2200, "ssh_ports: %zu", c->ssh_ports.n);
        CHECK(c->sandbox_timeout_sec == 7, "timeout_sec %u", c->sandbox_timeout_sec);
        CHECK(c->probe_addresses.n == 2 && addr_is(&c->probe_addresses.items[1], "2001:db8:1::5", 128),
              "probe_addresses: %zu", c->probe_addresses.n);

        /* An empty group: only root is admin. Bounds are accepted. */
        d = load_ok("\xef\xbb\xbf[admin]\ngroup =\n[sandbox]\ntimeout_sec = 3600\nmemory_mb = 64\n"
                    "[guard]\nsources = 0.0.0.0/0, ::/0\nssh_ports = 65535 1\n");
        CHECK(!d->admin_group, "empty group: %s", d->admin_group);
        CHECK(d->sandbox_timeout_sec == 3600 && d->sandbox_memory_mb == 64, "bounds");
        CHECK(d->sources.n == 2 && addr_is(&d->sources.items[1], "::", 0), "any networks");

        /* The trial bounds, and timeouts that meet: min = default = max. */
        e = load_ok("[trial]\nhistory = 1\ntimeout_min_sec = 1\ntimeout_default_sec = 1\ntimeout_max_sec = 1\n"
                    "[daemon]\nstate_dir = /\nstate_dir = /var/lib/other\n");
        CHECK(e->history_max == 1 && e->trial_timeout_min_sec == 1 && e->trial_timeout_default_sec == 1 &&
              e->trial_timeout_max_sec == 1, "trial lower bounds");
        CHECK(streq_ptr(e->state_dir, "/var/lib/other"), "the last state_dir: %s", e->state_dir);
        f = load_ok("[trial]\nhistory = 1000\ntimeout_default_sec = 86400\ntimeout_max_sec = 86400\n"
                    "timeout_min_sec = 86400\n");
        CHECK(f->history_max == 1000 && f->trial_timeout_max_sec == 86400, "trial upper bounds");
}

static void test_bad_values(void) {
        static const struct {
                const char *text, *what;
        } cases[] = {
                { "[guard]\nssh_ports = 0\n",              "\"0\" is not a port" },
                { "[guard]\nssh_ports = 65536\n",          "\"65536\" is not a port" },
                { "[guard]\nssh_ports = 22 ssh\n",         "\"ssh\" is not a port" },
                { "[guard]\nssh_ports = 22x\n",            "\"22x\" is not a port" },
                { "[guard]\nssh_ports = -1\n",             "\"-1\" is not a port" },
                { "[guard]\nssh_ports = +22\n",            "\"+22\" is not a port" },
                { "[guard]\nssh_ports = 22 # ssh\n",       "\"#\" is not a port" },
                { "[guard]\nssh_ports =\n",                "no port given" },
                { "[guard]\nsources = 10.0.0.1/8\n",       "bits set after the prefix" },
                { "[guard]\nsources = 2001:db8::1/32\n",   "bits set after the prefix" },
                { "[guard]\nsources = 10.0.0.0/33\n",      "prefix length must be 0-32" },
                { "[guard]\nsources = ::/129\n",           "prefix length must be 0-128" },
                { "[guard]\nsources = 10.0.0.0/\n",        "prefix length" },
                { "[guard]\nsources = 1.2.3\n",            "\"1.2.3\" is not an IPv4 or IPv6 address" },
                { "[guard]\nsources = example.com\n",      "is not an IPv4 or IPv6 address" },
                { "[guard]\nsources =\n",                  "no address given" },
                { "[guard]\nprobe_addresses = 10.0.0.0/8\n", "an address, not a network" },
                { "[guard]\nprobe_addresses = 127.0.0.1\n", "cannot be the address of a remote machine" },
                { "[guard]\nprobe_addresses = ::1\n",      "cannot be the address of a remote machine" },
                { "[guard]\nprobe_addresses = 224.0.0.1\n", "cannot be the address of a remote machine" },
                { "[guard]\nprobe_addresses = 0.0.0.0\n",  "cannot be the address of a remote machine" },
                { "[sandbox]\ntimeout_sec = 0\n",          "\"0\" is not a number from 1 to 3600" },
                { "[sandbox]\ntimeout_sec = 3601\n",       "is not a number from 1 to 3600" },
                { "[sandbox]\ntimeout_sec = 10s\n",        "\"10s\" is not a number" },
                { "[sandbox]\ntimeout_sec = -5\n",         "\"-5\" is not a number" },
                { "[sandbox]\ntimeout_sec = 99999999999999999999\n", "is not a number" },
                { "[sandbox]\nmemory_mb = 63\n",           "is not a number from 64 to 1048576" },
                { "[sandbox]\nmemory_mb =\n",              "\"\" is not a number" },
                { "[admin]\ngroup = a:b\n",                "\"a:b\" is not a group name" },
                { "[trial]\ntimeout_default_sec = 0\n",  "\"0\" is not a number from 1 to 86400" },
                { "[trial]\ntimeout_min_sec = 0\n",      "\"0\" is not a number from 1 to 86400" },
                { "[trial]\ntimeout_max_sec = 86401\n",  "\"86401\" is not a number from 1 to 86400" },
                { "[trial]\ntimeout_max_sec = 1h\n",     "\"1h\" is not a number" },
                { "[trial]\nhistory = 0\n",              "\"0\" is not a number from 1 to 1000" },
                { "[trial]\nhistory = 1001\n",           "\"1001\" is not a number from 1 to 1000" },
                { "[daemon]\nstate_dir = var/lib/fwguard\n", "\"var/lib/fwguard\" is not an absolute path" },
                { "[daemon]\nstate_dir = ./state\n",     "\"./state\" is not an absolute path" },
                { "[daemon]\nstate_dir =\n",             "\"\" is not an absolute path" },
                { "[daemon]\nstate_dir = /var/\x01lib\n", "contains a control character" },
                { "[run]\noverlay_dirs = etc/ufw\n",    "\"etc/ufw\" is not an absolute path" },
                { "[run]\noverlay_dirs = /etc/../root\n", "contains \"..\"" },
                { "[run]\nprivate_files = //\n",       "\"/\" cannot be listed" },
                { "[run]\nprivate_files = /a/\x01b\n", "contains a control character" },
                { "[monitor]\nenabled = off\n",        "\"off\" is neither yes nor no" },
                { "[monitor]\nenabled = Yes\n",        "\"Yes\" is neither yes nor no" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *key = strchr(cases[i].text, '\n') + 1;
                char prefix[128];

                /* The message names the key in front of the reason. */
                snprintf(prefix, sizeof(prefix), ":2: %.*s: ", (int) strcspn(key, " ="), key);
                load_bad2(cases[i].text, 2, prefix, cases[i].what);
        }
}

/* Timeouts that are each in range but out of order: no one line is wrong,
 * so the message names the file and the keys. */
static void test_timeout_order(void) {
        static const struct {
                const char *text, *what;
        } cases[] = {
                { "[trial]\ntimeout_min_sec = 600\ntimeout_max_sec = 300\n",
                  "timeout_min_sec = 600 is more than timeout_default_sec = 120" },
                { "[trial]\ntimeout_min_sec = 200\n",
                  "timeout_min_sec = 200 is more than timeout_default_sec = 120" },
                { "[trial]\ntimeout_default_sec = 4000\n",
                  "timeout_default_sec = 4000 is more than timeout_max_sec = 3600" },
                { "[trial]\ntimeout_max_sec = 60\n",
                  "timeout_default_sec = 120 is more than timeout_max_sec = 60" },
                { "[trial]\ntimeout_default_sec = 10\ntimeout_min_sec = 300\ntimeout_max_sec = 200\n",
                  "timeout_min_sec = 300 is more than timeout_default_sec = 10" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Config *c = (Config *) 0x1;
                char err[512] = "", want[1024];
                int r;

                write_file(cases[i].text);
                r = config_load(path, &c, err, sizeof(err));
                snprintf(want, sizeof(want), "%s: [trial] %s (timeout_min_sec <= timeout_default_sec <= "
                         "timeout_max_sec)", path, cases[i].what);
                CHECK(r == -EINVAL && c == (Config *) 0x1, "want -EINVAL, got %d\n--- input:\n%s", r, cases[i].text);
                CHECK(streq(err, want), "want \"%s\", got \"%s\"", want, err);
        }
}

static void test_structure(void) {
        char longline[600];

        load_bad("[guard]\nport = 22\n", 2, "unknown key \"port\" in [guard]");
        load_bad("[sandbox]\nssh_ports = 22\n", 2, "unknown key \"ssh_ports\" in [sandbox]");
        load_bad("[guard]\nssh_ports = 22\n[gaurd]\nssh_ports = 22\n", 3, "unknown section [gaurd]");
        load_bad("[guard]\n[empty]\n", 2, "unknown section [empty]");
        load_bad("\xef\xbb\xbf[Guard]\n", 1, "unknown section [Guard]");
        /* Indented, it is a section to libinih all the same: caught at its key. */
        load_bad("  [gaurd]\nssh_ports = 22\n", 2, "unknown section [gaurd]");
        load_bad("ssh_ports = 22\n", 1, "\"ssh_ports\" is outside of any [section]");
        load_bad("[guard]\nssh_ports 22\n", 2, "expected \"[section]\" or \"key = value\"");
        load_bad("[guard\nssh_ports = 22\n", 1, "expected \"[section]\" or \"key = value\"");
        /* Keys are case-sensitive, as in the man page. */
        load_bad("[guard]\nSSH_PORTS = 22\n", 2, "unknown key \"SSH_PORTS\"");

        /* Line numbers count comments, blank lines and continuation lines. */
        load_bad("# comment\n"
                 "\n"
                 "[guard]\n"
                 "; another\n"
                 "ssh_ports = 22,\n"
                 "   2222\n"
                 "sources = 10.0.0.0/8\n"
                 "\n"
                 "[sandbox]\n"
                 "timeout_sec = never\n", 10, "timeout_sec: \"never\" is not a number");

        /* The first mistake is the one reported, whichever kind it is. */
        load_bad("[guard]\nssh_ports = 0\nbroken\n", 2, "\"0\" is not a port");
        load_bad("[guard]\nbroken\nssh_ports = 0\n", 2, "expected \"[section]\"");
        load_bad("[guard]\nfoo = 1\n[sandbox]\ntimeout_sec = 0\n", 2, "unknown key \"foo\"");

        /* A line too long for libinih is refused, not split into two lines. */
        memset(longline, ' ', sizeof(longline));
        memcpy(longline, "[guard]\nssh_ports = 22", 22);
        memcpy(longline + sizeof(longline) - 8, "2222\nx\n", 8);
        load_bad(longline, 2, "line longer than 198 characters");
}

/* The shipped example: as it is, it gives the defaults; with every setting
 * uncommented, it still loads (it documents real keys and values). */
static void test_example(void) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_fclose_ FILE *in = NULL;
        _cleanup_free_ char *text = NULL, *line = NULL;
        const char *srcdir = getenv("SRCDIR");
        char example[4096];
        size_t cap = 0, size = 0;
        FILE *out;

        CHECK(srcdir, "SRCDIR is not set (run through meson test)");
        snprintf(example, sizeof(example), "%s/units/fwguard.conf", srcdir);
        CHECK(config_load(example, &c, NULL, 0) == 0, "%s does not load", example);
        check_defaults(c);
        c = config_free(c);

        in = fopen(example, "re");
        CHECK(in, "%s: %m", example);
        out = open_memstream(&text, &size);
        CHECK(out, "open_memstream");
        while (getline(&line, &cap, in) > 0)
                /* "#key = value" is a setting; "# words" stays a comment. */
                fputs(line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' ? line + 1 : line, out);
        CHECK(fclose(out) == 0, "fclose");
        c = load_ok(text);
        CHECK(c->ssh_ports.n == 2 && c->sources.n == 2 && c->probe_addresses.n == 2 &&
              c->sandbox_timeout_sec == 10 && c->sandbox_memory_mb == 512 &&
              streq_ptr(c->admin_group, "sudo") && c->trial_timeout_default_sec == 120 &&
              c->trial_timeout_min_sec == 5 && c->trial_timeout_max_sec == 3600 && c->history_max == 20 &&
              streq_ptr(c->state_dir, "/var/lib/fwguard"), "the uncommented example:\n%s", text);
}

static void test_not_a_file(void) {
        Config *c = NULL;
        char err[256] = "", want[sizeof(dir) + 64];

        CHECK(config_load(dir, &c, err, sizeof(err)) == -EINVAL, "a directory");
        snprintf(want, sizeof(want), "%s: not a regular file", dir);
        CHECK(streq(err, want), "error: %s", err);
        CHECK(!c, "ret written");
}

int main(void) {
        CHECK(mkdtemp(dir), "mkdtemp: %m");
        snprintf(path, sizeof(path), "%s/fwguard.conf", dir);

        test_defaults();
        test_keys();
        test_repeats();
        test_bad_values();
        test_timeout_order();
        test_structure();
        test_example();
        test_not_a_file();

        unlink(path);
        rmdir(dir);
        printf("ok\n");
        return 0;
}
