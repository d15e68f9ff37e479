/*
 * fs_gate_int.h - what the files of gate/ share; no other module
 * includes it.
 *
 * The gate's records live in the gallery's record tables:
 *   GT_META      name -> value: the gallery id, the wrapped keys and the
 *                key file's path (plain: read before the keys are known;
 *                the wrapping binds the other two), the audit chain's
 *                base and head (MAC'd under the audit key), and sealed:
 *                the profile text, the counters, the anchor's path
 *   GT_USERS     user name -> sealed account record
 *   GT_SESSIONS  sha256(token) -> sealed {user, created, expires}
 *   GT_AUDIT     sequence number (u64 BE) -> entry || its MAC
 *   GT_AGENCIES  agency name -> agency record (G7)
 *   GT_REQUESTS  request number (u64 BE) -> sealed request (G4)
 *   GT_SEARCHES  search number (u64 BE) -> sealed search: its request,
 *                model, k and list, or its image rejection (G9-G13)
 *   GT_PROBES    search number (u64 BE) -> sealed probe image (G12)
 *   GT_LEADS     lead number (u64 BE) -> sealed lead and its sign-offs
 *                (G14)
 *   GT_REPORTS   report number (u64 BE) -> sealed report as issued (G15)
 *   GT_RELEASES  release number (u64 BE) -> sealed release (G16)
 * Table numbers are stored; they are only ever appended.  Sealed records
 * are AES-256-GCM under the data key, bound to their table and key.
 */
#ifndef FS_GATE_INT_H
#define FS_GATE_INT_H

#include "fs_gate.h"
#include "../engine/base/fs_pack.h"

enum { GT_META = 1, GT_USERS = 2, GT_SESSIONS = 3, GT_AUDIT = 4,
       GT_AGENCIES = 5, GT_REQUESTS = 6, GT_SEARCHES = 7, GT_PROBES = 8,
       GT_LEADS = 9, GT_REPORTS = 10, GT_RELEASES = 11 };

#define GATE_ID_BYTES 16

/* What a verb required of its session (gate_require), so that its write
 * transactions can require it again. */
typedef struct gate_need {
    int      set;                         /* 0: no session check made */
    unsigned any_of;
    int      trained;
    char     action[48];
} gate_need;

struct fs_gate {
    fs_gallery *gal;
    char        dir[4096];
    uint8_t     id[GATE_ID_BYTES];
    char        id_hex[2 * GATE_ID_BYTES + 1];
    uint8_t     kek[FS_KEY_BYTES];        /* from the key file */
    uint8_t     data_key[FS_KEY_BYTES];   /* seals images and templates */
    uint8_t     audit_key[FS_KEY_BYTES];  /* MACs the audit trail */
    char        key_path[4096];
    char        anchor_path[4096];        /* where new heads are anchored */
    int         anchor_pending;           /* the batch appended entries: */
    uint64_t    anchor_seq;               /* its head, anchored at commit */
    uint8_t     anchor_digest[FS_SHA256_BYTES];
    fs_profile  profile;
    char       *profile_text;
    fs_user     who;                      /* the session's account */
    int         have_who;
    uint8_t     session[FS_SHA256_BYTES]; /* its token's hash, as stored */
    gate_need   need;                     /* what the verb checked it for */
    fs_gate_caller caller;                /* who calls, where their token
                                             lives */
    const fs_opener *opener;              /* how the files they name open */
    const fs_gate_ranker *ranker;         /* NULL, or the shards' (fs_shard.c) */
};

/* ---- authorization and transactions ------------------------------------- */

/* The person acting, checked afresh for each verb: the session valid, the
 * account enabled and holding one of any_of (0: any account), and, with
 * trained, a training date on record that is not in the future (G3, G9).
 * Refusals go on the trail under action. */
int  gate_require(fs_gate *g, unsigned any_of, int trained,
                  const char *action, fs_detail *d);

