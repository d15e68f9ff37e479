/*
 * fs_index.h - the mugshot gallery on LMDB and the exact ranking over it.
 *
 * Two halves, one contract:
 *
 *  - The gallery (fs_gallery_*): subjects, mugshot records with their image
 *    bytes, unit-length templates and a meta record naming the model that
 *    made them, in one LMDB environment.  Every change is one LMDB write
 *    transaction, so a crash at any moment leaves the gallery as it was at
 *    the last commit.  Templates live in fixed-size blocks of
 *    FS_TBLOCK_ROWS rows; fs_gallery_load reads them in one sequential pass
 *    into an aligned matrix that the kernels scan.
 *
 *  - The ranker (fs_ranker_*, fs_rank_topk): exact top-k by cosine
 *    similarity over such a matrix, one hit per distinct subject (its best
 *    template), ties broken by the lower subject number.  SIMD kernels are
 *    chosen at run time.  Above FS_RANK_BOUNDED_MIN rows an exact ranker
 *    reads an int8 copy first and re-scores in float every row whose
 *    score could still reach the k-th best (a proven bound on each row's
 *    quantisation error), so the lists stay exact; the compressed mode,
 *    an unbounded int8 shortlist, is the admin's option.
 *
 * Encryption at rest (G21): a gallery made sealed keeps every face image,
 * template block, image record and subject record sealed with AES-256-GCM
 * under a 32-byte data key that never enters the gallery: the caller (the
 * gate, which keeps it wrapped in its own records) hands it over with
 * fs_gallery_unlock after each open.  Each record carries its own nonce
 * and tag in its envelope, with its database and key as associated data,
 * so a changed, moved or planted record is refused (FS_ETAMPER) rather
 * than read.  The meta records (schema, model, counters, rank mode, key
 * check...) stay readable without the key but carry an HMAC-SHA256 under
 * a key derived from the data key, bound to their name: an edited,
 * removed or planted one is FS_ETAMPER naming it ("the gallery's meta
 * record 'rows' ...") once the key is given.  Unsealed galleries
 * (benchmarks, tests) use the same envelopes, plain, and no MACs.
 *
 * Handles of this and other processes share the environment; each holds
 * a shared lock on "gallery.lock" in the gallery directory from open to
 * close.  Compaction and re-keying need it exclusive (no other handle
 * open anywhere) and get FS_EBUSY when others do not close in time.
 *
 * Thread-safety: a gallery handle serves one thread at a time.  A ranker
 * only reads its templates; fs_rank_topk calls on one ranker must be
 * serialised because it owns scratch space, a thread pool and (exact,
 * FS_EXACT_AUTO) the int8 copy a call may build.
 */
#ifndef FS_INDEX_H
#define FS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_error.h"
#include "../engine/base/fs_pool.h"
#include "../engine/base/fs_types.h"

/* ---- the gallery -------------------------------------------------------- */

#define FS_GALLERY_SCHEMA   5        /* 2: the records database; 3: meta
                                        MACs in sealed galleries, a rank
                                        mode always; 4: the template
                                        recipe and second templates; 5:
                                        the recipe's subject template */
#define FS_GALLERY_SCHEMA_MIN 3      /* the oldest this build opens: a
                                        schema 3 gallery reads as the
                                        recipe "first model alone, no
                                        mirror", which is how it was made */
#define FS_TBLOCK_ROWS      1024     /* templates per stored block */
#define FS_SUBJECT_MAX      64       /* bytes of a subject id */
#define FS_FIELD_MAX        128      /* bytes of a metadata field */

typedef struct fs_gallery fs_gallery;

/* A template matrix that outlives the handles that read it: a process
 * that opens the gallery again and again (the service, for each client)
 * gives every open the same holder, and fs_gallery_load reads the store
 * again only when its rows changed.  A child of fork() inherits it, copy
 * on write.  Not shared between threads. */
typedef struct fs_gallery_warm fs_gallery_warm;
int  fs_gallery_warm_new(fs_gallery_warm **out);
void fs_gallery_warm_free(fs_gallery_warm *w);

