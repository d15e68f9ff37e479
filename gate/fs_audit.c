/*
 * fs_audit.c - the append-only, tamper-evident audit trail (G18).
 *
 * Entry n is stored under its number (u64 big-endian, so the table's
 * order is the trail's) as the packed entry followed by
 *     MAC(n) = HMAC-SHA256(audit key, "fs-audit1" || MAC(n-1) || entry n)
 * The entry carries its own number, so a moved entry is caught even when
 * its MAC is intact.  Two MAC'd meta records close the ends: the base
 * (the first kept entry's number and the MAC before it, which moves only
 * when old entries are purged) and the head (the last entry's number and
 * MAC), so removing entries from either end shows too.  Without the
 * audit key, which only the key file unlocks, no entry can be forged.
 * What this cannot see is the whole trail rolled back to an older
 * complete copy (with its head); the backups' own retention covers that.
 */
#include "fs_gate_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENTRY_VERSION 1

int64_t gate_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- the two ends ---------------------------------------------------------- */

/* An end record: number || MAC || HMAC over both, under its own label. */
typedef struct chain_end {
    uint64_t seq;
    uint8_t  mac[FS_SHA256_BYTES];
} chain_end;

#define END_BYTES (8 + 2 * FS_SHA256_BYTES)

static void end_seal(const fs_gate *g, const char *label, const uint8_t *p,
                     uint8_t out[FS_SHA256_BYTES])
{
    const void *part[] = { label, p };
    size_t len[] = { strlen(label), 8 + FS_SHA256_BYTES };
    fs_hmac_sha256(g->audit_key, part, len, 2, out);
}

static int end_put(fs_gate *g, fs_gallery_batch *b, const char *name,
                   const chain_end *e, fs_detail *d)
{
    uint8_t buf[END_BYTES];
    be64(buf, e->seq);
    memcpy(buf + 8, e->mac, FS_SHA256_BYTES);
    end_seal(g, name, buf, buf + 8 + FS_SHA256_BYTES);
    return gate_meta_put(b, name, buf, sizeof buf, d);
}

static int end_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                   chain_end *e, fs_detail *d)
{
    fs_record r;
    int rc = fs_record_get(b, GT_META, name, strlen(name), &r, d);
    if (rc != FS_OK)
        return rc;
    uint8_t want[FS_SHA256_BYTES];
    if (r.vlen == END_BYTES)
        end_seal(g, name, r.val, want);
    if (r.vlen != END_BYTES ||
        !fs_equal_ct(want, r.val + 8 + FS_SHA256_BYTES, FS_SHA256_BYTES))
        return fs_fail(d, FS_ETAMPER, "the audit trail's %s record fails "
                       "its MAC (tampered)", name);
    e->seq = get_be64(r.val);
    memcpy(e->mac, r.val + 8, FS_SHA256_BYTES);
    return FS_OK;
}

int gate_audit_start(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    chain_end base = { 1, { 0 } };
    return end_put(g, b, "audit.base", &base, d);
}

/* The last entry's number and MAC: the head, or before any entry the
 * base's (number - 1, MAC before it). */
static int chain_tail(fs_gate *g, fs_gallery_batch *b, chain_end *t,
                      fs_detail *d)
{
    int rc = end_get(g, b, "audit.head", t, d);
    if (rc != FS_NOTFOUND)
        return rc;
    if ((rc = end_get(g, b, "audit.base", t, d)) == FS_OK)
        t->seq--;
    else if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_ETAMPER, "the audit trail has no base record");
    return rc;
}

/* ---- entries --------------------------------------------------------------- */

static void entry_mac(const fs_gate *g, const uint8_t prev[FS_SHA256_BYTES],
                      const uint8_t *entry, size_t len,
                      uint8_t out[FS_SHA256_BYTES])
{
    const void *part[] = { "fs-audit1", prev, entry };
    size_t plen[] = { 9, FS_SHA256_BYTES, len };
    fs_hmac_sha256(g->audit_key, part, plen, 3, out);
}

/* A field cut to what fs_audit_record holds, never inside a UTF-8
 * sequence. */
static void put_clipped(fs_wbuf *w, const char *s, size_t cap)
{
    char buf[1024];
    size_t n = s ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(buf, s ? s : "", n);
    buf[n] = 0;
    fs_wbuf_str(w, buf);
}

/* The newest entry must be the one the head names, with its MAC: a cheap
 * check at every append that the trail's end was not cut or replaced
 * (audit verify checks the whole chain). */
