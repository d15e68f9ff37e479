/*
 * fs_shard.c - a gallery sharded by subject (issue 16): making the shard
 * galleries from a home gallery, opening one to rank, and merging their
 * lists into the one list the home would have ranked.
 *
 * The home stays whole and stays the registry: a search over the shards
 * is still the home gate's fs_gate_search, which checks everything
 * first, then takes the shards' hits through the caller's ranker
 * (fs_gate_set_ranker), holds each to its own records and releases the
 * list as it releases its own.  Shards know rows, subject numbers and
 * scores only; what they send back is in the home's numbers, through
 * the map each shard keeps from its rows to the home's (sealed meta
 * "shard.map": per row, the home's row and subject number, u32 LE).
 *
 * Identical lists: a shard is filled subject by subject in the home's
 * order of subject numbers, each subject's rows in the home's order, so
 * the shard numbers its subjects and rows in the same relative order and
 * fs_rank_topk's ties (score, then subject number, then row) break in
 * the shard as they would in the home; every subject is in one shard, so
 * the home's top k is the merge of the shards' top k (fs_shard_merge).
 *
 * Records: home meta "shard.set" and shard meta "shard" (sealed text)
 * name the set by a random id, its size, and the home's template and
 * subject counts when the set (or the shard) was last in step with it.
 * Enrolment adds rows at the home's end and subjects above its numbers,
 * so it is routed (fs_gate_shard_sync: the home first, each shard, then
 * the home's record); a home ahead of its record is refused by the
 * search (gate_shard_set) until the sync has run.  A removal moves rows
 * (the home's last into the hole), which the shards cannot follow: it
 * marks the set stale (meta "shard.stale"), for good.
 */
#include "fs_gate_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARD_COMMIT_ROWS 4096    /* images per intermediate commit */

void fs_gate_set_ranker(fs_gate *g, const fs_gate_ranker *r)
{
    g->ranker = r;
}

/* ---- who goes where ---------------------------------------------------------- */

/* The shard of a subject id: HMAC-SHA256 under a key derived from the
 * data key, so only a holder of the key can tell who is in which shard. */
static unsigned shard_of(const uint8_t key[FS_KEY_BYTES], const char *id,
                         unsigned count)
{
    const void *part[] = { "fs-shard1", id };
    size_t len[] = { 9, strlen(id) };
    uint8_t mac[FS_SHA256_BYTES];
    fs_hmac_sha256(key, part, len, 2, mac);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | mac[i];
    return (unsigned)(v % count);
}

static void shard_key(const fs_gate *g, uint8_t key[FS_KEY_BYTES])
{
    const void *part[] = { "fs-shard-key1" };
    size_t len[] = { 13 };
    fs_hmac_sha256(g->data_key, part, len, 1, key);
}

/* ---- the set's records ------------------------------------------------------- */

static int set_parse(const char *text, fs_shard_set *s)
{
    unsigned long long t, n;
    memset(s, 0, sizeof *s);
    if (sscanf(text, "set %32s count %u templates %llu subjects %llu dir "
               "%4095[^\n]", s->id, &s->count, &t, &n, s->dir) != 5 ||
        strlen(s->id) != 32 || s->count < 1 || s->count > FS_SHARDS_MAX)
        return FS_ETAMPER;
    s->templates = t;
    s->subjects = n;
    return FS_OK;
}

static int about_parse(const char *text, fs_shard_about *a)
{
    unsigned long long t, n;
    if (sscanf(text, "set %32s index %u count %u templates %llu subjects "
               "%llu", a->set, &a->index, &a->count, &t, &n) != 5 ||
        strlen(a->set) != 32 || a->count < 1 || a->count > FS_SHARDS_MAX ||
        a->index >= a->count)
        return FS_ETAMPER;
    a->templates = t;
    a->subjects = n;
    return FS_OK;
}

static void set_text(char *out, size_t cap, const char *id, unsigned count,
                     uint64_t templates, uint64_t subjects, const char *dir)
{
    snprintf(out, cap, "set %s count %u templates %llu subjects %llu dir %s",
             id, count, (unsigned long long)templates,
             (unsigned long long)subjects, dir);
}

static void about_text(char *out, size_t cap, const char *id, unsigned index,
                       unsigned count, uint64_t templates, uint64_t subjects)
{
    snprintf(out, cap, "set %s index %u count %u templates %llu subjects "
             "%llu", id, index, count, (unsigned long long)templates,
             (unsigned long long)subjects);
}

/* The home's set record as it is, and its mark "shard.stale" (why the
 * shards cannot follow the home any more: a subject removed), *why "" when
 * there is none. */
static int set_read(fs_gate *g, fs_shard_set *set, char *why, size_t cap,
                    fs_detail *d)
{
    fs_gallery_batch *b;
    char text[4400];
    int rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    rc = gate_meta_get(g, b, "shard.set", text, sizeof text, d);
    if (rc == FS_OK && set_parse(text, set) != FS_OK)
        rc = fs_fail(d, FS_ETAMPER, "the gallery's shard set record is "
                     "damaged");
    why[0] = 0;
    int mrc = rc == FS_OK ? gate_meta_get(g, b, "shard.stale", why, cap, d)
                          : FS_NOTFOUND;
    if (mrc != FS_OK && mrc != FS_NOTFOUND)
        rc = mrc;
    fs_gallery_abort(b);
    return rc;
}

static int stale_fail(const fs_shard_set *set, const char *why, fs_detail *d)
{
    return fs_fail(d, FS_EFORMAT, "the shards in '%s' no longer follow the "
                   "gallery (%s): make them again with 'facesearch gallery "
                   "shard --into %u NEWDIR', then remove '%s', which still "
                   "holds what was removed", set->dir, why, set->count,
                   set->dir);
}

/* Which shards the home's rows from..n-1 go to (dest[r - from]); in
 * *names, "0, 2" for those that get any. */