/* How every template of a gallery is made, fixed when it is created
 * (changing it would mean making every template again): the first
 * model's template from the face alone or averaged with its mirror
 * image's, and optionally a second model's template of the same face,
 * kept per image (FS_DESC2_DIM values, stored as IEEE half floats,
 * sealed like the rest) to re-score the first model's shortlist.  In
 * meta as "mirror", "second_model_id" and "second_model_sha256" ("" for
 * none), MAC'd like every meta value. */
typedef struct fs_recipe {
    int  mirror;                     /* 1: mirror-averaged first templates */
    char second_model_id[64];        /* "": no second model */
    char second_model_sha256[65];
    int  subject_mean;               /* 1: subjects rank by the mean of
                                        their templates (fs_subject_means),
                                        0: by their best one */
} fs_recipe;

/* The recipe's subject template by name, "mean" or "best": as the
 * gallery's meta record, init and gallery stats spell it. */
const char *fs_recipe_subject_template(const fs_recipe *r);

/* Long enough for the searches already in (new openers queue behind the
 * waiter) to end on a loaded machine; short enough that an admin learns
 * soon that an enrolment holds the gallery. */
#define FS_GALLERY_ALONE_WAIT_MS 10000

typedef struct fs_gallery_options {
    int         create;        /* make the gallery when the directory has none */
    int         readonly;
    const char *model_id;      /* the model the templates must come from;
                                  NULL: accept the stored one (admin tools) */
    const char *model_sha256;  /* hex; required with model_id */
    size_t      map_size;      /* bytes; 0: large enough for 10M faces */
    int         sealed;        /* create: a sealed gallery (G21); an
                                  existing gallery stays as it was made,
                                  fs_gallery_stat says which */
    fs_gallery_warm *warm;     /* NULL: the handle keeps its own matrix */
    int         nowait;        /* FS_EBUSY at once, rather than wait while
                                  the gallery is held alone */
    int         alone_wait_ms; /* how long a call that needs the gallery
                                  alone (fs_gallery_lock_exclusive) waits
                                  for the other handles to close before
                                  FS_EBUSY; 0: FS_GALLERY_ALONE_WAIT_MS */
    const fs_recipe *recipe;   /* create: how its templates are made;
                                  NULL: the first model alone, no mirror */
} fs_gallery_options;

/* Takes the shared lock (gallery.lock, made 0600) before LMDB opens the
 * file, waiting while a compaction holds it exclusive, and keeps it until
 * fs_gallery_close; read-only handles too.  Galleries of another schema
 * are FS_EVERSION. */
int  fs_gallery_open(const char *dir, const fs_gallery_options *opt,
                     fs_gallery **out, fs_detail *d);
/* Also wipes the handle's copy of the data key, and lets go of the lock. */
void fs_gallery_close(fs_gallery *g);

/* Gives a sealed gallery its data key; the handle keeps a copy until
 * fs_gallery_close.  The key is checked against the key check in meta:
 * FS_EKEY when it is not this gallery's key, and nothing changes (a
 * handle already unlocked keeps its key).  A sealed gallery without a key
 * check yet (just created) gets one, written in the open batch when there
 * is one (an abort of that batch takes the key back) or else in a
 * transaction of its own; a read-only handle or view cannot, FS_EACCESS.
 * FS_EINVAL on a gallery that is not sealed: a caller holding a key for
 * it should take that as an alarm (its meta may have been changed).
 * Every meta record is checked against its MAC here: FS_ETAMPER naming
 * the first one edited, removed or planted (and a key check removed from
 * a gallery that holds records).  The first key check gives every meta
 * record its MAC.
 *
 * Until unlocked, a sealed gallery answers FS_EKEY to every call that
 * reads or writes sealed or MAC'd records: fs_gallery_put, _remove,
 * _load, _subject, _subject_id, _image, _verify, _set_rank_mode and
 * _rekey.  Open, close, batches (begin, commit, abort), fs_gallery_stat,
 * fs_gallery_rank_mode, fs_gallery_find_sha (the sha index is not
 * sealed) and fs_record_* work without it, so the caller can read its
 * wrapped key in a batch first; what they read of meta is then taken on
 * trust until the unlock checks it.  Once unlocked, a record whose tag
 * fails, or a plain record where a sealed one belongs, is FS_ETAMPER,
 * the detail naming it ("image 17's data", "template block 3", "subject
 * 'x'"), and so is meta that fails its MAC wherever it is read again
 * (the counters at each batch, load and stat, the rank mode). */
