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

int gate_next_seq(fs_gallery_batch *b, const char *counter, uint64_t *seq,
                  fs_detail *d)
{
    char val[24];
    uint64_t v = 0;
    int rc = gate_meta_get(b, counter, val, sizeof val, d);
    if (rc == FS_OK) {
        char *end;
        v = strtoull(val, &end, 10);
        if (*end || !v)
            return fs_fail(d, FS_ETAMPER, "the gate's counter '%s' is "
                           "damaged", counter);
    } else if (rc != FS_NOTFOUND) {
        return rc;
    }
    v++;
    snprintf(val, sizeof val, "%llu", (unsigned long long)v);
    rc = gate_meta_put(b, counter, val, strlen(val), d);
    if (rc == FS_OK)
        *seq = v;
    return rc;
}

/* table || key: what binds a sealed record to its place. */
static size_t aad_of(unsigned table, const void *key, size_t klen,
                     uint8_t aad[1 + FS_RECORD_KEY_MAX])
{
    aad[0] = (uint8_t)table;
    memcpy(aad + 1, key, klen);
    return klen + 1;
}

int gate_sealed_put(fs_gate *g, fs_gallery_batch *b, unsigned table,
                    const void *key, size_t klen, const void *val,
                    size_t len, fs_detail *d)
{
    uint8_t aad[1 + FS_RECORD_KEY_MAX];
    if (klen > FS_RECORD_KEY_MAX)
        return fs_fail(d, FS_EINTERNAL, "record key too long");
    uint8_t *out = malloc(len + FS_SEAL_OVERHEAD);
    if (!out)
        return fs_fail(d, FS_ENOMEM, "no memory to seal a record");
    size_t alen = aad_of(table, key, klen, aad);
    int rc = fs_seal_buf(g->data_key, aad, alen, val, len, out);
    if (rc == FS_OK)
        rc = fs_record_put(b, table, key, klen, out, len + FS_SEAL_OVERHEAD,
                           0, d);
    else
        rc = fs_fail(d, rc, "cannot seal a record");
    free(out);                 /* ciphertext: nothing to wipe */
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