/* The session's standing, as the verb required it, checked again in b,
 * under the profile in force in b (gate_profile_now): a verb checks it
 * when it starts, and a write transaction that began later must not
 * commit for someone disabled, stripped of the role or logged out
 * meanwhile (a search ranks for seconds).  FS_OK when no verb required
 * any (init, a shard's own handle). */
int  gate_standing_now(fs_gate *g, fs_gallery_batch *b, fs_detail *d);
/* 1 for the codes a session is refused with (an ended, expired or copied
 * session, a disabled account, a missing role or training, a tampered
 * record), which go on the trail; 0 for faults (I/O, memory). */
int  gate_standing_refused(int rc);

/* The profile in force as b holds it, the handle's copy replaced when
 * another handle set a new one since it was read: a verb works under the
 * profile of its start and commits under the one of its commit (the
 * service keeps a handle open for days; a search ranks for seconds). */
int  gate_profile_now(fs_gate *g, fs_gallery_batch *b, fs_detail *d);

/* The one write path: a batch, the change through it, and the commit
 * that appends the session user's entry first; a failed change can only
 * be aborted.  gate_change runs change(ctx, b, d) so, once the session's
 * standing holds in b (gate_standing_now); a change refused by
 * a rule or its input (FS_DENIED, FS_EINVAL, FS_EXISTS, FS_NOTFOUND) goes
 * on the trail as refused, with the reason. */
int  gate_begin(fs_gate *g, fs_gallery_batch **b, fs_detail *d);
/* gate_begin, then gate_standing_now in the batch; when the standing does
 * not hold, nothing is written but the refusal, under e's action and
 * objects. */
int  gate_begin_standing(fs_gate *g, fs_gallery_batch **b,
                         const fs_audit_entry *e, fs_detail *d);
int  gate_read(fs_gate *g, fs_gallery_batch **b, fs_detail *d);
int  gate_commit(fs_gate *g, fs_gallery_batch *b, const fs_audit_entry *e,
                 fs_detail *d);
int  gate_audit(fs_gate *g, fs_gallery_batch *b, const fs_audit_entry *e,
                fs_detail *d);
int  gate_change(fs_gate *g,
                 int (*change)(void *ctx, fs_gallery_batch *b, fs_detail *d),
                 void *ctx, const fs_audit_entry *e, fs_detail *d);
/* An action that changes nothing, on the trail; a read (G18), before
 * anything is shown. */
int  gate_note(fs_gate *g, const fs_audit_entry *e, fs_detail *d);
int  gate_note_read(fs_gate *g, const char *action, const char *objects,
                    fs_detail *d);
/* A read verb's opening: gate_require (untrained roles), then the reading
 * on the trail. */
int  gate_require_read(fs_gate *g, unsigned any_of, const char *action,
                       const char *objects, fs_detail *d);

/* A change that must leave nothing of what it replaced in the file (key
 * rotation, removal): with the gallery alone (its lock exclusive; a
 * refusal on the trail under action and objects when another handle
 * keeps it, FS_EBUSY), work(ctx), then, when it succeeded, compaction
 * (fs_rotate.c). */
int  gate_alone(fs_gate *g, const char *action, const char *objects,
                int (*work)(void *ctx, fs_detail *d), void *ctx,
                fs_detail *d);

/* Room for one more item of size bytes in the array *v that holds n of
 * *cap: doubled when full (FS_ENOMEM, *v intact). */
int  gate_room_for_one(void **v, size_t n, size_t *cap, size_t size,
                       fs_detail *d);

/* ---- sealed records ---------------------------------------------------------- */

/* Records keyed by a sequence number: the key bytes (u64 big-endian, so
 * they sort in order) and the id people see, prefix and number ("R12"). */