static int rows_dest(fs_gate *g, const fs_templates *t, size_t from,
                     unsigned count, uint8_t *dest, char *names, size_t cap,
                     fs_detail *d)
{
    uint8_t key[FS_KEY_BYTES];
    int got[FS_SHARDS_MAX] = { 0 }, rc = FS_OK;
    shard_key(g, key);
    for (size_t r = from; rc == FS_OK && r < t->n; r++) {
        char id[FS_SUBJECT_MAX];
        if ((rc = fs_gallery_subject_id(g->gal, t->subject[r], id)) != FS_OK)
            rc = fs_fail(d, rc, "subject number %u has no sound record",
                         t->subject[r]);
        else
            got[dest[r - from] = (uint8_t)shard_of(key, id, count)] = 1;
    }
    fs_wipe(key, sizeof key);
    names[0] = 0;
    for (unsigned i = 0; i < count; i++)
        if (got[i] && strlen(names) + 12 < cap)
            snprintf(names + strlen(names), cap - strlen(names), "%s%u",
                     names[0] ? ", " : "", i);
    return rc;
}

int gate_shard_set(fs_gate *g, fs_shard_set *set, fs_detail *d)
{
    char why[256];
    int rc = set_read(g, set, why, sizeof why, d);
    if (rc == FS_OK && why[0])
        return stale_fail(set, why, d);
    fs_gallery_stats st;
    if (rc == FS_OK)
        rc = fs_gallery_stat(g->gal, &st, d);
    if (rc != FS_OK || (st.templates == set->templates &&
                        st.subjects == set->subjects))
        return rc;
    /* Enrolment commits in the home first and in the shards after: a
     * crash (or a shard out of reach) in between leaves the home ahead.
     * Rows are only ever added by enrolment; fewer of them, or fewer
     * subjects, means a removal the shards cannot follow. */
    if (st.templates < set->templates || st.subjects < set->subjects)
        return stale_fail(set, "it has fewer templates or subjects than "
                          "they hold", d);
    fs_templates t;
    uint8_t *dest = NULL;
    char names[300] = "";
    if ((rc = fs_gallery_load(g->gal, &t, d)) == FS_OK &&
        !(dest = malloc(t.n - set->templates + 1)))
        rc = fs_fail(d, FS_ENOMEM, "no memory for the rows' shards");
    if (rc == FS_OK)
        rc = rows_dest(g, &t, set->templates, set->count, dest, names,
                       sizeof names, d);
    free(dest);
    if (rc == FS_OK)
        rc = fs_fail(d, FS_EFORMAT, "the shards in '%s' are behind the "
                     "gallery: %llu templates enrolled since they were last "
                     "brought up did not reach shard%s %s; bring them up "
                     "with 'facesearch gallery shard --sync'", set->dir,
                     (unsigned long long)(st.templates - set->templates),
                     strchr(names, ',') ? "s" : "", names);
    return rc;
}

/* ---- making the shards ---------------------------------------------------------- */

/* A raw record of the home's, carried over to each shard as it is: the
 * plain meta that opens the keys, accounts, sessions (sealed under the
 * same data key, bound to table and key, so they open there too). */
typedef struct raw_rec {
    unsigned table;
    uint8_t *key, *val;
    size_t   klen, vlen;
} raw_rec;

/* A shard's map from its rows to the home's, as stored: 8 bytes a row. */
typedef struct row_map {
    uint8_t *p;
    size_t   rows, cap;
} row_map;

typedef struct shard_make {
    fs_gate       *home;
    unsigned       count;
    char           dir[4096];
    char           set_id[33];
    fs_gallery_stats st;
    fs_gate       *sg[FS_SHARDS_MAX];
    fs_gallery_batch *b[FS_SHARDS_MAX];
    size_t         pending[FS_SHARDS_MAX];   /* puts since the last commit */
    row_map        map[FS_SHARDS_MAX];
    uint64_t       subjects[FS_SHARDS_MAX];
    raw_rec       *raw;
    size_t         nraw, rawcap;
    unsigned       index;                    /* the shard being finished */
    char           objects[600];
} shard_make;

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int raw_add(shard_make *m, unsigned table, const fs_record *r,
                   fs_detail *d)
{
    void *arr = m->raw;
    int rc = gate_room_for_one(&arr, m->nraw, &m->rawcap, sizeof *m->raw, d);
    m->raw = arr;
    if (rc != FS_OK)
        return rc;
    raw_rec *x = &m->raw[m->nraw];
    x->table = table;
    x->key = malloc(r->klen ? r->klen : 1);
    x->val = malloc(r->vlen ? r->vlen : 1);
    if (!x->key || !x->val) {
        free(x->key);
        free(x->val);
        return fs_fail(d, FS_ENOMEM, "no memory for the gate's records");
    }
    memcpy(x->key, r->key, r->klen);
    memcpy(x->val, r->val, r->vlen);
    x->klen = r->klen;
    x->vlen = r->vlen;
    m->nraw++;
    return FS_OK;
}

/* What every shard carries of the home's gate, read once. */
static int raw_read(shard_make *m, fs_detail *d)
{
    static const char *const plain[] = { "id", "keys", "key_path" };
    fs_gallery_batch *b;
    int rc = gate_read(m->home, &b, d);
    if (rc != FS_OK)
        return rc;
    fs_record r;
    for (size_t i = 0; rc == FS_OK && i < 3; i++)
        if ((rc = fs_record_get(b, GT_META, plain[i], strlen(plain[i]), &r,
                                d)) == FS_OK)
            rc = raw_add(m, GT_META, &r, d);
    static const unsigned tables[] = { GT_USERS, GT_SESSIONS };
    for (size_t t = 0; rc == FS_OK && t < 2; t++) {
        int src = fs_record_seek(b, tables[t], NULL, 0, 0, &r, d);
        while (src == FS_OK && (rc = raw_add(m, tables[t], &r, d)) == FS_OK) {
            uint8_t key[FS_RECORD_KEY_MAX];
            size_t klen = r.klen;
            memcpy(key, r.key, klen);
            src = fs_record_seek(b, tables[t], key, klen, 1, &r, d);
        }
        if (rc == FS_OK && src != FS_NOTFOUND)
            rc = src;
    }
    fs_gallery_abort(b);
    return rc;
}

