/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfterrors.c — libnftables' error text, as FILE:LINE:COL lines under the user's file name
 *
 * nft reads the rules from a scratch copy (so that it can print the source
 * line of an error even when the rules came from a pipe), and names that
 * copy in its errors. The user knows the file by another name, and editors
 * and CI tools jump to "FILE:LINE:COL: message", so each error's first line
 * is put in that shape; nft's own "L:C1-C2" range is cut to its start. The
 * context nft prints after it (the source line and the carets under it, and
 * "In file included from" for includes) stays as it is.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "nfterrors.h"

/* @p[0..len) ends in "...:LINE:COL-COL": the length without "-COL"; else @len. */
static size_t cut_range(const char *p, size_t len) {
        size_t i = len, dash;

        while (i > 0 && isdigit((unsigned char) p[i - 1]))
                i--;
        if (i == len || i == 0 || p[i - 1] != '-')
                return len;
        dash = --i;
        while (i > 0 && isdigit((unsigned char) p[i - 1]))
                i--;
        if (i == dash || i == 0 || p[i - 1] != ':')
                return len;
        return dash;
}

static void put_line(FILE *out, const char *line, size_t len) {
        static const char included[] = "In file included from ";
        static const struct { const char *nft, *ours; } severities[] = {
                { ": Error: ", ": " },
                { ": Warning: ", ": warning: " },
        };

        for (size_t i = 0; i < ELEMENTSOF(severities); i++) {
                const char *sev = memmem(line, len, severities[i].nft, strlen(severities[i].nft));
                size_t loc;

                /* Only after a location: a source line may say ": Error: " too. */
                if (!sev)
                        continue;
                loc = cut_range(line, (size_t) (sev - line));
                if (loc < (size_t) (sev - line)) {
                        const char *msg = sev + strlen(severities[i].nft);

                        fprintf(out, "%.*s%s%.*s\n", (int) loc, line, severities[i].ours,
                                (int) (len - (size_t) (msg - line)), msg);
                        return;
                }
        }
        if (len > strlen(included) && strncmp(line, included, strlen(included)) == 0 && line[len - 1] == ':') {
                fprintf(out, "%.*s:\n", (int) cut_range(line, len - 1), line);
                return;
        }
        fprintf(out, "%.*s\n", (int) len, line);
}

char *nfterrors_format(const char *text, const char *scratch_path, const char *display_name) {
        _cleanup_free_ char *renamed = NULL;
        char *buf = NULL;
        size_t size = 0, plen = strlen(scratch_path);
        FILE *out;

        /* The scratch path first, everywhere: it also appears in the messages themselves. */
        out = open_memstream(&renamed, &size);
        if (!out)
                return NULL;
        for (const char *p = text, *hit; *p; p = hit + plen) {
                hit = plen > 0 ? strstr(p, scratch_path) : NULL;
                if (!hit) {
                        fputs(p, out);
                        break;
                }
                fprintf(out, "%.*s%s", (int) (hit - p), p, display_name);
        }
        if (fclose(out) != 0)
                return NULL;

        out = open_memstream(&buf, &size);
        if (!out)
                return NULL;
        for (const char *p = renamed; *p;) {
                size_t len = strcspn(p, "\n");

                if (len > 0)
                        put_line(out, p, len);
                p += len;
                if (*p == '\n')
                        p++;
        }
        if (fclose(out) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