void gate_seq_key(uint64_t seq, uint8_t key[8]);
uint64_t gate_seq_of(const uint8_t key[8]);
void gate_id_format(char prefix, uint64_t seq, char id[FS_ID_MAX]);
/* FS_NOTFOUND (with the detail) unless id is prefix and a number. */
int  gate_id_parse(const char *id, char prefix, uint64_t *seq, fs_detail *d);
/* The next number (1, 2, ...) for a record of table (GT_REQUESTS,
 * GT_SEARCHES, GT_LEADS, GT_REPORTS or GT_RELEASES, each keyed by its
 * numbers, gate_seq_key), from the table's counter in GT_META: FS_ETAMPER
 * when the table already holds that number or a later one (the counter
 * deleted or rolled back offline), so no record is ever overwritten. */
int  gate_next_seq(fs_gate *g, fs_gallery_batch *b, unsigned table,
                   uint64_t *seq, fs_detail *d);
/* The number of agency records in n, FS_ETAMPER when it is not the
 * sealed count of agencies added (they are never removed, so a record
 * deleted offline, which would lift a suspension, shows) (G7, G21). */
int  gate_agencies_counted(fs_gate *g, fs_gallery_batch *b, uint64_t *n,
                           fs_detail *d);
/* Every numbering counter ahead of its table's records (gallery verify). */
int  gate_counters_hold(fs_gate *g, fs_gallery_batch *b, fs_detail *d);

/* Sealed under the data key, bound to table and key: a record moved,
 * edited or planted is FS_ETAMPER naming what.  get returns the plain
 * bytes in a buffer the caller wipes and frees. */
int  gate_sealed_put(fs_gate *g, fs_gallery_batch *b, unsigned table,
                     const void *key, size_t klen, const void *val,
                     size_t len, fs_detail *d);
int  gate_sealed_get(fs_gate *g, fs_gallery_batch *b, unsigned table,
                     const void *key, size_t klen, uint8_t **val,
                     size_t *len, fs_detail *d);
/* Every sealed record of the gate's tables opened (FS_ETAMPER at the
 * first that fails): with key, re-sealed under it in the batch (key
 * rotation); with NULL, only checked (gallery verify). */
int  gate_sealed_all(fs_gate *g, fs_gallery_batch *b, const uint8_t *key,
                     fs_detail *d);
/* The same for a record already read (a walk). */
int  gate_sealed_open(fs_gate *g, unsigned table, const fs_record *r,
                      uint8_t **val, size_t *len, fs_detail *d);

/* The meta records read before the keys are known: plain (id, keys,
 * key_path, key.pending). */
int  gate_meta_plain_get(fs_gallery_batch *b, const char *name, char *out,
                         size_t cap, fs_detail *d);
int  gate_meta_plain_put(fs_gallery_batch *b, const char *name,
                         const void *val, size_t len, fs_detail *d);
/* Meta values, sealed as case records are: a NUL-terminated copy
 * (FS_NOTFOUND when absent, FS_ETAMPER when edited). */
int  gate_meta_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                   char *out, size_t cap, fs_detail *d);
int  gate_meta_put(fs_gate *g, fs_gallery_batch *b, const char *name,
                   const void *val, size_t len, fs_detail *d);
/* A count kept as a sealed meta value: 0 when absent, FS_ETAMPER when it
 * is not a positive decimal (no count is ever written as 0). */
int  gate_meta_count_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                         uint64_t *v, fs_detail *d);
int  gate_meta_count_put(fs_gate *g, fs_gallery_batch *b, const char *name,
                         uint64_t v, fs_detail *d);

/* Accounts (fs_account.c), sealed in GT_USERS: an edited, moved or
 * planted record is FS_ETAMPER naming the account. */
int  gate_user_get(fs_gate *g, fs_gallery_batch *b, const char *name,
                   fs_user *u, uint8_t pwrec[], fs_detail *d);
int  gate_user_put(fs_gate *g, fs_gallery_batch *b, const fs_user *u,
                   const uint8_t pwrec[], fs_detail *d);