static void raw_free(shard_make *m)
{
    for (size_t i = 0; i < m->nraw; i++) {
        fs_wipe(m->raw[i].val, m->raw[i].vlen);
        free(m->raw[i].key);
        free(m->raw[i].val);
    }
    free(m->raw);
}

static void shard_path(const shard_make *m, unsigned i, const char *suffix,
                       char *out, size_t cap)
{
    snprintf(out, cap, "%s/shard-%u%s", m->dir, i, suffix);
}

/* A shard's gate: the home's keys, profile and administrator, its own
 * gallery and anchor. */
static int shard_gate(shard_make *m, unsigned i, fs_detail *d)
{
    const fs_gate *h = m->home;
    fs_gate *s = calloc(1, sizeof *s);
    if (!s)
        return fs_fail(d, FS_ENOMEM, "no memory for a shard");
    m->sg[i] = s;
    memcpy(s->id, h->id, sizeof s->id);
    memcpy(s->id_hex, h->id_hex, sizeof s->id_hex);
    memcpy(s->kek, h->kek, sizeof s->kek);
    memcpy(s->data_key, h->data_key, sizeof s->data_key);
    memcpy(s->audit_key, h->audit_key, sizeof s->audit_key);
    memcpy(s->key_path, h->key_path, sizeof s->key_path);
    s->profile = h->profile;
    s->who = h->who;
    s->have_who = h->have_who;
    gate_caller_default(s);
    shard_path(m, i, "", s->dir, sizeof s->dir);
    shard_path(m, i, ".anchor", s->anchor_path, sizeof s->anchor_path);
    if (!(s->profile_text = strdup(h->profile_text)))
        return fs_fail(d, FS_ENOMEM, "no memory for a shard");
    fs_gallery_options go = { .create = 1, .sealed = 1,
                              .model_id = m->st.model_id,
                              .model_sha256 = m->st.model_sha256 };
    int rc = fs_gallery_open(s->dir, &go, &s->gal, d);
    if (rc == FS_OK)
        rc = fs_gallery_unlock(s->gal, s->data_key, d);
    if (rc == FS_OK)
        rc = fs_gallery_begin(s->gal, &m->b[i], d);
    return rc;
}

static int map_add(row_map *m, uint32_t row, uint32_t subject, fs_detail *d)
{
    if (m->rows == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        uint8_t *p = realloc(m->p, cap * 8);
        if (!p)
            return fs_fail(d, FS_ENOMEM, "no memory for the shard map");
        m->p = p;
        m->cap = cap;
    }
    put_u32(m->p + 8 * m->rows, row);
    put_u32(m->p + 8 * m->rows + 4, subject);
    m->rows++;
    return FS_OK;
}

/* One template of the home, with its image and records, into a shard's
 * batch b. */
static int put_row(fs_gallery *home, fs_gallery_batch *b,
                   const fs_templates *t, uint32_t row,
                   const fs_subject_info *si, const fs_image_info *im,
                   size_t nim, fs_detail *d)
{
    uint64_t image;
    int rc = fs_gallery_row_image(home, row, si->id, &image, d);
    if (rc != FS_OK)
        return rc;
    size_t j = 0;
    while (j < nim && im[j].id != image)
        j++;
    if (j == nim)
        return fs_fail(d, FS_EFORMAT, "row %u's image %llu is not among "
                       "subject '%s''s records", row,
                       (unsigned long long)image, si->id);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if ((rc = fs_gallery_image(home, image, &bytes, &len, d)) != FS_OK)
        return rc;
    fs_mugshot mg = { si->id, si->name, im[j].booking_number,
                      im[j].capture_date, im[j].source_agency,
                      im[j].lawful_source, bytes, len, { 0 }, { 0 }, NULL };
    memcpy(mg.sha256, im[j].sha256, sizeof mg.sha256);
    memcpy(mg.tmpl, t->vec + (size_t)row * FS_DESC_DIM, sizeof mg.tmpl);
    fs_put_result res;
    rc = fs_gallery_put(b, &mg, &res, d);
    fs_wipe(bytes, len);
    free(bytes);
    return rc;
}

/* One template of the home into shard s while making the shards. */
static int copy_row(shard_make *m, unsigned s, const fs_templates *t,
                    uint32_t row, const fs_subject_info *si,
                    const fs_image_info *im, size_t nim, fs_detail *d)
{
    int rc = put_row(m->home->gal, m->b[s], t, row, si, im, nim, d);
    if (rc == FS_OK)
        rc = map_add(&m->map[s], row, si->number, d);
    if (rc == FS_OK && ++m->pending[s] >= SHARD_COMMIT_ROWS) {
        /* the shard is not in place before the set is recorded: its
         * intermediate commits are nobody's gallery yet */
        rc = fs_gallery_commit(m->b[s], d);
        m->b[s] = NULL;
        m->pending[s] = 0;
        if (rc == FS_OK)
            rc = fs_gallery_begin(m->sg[s]->gal, &m->b[s], d);
    }
    return rc;
}

/* A subject's record and every image record of it, by its number, into
 * *im (grown as needed; *imcap its room). */
static int subject_records(fs_gallery *home, uint32_t num,
                           fs_subject_info *si, fs_image_info **im,
                           size_t *imcap, size_t *nim, fs_detail *d)
{
    char id[FS_SUBJECT_MAX];
    int rc = fs_gallery_subject_id(home, num, id);
    if (rc != FS_OK)
        return fs_fail(d, rc, "subject number %u has no sound record", num);
    *nim = 0;
    do {                     /* room for every image of the subject */
        if (*nim > *imcap || !*im) {
            free(*im);
            *imcap = *nim > 16 ? *nim : 16;
            if (!(*im = calloc(*imcap, sizeof **im))) {
                *imcap = 0;
                return fs_fail(d, FS_ENOMEM, "no memory for the images");
            }
        }
        rc = fs_gallery_subject(home, id, si, *im, *imcap, nim, d);
    } while (rc == FS_OK && *nim > *imcap);
    return rc;
}

