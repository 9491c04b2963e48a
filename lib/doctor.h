/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor.h — fwguard doctor: what else can lock SSH out, each with its fix */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "macro.h"

typedef enum DoctorSeverity {
        DOCTOR_INFO,            /* how things fit together: nothing is wrong */
        DOCTOR_WARNING,         /* a lockout waiting to happen */
        DOCTOR_ERROR,           /* SSH access, or fwguard's protection of it, is broken now */
} DoctorSeverity;

/* "info", "warning", "error". */
const char *doctor_severity_to_string(DoctorSeverity s);

typedef struct DoctorFinding {
        DoctorSeverity severity;
        char *id;               /* stable, for scripts: "sshd-not-running" */
        char *what;             /* one line */
        char *why;              /* why it matters for SSH access */
        char *fix;              /* the command that fixes it; NULL: nothing to run */
} DoctorFinding;

typedef struct Doctor {
        DoctorFinding *findings;        /* in the order the checks ran */
        size_t n_findings;

        /* What the checks share. */
        const Config *cfg;
        const char *sshd_path;
        sd_bus *bus;                    /* systemd's, NULL when none manages this network namespace */
        char *sshd_t;                   /* `sshd -T`, NULL when it failed */
} Doctor;

/* A Doctor for @cfg (kept, not copied), with @sshd_path (NULL: the
 * default). systemd is asked only when it runs (sd_booted()) and this
 * process is in the network namespace of PID 1, whose units are the ones
 * that act on it. */
int doctor_new(const Config *cfg, const char *sshd_path, Doctor **ret);
Doctor *doctor_free(Doctor *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Doctor *, doctor_free);

/* How many findings are problems (not DOCTOR_INFO). */
size_t doctor_problems(const Doctor *d);

/* The checks. Each adds its findings; a check that cannot look says so in
 * a finding. They fail only with -ENOMEM. */

/* sshd installed, its config loading (`sshd -T`), a listener in this
 * network namespace (or ssh.socket), and the ports of its config against
 * those it listens on (a restart pending). Run it first: the others use
 * its `sshd -T`. */
int doctor_check_sshd(Doctor *d);

/* The live ruleset through the reachability pre-flight (`fwguard check
 * --live`), as root. */
int doctor_check_ruleset(Doctor *d);

/* Every user's authorized_keys files (sshd's AuthorizedKeysFile) against
 * StrictModes, unless sshd has it off. */
int doctor_check_keys(Doctor *d);

/* Free space and inodes on the filesystems of the state directory,
 * /var/log and /. */
int doctor_check_disk(Doctor *d);

/* iptables-legacy tables in this network namespace. */
int doctor_check_legacy(Doctor *d);

/* What the CLI learnt from fwguardd's Status call. */
typedef struct DoctorDaemon {
        const char *runtime_dir;
        pid_t pid;                      /* what listens on the socket, 0 if unknown */
        int error;                      /* 0: it answered; -ENOENT, -ECONNREFUSED: nothing
                                         * listens; -ETIMEDOUT: no answer in time; other */
        const char *state;              /* with error 0: "idle", "preparing", "armed", ... */
        uint64_t trial_id;
        uint64_t deadline_realtime_usec;
        const char *summary;
} DoctorDaemon;

/* fwguardd running and answering (and its unit, under systemd), and a
 * pending trial: the daemon's, or a record in the state directory that no
 * daemon looks after. */
int doctor_check_daemon(Doctor *d, const DoctorDaemon *status);

/* Services that load a ruleset at boot or on their own: nftables.service,
 * ufw, firewalld, netfilter-persistent, docker. */
int doctor_check_services(Doctor *d);