#define GATE_PWREC_BYTES 64                /* algorithm, cost, salt, hash */
int  gate_password_hash(const char *password, uint8_t pwrec[]);
/* 1 when password matches, 0 when not; the same work either way. */
int  gate_password_verify(const char *password, const uint8_t pwrec[]);
/* Creates the first administrator (fs_gate_create). */
int  gate_user_create(fs_gate *g, fs_gallery_batch *b, const fs_user *u,
                      const char *password, int min_len, fs_detail *d);
/* A failed password check (fs_session.c), ending batch b: with pwrec,
 * counted against u (locking it after the profile's number in a row)
 * and u written back; the entry under action with why; committed, then
 * the profile's delay.  FS_OK when all that is done. */
int  gate_login_failed(fs_gate *g, fs_gallery_batch *b, const char *name,
                       fs_user *u, const uint8_t pwrec[], const char *action,
                       const char *why, fs_detail *d);

/* Ends every session of user but the one whose token hash is keep
 * (NULL: all), in the batch: a password changed or set ends the others
 * (fs_session.c). */
/* The caller a gate starts with: this process's user, whose token is in
 * their session file. */
void gate_caller_default(fs_gate *g);
int  gate_sessions_end(fs_gate *g, fs_gallery_batch *b, const char *user,
                       const uint8_t *keep, fs_detail *d);

/* Keys (fs_keys.c). */
int  gate_keyfile_default(const uint8_t id[GATE_ID_BYTES], char *path,
                          size_t cap, fs_detail *d);
int  gate_keyfile_create(const char *path, const char *id_hex,
                         const uint8_t kek[FS_KEY_BYTES], fs_detail *d);
int  gate_keyfile_read(const char *path, const char *id_hex,
                       uint8_t kek[FS_KEY_BYTES], fs_detail *d);
/* The data and audit keys sealed under kek, for GT_META "keys", bound to
 * the gallery's id and the key file's recorded path. */
#define GATE_WRAPPED_BYTES (2 * FS_KEY_BYTES + FS_SEAL_OVERHEAD)
#define GATE_KEYS_AAD_MAX  (32 + 4096)
int  gate_keys_wrap(const fs_gate *g, const uint8_t kek[FS_KEY_BYTES],
                    const char *key_path, uint8_t out[GATE_WRAPPED_BYTES]);
int  gate_keys_unwrap(fs_gate *g, const uint8_t kek[FS_KEY_BYTES],
                      const char *key_path,
                      const uint8_t in[GATE_WRAPPED_BYTES]);
/* path made absolute against the working directory, as written (a path
 * recorded in the gallery serves commands run from anywhere). */
int  gate_path_absolute(const char *path, char out[4096], fs_detail *d);
/* FS_EKEY when the key file is (or would be) inside the gallery's
 * directory (G21). */
int  gate_keyfile_outside(const char *key_path, const char *dir,
                          fs_detail *d);
/* rename(from, to) made durable (the directory synced). */
int  gate_file_replace(const char *from, const char *to, fs_detail *d);

/* The audit trail (fs_audit.c). */
int  gate_audit_append(fs_gate *g, fs_gallery_batch *b, const char *user,
                       const char *unit, const fs_audit_entry *e,
                       fs_detail *d);
int  gate_audit_start(fs_gate *g, fs_gallery_batch *b, fs_detail *d);
/* Calls fn for every entry, oldest first, each checked against the chain
 * before fn sees it (FS_ETAMPER at the first that fails); no note. */
int  gate_audit_each(fs_gate *g,
                     int (*fn)(void *ctx, const fs_audit_record *r),
                     void *ctx, fs_detail *d);
/* Key rotation: the chain verified under the audit key, then every MAC
 * (entries, base, head) made again under key; FS_ETAMPER leaves a broken
 * trail as it is, for audit verify to show. */
int  gate_audit_rekey(fs_gate *g, fs_gallery_batch *b,
                      const uint8_t key[FS_KEY_BYTES], fs_detail *d);
/* Every gate commit: the batch, then, when it appended entries, its new
 * head on the anchor (the anchor file and the system log). */
