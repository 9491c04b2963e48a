/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapshot.c — the on-disk format of an exact ruleset snapshot
 *
 * A snapshot is a fixed header followed by the model's objects as the very
 * NFT_MSG_NEW* netlink messages that would create them. Netlink is the only
 * format that represents every nftables object exactly (xtables compat
 * expressions included, which nft text cannot), and libnftnl already parses
 * it, so the file needs no second serialisation.
 *
 *   offset size
 *        0    8  magic "FWGSNAP\0"
 *        8    4  format version (1)
 *       12    4  header size (56)
 *       16    4  flags: bit 0 set if written on a big-endian host
 *       20    4  kernel generation id at dump time
 *       24    4  number of records
 *       28    4  reserved, 0
 *       32    8  creation time, microseconds since the epoch
 *       40    8  payload size in bytes
 *       48    4  CRC-32 (zlib) of the payload
 *       52    4  CRC-32 of bytes 0..51
 *   then the payload: records, each one netlink message padded to 4 bytes.
 *
 * Header fields are little-endian; netlink messages are in host byte order,
 * hence the endianness flag. Reading trusts nothing: the header CRC, the
 * sizes, every record length and every object reference are checked before
 * anything is used, and the buffer grows only with bytes actually read.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <zlib.h>

#include "macro.h"
#include "nlschema.h"
#include "snapshot.h"

#define HEADER_SIZE 56
/* Records are at most half the buffer the model is emitted into: an object
 * read from a record is emitted again in hardly more bytes than the record
 * (a set gains its id, a rule its compat protocol), so whatever a snapshot
 * holds fits that buffer when it is restored or saved again. The writer's
 * largest records, element lists, stop at one attribute's 64 KiB. */
#define RECORD_MAX (RS_MSG_BUFSIZE / 2)
#define FLAG_BIG_ENDIAN 0x1u
#define KNOWN_FLAGS FLAG_BIG_ENDIAN

static uint32_t host_flags(void) {
        return __BYTE_ORDER == __BIG_ENDIAN ? FLAG_BIG_ENDIAN : 0;
}

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

static uint32_t crc(const void *data, size_t len) {
        uLong c = crc32(0L, Z_NULL, 0);
        const uint8_t *p = data;

        /* zlib takes uInt lengths. */
        while (len > 0) {
                uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt) len;
                c = crc32(c, p, chunk);
                p += chunk;
                len -= chunk;
        }
        return (uint32_t) c;
}