int  fs_gallery_unlock(fs_gallery *g, const uint8_t key[FS_KEY_BYTES],
                       fs_detail *d);

/* One mugshot to enrol.  Strings are NUL-terminated, at most
 * FS_FIELD_MAX - 1 bytes (FS_SUBJECT_MAX - 1 for the subject id, which
 * holds only [A-Za-z0-9._-] and does not start with '.'). */
typedef struct fs_mugshot {
    const char    *subject;
    const char    *name;             /* the subject's name; NULL or "" kept */
    const char    *booking_number;
    const char    *capture_date;     /* YYYY-MM-DD or "" */
    const char    *source_agency;
    const char    *lawful_source;    /* e.g. "booking", "parole" */
    const uint8_t *image;            /* the image bytes, kept in the gallery */
    size_t         image_len;
    uint8_t        sha256[32];       /* of the image bytes: the record's key */
    float          tmpl[FS_DESC_DIM];   /* unit length */
    const float   *tmpl2;            /* the second model's template
                                        (FS_DESC2_DIM, unit length): given
                                        exactly when the recipe names a
                                        second model, else FS_EINVAL */
} fs_mugshot;

/* FS_OK when s is a valid subject id, else FS_EINVAL saying why. */
int  fs_gallery_check_subject_id(const char *s, fs_detail *d);

/* Writes are grouped: begin, put as many as the batch holds, commit.
 * Nothing of a batch is visible, or survives a crash, before its commit.
 * A batch is one LMDB write transaction: the gate writes its audit entry
 * into the batch that makes the change it records (fs_record_put), so one
 * cannot commit without the other (G18).  fs_gallery_begin_read gives a
 * consistent read-only view through the same calls (writes are refused
 * with FS_EACCESS; its commit just ends it).  One batch at a time. */
typedef struct fs_gallery_batch fs_gallery_batch;
int  fs_gallery_begin(fs_gallery *g, fs_gallery_batch **out, fs_detail *d);
int  fs_gallery_begin_read(fs_gallery *g, fs_gallery_batch **out,
                           fs_detail *d);
typedef struct fs_put_result {
    uint64_t image_id;         /* the new image, or the one already there */
    uint32_t subject_number;   /* what the ranker returns for it */
    int      new_subject;      /* this put created the subject */
} fs_put_result;
/* FS_EXISTS when an image with that sha256 is already enrolled (nothing
 * written; res->image_id names it).  res may be NULL.  In a sealed
 * gallery the records are sealed as they are written; template blocks
 * are held in plaintext in the batch and sealed once, at commit. */
int  fs_gallery_put(fs_gallery_batch *b, const fs_mugshot *m,
                    fs_put_result *res, fs_detail *d);
int  fs_gallery_commit(fs_gallery_batch *b, fs_detail *d);
void fs_gallery_abort(fs_gallery_batch *b);

/* Key rotation, in a write batch of a sealed, unlocked gallery: every
 * record the gallery seals or MACs under the data key (subjects, image
 * records and bytes, template blocks, the key check, the meta MACs) is
 * opened under the old key and sealed again under key, one at a time
 * through cursors, so memory does not grow with the gallery.  The gate's
 * records (fs_record_*) are the caller's and are not touched: it
 * re-seals its own in the same batch.  The rest of the batch reads and
 * writes under the new key; the handle takes it at commit (the old one
 * wiped) and keeps the old one after an abort, with nothing changed.
 * Needs the exclusive lock, since a handle elsewhere would go on sealing
 * under the old key: taken here when the caller does not hold it (and
 * given back at the batch's end), FS_EBUSY when others stay open.  A
 * record or meta MAC that fails under the old key is FS_ETAMPER: nothing
 * tampered is sealed again.  FS_EINVAL on an unsealed gallery. */
int  fs_gallery_rekey(fs_gallery_batch *b, const uint8_t key[FS_KEY_BYTES],
                      fs_detail *d);

/* The image id enrolled with those bytes: FS_OK or FS_NOTFOUND. */
int  fs_gallery_find_sha(fs_gallery *g, const uint8_t sha256[32],
                         uint64_t *image_id);