int  gate_txn_commit(fs_gate *g, fs_gallery_batch *b, fs_detail *d);

/* Calls fn for every record of a sealed table in key order, opened (but
 * those plain(r) says are not sealed, when plain is given); fn may write
 * in the batch, and returning non-zero stops the walk with that value. */
int  gate_walk_sealed(fs_gate *g, fs_gallery_batch *b, unsigned table,
                      int (*plain)(const fs_record *r),
                      int (*fn)(void *ctx, const fs_record *r,
                                const uint8_t *v, size_t len, fs_detail *d),
                      void *ctx, fs_detail *d);

/* G7: an agency other than the filing user's own unit is an outside
 * agency, which needs the profile's leave, an agreement on file, no
 * suspension and the requester's acknowledgement of the disclaimer. */
int  gate_outside_ok(fs_gate *g, fs_gallery_batch *b, const char *agency,
                     int ack, fs_detail *d);

/* Requests (fs_request.c): the record, read and written in a batch. */
int  gate_request_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                      fs_request *r, fs_detail *d);
int  gate_request_put(fs_gate *g, fs_gallery_batch *b, const fs_request *r,
                      fs_detail *d);
/* A request's bytes as stored (version first; a report keeps the request
 * as it stood in them): unpack is FS_ETAMPER for damaged bytes. */
void gate_request_pack(fs_wbuf *w, const fs_request *r);
int  gate_request_unpack(const uint8_t *p, size_t len, fs_request *r);
/* 1 when the session's user may see r: a requester who holds no other
 * role sees only the requests they filed (and their leads). */
int  gate_request_visible(const fs_gate *g, const fs_request *r);
/* Searches (fs_search.c), as stored: who searched, when, for which
 * request, and the released list or the image rejection's reasons. */
/* The gallery's ranker as searches use it (fs_gallery_ranker, the
 * engine's threads, the gallery's rank mode): a search, and the service's
 * warm-up, which must ask for the very same one. *rk NULL: no template. */
int  gate_ranker(fs_gate *g, fs_engine *e, fs_ranker **rk, fs_detail *d);
/* The engine held to the gallery's recipe before it makes a template
 * for it: the same first model, the second model the recipe names
 * (FS_EMODEL otherwise, saying what is missing), and the mirror set as
 * the recipe has it.  *out (may be NULL): the recipe. */
int  gate_engine_fits(fs_gate *g, fs_engine *e, fs_recipe *out,
                      fs_detail *d);

typedef struct gate_search {
    char     id[FS_ID_MAX];
    char     request[FS_ID_MAX];
    uint64_t request_seq;
    char     examiner[FS_USER_MAX];
    int64_t  time;                    /* unix seconds */
    int      released;                /* 0: an image rejection (G13) */
    char     model[64];
    int      k, face;
    uint8_t  probe_sha256[FS_SHA256_BYTES];
    char     reasons[256];
    double   standing_floor;          /* -INFINITY: none (or version 1) */
    size_t   held_back;               /* by the floor */
    size_t   n;
    fs_candidate list[];
} gate_search;
/* The standing (issue 17, fs_search.c): how many subjects a list of k
 * ranks so that each listed one's cohort of FS_EVAL_COHORT others is
 * among them, max(k, FS_EVAL_COHORT + 1).  gate_standing: the standing
 * of the first n of nh hits ranked so (best first, or the whole
 * gallery), by fs_eval_normalise over those nh scores: FS_OK or
 * FS_ENOMEM.  gate_standing_floor: keeps, in order and renumbered, the
 * candidates of c[0..*n) (and their rows, row may be NULL) whose
 * standing is at least floor, wipes the rest, sets *n, and returns how
 * many it held back; floor -INFINITY (none) keeps the list as it is. */
size_t gate_standing_depth(int k);
int    gate_standing(const fs_hit *hits, size_t nh, size_t n,
                     float *standing);
size_t gate_standing_floor(fs_candidate *c, uint32_t *row, size_t *n,
                           double floor);