/* Every subject of the home in the order of its numbers, each one's rows
 * in order, to its shard. */
static int copy_subjects(shard_make *m, fs_detail *d)
{
    fs_templates t;
    int rc = fs_gallery_load(m->home->gal, &t, d);
    if (rc != FS_OK || t.n == 0)
        return rc;
    if (t.n > UINT32_MAX)
        return fs_fail(d, FS_ETOOBIG, "%zu templates: a shard map holds "
                       "32-bit rows", t.n);
    uint32_t top = 0;
    for (size_t r = 0; r < t.n; r++)
        top = t.subject[r] > top ? t.subject[r] : top;
    /* rows grouped by subject number, in order: a counting sort */
    size_t *start = calloc((size_t)top + 2, sizeof *start);
    uint32_t *order = malloc(t.n * sizeof *order);
    size_t imcap = 0;
    fs_image_info *im = NULL;
    if (!start || !order)
        rc = fs_fail(d, FS_ENOMEM, "no memory to order the rows");
    for (size_t r = 0; rc == FS_OK && r < t.n; r++)
        start[t.subject[r] + 1]++;
    for (size_t s = 1; rc == FS_OK && s <= (size_t)top + 1; s++)
        start[s] += start[s - 1];
    for (size_t r = 0; rc == FS_OK && r < t.n; r++)
        order[start[t.subject[r]]++] = (uint32_t)r;
    /* start[s] is now where subject s + 1 begins */
    uint8_t key[FS_KEY_BYTES];
    shard_key(m->home, key);
    size_t at = 0;
    for (uint32_t num = 0; rc == FS_OK && num <= top; num++) {
        size_t end = start[num];
        if (at == end)
            continue;
        fs_subject_info si;
        size_t nim = 0;
        if ((rc = subject_records(m->home->gal, num, &si, &im, &imcap, &nim,
                                  d)) != FS_OK)
            break;
        unsigned s = shard_of(key, si.id, m->count);
        m->subjects[s]++;
        for (; rc == FS_OK && at < end; at++)
            rc = copy_row(m, s, &t, order[at], &si, im, nim, d);
    }
    fs_wipe(key, sizeof key);
    free(im);
    free(start);
    free(order);
    return rc;
}

/* What a shard is of its set, in its batch: its set record (text), its
 * map and the home's ranking mode. */
static int shard_state_put(fs_gate *s, fs_gallery_batch *b, const char *text,
                           const row_map *map, int rank_mode, fs_detail *d)
{
    int rc = gate_meta_put(s, b, "shard", text, strlen(text), d);
    if (rc == FS_OK)               /* an empty map: zero bytes of any */
        rc = gate_meta_put(s, b, "shard.map",
                           map->p ? (const void *)map->p : (const void *)text,
                           8 * map->rows, d);
    if (rc == FS_OK)
        rc = fs_gallery_set_rank_mode(b, rank_mode, d);
    return rc;
}

/* A shard's gate records, its set record and map, and its first entry
 * (gate_change's batch, after the images' last commit). */
static int shard_records(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    shard_make *m = ctx;
    unsigned i = m->index;
    fs_gate *s = m->sg[i];
    int rc = FS_OK;
    for (size_t j = 0; rc == FS_OK && j < m->nraw; j++)
        rc = fs_record_put(b, m->raw[j].table, m->raw[j].key, m->raw[j].klen,
                           m->raw[j].val, m->raw[j].vlen, 0, d);
    char text[256];
    about_text(text, sizeof text, m->set_id, i, m->count, m->st.templates,
               m->st.subjects);
    if (rc == FS_OK)
        rc = gate_meta_put(s, b, "profile", s->profile_text,
                           strlen(s->profile_text), d);
    if (rc == FS_OK)
        rc = gate_meta_put(s, b, "anchor", s->anchor_path,
                           strlen(s->anchor_path), d);
    if (rc == FS_OK)
        rc = shard_state_put(s, b, text, &m->map[i], m->st.rank_mode, d);
    if (rc == FS_OK)
        rc = gate_audit_start(s, b, d);
    snprintf(m->objects, sizeof m->objects, "shard %u of %u of gallery %s, "
             "set %s: %llu subjects, %zu templates", i, m->count,
             s->id_hex, m->set_id, (unsigned long long)m->subjects[i],
             m->map[i].rows);
    return rc;
}

static int home_record(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    shard_make *m = ctx;
    char text[4400];
    set_text(text, sizeof text, m->set_id, m->count, m->st.templates,
             m->st.subjects, m->dir);
    return gate_meta_put(m->home, b, "shard.set", text, strlen(text), d);
}

/* The shards' files and dir, as gallery shard makes them, removed (what
 * is not there is passed over). */