typedef struct fs_gallery_stats {
    uint64_t subjects, images, templates, blocks;
    uint64_t image_bytes;              /* sum of stored image sizes */
    uint64_t file_bytes;               /* the LMDB data file */
    int      schema, dim;
    int      rank_mode;                /* FS_RANK_* */
    int      sealed;                   /* G21: fs_gallery_unlock needed */
    char     metric[16];
    char     model_id[64];
    char     model_sha256[65];
    fs_recipe recipe;
} fs_gallery_stats;
int  fs_gallery_stat(fs_gallery *g, fs_gallery_stats *st, fs_detail *d);

/* The gallery's recipe; in an unlocked sealed gallery its meta records
 * are checked against their MACs (FS_ETAMPER naming the one edited). */
int  fs_gallery_recipe(fs_gallery *g, fs_recipe *out, fs_detail *d);

/* The second model's templates (FS_DESC2_DIM floats each: the stored
 * half floats widened) of the images whose first templates are rows
 * `rows` of the matrix fs_gallery_load last gave this handle (what
 * fs_rank_topk's hits name), for re-scoring a shortlist; one read
 * transaction for all n.  In a gallery whose recipe names a second
 * model every image has one: a missing one is FS_ETAMPER, and so is
 * one whose tag fails.  FS_NOTFOUND when a row's image changed since
 * the load; FS_EINVAL in a gallery without a second model. */
int  fs_gallery_seconds(fs_gallery *g, const uint32_t *rows, size_t n,
                        float *out, fs_detail *d);

typedef struct fs_subject_info {
    char     id[FS_SUBJECT_MAX];
    char     name[FS_FIELD_MAX];
    uint32_t number;                   /* what the ranker returns */
    uint32_t images;
} fs_subject_info;

typedef struct fs_image_info {
    uint64_t id;
    char     subject[FS_SUBJECT_MAX];
    char     booking_number[FS_FIELD_MAX];
    char     capture_date[FS_FIELD_MAX];
    char     source_agency[FS_FIELD_MAX];
    char     lawful_source[FS_FIELD_MAX];
    uint8_t  sha256[32];
    uint64_t image_len;
    int64_t  enrolled;                 /* unix seconds */
} fs_image_info;

/* The admin's choice of ranking for this gallery, FS_RANK_EXACT unless
 * set to FS_RANK_COMPRESSED (the int8 first pass, for galleries where
 * memory bandwidth rules; bench rank measures its recall).  Reading it
 * in an unlocked sealed gallery checks its MAC (FS_ETAMPER); setting it
 * in a sealed one needs the key. */
int  fs_gallery_rank_mode(fs_gallery *g, int *mode);
int  fs_gallery_set_rank_mode(fs_gallery_batch *b, int mode, fs_detail *d);

/* FS_NOTFOUND when there is no such subject.  images may be NULL; else
 * up to max image records are written and *n says how many exist. */
int  fs_gallery_subject(fs_gallery *g, const char *subject,
                        fs_subject_info *info, fs_image_info *images,
                        size_t max, size_t *n, fs_detail *d);
/* The subject id for a subject number (what fs_rank_topk returns),
 * checked against the subject's own record: FS_OK, FS_NOTFOUND, FS_EKEY,
 * FS_ETAMPER, or FS_EFORMAT when the number index disagrees with it. */
int  fs_gallery_subject_id(fs_gallery *g, uint32_t number,
                           char id[FS_SUBJECT_MAX]);
/* The stored bytes of an image, in a buffer the caller frees (and, being
 * a face, wipes). */
int  fs_gallery_image(fs_gallery *g, uint64_t image_id, uint8_t **bytes,
                      size_t *len, fs_detail *d);

/* The image whose template is row `row` (what fs_rank_topk's hit names),
 * checked to be subject's: FS_NOTFOUND when the rows moved since. */
int  fs_gallery_row_image(fs_gallery *g, uint64_t row, const char *subject,
                          uint64_t *image_id, fs_detail *d);

/* Removes a subject with every record, template and image within the
 * batch (G20); FS_NOTFOUND when there is no such subject.  On failure the
 * caller aborts the batch. */