/* A search record opened (gate_walk_sealed's rec and bytes): FS_ETAMPER
 * when damaged.  Freed with gate_search_free. */
int  gate_search_unpack(const fs_record *rec, const uint8_t *v, size_t len,
                        gate_search **out, fs_detail *d);
int  gate_search_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                     gate_search **out, fs_detail *d);
void gate_search_free(gate_search *s);
/* The probe of search s, in a buffer the caller wipes and frees:
 * FS_NOTFOUND once purged (G12). */
int  gate_probe_get(fs_gate *g, fs_gallery_batch *b, const gate_search *s,
                    uint8_t **bytes, size_t *len, fs_detail *d);
/* Every lead (fs_review.c), report and release (fs_report.c) in the
 * batch, oldest first, for the oversight figures (fs_stats.c); fn
 * returning non-zero stops the walk with that value. */
int  gate_leads_each(fs_gate *g, fs_gallery_batch *b,
                     int (*fn)(void *ctx, const fs_lead *l), void *ctx,
                     fs_detail *d);
int  gate_reports_each(fs_gate *g, fs_gallery_batch *b,
                       int (*fn)(void *ctx, const fs_report *r), void *ctx,
                       fs_detail *d);
int  gate_releases_each(fs_gate *g, fs_gallery_batch *b,
                        int (*fn)(void *ctx, const fs_release *r),
                        void *ctx, fs_detail *d);
/* Leads (fs_review.c): a lead in the batch, and what a request's leads
 * allow (the close of a request, a report): how many are proposed (still
 * in review) and approved. */
int  gate_lead_get(fs_gate *g, fs_gallery_batch *b, const char *id,
                   fs_lead *l, fs_detail *d);
int  gate_leads_of(fs_gate *g, fs_gallery_batch *b, const char *request,
                   unsigned *proposed, unsigned *approved, fs_detail *d);
/* A lead's bytes as stored (version first; a report keeps the lead with
 * its sign-offs as it stood in them): unpack is FS_ETAMPER when damaged. */
void gate_lead_pack(fs_wbuf *w, const fs_lead *l);
int  gate_lead_unpack(const uint8_t *p, size_t len, fs_lead *l);
/* Probes (fs_search.c): removes every probe of a request (G12). */
int  gate_probes_drop(fs_gallery_batch *b, const char *request,
                      uint64_t *n, fs_detail *d);
/* The enroller's way in (fs_care.c), after it checked the admin: the
 * gallery to read, and the write of a batch with its entry; with rcs,
 * an image refused before any write (FS_EINVAL, why[i]) is left out
 * rather than failing the batch. */
fs_gallery *gate_gallery(fs_gate *g);
int  gate_enroll_put(fs_gate *g, const fs_mugshot *m, size_t n,
                     fs_put_result *res, int *rcs, fs_detail *why,
                     fs_detail *d);
/* The home's shard set, checked current against its counts (fs_shard.c):
 * FS_NOTFOUND when never sharded, FS_EFORMAT when stale. */
int  gate_shard_set(fs_gate *g, fs_shard_set *set, fs_detail *d);
/* Key rotation's first check: FS_OK when the gallery has no shards, else
 * FS_EXISTS on the trail, saying how to drop and make them again (their
 * placement and seals follow the keys: rotated, nothing opens them). */
int  gate_shard_rotation_guard(fs_gate *g, fs_detail *d);
/* A date YYYY-MM-DD that exists: 1, else 0. */
int  gate_valid_date(const char *s);

int64_t gate_now_us(void);

/* A refused action on the trail, under user (the session's, or the name
 * tried), in a transaction of its own; returns rc.  Best effort: a trail
 * that cannot take it has refused the action anyway. */
int  gate_refusal(fs_gate *g, const char *user, const char *unit,
                  const char *action, const char *objects, int rc,
                  const fs_detail *why);

#endif /* FS_GATE_INT_H */
