/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-deadman.c — lib/deadman: the unit names, when the timer is due, and the requests to systemd as sent */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "deadman.h"
#include "macro.h"
#include "tests/lib/busjson.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

#define SEC 1000000000ULL
/* 2023-11-14 22:13:20 UTC, and a quarter of a second. */
#define REAL_NOW_USEC (1700000000ULL * 1000000 + 250000)

static const DeadmanUnit unit = {
        .id = 7,
        .deadline_boottime_ns = 5000 * SEC + 123456789,
        .binary = "/usr/bin/fwguard",
        .state_dir = "/var/lib/fwguard",
        .config_path = "/etc/fwguard/fwguard.conf",
};

static void test_names(void) {
        _cleanup_free_ char *timer = NULL, *service = NULL, *moved = NULL;

        CHECK(deadman_unit_name(7, unit.deadline_boottime_ns, "timer", &timer) == 0, "name");
        CHECK(streq(timer, "fwguard-deadman-7-5000123.timer"), "timer: %s", timer);
        CHECK(deadman_unit_name(7, unit.deadline_boottime_ns, "service", &service) == 0, "name");
        CHECK(streq(service, "fwguard-deadman-7-5000123.service"), "service: %s", service);
        /* Another deadline, another name: a moved timer never meets the old one's. */
        CHECK(deadman_unit_name(7, unit.deadline_boottime_ns + SEC / 100, "timer", &moved) == 0, "name");
        CHECK(!streq(timer, moved), "a new deadline kept the name %s", moved);
}

static void check_due(uint64_t now_boottime_ns, const char *want_cal) {
        char cal[64] = "";

        CHECK(deadman_due(&unit, now_boottime_ns, REAL_NOW_USEC, cal, sizeof(cal)) == 0, "due");
        CHECK(streq(cal, want_cal), "OnCalendar \"%s\", want \"%s\"", cal, want_cal);
}

static void test_due(void) {
        /* 10 s before the deadline: due 13 s from now, at 22:13:33.25 on the
         * wall clock, rounded up to a whole second: never before the
         * deadline and the grace. */
        check_due(unit.deadline_boottime_ns - 10 * SEC, "2023-11-14 22:13:34 UTC");
        check_due(unit.deadline_boottime_ns - 10 * SEC + 1, "2023-11-14 22:13:34 UTC");
        check_due(unit.deadline_boottime_ns - 10 * SEC + SEC / 2, "2023-11-14 22:13:33 UTC");
        /* Due in half a second, or past: a second from now, as a calendar
         * time already past would never fire. */
        check_due(unit.deadline_boottime_ns + 2 * SEC + SEC / 2, "2023-11-14 22:13:22 UTC");
        check_due(unit.deadline_boottime_ns + 4 * SEC, "2023-11-14 22:13:22 UTC");
}

/* A client bus over a socketpair: enough to build messages. */
static sd_bus *bus_new(void) {
        sd_bus *bus = NULL;
        int sv[2];

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %m");
        CHECK(sd_bus_new(&bus) >= 0 && sd_bus_set_fd(bus, sv[0], sv[0]) >= 0 && sd_bus_start(bus) >= 0,
              "bus");
        return bus;
}

static char *body_json(sd_bus_message *m) {
        json_t *j;
        char *text;

        CHECK(sd_bus_message_seal(m, 1, 0) >= 0, "seal");
        CHECK(sd_bus_message_rewind(m, true) >= 0, "rewind");
        j = busjson_read(m);
        CHECK(j, "cannot read the message back");
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return text;
}