static void shard_files_remove(const char *dir, unsigned count)
{
    static const char *const files[] = { "data.mdb", "lock.mdb",
                                         "gallery.lock" };
    char path[4400], sub[4200];
    for (unsigned i = 0; i < count; i++) {
        snprintf(sub, sizeof sub, "%s/shard-%u", dir, i);
        for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
            snprintf(path, sizeof path, "%s/%s", sub, files[f]);
            unlink(path);
        }
        rmdir(sub);
        snprintf(path, sizeof path, "%s/shard-%u.anchor", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

/* What a failed sharding made goes. */
static void shard_unmake(shard_make *m)
{
    shard_files_remove(m->dir, m->count);
}

static int shard_all(shard_make *m, fs_detail *d)
{
    int rc = raw_read(m, d);
    for (unsigned i = 0; rc == FS_OK && i < m->count; i++)
        rc = shard_gate(m, i, d);
    if (rc == FS_OK)
        rc = copy_subjects(m, d);
    for (unsigned i = 0; i < m->count; i++) {
        if (m->b[i] && rc == FS_OK)
            rc = fs_gallery_commit(m->b[i], d);
        else if (m->b[i])
            fs_gallery_abort(m->b[i]);
        m->b[i] = NULL;
    }
    for (unsigned i = 0; rc == FS_OK && i < m->count; i++) {
        m->index = i;
        fs_audit_entry e = { "gallery shard", NULL, NULL, m->objects, "ok" };
        rc = gate_change(m->sg[i], shard_records, m, &e, d);
    }
    return rc;
}

int fs_gate_shard(fs_gate *g, unsigned count, const char *dir,
                  fs_shard_set *out, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery shard", d);
    if (rc != FS_OK)
        return rc;
    if (count < 1 || count > FS_SHARDS_MAX)
        return fs_fail(d, FS_EINVAL, "a gallery is sharded into 1 to %d "
                       "shards, not %u", FS_SHARDS_MAX, count);
    if (!dir || !*dir)
        return fs_fail(d, FS_EINVAL, "no directory for the shards");
    shard_make *m = calloc(1, sizeof *m);
    if (!m)
        return fs_fail(d, FS_ENOMEM, "no memory for the shards");
    m->home = g;
    m->count = count;
    uint8_t set[16];
    rc = gate_path_absolute(dir, m->dir, d);
    if (rc == FS_OK)
        rc = gate_keyfile_outside(g->key_path, m->dir, d);
    if (rc == FS_OK && fs_random(set, sizeof set))
        rc = fs_fail(d, FS_EINTERNAL, "the random generator failed");
    fs_hex(set, sizeof set, m->set_id);
    if (rc == FS_OK)
        rc = fs_gallery_stat(g->gal, &m->st, d);
    if (rc == FS_OK && m->st.recipe.second_model_id[0])
        rc = fs_fail(d, FS_EINVAL, "gallery '%s' keeps a second model's "
                     "templates (%s) to re-score its shortlists, which "
                     "shards do not carry: a gallery with a second model "
                     "is searched whole, not sharded", g->dir,
                     m->st.recipe.second_model_id);
    if (rc == FS_OK && m->st.recipe.subject_mean)
        rc = fs_fail(d, FS_EINVAL, "gallery '%s' ranks each subject by the "
                     "mean of its templates, which shards holding part of a "
                     "subject's images cannot make: it is searched whole, "
                     "not sharded", g->dir);
    int made = 0;
    if (rc == FS_OK && mkdir(m->dir, 0700) != 0)
        rc = fs_fail(d, errno == EEXIST ? FS_EXISTS : fs_errno_code(errno),
                     "cannot make '%s' for the shards: %s", m->dir,
                     errno == EEXIST ? "it exists (shards go into a new "
                     "directory)" : strerror(errno));
    else if (rc == FS_OK)
        made = 1;
    if (rc == FS_OK)
        rc = shard_all(m, d);
    for (unsigned i = 0; i < count; i++)
        if (m->sg[i])
            fs_gate_close(m->sg[i]);
    if (rc == FS_OK) {
        snprintf(m->objects, sizeof m->objects, "%u shards in %s, set %s: "
                 "%llu subjects, %llu templates", count, m->dir, m->set_id,
                 (unsigned long long)m->st.subjects,
                 (unsigned long long)m->st.templates);
        fs_audit_entry e = { "gallery shard", NULL, NULL, m->objects, "ok" };
        rc = gate_change(g, home_record, m, &e, d);
    } else {
        snprintf(m->objects, sizeof m->objects, "%u shards in %s", count,
                 m->dir);
        gate_refusal(g, g->who.name, g->who.unit, "gallery shard",
                     m->objects, rc, d);
    }
    if (rc != FS_OK && made)
        shard_unmake(m);
    if (rc == FS_OK && out) {
        memset(out, 0, sizeof *out);
        snprintf(out->id, sizeof out->id, "%s", m->set_id);
        out->count = count;
        out->templates = m->st.templates;
        out->subjects = m->st.subjects;
        snprintf(out->dir, sizeof out->dir, "%s", m->dir);
    }
    for (unsigned i = 0; i < count; i++)
        free(m->map[i].p);
    raw_free(m);
    fs_wipe(m, sizeof *m);
    free(m);
    return rc;
}

/* ---- a shard, opened to rank ------------------------------------------------------ */

struct fs_shard {
    fs_gate       *gate;
    fs_shard_about about;
    uint8_t       *map;               /* 8 bytes per row, as stored */
    fs_pool       *pool;
    fs_ranker     *ranker;            /* NULL for an empty shard */
};

/* A shard's set record and map (8 bytes a row, in a buffer the caller
 * frees), as its gate reads them. */
static int shard_read(fs_gate *g, fs_shard_about *a, uint8_t **map,
                      size_t *len, fs_detail *d)
{
    fs_gallery_batch *b;
    char text[256];
    *map = NULL;
    *len = 0;
    memset(a, 0, sizeof *a);
    int rc = gate_read(g, &b, d);
    if (rc != FS_OK)
        return rc;
    rc = gate_meta_get(g, b, "shard", text, sizeof text, d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(d, FS_EFORMAT, "'%s' is a gallery, not a shard of one "
                     "(make shards with 'facesearch gallery shard')", g->dir);
    else if (rc == FS_OK && about_parse(text, a) != FS_OK)
        rc = fs_fail(d, FS_ETAMPER, "shard '%s''s set record is damaged",
                     g->dir);
    if (rc == FS_OK)
        rc = gate_sealed_get(g, b, GT_META, "shard.map", 9, map, len, d);
    fs_gallery_abort(b);
    return rc;
}

static int shard_load(fs_shard *s, fs_detail *d)
{
    fs_gate *g = s->gate;
    size_t len = 0;
    int rc = shard_read(g, &s->about, &s->map, &len, d);
    fs_templates t;
    if (rc == FS_OK)
        rc = fs_gallery_load(g->gal, &t, d);
    if (rc == FS_OK && (len % 8 || len / 8 != t.n))
        rc = fs_fail(d, FS_ETAMPER, "shard '%s''s map holds %zu rows, its "
                     "gallery %zu", g->dir, len / 8, t.n);
    if (rc == FS_OK)
        rc = fs_gallery_rank_mode(g->gal, &s->about.mode);
    s->about.rows = rc == FS_OK ? t.n : 0;
    fs_rank_options ro = { .mode = s->about.mode, .isa = -1,
                           .pool = s->pool };
    if (rc == FS_OK && t.n)
        rc = fs_ranker_create(&t, &ro, &s->ranker, d);
    return rc;
}

int fs_shard_open(const char *dir, const char *key_file, int threads,
                  fs_shard **out, fs_detail *d)
{
    fs_shard *s = calloc(1, sizeof *s);
    if (!s)
        return fs_fail(d, FS_ENOMEM, "no memory for the shard");
    fs_gate_options o = { .key_file = key_file };
    int rc = fs_gate_open(dir, &o, &s->gate, d);
    if (rc == FS_OK && fs_pool_create(threads, &s->pool) != FS_OK)
        rc = fs_fail(d, FS_ETHREAD, "cannot start the shard's threads");
    if (rc == FS_OK)
        rc = shard_load(s, d);
    if (rc != FS_OK) {
        fs_shard_close(s);
        return rc;
    }
    *out = s;
    return FS_OK;
}

void fs_shard_info(const fs_shard *s, fs_shard_about *about)
{
    *about = s->about;
}

int fs_shard_rank(fs_shard *s, const float tmpl[FS_DESC_DIM], size_t k,
                  fs_hit *hits, size_t *n, fs_detail *d)
{
    *n = 0;
    if (k < 1 || k > FS_RANK_MAX_K)
        return fs_fail(d, FS_EINVAL, "k must be 1 to %d, not %zu",
                       FS_RANK_MAX_K, k);
    if (!s->ranker)
        return FS_OK;
    int rc = fs_rank_topk(s->ranker, tmpl, 1, k, hits, n);
    if (rc != FS_OK)
        return fs_fail(d, rc, "the probe template is not finite");
    for (size_t i = 0; i < *n; i++) {
        const uint8_t *e = s->map + 8 * (size_t)hits[i].row;
        hits[i].row = get_u32(e);
        hits[i].subject = get_u32(e + 4);
    }
    return FS_OK;
}

void fs_shard_close(fs_shard *s)
{
    if (!s)
        return;
    fs_ranker_free(s->ranker);
    fs_pool_free(s->pool);
    free(s->map);
    fs_gate_close(s->gate);
    free(s);
}

/* ---- following the home: enrolment routed --------------------------------- */

/* Enrolment writes the home first (its commit, its entry), then brings
 * each shard up (one commit per shard: the rows it lacks, its map and
 * set record, its own "enroll" entry), then records the set as current
 * in the home.  A crash anywhere in between leaves the home ahead of its
 * set record, which every search over the shards refuses (gate_shard_set,
 * naming the shards behind), and this same sync, run again, finishes the
 * work: a shard holds every home row below its record's template count
 * of its subjects, so what it lacks is known and nothing goes in twice. */

typedef struct shard_sync {
    fs_gate         *home;
    fs_shard_set     set;
    fs_gallery_stats st;
    fs_templates     t;
    fs_gate         *sg[FS_SHARDS_MAX];
    fs_shard_about   about[FS_SHARDS_MAX];
    row_map          map[FS_SHARDS_MAX];
    uint64_t        *add;           /* subject << 32 | row, to add */
    size_t           nadd;
    unsigned         index;         /* the shard being brought up */
    size_t           routed, touched;
    char             objects[600];
} shard_sync;

/* Marks the set as past following (a subject removed): every search over
 * it and every sync refuse it from now on. */
static int mark_stale(fs_gate *g, const char *why, fs_detail *d)
{
    fs_gallery_batch *b;
    int rc = gate_begin(g, &b, d);
    if (rc == FS_OK)
        rc = gate_meta_put(g, b, "shard.stale", why, strlen(why), d);
    fs_audit_entry e = { "gallery shard", NULL, "the shards stop following "
                         "the gallery", why, "ok" };
    if (rc == FS_OK)
        return gate_commit(g, b, &e, d);
    fs_gallery_abort(b);
    return rc;
}

/* Shard i opened to write, its records read and held to the home: every
 * row of its map still the home's row of the subject it names (a
 * removal in the home moves rows and never gives a subject's number to
 * another, so this finds any); FS_EFORMAT with *removed set when
 * not. */
static int sync_open(shard_sync *y, unsigned i, int *removed, fs_detail *d)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/shard-%u", y->set.dir, i);
    fs_gate_options o = { .key_file = y->home->key_path };
    fs_detail why = { "" };
    int rc = fs_gate_open(dir, &o, &y->sg[i], &why);
    if (rc != FS_OK)
        return fs_fail(d, rc, "shard %u (%s) did not open: %.300s", i, dir,
                       why.msg);
    fs_gate *s = y->sg[i];
    s->who = y->home->who;          /* the admin acts in the shard too */
    s->have_who = y->home->have_who;
    uint8_t *map;
    size_t len;
    fs_shard_about *a = &y->about[i];
    fs_gallery_stats sst;
    rc = shard_read(s, a, &map, &len, &why);
    y->map[i] = (row_map){ map, len / 8, len / 8 };
    if (rc == FS_OK && (strcmp(a->set, y->set.id) || a->index != i ||
                        a->count != y->set.count))
        rc = fs_fail(&why, FS_EFORMAT, "it is shard %u of %u of set %.32s, "
                     "not of this gallery's set %s", a->index, a->count,
                     a->set, y->set.id);
    if (rc == FS_OK)
        rc = fs_gallery_stat(s->gal, &sst, &why);
    if (rc == FS_OK && (len % 8 || len / 8 != sst.templates))
        rc = fs_fail(&why, FS_ETAMPER, "its map holds %zu rows, its "
                     "gallery %llu", len / 8,
                     (unsigned long long)sst.templates);
    if (rc != FS_OK)
        return fs_fail(d, rc, "shard %u (%s): %.400s", i, dir, why.msg);
    for (size_t r = 0; r < len / 8; r++) {
        uint32_t row = get_u32(map + 8 * r), num = get_u32(map + 8 * r + 4);
        if (row >= y->t.n || y->t.subject[row] != num)
            *removed = 1;
    }
    if (a->templates > y->t.n)
        *removed = 1;
    return *removed ? fs_fail(d, FS_EFORMAT, "shard %u (%s) holds rows the "
                              "gallery no longer has where it had them", i,
                              dir) : FS_OK;
}

static int by_subject_then_row(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The rows shard index lacks, in its batch: in the order of the home's
 * subject numbers, each one's rows in order (as the shard was made), so
 * a new subject takes a shard number above the old ones as it took a
 * home number above theirs, and ties still break as in the home. */
static int sync_in(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    shard_sync *y = ctx;
    unsigned i = y->index;
    fs_gate *s = y->sg[i];
    fs_subject_info si;
    fs_image_info *im = NULL;
    size_t imcap = 0, nim = 0;
    uint32_t cur = 0, first = 0, last = 0;
    int rc = FS_OK;
    for (size_t k = 0; rc == FS_OK && k < y->nadd; k++) {
        uint32_t num = (uint32_t)(y->add[k] >> 32);
        uint32_t row = (uint32_t)y->add[k];
        if (k == 0 || num != cur)
            rc = subject_records(y->home->gal, num, &si, &im, &imcap, &nim,
                                 d);
        cur = num;
        if (rc == FS_OK)
            rc = put_row(y->home->gal, b, &y->t, row, &si, im, nim, d);
        if (rc == FS_OK)
            rc = map_add(&y->map[i], row, num, d);
        first = k == 0 || row < first ? row : first;
        last = row > last ? row : last;
    }
    free(im);
    char text[256];
    about_text(text, sizeof text, y->set.id, i, y->set.count,
               y->st.templates, y->st.subjects);
    if (rc == FS_OK)                /* the home's ranking follows too */
        rc = shard_state_put(s, b, text, &y->map[i], y->st.rank_mode, d);
    if (y->nadd)
        snprintf(y->objects, sizeof y->objects, "shard %u of %u of gallery "
                 "%s, set %s: %zu templates of the gallery's rows %u..%u "
                 "(its trail names their images); in step at %llu "
                 "templates", i, y->set.count, s->id_hex, y->set.id,
                 y->nadd, first, last,
                 (unsigned long long)y->st.templates);
    else
        snprintf(y->objects, sizeof y->objects, "shard %u of %u of gallery "
                 "%s, set %s: no templates of its subjects; in step at %llu "
                 "templates", i, y->set.count, s->id_hex, y->set.id,
                 (unsigned long long)y->st.templates);
    return rc;
}

static int sync_home(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    shard_sync *y = ctx;
    char text[4400];
    set_text(text, sizeof text, y->set.id, y->set.count, y->st.templates,
             y->st.subjects, y->set.dir);
    snprintf(y->objects, sizeof y->objects, "set %s in %s: %zu templates "
             "routed to %zu of %u shards; in step at %llu subjects, %llu "
             "templates", y->set.id, y->set.dir, y->routed, y->touched,
             y->set.count, (unsigned long long)y->st.subjects,
             (unsigned long long)y->st.templates);
    return gate_meta_put(y->home, b, "shard.set", text, strlen(text), d);
}

/* The rows each shard lacks: the home's from the least of the shards'
 * template counts, each to its subject's shard. */
static int sync_all(shard_sync *y, fs_detail *d)
{
    size_t from = y->t.n;
    for (unsigned i = 0; i < y->set.count; i++)
        from = y->about[i].templates < from ? y->about[i].templates : from;
    uint8_t *dest = malloc(y->t.n - from + 1);
    y->add = malloc((y->t.n - from + 1) * sizeof *y->add);
    char names[300];
    int rc = dest && y->add ? FS_OK
             : fs_fail(d, FS_ENOMEM, "no memory for the rows to route");
    if (rc == FS_OK)
        rc = rows_dest(y->home, &y->t, from, y->set.count, dest, names,
                       sizeof names, d);
    for (unsigned i = 0; rc == FS_OK && i < y->set.count; i++) {
        const fs_shard_about *a = &y->about[i];
        if (a->templates == y->st.templates &&
            a->subjects == y->st.subjects)
            continue;               /* in step (the last sync got here) */
        y->nadd = 0;
        for (size_t r = a->templates; r < y->t.n; r++)
            if (dest[r - from] == i)
                y->add[y->nadd++] = (uint64_t)y->t.subject[r] << 32 | r;
        qsort(y->add, y->nadd, sizeof *y->add, by_subject_then_row);
        y->index = i;
        y->routed += y->nadd;
        y->touched += y->nadd > 0;
        fs_audit_entry e = { "enroll", NULL, "routed from the gallery to "
                             "its shard", y->objects, "ok" };
        rc = gate_change(y->sg[i], sync_in, y, &e, d);
    }
    free(dest);
    return rc;
}

int fs_gate_shard_sync(fs_gate *g, fs_shard_set *out, size_t *routed,
                       fs_detail *d)
{
    if (routed)
        *routed = 0;
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery shard", d);
    if (rc != FS_OK)
        return rc;
    shard_sync *y = calloc(1, sizeof *y);
    if (!y)
        return fs_fail(d, FS_ENOMEM, "no memory for the shards");
    y->home = g;
    char why[256];
    rc = set_read(g, &y->set, why, sizeof why, d);
    if (rc == FS_OK && why[0])
        rc = stale_fail(&y->set, why, d);
    if (rc == FS_OK)
        rc = fs_gallery_stat(g->gal, &y->st, d);
    if (rc == FS_OK)
        rc = fs_gallery_load(g->gal, &y->t, d);
    if (rc == FS_OK && y->t.n > UINT32_MAX)
        rc = fs_fail(d, FS_ETOOBIG, "%zu templates: a shard map holds "
                     "32-bit rows", y->t.n);
    int removed = 0;
    for (unsigned i = 0; rc == FS_OK && i < y->set.count; i++)
        rc = sync_open(y, i, &removed, d);
    static const char gone[] = "a subject was removed from the gallery "
                               "after they were made";
    if (removed) {
        fs_detail scratch;
        int mrc = mark_stale(g, gone, &scratch);
        rc = mrc == FS_OK ? stale_fail(&y->set, gone, d)
                          : fs_fail(d, mrc, "%s", scratch.msg);
    }
    /* behind: the home's record, or a shard's (a crash between them) */
    int behind = rc == FS_OK && (y->set.templates != y->st.templates ||
                                 y->set.subjects != y->st.subjects);
    for (unsigned i = 0; rc == FS_OK && i < y->set.count; i++)
        behind |= y->about[i].templates != y->st.templates ||
                  y->about[i].subjects != y->st.subjects;
    if (behind)
        rc = sync_all(y, d);
    if (behind && rc == FS_OK) {
        fs_audit_entry e = { "gallery shard", NULL, "sync: enrolment routed "
                             "to the shards", y->objects, "ok" };
        rc = gate_change(g, sync_home, y, &e, d);
    }
    if (rc == FS_OK && out)
        *out = y->set;
    if (rc == FS_OK && out) {
        out->templates = y->st.templates;
        out->subjects = y->st.subjects;
    }
    if (routed)
        *routed = y->routed;
    for (unsigned i = 0; i < FS_SHARDS_MAX; i++) {
        fs_gate_close(y->sg[i]);
        free(y->map[i].p);
    }
    free(y->add);
    free(y);
    return rc;
}

int fs_gate_shard_removing(fs_gate *g, const char *subject, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery remove", d);
    fs_shard_set set;
    char why[256];
    if (rc == FS_OK)
        rc = set_read(g, &set, why, sizeof why, d);
    if (rc != FS_OK || why[0])
        return rc;
    fs_subject_info si;
    size_t n;
    rc = fs_gallery_subject(g->gal, subject, &si, NULL, 0, &n, d);
    return rc == FS_OK ? mark_stale(g, "a subject was removed from the "
                                    "gallery after they were made", d) : rc;
}

/* ---- dropping the set ------------------------------------------------------------ */

static int drop_records(void *ctx, fs_gallery_batch *b, fs_detail *d)
{
    (void)ctx;
    static const char *const name[] = { "shard.set", "shard.stale" };
    int rc = FS_OK;
    for (size_t i = 0; rc == FS_OK && i < 2; i++) {
        rc = fs_record_del(b, GT_META, name[i], strlen(name[i]), d);
        if (rc == FS_NOTFOUND)
            rc = FS_OK;
    }
    return rc;
}

int fs_gate_shard_drop(fs_gate *g, fs_shard_set *out, fs_detail *d)
{
    int rc = gate_require(g, FS_ROLE_ADMIN, 0, "gallery shard", d);
    fs_shard_set set;
    char why[256];
    if (rc == FS_OK)
        rc = set_read(g, &set, why, sizeof why, d);
    if (rc != FS_OK)
        return rc;
    /* the files first (they hold faces, G20): a crash after leaves the
     * record, and dropping again finishes */
    shard_files_remove(set.dir, set.count);
    char objects[4400];
    snprintf(objects, sizeof objects, "set %s: %u shards in %s removed",
             set.id, set.count, set.dir);
    fs_audit_entry e = { "gallery shard", NULL, "drop: the shards and their "
                         "record removed", objects, "ok" };
    rc = gate_change(g, drop_records, NULL, &e, d);
    if (rc == FS_OK && out)
        *out = set;
    return rc;
}

int gate_shard_rotation_guard(fs_gate *g, fs_detail *d)
{
    fs_shard_set set;
    char why[256];
    memset(&set, 0, sizeof set);
    fs_detail scratch;
    int rc = set_read(g, &set, why, sizeof why, &scratch);
    if (rc == FS_NOTFOUND)
        return FS_OK;
    if (rc == FS_OK)
        rc = fs_fail(d, FS_EXISTS, "the gallery has %u shards in '%s', "
                     "sealed under its keys and placed by a key derived "
                     "from them: rotated, they would open with nothing.  "
                     "Drop them with 'facesearch gallery shard --drop', "
                     "rotate, then make them again with 'facesearch gallery "
                     "shard --into %u DIR'", set.count, set.dir, set.count);
    else
        rc = fs_fail(d, rc, "%s", scratch.msg);
    return gate_refusal(g, g->who.name, g->who.unit, "key rotate", set.dir,
                        rc, d);
}

/* ---- the merge ------------------------------------------------------------------- */

/* fs_rank_topk's order: score descending, then subject, then row. */
static int hit_better(const fs_hit *a, const fs_hit *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    if (a->subject != b->subject)
        return a->subject < b->subject;
    return a->row < b->row;
}

int fs_shard_merge(const fs_hit *const *lists, const size_t *n,
                   size_t count, size_t k, fs_hit *out, size_t *nout)
{
    *nout = 0;
    if (k == 0 || count > FS_SHARDS_MAX)
        return FS_EINVAL;
    size_t at[FS_SHARDS_MAX] = { 0 };
    while (*nout < k) {
        size_t best = count;
        for (size_t s = 0; s < count; s++)
            if (at[s] < n[s] &&
                (best == count ||
                 hit_better(&lists[s][at[s]], &lists[best][at[best]])))
                best = s;
        if (best == count)
            break;
        out[(*nout)++] = lists[best][at[best]++];
    }
    return FS_OK;
}