static int tail_intact(fs_gate *g, fs_gallery_batch *b,
                       const chain_end *tail, fs_detail *d)
{
    fs_record last;
    chain_end base;
    int rc = fs_record_last(b, GT_AUDIT, &last, d);
    if (rc == FS_NOTFOUND) {
        /* a new or wholly purged trail: the base stands for the end */
        rc = end_get(g, b, "audit.base", &base, d);
        if (rc != FS_OK && rc != FS_NOTFOUND)
            return rc;
        if (rc == FS_OK && base.seq == tail->seq + 1)
            return FS_OK;
        rc = FS_NOTFOUND;
    }
    if (rc != FS_OK ||
        last.klen != 8 || get_be64(last.key) != tail->seq ||
        last.vlen < FS_SHA256_BYTES ||
        !fs_equal_ct(last.val + last.vlen - FS_SHA256_BYTES, tail->mac,
                     FS_SHA256_BYTES))
        return fs_fail(d, FS_ETAMPER, "the audit trail's newest entry is "
                       "not the one its head records (entries removed or "
                       "added): nothing more is written; run 'audit "
                       "verify'");
    return FS_OK;
}

int gate_audit_append(fs_gate *g, fs_gallery_batch *b, const char *user,
                      const char *unit, const fs_audit_entry *e,
                      fs_detail *d)
{
    chain_end tail;
    int rc = chain_tail(g, b, &tail, d);
    if (rc == FS_OK)
        rc = tail_intact(g, b, &tail, d);
    if (rc != FS_OK)
        return rc;
    fs_audit_record *r = NULL;     /* only for the field sizes */
    fs_wbuf w = { 0 };
    uint64_t seq = tail.seq + 1;
    fs_wbuf_u64(&w, ENTRY_VERSION);
    fs_wbuf_u64(&w, seq);
    fs_wbuf_u64(&w, (uint64_t)gate_now_us());
    put_clipped(&w, user, sizeof r->user);
    put_clipped(&w, unit, sizeof r->unit);
    put_clipped(&w, e->action, sizeof r->action);
    put_clipped(&w, e->case_no, sizeof r->case_no);
    put_clipped(&w, e->justification, sizeof r->justification);
    put_clipped(&w, e->objects, sizeof r->objects);
    put_clipped(&w, e->outcome ? e->outcome : "ok", sizeof r->outcome);
    chain_end head = { seq, { 0 } };
    if (!w.oom)
        entry_mac(g, tail.mac, w.p, w.len, head.mac);
    fs_wbuf_put(&w, head.mac, FS_SHA256_BYTES);
    uint8_t key[8];
    be64(key, seq);
    if (w.oom)
        rc = fs_fail(d, FS_ENOMEM, "no memory for an audit entry");
    else
        rc = fs_record_put(b, GT_AUDIT, key, 8, w.p, w.len, FS_RECORD_NEW,
                           d);
    if (rc == FS_EXISTS)
        rc = fs_fail(d, FS_ETAMPER, "audit entry %llu is already there: the "
                     "trail's head was rolled back",
                     (unsigned long long)seq);
    if (rc == FS_OK)
        rc = end_put(g, b, "audit.head", &head, d);
    fs_wbuf_free(&w);
    return rc;
}

/* Unpacks a stored entry; FS_EFORMAT when it does not parse. */
static int entry_parse(const fs_record *rec, fs_audit_record *r,
                       const uint8_t **mac, size_t *plen)
{
    if (rec->vlen < FS_SHA256_BYTES)
        return FS_EFORMAT;
    *plen = rec->vlen - FS_SHA256_BYTES;
    *mac = rec->val + *plen;
    fs_rbuf rb = { rec->val, *plen, 0, 0 };
    uint64_t version = fs_rbuf_u64(&rb);
    r->seq = fs_rbuf_u64(&rb);
    r->time_us = (int64_t)fs_rbuf_u64(&rb);
    fs_rbuf_str(&rb, r->user, sizeof r->user);
    fs_rbuf_str(&rb, r->unit, sizeof r->unit);
    fs_rbuf_str(&rb, r->action, sizeof r->action);
    fs_rbuf_str(&rb, r->case_no, sizeof r->case_no);
    fs_rbuf_str(&rb, r->justification, sizeof r->justification);
    fs_rbuf_str(&rb, r->objects, sizeof r->objects);
    fs_rbuf_str(&rb, r->outcome, sizeof r->outcome);
    return rb.bad || rb.off != rb.len || version != ENTRY_VERSION
           ? FS_EFORMAT : FS_OK;
}

