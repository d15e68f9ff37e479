/*
 * fs_store.c - how the gate keeps case data: records numbered in order
 * (requests, searches, probes) and sealed under the data key.
 *
 * A sealed record is nonce || ciphertext || tag (fs_seal_buf) with the
 * table number and the record key as associated data, so a record moved
 * to another key or table, edited, or planted in plain text fails to open
 * (FS_ETAMPER naming it) instead of being believed.
 */
#include "fs_gate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gate_seq_key(uint64_t seq, uint8_t key[8])
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        key[i] = (uint8_t)seq;
}

uint64_t gate_seq_of(const uint8_t key[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | key[i];
    return v;
}

void gate_id_format(char prefix, uint64_t seq, char id[FS_ID_MAX])
{
    snprintf(id, FS_ID_MAX, "%c%llu", prefix, (unsigned long long)seq);
}

int gate_id_parse(const char *id, char prefix, uint64_t *seq, fs_detail *d)
{
    uint64_t v = 0;
    size_t n = id ? strlen(id) : 0;
    int ok = n >= 2 && n < FS_ID_MAX && id[0] == prefix && id[1] != '0';
    for (size_t i = 1; ok && i < n; i++) {
        ok = id[i] >= '0' && id[i] <= '9';
        v = v * 10 + (uint64_t)(id[i] - '0');
    }
    if (!ok)
        return fs_fail(d, FS_NOTFOUND, "no %s '%.20s' (ids look like %c12)",
                       prefix == 'R' ? "request" : "search", id ? id : "",
                       prefix);
    *seq = v;
    return FS_OK;
}

int gate_meta_count_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                        uint64_t *v, fs_detail *d)
{
    char val[24];
    *v = 0;
    int rc = gate_meta_get(g, b, name, val, sizeof val, d);
    if (rc == FS_NOTFOUND)
        return FS_OK;
    if (rc != FS_OK)
        return rc;
    char *end;
    *v = strtoull(val, &end, 10);
    return *end || !*v ? fs_fail(d, FS_ETAMPER, "the gate's count '%s' is "
                                 "damaged", name) : FS_OK;
}

int gate_meta_count_put(fs_gate *g, fs_gallery_batch *b, const char *name,
                        uint64_t v, fs_detail *d)
{
    char val[24];
    snprintf(val, sizeof val, "%llu", (unsigned long long)v);
    return gate_meta_put(g, b, name, val, strlen(val), d);
}

/* Each numbered table's counter in GT_META. */
static const struct numbered {
    unsigned    table;
    const char *counter;
} numbered[] = {
    { GT_REQUESTS, "next_request" }, { GT_SEARCHES, "next_search" },
    { GT_LEADS, "next_lead" },       { GT_REPORTS, "next_report" },
    { GT_RELEASES, "next_release" },
};

/* The counter's value (0 before its first number) and that it is ahead
 * of its table's records.  The counter alone says which numbers are free,
 * and a put replaces: deleted or put back older offline, it would hand
 * out a number taken and that record (a search, a sign-off, a release)
 * would be replaced without a trace. */
static int counter_read(fs_gate *g, fs_gallery_batch *b,
                        const struct numbered *c, uint64_t *v, fs_detail *d)
{
    int rc = gate_meta_count_get(g, b, c->counter, v, d);
    if (rc != FS_OK)
        return rc;
    fs_record last;
    rc = fs_record_last(b, c->table, &last, d);
    if (rc == FS_OK && (last.klen != 8 || gate_seq_of(last.key) > *v))
        return fs_fail(d, FS_ETAMPER, "the gate's counter '%s' is behind "
                       "the records it numbers (deleted or put back "
                       "offline)", c->counter);
    return rc == FS_NOTFOUND ? FS_OK : rc;
}

int gate_next_seq(fs_gate *g, fs_gallery_batch *b, unsigned table,
                  uint64_t *seq, fs_detail *d)
{
    const struct numbered *c = numbered;
    while (c < numbered + sizeof numbered / sizeof *numbered &&
           c->table != table)
        c++;
    if (c == numbered + sizeof numbered / sizeof *numbered)
        return fs_fail(d, FS_EINTERNAL, "table %u is not numbered", table);
    uint64_t v;
    int rc = counter_read(g, b, c, &v, d);
    if (rc == FS_OK)
        rc = gate_meta_count_put(g, b, c->counter, v + 1, d);
    if (rc == FS_OK)
        *seq = v + 1;
    return rc;
}

int gate_counters_hold(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    int rc = FS_OK;
    uint64_t v;
    for (size_t i = 0; rc == FS_OK && i < sizeof numbered / sizeof *numbered;
         i++)
        rc = counter_read(g, b, &numbered[i], &v, d);
    return rc;
}

int gate_room_for_one(void **v, size_t n, size_t *cap, size_t size,
                      fs_detail *d)
{
    if (n < *cap)
        return FS_OK;
    size_t c = *cap ? 2 * *cap : 16;
    void *nv = realloc(*v, c * size);
    if (!nv)
        return fs_fail(d, FS_ENOMEM, "no memory for the list");
    *v = nv;
    *cap = c;
    return FS_OK;
}

/* table || key: what binds a sealed record to its place. */
static size_t aad_of(unsigned table, const void *key, size_t klen,
                     uint8_t aad[1 + FS_RECORD_KEY_MAX])
{
    aad[0] = (uint8_t)table;
    memcpy(aad + 1, key, klen);
    return klen + 1;
}