int  fs_gallery_remove(fs_gallery_batch *b, const char *subject,
                       fs_detail *d);

/* Walks every record and checks the invariants that tie them together
 * (rows dense and pointing back at their images, indexes complete,
 * counters right): FS_OK, or FS_EFORMAT naming the first broken one;
 * in a gallery whose recipe names a second model, an image without its
 * second template, or more of them than images, is FS_ETAMPER.  In
 * a sealed gallery it checks every meta MAC and opens every record,
 * image bytes included, so a failed MAC or tag anywhere is FS_ETAMPER
 * naming the record; it reads and decrypts the whole file. */
int  fs_gallery_verify(fs_gallery *g, fs_detail *d);

/* ---- compaction and the lock --------------------------------------------- */

/* Rewrites data.mdb without its free pages, so that nothing a removal or
 * an overwrite freed (a removed subject's records, an old wrapped key of
 * the gate's) survives in the file: a compacted copy is made under a
 * unique temporary name in the gallery directory, synced, renamed over
 * data.mdb and the directory synced; the handle then reopens the new
 * file (same key, still unlocked; a loaded matrix is released).  A crash
 * at any step leaves the old file or the new one; a temporary left by
 * one is removed by the next compaction.  Needs the exclusive lock (no
 * other handle open, in this process or another, since it would go on
 * using the old file): waits up to a couple of seconds for it, then
 * FS_EBUSY with nothing changed.  Works whether the caller already holds
 * the lock exclusive (kept) or not (shared again after).  FS_EINVAL with
 * a batch open, FS_EACCESS on a read-only handle.  Should reopening fail
 * (FS_EIO and the like), the handle answers FS_EIO until closed. */
int  fs_gallery_compact(fs_gallery *g, fs_detail *d);

/* The handle's lock made exclusive, for an operation no other handle may
 * see half done (the gate's key rotation: one batch that re-keys, then a
 * compaction), waiting up to a couple of seconds for other handles to
 * close: FS_OK (also when already held), FS_EBUSY, FS_EACCESS on a
 * read-only handle.  Held only for such an operation: _lock_shared turns
 * it back. */
int  fs_gallery_lock_exclusive(fs_gallery *g, fs_detail *d);
void fs_gallery_lock_shared(fs_gallery *g);

/* ---- records of the modules above --------------------------------------- */

/* The gate keeps accounts, sessions, cases and the audit trail in the
 * gallery's environment so that each change commits with its audit entry.
 * Its records live in tables numbered 1..255 by the caller, ordered by
 * key bytes; the bytes are the caller's, who seals what must be sealed.
 * A record read stays valid until the next write in its batch or the
 * batch's end. */
#define FS_RECORD_KEY_MAX 400

typedef struct fs_record {
    const uint8_t *key;
    size_t         klen;
    const uint8_t *val;
    size_t         vlen;
} fs_record;

enum { FS_RECORD_NEW = 1 };   /* put: FS_EXISTS rather than overwrite */

/* FS_OK, or FS_NOTFOUND. */
int  fs_record_get(fs_gallery_batch *b, unsigned table, const void *key,
                   size_t klen, fs_record *out, fs_detail *d);
int  fs_record_put(fs_gallery_batch *b, unsigned table, const void *key,
                   size_t klen, const void *val, size_t vlen, int flags,
                   fs_detail *d);
/* FS_OK, or FS_NOTFOUND. */
int  fs_record_del(fs_gallery_batch *b, unsigned table, const void *key,
                   size_t klen, fs_detail *d);
/* The table's first record with a key at or after key (strictly after
 * when after is set; klen 0: from the table's start), or FS_NOTFOUND. */
int  fs_record_seek(fs_gallery_batch *b, unsigned table, const void *key,
                    size_t klen, int after, fs_record *out, fs_detail *d);
/* The table's last record, or FS_NOTFOUND when it is empty. */
int  fs_record_last(fs_gallery_batch *b, unsigned table, fs_record *out,
                    fs_detail *d);

/* ---- the template matrix ------------------------------------------------- */

/* A read-only view of n templates in memory, what the ranker scans. */
typedef struct fs_templates {
    const float    *vec;       /* n rows of FS_DESC_DIM floats, unit length;
                                  64-byte aligned */
    const uint32_t *subject;   /* n subject numbers; rows of one subject
                                  count once in a ranking */
    size_t          n;
} fs_templates;

