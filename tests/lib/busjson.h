/* SPDX-License-Identifier: GPL-2.0-or-later */
/* busjson.h — test helper: the rest of a D-Bus message's body as JSON, types kept
 *
 * Arrays and structs become JSON arrays, a variant becomes [SIGNATURE,
 * VALUE] (systemd refuses a property of the wrong type, so the tests check
 * types too), strings and object paths strings, booleans booleans, integers
 * numbers (a uint64 above INT64_MAX its decimal string). Shared by the unit
 * test of lib/deadman and the fake systemd of the integration tests.
 */
#pragma once

#include <inttypes.h>
#include <stdio.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

static json_t *busjson_value(sd_bus_message *m, char type, const char *contents);

/* The values left in the current container of @m, as a JSON array. */
static inline json_t *busjson_read(sd_bus_message *m) {
        json_t *a = json_array();
        const char *contents;
        char type;

        while (a && sd_bus_message_peek_type(m, &type, &contents) > 0) {
                json_t *v = busjson_value(m, type, contents);

                if (!v || json_array_append_new(a, v) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static json_t *busjson_value(sd_bus_message *m, char type, const char *contents) {
        union { uint64_t u64; int64_t i64; uint32_t u32; int32_t i32; uint16_t u16; int16_t i16; uint8_t u8;
                int b; double d; const char *s; } v;
        json_t *j;

        switch (type) {
        case SD_BUS_TYPE_ARRAY:
        case SD_BUS_TYPE_STRUCT:
        case SD_BUS_TYPE_DICT_ENTRY:
        case SD_BUS_TYPE_VARIANT:
                if (sd_bus_message_enter_container(m, type, contents) <= 0)
                        return NULL;
                j = busjson_read(m);
                if (sd_bus_message_exit_container(m) < 0) {
                        json_decref(j);
                        return NULL;
                }
                /* A variant holds one value: keep its signature beside it. */
                if (j && type == SD_BUS_TYPE_VARIANT) {
                        json_t *pair = json_pack("[so]", contents, json_incref(json_array_get(j, 0)));

                        json_decref(j);
                        j = pair;
                }
                return j;
        default:
                if (sd_bus_message_read_basic(m, type, &v) <= 0)
                        return NULL;
        }
        switch (type) {
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                return json_string(v.s);
        case SD_BUS_TYPE_BOOLEAN:
                return json_boolean(v.b);
        case SD_BUS_TYPE_UINT64:
                if (v.u64 > INT64_MAX) {
                        char buf[32];

                        snprintf(buf, sizeof(buf), "%" PRIu64, v.u64);
                        return json_string(buf);
                }
                return json_integer((json_int_t) v.u64);
        case SD_BUS_TYPE_INT64:         return json_integer(v.i64);
        case SD_BUS_TYPE_UINT32:        return json_integer(v.u32);
        case SD_BUS_TYPE_INT32:         return json_integer(v.i32);
        case SD_BUS_TYPE_UINT16:        return json_integer(v.u16);
        case SD_BUS_TYPE_INT16:         return json_integer(v.i16);
        case SD_BUS_TYPE_BYTE:          return json_integer(v.u8);
        case SD_BUS_TYPE_DOUBLE:        return json_real(v.d);
        default:                        return NULL;
        }
}
