/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unitstate.c — whether a systemd unit is installed, enabled and running
 *
 * `fwguard doctor` asks about units of other firewall tools, of sshd and of
 * fwguardd itself. systemd's own answer (over the system bus) is the truth;
 * a host or a namespace where no systemd answers (a container without
 * systemd, a test namespace) still has the unit files, and the symlinks
 * that `systemctl enable` made say what starts at boot.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "unitstate.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && streq(s + a - b, suffix);
}

static void from_files(const char *unit, UnitState *ret) {
        static const char *const dirs[] = { "/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system" };
        static const char *const links[] = { "/etc/systemd/system/*.wants/%s", "/etc/systemd/system/*.requires/%s" };

        for (size_t i = 0; i < ELEMENTSOF(dirs) && !ret->installed; i++) {
                char path[512];

                snprintf(path, sizeof(path), "%s/%s", dirs[i], unit);
                ret->installed = access(path, F_OK) == 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(links) && !ret->enabled; i++) {
                char pattern[512];
                glob_t g = {};

                snprintf(pattern, sizeof(pattern), links[i], unit);
                ret->enabled = glob(pattern, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
                globfree(&g);
        }
}

static int fail(int r, const sd_bus_error *error, const char *what, const char *unit, char *err, size_t errlen) {
        snprintf(err, errlen, "%s of %s: %s", what, unit, sd_bus_error_is_set(error) ? error->message : strerror(-r));
        return r;
}

static int string_property(sd_bus *bus, const char *path, const char *iface, const char *name, char *buf,
                           size_t len, sd_bus_error *error) {
        _cleanup_free_ char *v = NULL;
        int r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, iface, name, error, &v);

        if (r >= 0)
                snprintf(buf, len, "%s", v);
        return r;
}

int unitstate_get(sd_bus *bus, const char *unit, UnitState *ret, char *err, size_t errlen) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        UnitState s = {};
        const char *file_state, *path;
        int r;

        if (!bus) {
                from_files(unit, &s);
                *ret = s;
                return 0;
        }
        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnitFileState", &error,
                               &reply, "s", unit);
        if (r >= 0) {
                r = sd_bus_message_read(reply, "s", &file_state);
                if (r < 0)
                        return fail(r, &error, "the unit file state", unit, err, errlen);
                s.installed = true;
                s.enabled = streq(file_state, "enabled") || streq(file_state, "enabled-runtime");
        } else if (!sd_bus_error_has_names(&error, "org.freedesktop.DBus.Error.FileNotFound",
                                           "org.freedesktop.systemd1.NoSuchUnit"))
                return fail(r, &error, "the unit file state", unit, err, errlen);
        sd_bus_error_free(&error);
        reply = sd_bus_message_unref(reply);

        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", &error, &reply,
                               "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = string_property(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", s.active,
                                    sizeof(s.active), &error);
        if (r >= 0)
                r = string_property(bus, path, "org.freedesktop.systemd1.Unit", "SubState", s.sub,
                                    sizeof(s.sub), &error);
        if (r >= 0 && endswith(unit, ".service")) {
                r = string_property(bus, path, "org.freedesktop.systemd1.Service", "Result", s.result,
                                    sizeof(s.result), &error);
                if (r >= 0)
                        r = sd_bus_get_property_trivial(bus, SYSTEMD_DEST, path, "org.freedesktop.systemd1.Service",
                                                        "NRestarts", &error, 'u', &s.n_restarts);
        }
        if (r < 0)
                return fail(r, &error, "the state", unit, err, errlen);
        s.live = true;
        *ret = s;
        return 0;
}