static int broken(fs_detail *d, uint64_t *bad, uint64_t seq,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int broken(fs_detail *d, uint64_t *bad, uint64_t seq,
                  const char *fmt, ...)
{
    *bad = seq;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fs_fail(d, FS_ETAMPER, "audit trail broken at entry %llu: %s",
                   (unsigned long long)seq, what);
}

static int verify_in(fs_gate *g, fs_gallery_batch *b, uint64_t *n,
                     uint64_t *bad, fs_detail *d)
{
    chain_end base, head;
    int rc = end_get(g, b, "audit.base", &base, d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_ETAMPER, "the audit trail has no base record");
    if (rc != FS_OK)
        return *bad = 0, rc;
    int have_head = (rc = end_get(g, b, "audit.head", &head, d)) == FS_OK;
    if (rc != FS_OK && rc != FS_NOTFOUND)
        return *bad = 0, rc;
    uint64_t want = base.seq;
    uint8_t prev[FS_SHA256_BYTES];
    memcpy(prev, base.mac, sizeof prev);
    fs_record rec;
    rc = fs_record_seek(b, GT_AUDIT, NULL, 0, 0, &rec, d);
    for (; rc == FS_OK; want++) {
        if (rec.klen != 8)
            return broken(d, bad, want, "a record with a %zu-byte key "
                          "was planted", rec.klen);
        uint64_t seq = get_be64(rec.key);
        if (seq < want)
            return broken(d, bad, seq, "an entry before the trail's start "
                          "(inserted)");
        if (seq > want)
            return broken(d, bad, want, "the entry is missing (removed); "
                          "the next one is %llu", (unsigned long long)seq);
        fs_audit_record r;
        const uint8_t *mac;
        size_t plen;
        uint8_t m[FS_SHA256_BYTES];
        if (entry_parse(&rec, &r, &mac, &plen) != FS_OK)
            return broken(d, bad, seq, "the entry does not parse "
                          "(edited)");
        if (r.seq != seq)
            return broken(d, bad, seq, "it holds entry %llu (moved or "
                          "swapped)", (unsigned long long)r.seq);
        entry_mac(g, prev, rec.val, plen, m);
        if (!fs_equal_ct(m, mac, FS_SHA256_BYTES))
            return broken(d, bad, seq, "its MAC does not hold (edited, "
                          "inserted or reordered)");
        memcpy(prev, mac, sizeof prev);
        rc = fs_record_seek(b, GT_AUDIT, rec.key, 8, 1, &rec, d);
    }
    if (rc != FS_NOTFOUND)
        return *bad = want, rc;
    uint64_t last = want - 1;
    if (!have_head ? last >= base.seq
                   : head.seq != last || !fs_equal_ct(head.mac, prev,
                                                      FS_SHA256_BYTES))
        return broken(d, bad, want, "the trail ends here but its head "
                      "says %llu: entries were removed from the end",
                      (unsigned long long)(have_head ? head.seq : 0));
    *n = want - base.seq;
    return FS_OK;
}

#define OVERSIGHT (FS_ROLE_ADMIN | FS_ROLE_AUDITOR)

int fs_audit_verify(fs_gate *g, uint64_t *n, uint64_t *bad, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_require(g, OVERSIGHT, 0, "audit verify", d);
    if (rc == FS_OK)
        rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    uint64_t cnt = 0, where = 0;
    rc = verify_in(g, b, &cnt, &where, d);
    fs_gallery_abort(b);
    char objects[64];
    snprintf(objects, sizeof objects, rc == FS_OK ? "%llu entries intact"
             : "broken at entry %llu", (unsigned long long)(rc == FS_OK
                                                            ? cnt : where));
    /* a broken trail may refuse the entry; the finding stands anyway */
    fs_detail nd;
    int nrc = rc == FS_OK || rc == FS_ETAMPER
              ? gate_note_read(g, "audit verify", objects, &nd) : FS_OK;
    if (rc == FS_OK && nrc != FS_OK)
        return fs_fail(d, nrc, "%s", nd.msg);
    if (rc == FS_OK)
        *n = cnt;
    else if (bad)
        *bad = where;
    return rc;
}

static int passes(const fs_audit_filter *f, const fs_audit_record *r)
{
    if (!f)
        return 1;
    if (f->since_us && r->time_us < f->since_us)
        return 0;
    if (f->until_us && r->time_us >= f->until_us)
        return 0;
    if (f->user && strcmp(f->user, r->user) != 0)
        return 0;
    return !f->case_no || strcmp(f->case_no, r->case_no) == 0;
}

int fs_audit_walk(fs_gate *g, const fs_audit_filter *f,
                  int (*fn)(void *ctx, const fs_audit_record *r), void *ctx,
                  fs_detail *d)
{
    fs_gallery_batch *b;
    /* the reading goes on the trail first, so it shows in its own log */
    int rc = gate_require_read(g, OVERSIGHT, "audit log", "audit log", d);
    if (rc == FS_OK)
        rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    fs_record rec;
    fs_audit_record *r = malloc(sizeof *r);
    if (!r) {
        fs_gallery_abort(b);
        return fs_fail(d, FS_ENOMEM, "no memory for an audit entry");
    }
    rc = fs_record_seek(b, GT_AUDIT, NULL, 0, 0, &rec, d);
    while (rc == FS_OK) {
        const uint8_t *mac;
        size_t plen;
        if (entry_parse(&rec, r, &mac, &plen) != FS_OK) {
            rc = fs_fail(d, FS_ETAMPER, "an audit entry does not parse: run "
                         "'audit verify'");
            break;
        }
        if (passes(f, r) && (rc = fn(ctx, r)) != 0)
            break;
        uint8_t key[8];
        memcpy(key, rec.key, 8);
        rc = fs_record_seek(b, GT_AUDIT, key, 8, 1, &rec, d);
    }
    free(r);
    fs_gallery_abort(b);
    return rc == FS_NOTFOUND ? FS_OK : rc;
}

typedef struct purge {
    fs_gate *g;
    int64_t  before_us;
    uint64_t n;
    char     objects[64];        /* the entry's, filled as the batch ends */
} purge;

/* The oldest entries go, while they are older than before_us; the base
 * moves past them so the chain still verifies. */
static int purge_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    purge *p = ctx;
    fs_gate *g = p->g;
    uint64_t n = 0, bad;
    chain_end base;
    int rc = verify_in(g, b, &n, &bad, d);
    if (rc == FS_OK)
        rc = end_get(g, b, "audit.base", &base, d);
    fs_record rec;
    while (rc == FS_OK &&
           (rc = fs_record_seek(b, GT_AUDIT, NULL, 0, 0, &rec, d)) == FS_OK) {
        fs_audit_record r;
        const uint8_t *mac;
        size_t plen;
        if ((rc = entry_parse(&rec, &r, &mac, &plen)) != FS_OK)
            break;
        if (r.time_us >= p->before_us)
            break;
        base.seq = r.seq + 1;
        memcpy(base.mac, mac, FS_SHA256_BYTES);
        uint8_t key[8];
        memcpy(key, rec.key, 8);
        if ((rc = fs_record_del(b, GT_AUDIT, key, 8, d)) == FS_OK)
            p->n++;
    }
    if (rc == FS_NOTFOUND || rc == FS_OK)
        rc = end_put(g, b, "audit.base", &base, d);
    snprintf(p->objects, sizeof p->objects, "%llu entries",
             (unsigned long long)p->n);
    return rc;
}