_printf_(3, 4)
static int fail(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;

        if (err && errlen > 0) {
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

bool snapshot_has_magic(const void *data, size_t len) {
        return len >= SNAPSHOT_MAGIC_LEN && memcmp(data, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) == 0;
}

/* ------------------------------------------------------------------ writing */

/* The header holds the payload's size and CRC, and the output may be a pipe:
 * the model is emitted twice, once to count and checksum, once to write
 * through a small buffer. Emitting is cheap next to holding a second copy of
 * a large ruleset in memory. */
typedef struct Writer {
        int fd;                 /* -1 on the counting pass */
        uint64_t len;
        uint32_t n_records;
        uLong crc;
        size_t buffered;
        uint8_t out[256 * 1024];
        char scratch[RS_MSG_BUFSIZE];
        uint8_t record[RECORD_MAX];     /* the scratch message as the reader wants it */
} Writer;

static int write_all(int fd, const void *data, size_t len) {
        const uint8_t *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int writer_flush(Writer *w) {
        int r = write_all(w->fd, w->out, w->buffered);

        w->buffered = 0;
        return r;
}

static char *writer_buffer(void *userdata) {
        Writer *w = userdata;
        return w->scratch;
}

static int writer_take(Writer *w, const struct nlmsghdr *nlh, size_t pad) {
        static const uint8_t zeros[4] = {};
        int r;

        if (w->fd < 0) {
                w->crc = crc32(w->crc, (const Bytef *) nlh, nlh->nlmsg_len);
                w->crc = crc32(w->crc, zeros, (uInt) pad);
                return 0;
        }
        if (w->buffered + nlh->nlmsg_len + pad > sizeof(w->out)) {
                r = writer_flush(w);
                if (r < 0)
                        return r;
        }
        memcpy(w->out + w->buffered, nlh, nlh->nlmsg_len);
        memset(w->out + w->buffered + nlh->nlmsg_len, 0, pad);
        w->buffered += nlh->nlmsg_len + pad;
        return 0;
}

static int writer_push(struct nlmsghdr *nlh, RsMsgKind kind, const void *obj, void *userdata) {
        Writer *w = userdata;
        struct nlmsghdr *rec = (struct nlmsghdr *) w->record;
        size_t pad;
        int r;

        /* libnftnl's builders leave some strings without their NUL (the reader
         * refuses them: libnftnl would read past them) and libmnl leaves
         * padding as it finds it; the normalised copy fixes both, so files
         * are deterministic and never carry stale memory. */
        r = nlschema_normalise(nlh, w->record, sizeof(w->record));
        if (r >= 0) {
                pad = MNL_ALIGN(rec->nlmsg_len) - rec->nlmsg_len;
                w->len += rec->nlmsg_len + pad;
                w->n_records++;
                r = writer_take(w, rec, pad);
        } else if (r == -ENOBUFS) {
                r = -EFBIG;
        }
        return r;
}

int snapshot_write(int fd, const Ruleset *rs, uint64_t created_usec) {
        _cleanup_free_ Writer *w = calloc(1, sizeof(Writer));
        RsMsgSink sink = { .buffer = writer_buffer, .push = writer_push };
        uint8_t h[HEADER_SIZE] = {};
        int r;

        if (!w)
                return -ENOMEM;
        sink.userdata = w;
        w->fd = -1;
        w->crc = crc32(0L, Z_NULL, 0);
        r = ruleset_emit(rs, &sink);
        if (r < 0)
                return r;
        if (w->len > SNAPSHOT_MAX_PAYLOAD)
                return -EFBIG;

        memcpy(h, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
        put32(h + 8, SNAPSHOT_VERSION);
        put32(h + 12, HEADER_SIZE);
        put32(h + 16, host_flags());
        put32(h + 20, rs->genid);
        put32(h + 24, w->n_records);
        put64(h + 32, created_usec);
        put64(h + 40, w->len);
        put32(h + 48, (uint32_t) w->crc);
        put32(h + 52, crc(h, 52));
        r = write_all(fd, h, sizeof(h));
        if (r < 0)
                return r;

        w->fd = fd;
        w->len = 0;
        w->n_records = 0;
        r = ruleset_emit(rs, &sink);
        if (r < 0)
                return r;
        return writer_flush(w);
}

/* ------------------------------------------------------------------ reading */

static const char *record_kind(uint16_t type) {
        switch (type & 0xff) {
        case NFT_MSG_NEWTABLE: return "table";
        case NFT_MSG_NEWCHAIN: return "chain";
        case NFT_MSG_NEWSET: return "set";
        case NFT_MSG_NEWSETELEM: return "set elements";
        case NFT_MSG_NEWOBJ: return "object";
        case NFT_MSG_NEWFLOWTABLE: return "flowtable";
        case NFT_MSG_NEWRULE: return "rule";
        default: return "unknown";
        }
}

static int parse_header(const uint8_t *h, size_t len, SnapshotInfo *info, uint64_t *payload_size,
                        uint32_t *payload_crc, char *err, size_t errlen) {
        uint32_t flags;

        if (len < SNAPSHOT_MAGIC_LEN || !snapshot_has_magic(h, len))
                return fail(err, errlen, "not a fwguard snapshot (wrong magic)");
        if (len < HEADER_SIZE)
                return fail(err, errlen, "truncated: %zu bytes, the header alone has %d", len, HEADER_SIZE);
        if (crc(h, 52) != get32(h + 52))
                return fail(err, errlen, "corrupt header (checksum mismatch)");
        info->version = get32(h + 8);
        if (info->version != SNAPSHOT_VERSION)
                return fail(err, errlen, "unsupported snapshot format version %u (this fwguard reads version %d)",
                            info->version, SNAPSHOT_VERSION);
        if (get32(h + 12) != HEADER_SIZE)
                return fail(err, errlen, "corrupt header (header size %u)", get32(h + 12));
        flags = get32(h + 16);
        if (flags & ~KNOWN_FLAGS)
                return fail(err, errlen, "unsupported snapshot flags 0x%x", flags);
        if ((flags & FLAG_BIG_ENDIAN) != host_flags())
                return fail(err, errlen, "snapshot written on a host of the other byte order");
        info->genid = get32(h + 20);
        info->n_records = get32(h + 24);
        info->created_usec = get64(h + 32);
        *payload_size = get64(h + 40);
        *payload_crc = get32(h + 48);
        if (*payload_size > SNAPSHOT_MAX_PAYLOAD)
                return fail(err, errlen, "payload size %llu exceeds the limit of %llu bytes",
                            (unsigned long long) *payload_size, SNAPSHOT_MAX_PAYLOAD);
        return 0;
}

int snapshot_parse(const void *data, size_t len, Ruleset **ret, SnapshotInfo *ret_info,
                   char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        const uint8_t *payload = (const uint8_t *) data + HEADER_SIZE;
        SnapshotInfo info = {};
        uint64_t size = 0;
        uint32_t payload_crc = 0, n = 0;
        size_t off = 0;
        int r;

        r = parse_header(data, len, &info, &size, &payload_crc, err, errlen);
        if (r < 0)
                return r;
        if (len - HEADER_SIZE < size)
                return fail(err, errlen, "truncated: payload has %zu of %llu bytes",
                            len - HEADER_SIZE, (unsigned long long) size);
        if (len - HEADER_SIZE > size)
                return fail(err, errlen, "%zu bytes of trailing garbage after the payload",
                            (size_t) (len - HEADER_SIZE - size));
        if (!FWGUARD_FUZZING && crc(payload, size) != payload_crc)
                return fail(err, errlen, "corrupt payload (checksum mismatch)");

        r = ruleset_new(&rs);
        if (r < 0)
                return r;
        rs->genid = info.genid;

        while (off < size) {
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) (payload + off);
                size_t rest = size - off;

                if (rest < sizeof(struct nlmsghdr) ||
                    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)) ||
                    nlh->nlmsg_len > rest || MNL_ALIGN(nlh->nlmsg_len) > rest ||
                    nlh->nlmsg_len > RECORD_MAX)
                        return fail(err, errlen, "record %u at offset %zu: bad length", n + 1, off);
                if (n == info.n_records)
                        return fail(err, errlen, "more records than the header's %u", info.n_records);
                r = ruleset_add_msg(rs, nlh);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail(err, errlen, "record %u at offset %zu: invalid %s message",
                                    n + 1, off, record_kind(nlh->nlmsg_type));
                off += MNL_ALIGN(nlh->nlmsg_len);
                n++;
        }
        if (n != info.n_records)
                return fail(err, errlen, "%u records, the header says %u", n, info.n_records);

        if (ret_info)
                *ret_info = info;
        *ret = TAKE_PTR(rs);
        return 0;
}

int snapshot_read(int fd, Ruleset **ret, SnapshotInfo *ret_info, char *err, size_t errlen) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        uint64_t limit = HEADER_SIZE + SNAPSHOT_MAX_PAYLOAD;

        for (;;) {
                ssize_t n;

                if (len == cap) {
                        /* Past the header the declared size bounds what we accept. */
                        if (len >= HEADER_SIZE && snapshot_has_magic(buf, len) && get64(buf + 40) <= SNAPSHOT_MAX_PAYLOAD)
                                limit = HEADER_SIZE + get64(buf + 40) + 1;
                        if (len >= limit)
                                break;
                        size_t ncap = cap ? MIN(cap * 2, (size_t) limit) : 65536;
                        uint8_t *b = realloc(buf, ncap);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        cap = ncap;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        return snapshot_parse(buf, len, ret, ret_info, err, errlen);
}
