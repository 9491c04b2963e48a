/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_doctor.c — fwguard doctor: what else could lock SSH out, and the fix of each
 *
 * The checks are lib/doctor's; here are the options, the one call to the
 * daemon (Status, which anyone may make), and the report. Exit 0 when
 * nothing but information was found, 1 otherwise, so that a script or a
 * monitoring check can run it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "bus.h"
#include "cli.h"
#include "config.h"
#include "doctor.h"

/* A daemon that needs longer than this to say whether a trial is pending
 * is hung (or stopped); systemd's socket activation starts one well within. */
#define STATUS_TIMEOUT_USEC (10ULL * 1000000)

static int print_json(const Doctor *d) {
        _cleanup_free_ char *text = NULL;
        json_t *a = json_array();

        for (size_t i = 0; a && i < d->n_findings; i++) {
                const DoctorFinding *f = &d->findings[i];

                if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", f->id,
                                                       "severity", doctor_severity_to_string(f->severity),
                                                       "what", f->what, "why", f->why, "fix", f->fix)) < 0) {
                        json_decref(a);
                        a = NULL;
                }
        }
        if (a)
                text = json_dumps(a, JSON_INDENT(2));
        json_decref(a);
        if (!text)
                return cli_error("out of memory");
        puts(text);
        return EXIT_OK;
}

static void print_text(const Doctor *d) {
        size_t problems = doctor_problems(d);

        for (size_t i = 0; i < d->n_findings; i++) {
                const DoctorFinding *f = &d->findings[i];

                printf("%s%s [%s]: %s\n", i ? "\n" : "", doctor_severity_to_string(f->severity), f->id, f->what);
                printf("  why: %s\n", f->why);
                if (f->fix)
                        printf("  fix: %s\n", f->fix);
        }
        if (problems == 0)
                printf("%sNo problems found.\n", d->n_findings ? "\n" : "");
        else
                printf("\n%zu problem%s found.\n", problems, problems == 1 ? "" : "s");
}

int verb_doctor(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "config", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(doctor_freep) Doctor *d = NULL;
        _cleanup_(cli_status_done) CliStatus st = {};
        const char *config_path = NULL, *runtime_dir = NULL;
        char err[512] = "";
        bool json = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard doctor [--json] [--config FILE] [--runtime-dir DIR]\n");
                        return EXIT_OK;
                case 'j': json = true; break;
                case 'c': config_path = optarg; break;
                case 'r': runtime_dir = optarg; break;
                default:
                        return cli_usage("doctor [--json] [--config FILE] [--runtime-dir DIR]");
                }
        if (optind < argc)
                return cli_usage("doctor takes no argument ('%s')", argv[optind]);
        runtime_dir = cli_runtime_dir(runtime_dir);

        r = config_load(config_path, &cfg, err, sizeof(err));
        if (r < 0)
                return cli_error("%s", err[0] ? err : strerror(-r));
        r = doctor_new(cfg, NULL, &d);
        if (r < 0)
                return cli_error("%s", strerror(-r));

        DoctorDaemon daemon = { .runtime_dir = runtime_dir, .pid = cli_bus_listener_pid(runtime_dir) };
        daemon.error = cli_bus_status(runtime_dir, STATUS_TIMEOUT_USEC, &st);
        if (daemon.error >= 0) {
                daemon.state = st.state;
                daemon.trial_id = st.id;
                daemon.deadline_realtime_usec = st.deadline_realtime_usec;
                daemon.summary = st.summary;
        }

        r = doctor_check_sshd(d);
        if (r >= 0)
                r = doctor_check_ruleset(d);
        if (r >= 0)
                r = doctor_check_keys(d);
        if (r >= 0)
                r = doctor_check_disk(d);
        if (r >= 0)
                r = doctor_check_legacy(d);
        if (r >= 0)
                r = doctor_check_daemon(d, &daemon);
        if (r >= 0)
                r = doctor_check_services(d);
        if (r < 0)
                return cli_error("doctor: %s", strerror(-r));

        if (json) {
                r = print_json(d);
                if (r != EXIT_OK)
                        return r;
        } else
                print_text(d);
        return doctor_problems(d) == 0 ? EXIT_OK : EXIT_ERROR;
}
