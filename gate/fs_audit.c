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
 * MAC); init writes both, so a trail without either was tampered with.
 * Without the audit key, which only the key file unlocks, no entry can be
 * forged.
 *
 * What the chain alone cannot see is the whole trail rolled back to an
 * older complete copy, or cut with its head rewritten by someone holding
 * the keys.  So each commit that appends entries also appends its new
 * head to an anchor file outside the gallery and to the system log:
 *     facesearch-anchor 1 <gallery id> <number> <sha256 of the entry>
 * The digest is of the entry's bytes, not its MAC, so anchors outlive a
 * key rotation (which re-MACs the chain); audit verify checks every
 * anchored entry is there, unchanged, and none is past the head.
 */
#include "fs_gate_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"

#define ENTRY_VERSION 1

int64_t gate_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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
    gate_seq_key(e->seq, buf);
    memcpy(buf + 8, e->mac, FS_SHA256_BYTES);
    end_seal(g, name, buf, buf + 8 + FS_SHA256_BYTES);
    return fs_record_put(b, GT_META, name, strlen(name), buf, sizeof buf, 0,
                         d);
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
    e->seq = gate_seq_of(r.val);
    memcpy(e->mac, r.val + 8, FS_SHA256_BYTES);
    return FS_OK;
}

int gate_audit_start(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    chain_end base = { 1, { 0 } }, head = { 0, { 0 } };
    int rc = end_put(g, b, "audit.base", &base, d);
    return rc == FS_OK ? end_put(g, b, "audit.head", &head, d) : rc;
}

/* The last entry's number and MAC (before any entry: the base's number
 * - 1 and MAC before it): the head, which init writes. */
static int chain_tail(fs_gate *g, fs_gallery_batch *b, chain_end *t,
                      fs_detail *d)
{
    int rc = end_get(g, b, "audit.head", t, d);
    return rc == FS_NOTFOUND ? fs_fail(d, FS_ETAMPER, "the audit trail's "
                                       "head record is gone (removed)") : rc;
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
 * sequence.  Fields keep what was typed, control characters included
 * (a refused login records the name as tried): every reader that shows
 * them escapes them (tools/, fs_text_escape). */
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
        last.klen != 8 || gate_seq_of(last.key) != tail->seq ||
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
    gate_seq_key(seq, key);
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
    if (rc == FS_OK) {               /* anchored once the batch commits */
        g->anchor_pending = 1;
        g->anchor_seq = seq;
        fs_sha256(w.p, w.len - FS_SHA256_BYTES, g->anchor_digest);
    }
    fs_wbuf_free(&w);
    return rc;
}

/* ---- the anchor ------------------------------------------------------------- */

#define ANCHOR_TAG "facesearch-anchor 1"

/* The new head, appended where a cut of the trail cannot reach it: the
 * anchor file (one O_APPEND write, so concurrent commits do not
 * interleave) and the system log.  Best effort: the change is committed,
 * and a missing line only makes the anchor older than the trail. */
static void anchor_head(fs_gate *g)
{
    char line[160], hex[2 * FS_SHA256_BYTES + 1];
    fs_hex(g->anchor_digest, FS_SHA256_BYTES, hex);
    int n = snprintf(line, sizeof line, ANCHOR_TAG " %s %llu %s\n",
                     g->id_hex, (unsigned long long)g->anchor_seq, hex);
    if (g->anchor_path[0]) {
        int fd = open(g->anchor_path, O_WRONLY | O_APPEND | O_CREAT |
                      O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t w = write(fd, line, (size_t)n);
            (void)w;
            close(fd);
        }
    }
    syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", n - 1, line);
}

int gate_txn_commit(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    int rc = fs_gallery_commit(b, d);
    if (rc == FS_OK && g->anchor_pending)
        anchor_head(g);
    g->anchor_pending = 0;
    return rc;
}

typedef struct anchor_line {
    uint64_t seq;
    uint8_t  digest[FS_SHA256_BYTES];
} anchor_line;

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const anchor_line *)a)->seq;
    uint64_t y = ((const anchor_line *)b)->seq;
    return x < y ? -1 : x > y;
}