static void test_start(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *body = NULL;
        const char *want =
                "[\"fwguard-deadman-7-5000123.timer\",\"fail\","
                "[[\"Description\",[\"s\",\"fwguard: the second dead-man of trial 7\"]],"
                "[\"TimersCalendar\",[\"a(ss)\",[[\"OnCalendar\",\"2023-11-14 22:13:34 UTC\"]]]],"
                "[\"AccuracyUSec\",[\"t\",100000]],"
                "[\"RemainAfterElapse\",[\"b\",false]]],"
                "[[\"fwguard-deadman-7-5000123.service\","
                "[[\"Description\",[\"s\",\"fwguard: the second dead-man of trial 7\"]],"
                "[\"Type\",[\"s\",\"oneshot\"]],"
                "[\"TimeoutStartUSec\",[\"t\",\"18446744073709551615\"]],"
                "[\"ProtectKernelTunables\",[\"b\",true]],"
                "[\"ReadWritePaths\",[\"as\",[\"/proc/sys/net\"]]],"
                "[\"ExecStart\",[\"a(sasb)\",[[\"/usr/bin/fwguard\",[\"/usr/bin/fwguard\",\"deadman\",\"7\","
                "\"--state-dir\",\"/var/lib/fwguard\",\"--config\",\"/etc/fwguard/fwguard.conf\"],false]]]]]]]]";

        CHECK(deadman_start_message(bus, &unit, unit.deadline_boottime_ns - 10 * SEC, REAL_NOW_USEC, &m) == 0,
              "start message");
        CHECK(streq(sd_bus_message_get_destination(m), "org.freedesktop.systemd1") &&
              streq(sd_bus_message_get_path(m), "/org/freedesktop/systemd1") &&
              streq(sd_bus_message_get_interface(m), "org.freedesktop.systemd1.Manager") &&
              streq(sd_bus_message_get_member(m), "StartTransientUnit"), "not systemd's StartTransientUnit");
        CHECK(streq(sd_bus_message_get_signature(m, true), "ssa(sv)a(sa(sv))"), "signature %s",
              sd_bus_message_get_signature(m, true));
        body = body_json(m);
        CHECK(streq(body, want), "StartTransientUnit:\n got %s\nwant %s", body, want);
}

static void test_start_default_config(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *body = NULL;
        DeadmanUnit u = unit;

        /* Without a config file, the dead-man reads fwguard's default. */
        u.config_path = NULL;
        CHECK(deadman_start_message(bus, &u, u.deadline_boottime_ns - 10 * SEC, REAL_NOW_USEC, &m) == 0, "start");
        body = body_json(m);
        CHECK(strstr(body, "[\"/usr/bin/fwguard\",\"deadman\",\"7\",\"--state-dir\",\"/var/lib/fwguard\"],false]"),
              "argv without --config: %s", body);
}

static void test_list_and_stop(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = NULL, *reply = NULL, *stop = NULL;
        _cleanup_free_ char *body = NULL;
        const char *name;
        int r;

        CHECK(deadman_list_message(bus, 7, &list) == 0, "list message");
        CHECK(streq(sd_bus_message_get_member(list), "ListUnitsByPatterns"), "member");
        body = body_json(list);
        CHECK(streq(body, "[[],[\"fwguard-deadman-7-*.timer\"]]"), "ListUnitsByPatterns %s", body);

        /* systemd's answer, as it lists two units. */
        CHECK(sd_bus_message_new_method_return(list, &reply) >= 0, "reply");
        CHECK(sd_bus_message_append(reply, "a(ssssssouso)", 2,
                                    "fwguard-deadman-7-1.timer", "d", "loaded", "active", "waiting", "",
                                    "/org/freedesktop/systemd1/unit/a", 0, "", "/",
                                    "fwguard-deadman-7-2.timer", "d", "loaded", "active", "waiting", "",
                                    "/org/freedesktop/systemd1/unit/b", 0, "", "/") >= 0, "append");
        CHECK(sd_bus_message_seal(reply, 2, 0) >= 0 && sd_bus_message_rewind(reply, true) >= 0, "seal");
        CHECK(deadman_list_next(reply, &name) == 1 && streq(name, "fwguard-deadman-7-1.timer"), "first");
        CHECK(deadman_list_next(reply, &name) == 1 && streq(name, "fwguard-deadman-7-2.timer"), "second");
        r = deadman_list_next(reply, &name);
        CHECK(r == 0, "the end: %d", r);

        CHECK(deadman_stop_message(bus, "fwguard-deadman-7-1.timer", &stop) == 0, "stop message");
        CHECK(streq(sd_bus_message_get_member(stop), "StopUnit"), "member");
        free(body);
        body = body_json(stop);
        CHECK(streq(body, "[\"fwguard-deadman-7-1.timer\",\"replace\"]"), "StopUnit %s", body);
}

int main(void) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;

        test_names();
        test_due();
        bus = bus_new();
        test_start(bus);
        test_start_default_config(bus);
        test_list_and_stop(bus);
        printf("ok\n");
        return 0;
}