static int seal_put(const uint8_t key[FS_KEY_BYTES], fs_gallery_batch *b,
                    unsigned table, const void *rkey, size_t klen,
                    const void *val, size_t len, fs_detail *d)
{
    uint8_t aad[1 + FS_RECORD_KEY_MAX];
    if (klen > FS_RECORD_KEY_MAX)
        return fs_fail(d, FS_EINTERNAL, "record key too long");
    uint8_t *out = malloc(len + FS_SEAL_OVERHEAD);
    if (!out)
        return fs_fail(d, FS_ENOMEM, "no memory to seal a record");
    size_t alen = aad_of(table, rkey, klen, aad);
    int rc = fs_seal_buf(key, aad, alen, val, len, out);
    if (rc == FS_OK)
        rc = fs_record_put(b, table, rkey, klen, out,
                           len + FS_SEAL_OVERHEAD, 0, d);
    else
        rc = fs_fail(d, rc, "cannot seal a record");
    free(out);                 /* ciphertext: nothing to wipe */
    return rc;
}

int gate_sealed_put(fs_gate *g, fs_gallery_batch *b, unsigned table,
                    const void *key, size_t klen, const void *val,
                    size_t len, fs_detail *d)
{
    return seal_put(g->data_key, b, table, key, klen, val, len, d);
}

int gate_walk_sealed(fs_gate *g, fs_gallery_batch *b, unsigned table,
                     int (*plain)(const fs_record *r),
                     int (*fn)(void *ctx, const fs_record *r,
                               const uint8_t *v, size_t len, fs_detail *d),
                     void *ctx, fs_detail *d)
{
    fs_record r;
    uint8_t key[FS_RECORD_KEY_MAX];
    int rc = fs_record_seek(b, table, NULL, 0, 0, &r, d);
    while (rc == FS_OK) {
        uint8_t *v;
        size_t len, klen = r.klen;
        memcpy(key, r.key, klen);
        if (!plain || !plain(&r)) {
            if ((rc = gate_sealed_open(g, table, &r, &v, &len, d)) != FS_OK)
                break;
            rc = fn(ctx, &r, v, len, d);
            fs_wipe(v, len);
            free(v);
            if (rc != FS_OK)
                break;
        }
        rc = fs_record_seek(b, table, key, klen, 1, &r, d);
    }
    return rc == FS_NOTFOUND ? FS_OK : rc;
}

/* Re-sealing (or, with no key, only opening) during a walk. */
typedef struct reseal {
    fs_gallery_batch *b;
    unsigned          table;
    const uint8_t    *key;
} reseal;

static int reseal_one(void *ctx, const fs_record *r, const uint8_t *v,
                      size_t len, fs_detail *d)
{
    const reseal *x = ctx;
    uint8_t rkey[FS_RECORD_KEY_MAX];
    size_t klen = r->klen;
    memcpy(rkey, r->key, klen);        /* the put may move the page */
    return x->key ? seal_put(x->key, x->b, x->table, rkey, klen, v, len, d)
                  : FS_OK;
}

static int reseal_table(fs_gate *g, fs_gallery_batch *b, unsigned table,
                        const uint8_t *key, int (*plain)(const fs_record *r),
                        fs_detail *d)
{
    reseal x = { b, table, key };
    return gate_walk_sealed(g, b, table, plain, reseal_one, &x, d);
}

/* The meta records that are not sealed under the data key: those read
 * before it is known, and the trail's ends (MAC'd under the audit key). */
static int meta_not_sealed(const fs_record *r)
{
    static const char *const names[] = { "id", "keys", "key_path",
                                         "key.pending", "audit.base",
                                         "audit.head" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (r->klen == strlen(names[i]) &&
            memcmp(r->key, names[i], r->klen) == 0)
            return 1;
    return 0;
}

int gate_sealed_all(fs_gate *g, fs_gallery_batch *b, const uint8_t *key,
                    fs_detail *d)
{
    static const unsigned sealed[] = { GT_USERS, GT_SESSIONS, GT_AGENCIES,
                                       GT_REQUESTS, GT_SEARCHES, GT_PROBES,
                                       GT_LEADS, GT_REPORTS, GT_RELEASES };
    int rc = reseal_table(g, b, GT_META, key, meta_not_sealed, d);
    for (size_t i = 0; rc == FS_OK && i < sizeof sealed / sizeof *sealed;
         i++)
        rc = reseal_table(g, b, sealed[i], key, NULL, d);
    return rc;
}

int gate_sealed_open(fs_gate *g, unsigned table, const fs_record *r,
                     uint8_t **val, size_t *len, fs_detail *d)
{
    uint8_t aad[1 + FS_RECORD_KEY_MAX];
    if (r->vlen < FS_SEAL_OVERHEAD || r->klen > FS_RECORD_KEY_MAX)
        return fs_fail(d, FS_ETAMPER, "a sealed record of table %u is cut "
                       "short", table);
    size_t n = r->vlen - FS_SEAL_OVERHEAD;
    uint8_t *out = malloc(n ? n : 1);
    if (!out)
        return fs_fail(d, FS_ENOMEM, "no memory to open a record");
    size_t alen = aad_of(table, r->key, r->klen, aad);
    if (fs_unseal_buf(g->data_key, aad, alen, r->val, r->vlen, out)
        != FS_OK) {
        free(out);
        return fs_fail(d, FS_ETAMPER, "a sealed record of table %u fails "
                       "its check (edited, moved or planted)", table);
    }
    *val = out;
    *len = n;
    return FS_OK;
}

int gate_sealed_get(fs_gate *g, fs_gallery_batch *b, unsigned table,
                    const void *key, size_t klen, uint8_t **val,
                    size_t *len, fs_detail *d)
{
    fs_record r;
    int rc = fs_record_get(b, table, key, klen, &r, d);
    return rc == FS_OK ? gate_sealed_open(g, table, &r, val, len, d) : rc;
}