/* This gallery's lines of the anchor file, in order of entry number. */
static int anchor_read(const fs_gate *g, const fs_opener *o, const char *path,
                       anchor_line **out, size_t *n, fs_detail *d)
{
    uint8_t *buf;
    size_t len, cap = 0, cnt = 0, lineno = 0;
    int rc = fs_read_file_as(o, path, (size_t)1 << 31, &buf, &len, d);
    if (rc != FS_OK)
        return rc;
    anchor_line *v = NULL;
    for (char *p = (char *)buf, *nl; rc == FS_OK && *p; p = nl + 1) {
        lineno++;
        if (!(nl = strchr(p, '\n'))) {
            rc = fs_fail(d, FS_EFORMAT, "anchor file '%s': line %zu is cut "
                         "short", path, lineno);
            break;
        }
        *nl = 0;
        char id[40], hex[72];
        unsigned long long seq;
        int end = 0;
        if (sscanf(p, ANCHOR_TAG " %39s %llu %71s%n", id, &seq, hex, &end)
            != 3 || p[end]) {
            rc = fs_fail(d, FS_EFORMAT, "anchor file '%s': line %zu is not "
                         "an anchor line", path, lineno);
            break;
        }
        if (strcmp(id, g->id_hex) != 0)
            continue;                       /* another gallery's */
        void *arr = v;
        rc = gate_room_for_one(&arr, cnt, &cap, sizeof *v, d);
        v = arr;
        if (rc != FS_OK)
            break;
        v[cnt].seq = seq;
        if (fs_unhex(hex, v[cnt].digest, FS_SHA256_BYTES) != FS_OK)
            rc = fs_fail(d, FS_EFORMAT, "anchor file '%s': line %zu has a "
                         "damaged digest", path, lineno);
        cnt++;
    }
    free(buf);
    if (rc != FS_OK) {
        free(v);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, by_seq);
    *out = v;
    *n = cnt;
    return FS_OK;
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

/* One pass over the chain from its base: every entry checked before fn
 * sees it (fn may be NULL), then the end against the head.  With
 * anchors (sorted), each anchored entry must be there unchanged and none
 * past the end.  On FS_ETAMPER *bad is the first entry that fails. */
typedef struct chain_walk {
    int (*fn)(void *ctx, const fs_audit_record *r);
    void              *ctx;
    const anchor_line *anchor;
    size_t             nanchor;
    fs_audit_check    *c;            /* counts, filled as it goes */
} chain_walk;

static int walk_chain(fs_gate *g, fs_gallery_batch *b, chain_walk *w,
                      fs_detail *d)
{
    fs_audit_check *c = w->c;
    chain_end base, head;
    int rc = end_get(g, b, "audit.base", &base, d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_ETAMPER, "the audit trail has no base record");
    if (rc == FS_OK)
        rc = chain_tail(g, b, &head, d);
    if (rc != FS_OK)
        return c->bad = 0, rc;
    c->first = base.seq;
    size_t ai = 0;
    for (; ai < w->nanchor && w->anchor[ai].seq < base.seq; ai++)
        c->anchor_purged++;
    fs_audit_record *r = malloc(sizeof *r);
    if (!r)
        return fs_fail(d, FS_ENOMEM, "no memory for an audit entry");
    uint64_t want = base.seq;
    uint8_t prev[FS_SHA256_BYTES];
    memcpy(prev, base.mac, sizeof prev);
    fs_record rec;
    rc = fs_record_seek(b, GT_AUDIT, NULL, 0, 0, &rec, d);
    for (; rc == FS_OK; want++) {
        uint64_t seq = rec.klen == 8 ? gate_seq_of(rec.key) : 0;
        const uint8_t *mac;
        size_t plen;
        uint8_t m[FS_SHA256_BYTES];
        if (rec.klen != 8)
            rc = broken(d, &c->bad, want, "a record with a %zu-byte key "
                        "was planted", rec.klen);
        else if (seq < want)
            rc = broken(d, &c->bad, seq, "an entry before the trail's "
                        "start (inserted)");
        else if (seq > want)
            rc = broken(d, &c->bad, want, "the entry is missing (removed); "
                        "the next one is %llu", (unsigned long long)seq);
        else if (entry_parse(&rec, r, &mac, &plen) != FS_OK)
            rc = broken(d, &c->bad, seq, "the entry does not parse "
                        "(edited)");
        else if (r->seq != seq)
            rc = broken(d, &c->bad, seq, "it holds entry %llu (moved or "
                        "swapped)", (unsigned long long)r->seq);
        if (rc != FS_OK)
            break;
        entry_mac(g, prev, rec.val, plen, m);
        if (!fs_equal_ct(m, mac, FS_SHA256_BYTES)) {
            rc = broken(d, &c->bad, seq, "its MAC does not hold (edited, "
                        "inserted or reordered)");
            break;
        }
        uint8_t digest[FS_SHA256_BYTES];
        if (ai < w->nanchor && w->anchor[ai].seq == seq)
            fs_sha256(rec.val, plen, digest);
        for (; ai < w->nanchor && w->anchor[ai].seq == seq; ai++) {
            if (!fs_equal_ct(digest, w->anchor[ai].digest, sizeof digest)) {
                rc = broken(d, &c->bad, seq, "it differs from the entry the "
                            "anchor recorded (the trail was rewritten)");
                break;
            }
            c->anchored++;
        }
        if (rc != FS_OK)
            break;
        memcpy(prev, mac, sizeof prev);
        c->entries++;
        c->last = seq;
        if (w->fn && (rc = w->fn(w->ctx, r)) != 0)
            break;
        rc = fs_record_seek(b, GT_AUDIT, rec.key, 8, 1, &rec, d);
    }
    free(r);
    if (rc != FS_NOTFOUND)
        return rc;
    uint64_t last = want - 1;
    if (head.seq != last || !fs_equal_ct(head.mac, prev, FS_SHA256_BYTES))
        return broken(d, &c->bad, want, "the trail ends here but its head "
                      "says %llu: entries were removed from the end",
                      (unsigned long long)head.seq);
    if (w->nanchor && w->anchor[w->nanchor - 1].seq > last)
        return broken(d, &c->bad, last + 1, "the anchor records entry %llu "
                      "but the trail ends at %llu: the trail was cut back "
                      "or wiped", (unsigned long long)
                      w->anchor[w->nanchor - 1].seq,
                      (unsigned long long)last);
    return FS_OK;
}

static int verify_in(fs_gate *g, fs_gallery_batch *b, uint64_t *n,
                     uint64_t *bad, fs_detail *d)
{
    fs_audit_check c = { 0 };
    chain_walk w = { NULL, NULL, NULL, 0, &c };
    int rc = walk_chain(g, b, &w, d);
    *n = c.entries;
    *bad = c.bad;
    return rc;
}

#define OVERSIGHT (FS_ROLE_ADMIN | FS_ROLE_AUDITOR)

int fs_audit_verify(fs_gate *g, const char *anchor, fs_audit_check *c,
                    fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_require(g, OVERSIGHT, 0, "audit verify", d);
    if (rc != FS_OK)
        return rc;
    memset(c, 0, sizeof *c);
    anchor_line *lines = NULL;
    size_t nlines = 0;
    /* a named anchor must be read; the gallery's own, when this account
     * can read it (it may belong to another OS user) */
    const char *path = anchor ? anchor : g->anchor_path;
    if (anchor || (path[0] && access(path, R_OK) == 0)) {
        /* a copy the caller named is opened with their rights */
        rc = anchor_read(g, anchor ? g->opener : NULL, path, &lines,
                         &nlines, d);
        if (rc != FS_OK)
            return rc;
        snprintf(c->anchor, sizeof c->anchor, "%s", path);
        c->anchor_last = nlines ? lines[nlines - 1].seq : 0;
    }
    rc = gate_read(g, &b, d);
    if (rc == FS_OK) {
        chain_walk w = { NULL, NULL, lines, nlines, c };
        rc = walk_chain(g, b, &w, d);
        fs_gallery_abort(b);
    }
    free(lines);
    if (rc != FS_OK && rc != FS_ETAMPER)
        return rc;
    char objects[128];
    snprintf(objects, sizeof objects, rc == FS_OK ? "%llu entries intact%s"
             : "broken at entry %llu%s", (unsigned long long)(rc == FS_OK
             ? c->entries : c->bad), c->anchor[0] ? ", anchor checked" : "");
    /* a broken trail may refuse the entry; the finding stands anyway */
    fs_detail nd;
    int nrc = gate_note_read(g, "audit verify", objects, &nd);
    if (rc == FS_OK && nrc != FS_OK)
        return fs_fail(d, nrc, "%s", nd.msg);
    return rc;
}

typedef struct walk_filter {
    const fs_audit_filter *f;
    int (*fn)(void *ctx, const fs_audit_record *r);
    void *ctx;
} walk_filter;

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

static int filtered(void *ctx, const fs_audit_record *r)
{
    walk_filter *wf = ctx;
    return passes(wf->f, r) ? wf->fn(wf->ctx, r) : 0;
}

int gate_audit_each(fs_gate *g,
                    int (*fn)(void *ctx, const fs_audit_record *r),
                    void *ctx, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    fs_audit_check c = { 0 };
    chain_walk w = { fn, ctx, NULL, 0, &c };
    rc = walk_chain(g, b, &w, d);
    fs_gallery_abort(b);
    return rc;
}

int fs_audit_walk(fs_gate *g, const fs_audit_filter *f,
                  int (*fn)(void *ctx, const fs_audit_record *r), void *ctx,
                  fs_detail *d)
{
    /* the reading goes on the trail first, so it shows in its own log */
    int rc = gate_require_read(g, OVERSIGHT, "audit log", "audit log", d);
    walk_filter wf = { f, fn, ctx };
    if (rc == FS_OK)
        rc = gate_audit_each(g, filtered, &wf, d);
    if (rc == FS_ETAMPER && d) {
        fs_detail why = *d;
        fs_fail(d, rc, "%.400s; nothing after it is shown: run 'audit "
                "verify'", why.msg);
    }
    return rc;
}

/* Under the new key, from the base on: each entry's MAC over the new one
 * before it, then both ends. */
static int remac(fs_gate *g, fs_gallery_batch *b, fs_detail *d)
{
    chain_end base, head;
    int rc = end_get(g, b, "audit.base", &base, d);   /* already re-MAC'd */
    if (rc != FS_OK)
        return rc;
    head.seq = base.seq - 1;
    memcpy(head.mac, base.mac, FS_SHA256_BYTES);
    fs_record rec;
    uint8_t key[8], *copy = NULL;
    rc = fs_record_seek(b, GT_AUDIT, NULL, 0, 0, &rec, d);
    while (rc == FS_OK) {
        size_t plen = rec.vlen - FS_SHA256_BYTES;
        uint8_t *nc = realloc(copy, rec.vlen);
        if (!nc) {
            rc = fs_fail(d, FS_ENOMEM, "no memory for an audit entry");
            break;
        }
        copy = nc;
        memcpy(copy, rec.val, rec.vlen);
        memcpy(key, rec.key, 8);
        entry_mac(g, head.mac, copy, plen, copy + plen);
        memcpy(head.mac, copy + plen, FS_SHA256_BYTES);
        head.seq = gate_seq_of(key);
        rc = fs_record_put(b, GT_AUDIT, key, 8, copy, rec.vlen, 0, d);
        if (rc == FS_OK)
            rc = fs_record_seek(b, GT_AUDIT, key, 8, 1, &rec, d);
    }
    free(copy);
    if (rc == FS_NOTFOUND)
        rc = end_put(g, b, "audit.base", &base, d);
    return rc == FS_OK ? end_put(g, b, "audit.head", &head, d) : rc;
}

int gate_audit_rekey(fs_gate *g, fs_gallery_batch *b,
                     const uint8_t key[FS_KEY_BYTES], fs_detail *d)
{
    uint64_t n, bad;
    int rc = verify_in(g, b, &n, &bad, d);
    if (rc != FS_OK)
        return rc;
    chain_end base;
    if ((rc = end_get(g, b, "audit.base", &base, d)) != FS_OK)
        return rc;
    uint8_t old[FS_KEY_BYTES];
    memcpy(old, g->audit_key, sizeof old);
    memcpy(g->audit_key, key, FS_KEY_BYTES);
    /* the base record under the new key first, so remac reads it back */
    rc = end_put(g, b, "audit.base", &base, d);
    if (rc == FS_OK)
        rc = remac(g, b, d);
    if (rc != FS_OK)
        memcpy(g->audit_key, old, sizeof old);
    fs_wipe(old, sizeof old);
    return rc;
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
    /* the retention of the profile in force in this batch: one set
     * longer since the purge began holds (gate_standing_now read it) */
    int64_t keep_us = (int64_t)g->profile.retention_audit_days * 86400 *
                      1000000;
    if (p->before_us > gate_now_us() - keep_us)
        return fs_fail(d, FS_DENIED, "G18: profile %s keeps the audit trail "
                       "%d days; entries younger than that cannot be purged",
                       g->profile.name, g->profile.retention_audit_days);
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
    purge p = { g, before_us, 0, "" };
    fs_audit_entry e = { "audit purge", NULL, "retention", p.objects, "ok" };
    rc = gate_change(g, purge_in, &p, &e, d);
    if (rc == FS_OK)
        *purged = p.n;
    return rc;
}