static int count_entry(void *ctx, const fs_audit_record *r)
{
    (void)r;
    ++*(uint64_t *)ctx;
    return 0;
}

int fs_audit_purge(fs_gate *g, int64_t before_us, int dry_run,
                   uint64_t *purged, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "audit purge", d);
    if (rc != FS_OK)
        return rc;
    if (dry_run) {              /* what a purge would take, on record */
        fs_audit_filter f = { 0, before_us, NULL, NULL };
        uint64_t n = 0;
        fs_audit_entry e = { "audit purge", NULL, "retention", "dry run",
                             "ok" };
        if ((rc = fs_audit_walk(g, &f, count_entry, &n, d)) == FS_OK &&
            (rc = gate_note(g, &e, d)) == FS_OK)
            *purged = n;
        return rc;
    }
    int64_t keep_us = (int64_t)g->profile.retention_audit_days * 86400 *
                      1000000;
    if (before_us > gate_now_us() - keep_us)
        return fs_fail(d, FS_DENIED, "G18: profile %s keeps the audit trail "
                       "%d days; entries younger than that cannot be purged",
                       g->profile.name, g->profile.retention_audit_days);
    purge p = { g, before_us, 0, "" };
    fs_audit_entry e = { "audit purge", NULL, "retention", p.objects, "ok" };
    rc = gate_change(g, purge_in, &p, &e, d);
    if (rc == FS_OK)
        *purged = p.n;
    return rc;
}