/* Reads every template block in one sequential pass into memory owned by
 * the gallery, valid until fs_gallery_close or the next commit that puts
 * or removes templates (other records commit beside it and keep it).  A
 * later call hands back the same matrix while the gallery's rows are as
 * they were, whoever wrote since, and reads it afresh when not.  A sealed
 * block is decrypted once on the way: FS_ETAMPER naming the block when its
 * tag fails. */
int  fs_gallery_load(fs_gallery *g, fs_templates *out, fs_detail *d);

/* ---- ranking ------------------------------------------------------------- */

#define FS_RANK_MAX_K 1000

enum {                          /* instruction-set levels of the kernels */
    FS_ISA_GENERIC = 0,         /* plain C, the reference */
    FS_ISA_AVX2    = 1,         /* AVX2 + FMA */
    FS_ISA_AVX512  = 2          /* AVX-512 F/BW (+VNNI where present) */
};
/* The widest level this CPU and OS support. */
int         fs_isa_best(void);
const char *fs_isa_name(int isa);

enum {
    FS_RANK_EXACT      = 0,     /* the exact top k (see fs_rank_options'
                                   `exact` for how it is found) */
    FS_RANK_COMPRESSED = 1      /* int8 first pass, exact float re-rank of
                                   a shortlist: may miss a subject */
};

/* How an exact ranker finds its lists; every way gives the same lists,
 * bit for bit (the bounded pass proves which rows it may skip).  The
 * bounded pass needs an int8 copy of the matrix (FS_RANK_INT8_ROW_BYTES
 * a row beside the matrix's 512), built once over the whole matrix. */
enum {
    FS_EXACT_AUTO    = 0,       /* the float scan; from the second single-
                                   probe call on a gallery of
                                   FS_RANK_BOUNDED_MIN rows or more, the
                                   bounded pass (its copy is built then,
                                   so a ranker made for one search never
                                   pays for it) */
    FS_EXACT_SCAN    = 1,       /* always the float scan */
    FS_EXACT_BOUNDED = 2        /* the bounded pass for single probes and
                                   batches under 12, copy built at once */
};
/* From here the bounded pass wins by far and its copy soon pays for
 * itself (1 thread, AVX2, a shared machine: 64Ki rows 0.59 against 8.2 ms
 * a probe, copy 0.2 s; 256Ki 7.0 against 28.6 ms; 16Ki 0.19 against 0.31
 * ms but a copy of 38 ms; 4Ki: the scan wins, 0.09 against 0.12). */
#define FS_RANK_BOUNDED_MIN    65536
#define FS_RANK_INT8_ROW_BYTES 136  /* 128 int8 + the row's two bounds */

typedef struct fs_rank_options {
    int      mode;              /* FS_RANK_* */
    int      isa;               /* -1: fs_isa_best(); else at most that */
    fs_pool *pool;              /* NULL: the calling thread alone */
    size_t   shortlist;         /* compressed: subjects the first pass
                                   keeps, all of whose rows are re-ranked
                                   (at least k, at most 65536); 0: 2k + 64 */
    int      exact;             /* FS_RANK_EXACT: FS_EXACT_* */
} fs_rank_options;

typedef struct fs_ranker fs_ranker;

/* The ranker keeps a pointer to t's arrays (they must outlive it); the
 * compressed mode builds its own int8 copy here. */
int  fs_ranker_create(const fs_templates *t, const fs_rank_options *opt,
                      fs_ranker **out, fs_detail *d);
void fs_ranker_free(fs_ranker *r);
/* opt for a ranker that will serve search after search over n rows: an
 * exact ranker left to FS_EXACT_AUTO takes the bounded pass at once from
 * FS_RANK_BOUNDED_MIN rows (its copy built now, not on a second call). */
void fs_rank_options_kept(fs_rank_options *opt, size_t n);

/* The ranker over the gallery's matrix (fs_gallery_load, read on the
 * way), or over its subjects' means when the recipe says so, kept with
 * it: made for opt on first use, again when the matrix
 * or the options change, and valid as long as the matrix is (the gallery
 * frees it; *out is NULL when the gallery holds no template).  Kept in a
 * warm holder (fs_gallery_options.warm), an exact ranker's bounded pass
 * is built at once on a gallery of FS_RANK_BOUNDED_MIN rows or more, so
 * that a service's children inherit it made. */
int  fs_gallery_ranker(fs_gallery *g, const fs_rank_options *opt,
                       fs_ranker **out, fs_detail *d);

/* What a ranker runs, for reports: its level, the int8 kernel and the
 * shortlist it would re-rank for k (compressed mode), whether a single
 * probe now takes the bounded pass, the memory it reads. */
typedef struct fs_rank_info {
    int         mode, isa;
    const char *int8_kernel;    /* "avx512 vpdpbusd", "avx2 vpmaddwd", ... */
    size_t      shortlist;      /* 0 in exact mode */
    int         bounded;        /* 1: the bounded pass serves one probe */
    size_t      matrix_bytes;   /* the float matrix (the caller's) */
    size_t      copy_bytes;     /* the int8 copy and its bounds (ours);
                                   0 while not built */
    size_t      rescored;       /* rows the last call's bounded pass
                                   re-scored in float */
    size_t      fallbacks;      /* probes the bounded pass handed to the
                                   float scan (too many candidates), since
                                   creation */
} fs_rank_info;
void fs_ranker_info(const fs_ranker *r, size_t k, fs_rank_info *info);

typedef struct fs_hit {
    uint32_t subject;           /* subject number */
    uint32_t row;               /* the subject's best template */
    float    score;             /* cosine similarity */
} fs_hit;

/* Top k distinct subjects for each of nq unit-length probes (nq x
 * FS_DESC_DIM floats): hits[q * k ...] best first (score descending, then
 * subject number, then row ascending), nhits[q] how many (fewer than k
 * when the gallery has fewer subjects).  k in 1..FS_RANK_MAX_K; probes
 * must be finite (FS_EINVAL otherwise, nothing written).  Batches of 12
 * probes or more go through sgemm, whose rounding may differ from a
 * single probe's in the last bit.  Allocates nothing. */
int  fs_rank_topk(fs_ranker *r, const float *probes, size_t nq, size_t k,
                  fs_hit *hits, size_t *nhits);

/* ---- one template per subject ------------------------------------------- */

/* Each subject's mean template, for ranking subjects by it rather than by
 * their best image (issue 17: on lfw-dev with three images enrolled, the
 * mean gave rank-1 0.9831 and FNIR 0.082 at FPIR 0.01 where the best of
 * the three gave 0.9786 and 0.112).  t holds one row per subject, in
 * ascending subject number: the sum of the subject's rows (in double, in
 * row order) scaled to unit length, or the subject's one row as it is,
 * so a gallery of one image per subject ranks exactly as without it.
 * The rows of subject i of t are rows[start[i] .. start[i + 1]), in
 * ascending order.  Derived from the templates, so nothing of it is
 * stored: it is as sealed as they are. */
typedef struct fs_subject_means {
    fs_templates t;
    uint32_t    *start;        /* t.n + 1 */
    uint32_t    *rows;         /* of the templates it was made from */
    float       *own;          /* t.vec's memory */
    uint32_t    *own_subject;  /* t.subject's */
} fs_subject_means;

int  fs_subject_means_make(const fs_templates *from, fs_subject_means *out,
                           fs_detail *d);
void fs_subject_means_free(fs_subject_means *m);
/* n hits of a ranking of m->t for one probe: each row becomes the row of
 * `from` (what m was made from) of that subject nearest the probe, by
 * the ranking kernel's own score (ties: the lower row); subject and
 * score (the mean's) stay. */
void fs_subject_means_best_rows(const fs_subject_means *m,
                                const fs_templates *from, const float *probe,
                                fs_hit *hits, size_t n);

/* After fs_rank_topk with fs_gallery_ranker's ranker, for one probe:
 * where the recipe ranks subjects by their mean template, each hit's row
 * (a mean's) made the subject's row nearest the probe, so it names an
 * image; otherwise nothing to do. */
void fs_gallery_hit_rows(fs_gallery *g, const float *probe, fs_hit *hits,
                         size_t n);

#endif /* FS_INDEX_H */
