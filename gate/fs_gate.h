/*
 * fs_gate.h - the policy gate: the profile a gallery runs under, accounts
 * and roles, sessions, keys, agencies and requests, the gated search, the
 * gallery's care and the tamper-evident audit trail (rules G1-G13, G18,
 * G20, G21 of GATE.md).
 *
 * The gate is the only door to the gallery.  A gate is a gallery opened
 * for people; the unlocked gallery never leaves it.  Every verb below
 * checks, itself, who acts (the session), their roles and training, and
 * the policy conditions of the action, so that every front end (the CLI,
 * the service, a test) inherits the same checks.  Everything the gate
 * keeps lives in the gallery's LMDB environment, so every change commits
 * in one transaction with the audit entry that records it: an action
 * without its entry cannot happen (G18), and a refusal is on the trail
 * too.  The one way to subject ids and scores for a probe is
 * fs_gate_search, which returns an opaque candidate list only after every
 * condition of G10 holds and the search, sealed, is committed with its
 * entry.
 *
 * Keys (G21): a random data key seals the gallery's images and templates
 * and a separate random audit key MACs the trail; both are stored only
 * wrapped (AES-256-GCM) by a key-encryption key that lives in a key file
 * outside the gallery (0600), never in it.  Rotation re-wraps them.
 *
 * Who acts: a session opened by fs_gate_login leaves a random token in a
 * 0600 file under the user's runtime (or config) directory; the gallery
 * keeps only its hash and expiry.  fs_gate_session checks the token, the
 * account and the roles an action needs, and records refusals.
 *
 * Not thread-safe: a gate serves one thread.  Library code: never prints;
 * the human detail of a failure goes to the caller's fs_detail.
 */
#ifndef FS_GATE_H
#define FS_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_error.h"
#include "../engine/base/fs_file.h"
#include "../engine/fs_engine.h"
#include "../detect/fs_detect.h"
#include "../index/fs_index.h"

/* ---- profiles ------------------------------------------------------------ */

/* A policy profile: the plain-text file an administrator can read and
 * edit (`key = value` lines, `#` comments, list keys repeated), parsed
 * strictly: an unknown key, a bad value or a missing required key is
 * FS_EINVAL naming the line.  The gallery keeps the text it runs under. */
#define FS_PROFILE_LIST_MAX 32

/* G6: the phrasings that state a prohibited purpose in other words.  A
 * profile gives them as repeatable, optional lines
 *
 *     prohibited_terms = immigration-status: deport* | visa overstay
 *
 * where the purpose before ':' is one of its `prohibited` slugs and each
 * phrase is 1-47 characters of letters, digits, spaces, apostrophes and
 * hyphens; a trailing '*' makes its last word a prefix (a stem).  Stored
 * lower case with every run of spaces, apostrophes and hyphens as one
 * space, the form fs_profile_prohibited compares. */
#define FS_PROFILE_TERMS_MAX 1024
#define FS_PROFILE_TERM_MAX  48     /* bytes of a phrase, with the NUL */

typedef struct fs_profile_term {
    unsigned char purpose;          /* index into fs_profile.prohibited */
    char          phrase[FS_PROFILE_TERM_MAX];
} fs_profile_term;

typedef struct fs_profile {
    char     name[32];
    char     title[160];
    char     source[160];
    char     disclaimer[1024];
    char     authorized_use[FS_PROFILE_LIST_MAX][64];
    int      n_authorized_use;
    char     prohibited[FS_PROFILE_LIST_MAX][64];
    int      n_prohibited;
    fs_profile_term terms[FS_PROFILE_TERMS_MAX];  /* G6 */
    int      n_terms;
    int      forbid_recorded_video;
    int      review_examiners, review_supervisors, review_written_signoff;
    int      retention_audit_days, retention_probe_days;
    int      purge_probe_on_no_candidate;
    int      outside_allowed, outside_require_mou, outside_require_ack;
    int      reports_weekly, reports_monthly_audit, reports_annual;
    int      audit_sample_percent;            /* 0: not stated */
    int      session_hours;
    int      login_max_failures, login_lockout_minutes;
    int      login_failure_delay_ms;
    int      password_min_length;
    fs_quality_limits quality;        /* G13: what makes a probe unfit */
    /* search.standing_floor: a candidate whose standing (fs_candidate)
     * is below it is not listed; -INFINITY (the key absent): none */
    double   standing_floor;
} fs_profile;

int  fs_profile_parse(const char *text, size_t len, fs_profile *p,
                      fs_detail *d);
/* The shipped profiles' names, NULL-terminated: detroit, miami, ... */
extern const char *const fs_profile_names[];
/* The text of a shipped profile, or NULL when there is none of that name. */
const char *fs_profile_builtin(const char *name);
/* A shipped profile by name, or else a profile file (a path holding '/'
 * or '.'), parsed; *text (when not NULL) receives its text, which the
 * caller frees.  FS_NOTFOUND for an unknown name. */
int  fs_profile_load(const char *name_or_path, fs_profile *p, char **text,
                     fs_detail *d);
/* The same, a file opened through o (NULL: by this process). */
int  fs_profile_load_as(const fs_opener *o, const char *name_or_path,
                        fs_profile *p, char **text,
                     fs_detail *d);
/* The keys whose values differ between a and b, comma-separated in the
 * order profiles list them, into out (cap bytes, NUL-terminated; cut
 * short with "..." when it does not fit; "" when none).  Returns how
 * many differ. */
int  fs_profile_diff(const fs_profile *a, const fs_profile *b, char *out,
                     size_t cap);
/* G6: 1 when text states one of p's prohibited purposes, in the words of
 * its slug (hyphens as spaces) or of one of its prohibited_terms, with
 * the slug of the first such purpose in the text written to purpose
 * (truncated to cap; NULL or 0 to skip); else 0, also for NULL or "".
 * Compared case-blind on whole words, every run of characters other than
 * letters and digits counting as one space: "rally" does not match
 * "rallying", "ice" not "police".  No allocation; time linear in the text
 * times the number of phrases. */
int  fs_profile_prohibited(const fs_profile *p, const char *text,
                           char *purpose, size_t cap);

/* ---- accounts and roles (G1-G3) --------------------------------------------- */

enum {
    FS_ROLE_ADMIN      = 1u << 0,   /* users, gallery, profile, audits */
    FS_ROLE_EXAMINER   = 1u << 1,   /* searches, proposes leads (trained) */
    FS_ROLE_SUPERVISOR = 1u << 2,   /* approves leads (trained) */
    FS_ROLE_REQUESTER  = 1u << 3,   /* submits requests, receives reports */
    FS_ROLE_AUDITOR    = 1u << 4    /* reads the audit trail and reports */
};
#define FS_ROLES_TRAINED (FS_ROLE_EXAMINER | FS_ROLE_SUPERVISOR)

/* "examiner,supervisor" <-> bits; FS_EINVAL names an unknown role. */
int  fs_roles_parse(const char *list, unsigned *roles, fs_detail *d);
void fs_roles_format(unsigned roles, char *buf, size_t cap);

#define FS_USER_MAX 64              /* bytes of a user name, with the NUL */

typedef struct fs_user {
    char     name[FS_USER_MAX];
    char     unit[FS_FIELD_MAX];
    unsigned roles;
    char     trained[11];           /* YYYY-MM-DD, or "" */
    int      disabled;
    int64_t  created;               /* unix seconds */
    int      failures;              /* failed logins in a row */
    int64_t  locked_until;          /* unix seconds; 0: not locked */
} fs_user;

/* FS_OK when name is a valid user name: 1-63 bytes of [a-z0-9._-],
 * starting with a letter. */
int  fs_user_check_name(const char *name, fs_detail *d);
/* The strength rule: at least min_len characters, three of lower case,
 * upper case, digits and others (or twice min_len of anything), not
 * containing the user name, not one character repeated.  FS_EINVAL
 * saying which part fails; the password itself is never quoted. */
int  fs_password_check(const char *password, const char *user, int min_len,
                       fs_detail *d);

/* ---- the gate ------------------------------------------------------------ */

typedef struct fs_gate fs_gate;

typedef struct fs_gate_init {
    const char *profile_text;       /* the profile file's bytes */
    size_t      profile_len;
    const char *admin;              /* the first administrator */
    const char *unit;
    const char *password;           /* checked against the profile's rule */
    const char *key_file;           /* NULL: the default under
                                       $XDG_CONFIG_HOME/facesearch/;
                                       never inside the gallery (G21) */
    const char *model_id;           /* the model the gallery's templates */
    const char *model_sha256;       /* will come from */
    const char *anchor_file;        /* NULL: beside the key file, with
                                       the suffix .anchor (G18) */
    const fs_recipe *recipe;        /* how its templates are made, fixed
                                       for its life (fs_index.h); NULL:
                                       the model alone, no mirror */
} fs_gate_init;

/* Creates the gallery at dir (which must not exist) with its keys, its
 * key file (created 0600, never overwritten), its profile and its first
 * administrator, and the first audit entry; all or nothing.  key_path
 * receives where the key file went. */
int  fs_gate_create(const char *dir, const fs_gate_init *in,
                    char *key_path, size_t key_path_cap, fs_detail *d);

typedef struct fs_gate_options {
    const char *key_file;           /* NULL: the gallery's recorded path */
    const char *model_id;           /* as fs_gallery_options */
    const char *model_sha256;
    fs_gallery_warm *warm;          /* as fs_gallery_options */
    int         nowait;
    int         alone_wait_ms;      /* as fs_gallery_options */
} fs_gate_options;

/* Opens the gallery at dir and unlocks it with the key file: FS_EKEY
 * when the file is missing, too open (not 0600), or not this gallery's. */
int  fs_gate_open(const char *dir, const fs_gate_options *opt, fs_gate **out,
                  fs_detail *d);
void fs_gate_close(fs_gate *g);
/* Reads the gallery's template matrix into the warm holder the gate was
 * opened with (the service, before it serves anyone) and makes the
 * ranker searches with e will use (on a large gallery its bounded pass:
 * fs_gallery_ranker): no session, as nothing leaves the process;
 * searches then rank without reading or building anything. */
int  fs_gate_warm(fs_gate *g, fs_engine *e, fs_detail *d);

const fs_profile *fs_gate_profile(const fs_gate *g);
/* The profile's text as the gallery keeps it, for a person to read (any
 * account; the reading goes on the trail). */
int  fs_gate_profile_show(fs_gate *g, const char **text, fs_detail *d);
/* The key file in use. */
const char       *fs_gate_key_path(const fs_gate *g);
/* The anchor file init picks when given none: the key file's path with
 * .key replaced by .anchor (or .anchor appended). */
int  fs_gate_anchor_default(const char *key_path, char *out, size_t cap);

/* ---- sessions ----------------------------------------------------------- */

#define FS_TOKEN_BYTES 32

/* Who calls the gate, and where their session token lives.  A session is
 * bound to the OS user who opened it: a token presented by another uid
 * (a copied session file) opens nothing (FS_ESESSION, audited).  By
 * default the caller is this process's user and the token sits in their
 * session file (fs_session_*); a front end that serves other users (the
 * service) names the uid the kernel reports for the peer and keeps the
 * token on the peer's side: load gives the caller's token (FS_ESESSION
 * when there is none), save keeps a new one and drop forgets it, each
 * saying where in where (cap bytes). */
typedef struct fs_gate_caller {
    uint32_t uid;
    int    (*load)(void *ctx, uint8_t token[FS_TOKEN_BYTES], fs_detail *d);
    int    (*save)(void *ctx, const uint8_t token[FS_TOKEN_BYTES],
                   char *where, size_t cap, fs_detail *d);
    int    (*drop)(void *ctx, char *where, size_t cap, fs_detail *d);
    void    *ctx;
} fs_gate_caller;
void fs_gate_set_caller(fs_gate *g, const fs_gate_caller *c);
/* Files the caller names to a verb (an anchor's copy) are opened through
 * o (NULL: by this process); the gallery's own files never are. */
void fs_gate_set_opener(fs_gate *g, const fs_opener *o);
/* The gallery's id (hex): what names its session files. */
const char *fs_gate_id(const fs_gate *g);

/* This OS user's session file for the gallery of that id, under
 * $XDG_RUNTIME_DIR/facesearch/ (else $XDG_CONFIG_HOME/facesearch/
 * sessions/): the token read (FS_ESESSION when there is none, or the file
 * is not a private file of this user), written 0600 (path receives where),
 * or removed. */
int  fs_session_load(const char *gallery_id, uint8_t token[FS_TOKEN_BYTES],
                     fs_detail *d);
int  fs_session_save(const char *gallery_id,
                     const uint8_t token[FS_TOKEN_BYTES], char *path,
                     size_t cap, fs_detail *d);
int  fs_session_drop(const char *gallery_id, char *path, size_t cap,
                     fs_detail *d);
/* Whether this OS user has a session file for the gallery, sound or not
 * (what tells "not logged in" from "a session file refused"). */
int  fs_session_exists(const char *gallery_id);

/* Checks name and password (constant-time, slow hash) and opens a
 * session: FS_EAUTH, one answer with one message, for an unknown user, a
 * wrong password, an account locked after repeated failures and a
 * disabled one (G3), after the same hash work and the profile's delay;
 * FS_ETAMPER for an account record that fails its check.  Every attempt
 * is audited with its true reason.  The token goes to a 0600 file whose
 * path session_path receives. */
int  fs_gate_login(fs_gate *g, const char *name, const char *password,
                   char *session_path, size_t cap, fs_detail *d);
/* Ends this OS user's session on this gallery (the one fs_gate_session
 * found, else it is looked up): FS_ESESSION when none. */
int  fs_gate_logout(fs_gate *g, fs_detail *d);

/* The person acting: this OS user's session on this gallery, valid and
 * unexpired, for an enabled account holding at least one of the roles in
 * any_of (0: any account).  FS_ESESSION (no session, expired, forged),
 * FS_ETAMPER (its record or the account's edited, moved or planted),
 * FS_EDISABLED, or FS_DENIED naming the missing role; refusals are
 * audited under action.  On success the gate acts as *who from then on. */
int  fs_gate_session(fs_gate *g, unsigned any_of, const char *action,
                     fs_user *who, fs_detail *d);

/* ---- the audit trail (G18) ------------------------------------------------ */

typedef struct fs_audit_entry {
    const char *action;             /* "user add", "enroll", "login" ... */
    const char *case_no;            /* NULL or "" when none */
    const char *justification;
    const char *objects;            /* ids the action touched */
    const char *outcome;            /* "ok", or what was refused and why */
} fs_audit_entry;

typedef struct fs_audit_record {
    uint64_t seq;
    int64_t  time_us;               /* unix microseconds */
    char     user[FS_USER_MAX];
    char     unit[FS_FIELD_MAX];
    char     action[64];
    char     case_no[FS_FIELD_MAX];
    char     justification[1024];
    char     objects[1024];
    char     outcome[512];
} fs_audit_record;

/* What fs_audit_verify found. */
typedef struct fs_audit_check {
    uint64_t entries;               /* entries verified */
    uint64_t first, last;           /* their numbers (last 0: none kept) */
    uint64_t bad;                   /* FS_ETAMPER: the first bad entry */
    char     anchor[4096];          /* the anchor file read; "" when none */
    uint64_t anchored;              /* its lines that matched the trail */
    uint64_t anchor_last;           /* the newest entry it records */
    uint64_t anchor_purged;         /* its lines older than the trail's
                                       start (purged under retention) */
} fs_audit_check;

/* Walks the whole chain (admin, auditor): every entry's MAC over the one
 * before it, the numbering, the recorded head and base.  Then the anchor
 * (anchor, or with NULL the gallery's own anchor file when it can be
 * read): every entry it records must be there with the same content, and
 * none may be newer than the trail's head, so a trail cut back or wiped
 * with its head rewritten shows.  FS_OK, or FS_ETAMPER with c->bad the
 * first entry that fails (edited, inserted, removed or moved there) and
 * the detail saying what was found; FS_ENOENT when a named anchor cannot
 * be read.  The check and its finding go on the trail after it. */
int  fs_audit_verify(fs_gate *g, const char *anchor, fs_audit_check *c,
                     fs_detail *d);

typedef struct fs_audit_filter {
    int64_t     since_us, until_us;  /* 0: unbounded */
    const char *user;                /* NULL: anyone */
    const char *case_no;             /* NULL: any */
} fs_audit_filter;

/* Calls fn for each entry that passes f, oldest first (admin, auditor;
 * the reading goes on the trail first), verifying the chain as it goes:
 * it stops at the first entry that fails with FS_ETAMPER naming it, and
 * after the last with FS_ETAMPER when the head says entries were cut.
 * fn returning non-zero stops the walk with that value. */
int  fs_audit_walk(fs_gate *g, const fs_audit_filter *f,
                   int (*fn)(void *ctx, const fs_audit_record *r), void *ctx,
                   fs_detail *d);

/* Removes the entries older than before_us, keeping the chain
 * verifiable (admin); FS_DENIED (G18) when before_us lies within the
 * profile's audit retention.  With dry_run it only counts them.  The
 * purge, or its dry run, is itself audited. */
int  fs_audit_purge(fs_gate *g, int64_t before_us, int dry_run,
                    uint64_t *purged, fs_detail *d);

/* ---- administration (admin unless said) --------------------------------- */

/* Adds an account (G1-G3): FS_EXISTS, FS_EINVAL for a bad name, roles
 * or password, FS_DENIED when examiner or supervisor is asked for
 * without a training date, or with one in the future (G3). */
int  fs_user_add(fs_gate *g, const fs_user *u, const char *password,
                 fs_detail *d);
/* FS_DENIED for the acting admin's own account: nobody disables
 * themselves, so the last enabled admin stays. */
int  fs_user_disable(fs_gate *g, const char *name, fs_detail *d);
/* Account recovery (admin): enable clears the disabled flag; unlock
 * clears a lockout and the count of failed logins.  FS_NOTFOUND for no
 * such account.  Audited, refusals too. */
int  fs_user_enable(fs_gate *g, const char *name, fs_detail *d);
int  fs_user_unlock(fs_gate *g, const char *name, fs_detail *d);
/* Sets a password (G1, the profile's strength rule).  Their own (name
 * NULL or the acting user's, any account): current must be the present
 * password, checked as a login checks it: a wrong one is FS_EAUTH,
 * counted, slowed and audited, and a locked account is FS_ELOCKED.
 * Another's: admin only (FS_DENIED, G2), current unused.  Every other
 * session of the account ends (one's own current one goes on).  The
 * entry names the account, never a password. */
int  fs_user_passwd(fs_gate *g, const char *name, const char *current,
                    const char *password, fs_detail *d);
/* Every account, by name, in an array the caller frees (admin, auditor). */
int  fs_user_list(fs_gate *g, fs_user **out, size_t *n, fs_detail *d);

/* Replaces the profile the gallery runs under with the text of an edited
 * or another profile file (parsed first: FS_EINVAL naming the line, and
 * nothing changes).  Floors: the new text may not lower
 * retention.audit_days (FS_DENIED naming G18) nor relax the login limits
 * (more login.max_failures, fewer login.lockout_minutes,
 * login.failure_delay_ms or password.min_length, more session.hours:
 * FS_DENIED naming G1) past the shipped profile of the current one's
 * name, or past the current values when it is not a shipped one; the
 * detail names the key and both values.  Audited with both names, the
 * sha256 of the old and new texts and the keys whose values changed. */
int  fs_gate_set_profile(fs_gate *g, const char *text, size_t len,
                         fs_detail *d);

/* Re-wraps the data and audit keys under a new key-encryption key and
 * replaces the key file with it; the old file's key opens nothing after.
 * Audited.  FS_EXISTS, on the trail, while the gallery has shards
 * (fs_gate_shard_drop first).  A crash midway leaves the gallery openable with the old file
 * or the new one (new_path's ".new" sibling is picked up at open). */
int  fs_gate_key_rotate(fs_gate *g, fs_detail *d);

/* ---- the gallery's care (G20) ------------------------------------------- */

/* Counts and settings (admin, auditor). */
int  fs_gate_gallery_stat(fs_gate *g, fs_gallery_stats *st, fs_detail *d);
/* The gallery's template recipe (any session: the commands that make
 * templates open their engine by it), MAC-checked. */
int  fs_gate_recipe(fs_gate *g, fs_recipe *out, fs_detail *d);
/* A subject's record and up to max of its images' records (admin);
 * FS_NOTFOUND when there is none. */
int  fs_gate_subject_show(fs_gate *g, const char *subject,
                          fs_subject_info *info, fs_image_info *images,
                          size_t max, size_t *n, fs_detail *d);
/* Removes a subject with all its records, templates and images (admin);
 * reason is required: a sealed or expunged record, say. */
int  fs_gate_subject_remove(fs_gate *g, const char *subject,
                            const char *reason, fs_detail *d);
/* The whole store checked (admin, auditor): fs_gallery_verify, every
 * sealed record of the gate opened, and the gallery held to the trail: a
 * subject the trail removed, and did not enrol again, must be absent
 * (FS_ETAMPER naming it and the entry). */
int  fs_gate_gallery_verify(fs_gate *g, fs_detail *d);
/* The gallery's ranking, FS_RANK_EXACT or FS_RANK_COMPRESSED (admin). */
int  fs_gate_set_rank_mode(fs_gate *g, int mode, fs_detail *d);

/* Writes mugshots whose templates are already made (admin): one batch
 * committed with its entry, or nothing.  res (n of them, or NULL) says
 * what became of each; an image already enrolled is FS_EXISTS in
 * res->image_id's sense and not an error.  What the enroller below
 * commits through; benchmarks fill galleries with it. */
int  fs_gate_enroll_templates(fs_gate *g, const fs_mugshot *m, size_t n,
                              fs_put_result *res, fs_detail *d);

/* ---- enrolment --------------------------------------------------------- */

/* Cosine similarity from which a new subject's face is reported as a
 * possible duplicate of an existing subject's record.  Measured on
 * lfw-dev (3630 enrolled faces, 6.5M pairs): 0.95 is passed by 73% of
 * pairs of one person and 9e-6 of pairs of two (0.92: 99% and 2e-3). */
#define FS_DUPLICATE_COSINE 0.95

enum { FS_ENROLLED = 1, FS_ENROLL_ALREADY = 2, FS_ENROLL_REJECTED = 3 };

/* One image the admin named, and what became of it. */
typedef struct fs_enroll_item {
    /* in */
    const char *path;
    const char *subject;
    const char *name, *booking_number, *capture_date, *source_agency;
    const char *lawful_source;       /* "booking", "arrest" or "parole" */
    /* out */
    int      status;                 /* FS_ENROLLED, ... */
    int      rc;                     /* rejected: why, as a code */
    char     reason[320];            /* rejected: why, for the report */
    uint64_t image_id;               /* enrolled or already there */
    char     duplicate_of[FS_SUBJECT_MAX];   /* "" or a possible duplicate */
    float    duplicate_score;
} fs_enroll_item;

typedef struct fs_enroller fs_enroller;

/* Enrolment (admin, G20).  Holds the gallery's templates in memory for
 * the duplicate check; the engine must have a model, the gate's gallery
 * templates from that model (FS_EMODEL otherwise).  Each batch commits
 * with its audit entry, which names every image it added (G18, G20). */
int  fs_enroller_open(fs_engine *e, fs_gate *gate, fs_enroller **out,
                      fs_detail *d);
/* Enrols a batch: reads, checks (G8 intake), detects, aligns and embeds
 * the images on all the engine's threads, then writes the accepted ones
 * in one commit.  Per-image refusals land in the items; the return code
 * is for failures of the whole batch (storage), after which nothing of
 * the batch was written.  Images already enrolled (same sha256) are
 * skipped before any decoding. */
int  fs_enroller_run(fs_enroller *en, fs_enroll_item *items, size_t n,
                     fs_detail *d);
/* The run's own entry, after its batches: what was named (a folder or a
 * manifest) and what became of it, rejections included. */
int  fs_enroller_note(fs_enroller *en, const char *source,
                      const char *summary, fs_detail *d);
void fs_enroller_close(fs_enroller *en);


/* ---- agencies (G7, admin) ------------------------------------------------- */

typedef struct fs_agency {
    char    name[FS_FIELD_MAX];
    char    mou[FS_FIELD_MAX];        /* the agreement on file */
    int     suspended;
    char    reason[256];              /* why suspended */
    int64_t added, changed;           /* unix seconds */
} fs_agency;

/* FS_EXISTS, FS_EINVAL naming the field. */
int  fs_agency_add(fs_gate *g, const char *name, const char *mou,
                   fs_detail *d);
/* Suspends (reason required) or reinstates an agency: FS_NOTFOUND. */
int  fs_agency_suspend(fs_gate *g, const char *name, const char *reason,
                       fs_detail *d);
int  fs_agency_reinstate(fs_gate *g, const char *name, fs_detail *d);
/* Every agency, by name (admin, supervisor, auditor). */
int  fs_agency_list(fs_gate *g, fs_agency **out, size_t *n, fs_detail *d);

/* ---- requests (G4-G8) ------------------------------------------------------- */

#define FS_ID_MAX         16            /* "R12", "S345": request, search */
#define FS_JUSTIFY_MIN    20            /* characters of stated facts */
#define FS_JUSTIFY_MAX    1024

/* What a requester files (G4). */
typedef struct fs_request_form {
    const char *case_no;            /* case or incident number */
    const char *crime;              /* crime type or authorized use (G5) */
    const char *requester;          /* the requesting officer's name */
    const char *agency;             /* unit or agency */
    const char *contact;            /* an e-mail address or phone number */
    const char *justification;      /* the facts (reasonable suspicion) */
    const char *source;             /* lawful source of the probe image */
    int         from_video;         /* a still taken from video (G8) */
    int         ack_disclaimer;     /* the requester acknowledged it (G7) */
} fs_request_form;

enum { FS_REQUEST_OPEN = 0, FS_REQUEST_CLOSED = 1 };
enum {
    FS_OUTCOME_NONE = 0,
    FS_OUTCOME_LEAD = 1,            /* a lead went to the requester */
    FS_OUTCOME_NO_CANDIDATE = 2,    /* no viable candidate (G12, G15) */
    FS_OUTCOME_REJECTED = 3         /* the request or its image refused */
};
/* "lead", "no-candidate", "rejected" <-> FS_OUTCOME_*: FS_EINVAL. */
int         fs_outcome_parse(const char *s, int *outcome);
const char *fs_outcome_name(int outcome);

typedef struct fs_request {
    char     id[FS_ID_MAX];
    char     case_no[FS_FIELD_MAX];
    char     crime[64];
    char     requester[FS_FIELD_MAX];
    char     agency[FS_FIELD_MAX];
    char     contact[FS_FIELD_MAX];
    char     justification[FS_JUSTIFY_MAX];
    char     source[FS_FIELD_MAX];
    int      from_video, ack_disclaimer;
    int      outside;               /* an outside agency's (G7) */
    char     filed_by[FS_USER_MAX];
    int64_t  filed;                 /* unix seconds */
    int      state, outcome;        /* FS_REQUEST_*, FS_OUTCOME_* */
    char     closed_by[FS_USER_MAX];
    int64_t  closed;
    int      evidence;              /* its probes are kept (G12) */
    uint32_t searches, rejections;  /* released lists; unfit probes (G13) */
    char     last_rejection[256];   /* the quality reasons (G13) */
    int      positive_id;           /* G17: FS_POSITIVE_* */
    char     outcome_by[FS_USER_MAX];
    int64_t  outcome_time;
} fs_request;

/* G17: whether the lead led to a positive identification. */
enum { FS_POSITIVE_UNKNOWN = 0, FS_POSITIVE_YES = 1, FS_POSITIVE_NO = 2 };

/* The rules a form meets whatever the gallery holds, for profile p: every
 * G4 field present and well formed (FS_EINVAL naming the field), no
 * prohibited purpose stated in the crime type, justification or source
 * (FS_DENIED naming G6 and the purpose), the crime type authorized (G5),
 * no still from video where the profile forbids recorded video (G8). */
int  fs_request_check(const fs_profile *p, const fs_request_form *f,
                      fs_detail *d);
/* Files a request (requester, examiner, supervisor): fs_request_check,
 * then, for an agency other than the filing user's unit, G7 (outside
 * agencies allowed, an MOU on file, not suspended, the disclaimer
 * acknowledged).  id receives the new request's id.  Refusals are on the
 * trail with the rule. */
int  fs_request_file(fs_gate *g, const fs_request_form *f,
                     char id[FS_ID_MAX], fs_detail *d);
/* A request (requesters see only those they filed): FS_NOTFOUND. */
int  fs_request_get(fs_gate *g, const char *id, fs_request *r, fs_detail *d);
/* Requests in filing order, open ones only when open_only; an array the
 * caller frees. */
int  fs_request_list(fs_gate *g, int open_only, fs_request **out, size_t *n,
                     fs_detail *d);
/* Closes an open request with its outcome (requester who filed it,
 * examiner, supervisor): a state only moves forward, so a closed request
 * is FS_DENIED.  Closing with no viable candidate under a profile that
 * says so purges the request's probes at once (G12); *purged (may be
 * NULL) says how many. */
int  fs_request_close(fs_gate *g, const char *id, int outcome,
                      uint64_t *purged, fs_detail *d);
/* Marks a request's probes as evidence, kept past the retention (G12;
 * examiner, supervisor, admin). */
int  fs_request_hold(fs_gate *g, const char *id, const char *reason,
                     fs_detail *d);

/* ---- the gated search (G8-G13) ---------------------------------------------- */

/* Where a released search spent its time, in seconds (bench search). */
typedef struct fs_search_stages {
    double gate;                    /* session, role, request, profile */
    double intake;                  /* still-image checks and decoding */
    double detect;                  /* faces, landmarks, quality */
    double align;                   /* the aligned chip */
    double embed;                   /* the template */
    double rank;                    /* templates loaded, ranked, ids */
    double store;                   /* sealed search, probe and entry */
    double second;                  /* the probe's second template (a
                                       recipe with a second model) */
    double rescore;                 /* the shortlist's second templates
                                       read and the list fused */
} fs_search_stages;

typedef struct fs_search_in {
    const char    *request_id;
    const uint8_t *probe;           /* the probe image's bytes */
    size_t         probe_len;
    const char    *probe_name;      /* where it came from: checked as
                                       intake checks a path (a stream or
                                       device is refused, G8), and names
                                       it in messages; NULL: "the probe" */
    int            face;            /* which face, strongest first; -1:
                                       the one nearest the centre */
    int            k;               /* candidates, 1..FS_RANK_MAX_K */
    int            human_review;    /* G10(c): the examiner affirms the
                                       list goes to human comparison as
                                       an investigative lead only */
    fs_search_stages *stages;       /* NULL, or filled when released */
} fs_search_in;

/* ---- a gallery sharded by subject (issue 16) --------------------------- */

/* A gallery (the home) can be copied into S shard galleries by subject:
 * every template of a subject in shard HMAC-SHA256(k, id) mod S, k a key
 * derived from the data key, so who is where (and so the shards' sizes
 * per person) means nothing without the key.  Each shard is a normal
 * sealed gallery with the home's id, wrapped keys, key file, profile and
 * accounts (its sessions too, so the admin's session checks it with
 * `gallery verify`), a trail of its own anchored beside it, and the
 * map from its rows to the home's rows and subject numbers.  The home
 * keeps everything and stays the registry: the gate maps what the shards
 * rank (home subject numbers, rows, scores) to subject ids, as it does
 * its own ranking, and stays whole: the registry the gate holds hits
 * to, the source of the images reports show, the whole gallery that
 * enrolment's duplicate check needs, and what a shard is made or
 * brought up again from.  Enrolment is routed (fs_gate_shard_sync); a
 * removal cannot be (rows move in the home), so it makes the set stale
 * (fs_gate_shard_removing): searched over, it fails until it is made
 * again. */
#define FS_SHARDS_MAX 64

typedef struct fs_shard_set {
    char     id[33];                /* hex: the set's random id */
    unsigned count;                 /* S */
    uint64_t templates, subjects;   /* the home's when it was sharded */
    char     dir[4096];             /* where it was made (absolute) */
} fs_shard_set;

/* Makes dir (which must not exist) holding shard-0 .. shard-<count-1>,
 * the shard galleries of this one's subjects, count 1..FS_SHARDS_MAX
 * (admin).  The home's subjects and templates are not touched; the set
 * is recorded in it with the entry "gallery shard" on its trail, after
 * every shard is committed (each with its own first entries), so a crash
 * leaves a partial dir that no search accepts.  A failure removes what
 * was made.  out may be NULL. */
int  fs_gate_shard(fs_gate *g, unsigned count, const char *dir,
                   fs_shard_set *out, fs_detail *d);

/* Brings every shard up to the home after an enrolment (admin): the
 * home's rows each shard lacks, each to its subject's shard (the keyed
 * hash `gallery shard` used), one commit and entry per shard, then the
 * set recorded current in the home with its entry.  The home commits
 * first, so a crash in between leaves the home ahead of its record: a
 * search over the shards refuses it naming the shards behind, and this
 * call run again finishes the work (idempotent: each shard records up
 * to which of the home's rows it holds its subjects').  FS_NOTFOUND when
 * the gallery has no shards; FS_EFORMAT, and the set marked stale, when
 * a shard's rows are no longer the home's (a removal); a shard that does
 * not open is named.  out (may be NULL) receives the set as now
 * recorded, *routed (may be NULL) how many templates went to shards. */
int  fs_gate_shard_sync(fs_gate *g, fs_shard_set *out, size_t *routed,
                        fs_detail *d);
/* Before a subject is removed from a sharded gallery (admin): the set
 * marked stale, on the trail, since removal moves the home's rows and
 * the shards cannot follow; FS_NOTFOUND (nothing marked) when the
 * gallery has no shards or no such subject. */
int  fs_gate_shard_removing(fs_gate *g, const char *subject, fs_detail *d);
/* The set given up (admin): its shards' files removed (they hold faces:
 * G20), then its record in the home, with the entry; out (may be NULL)
 * receives what it was.  FS_NOTFOUND when there is none.  What key
 * rotation needs first (fs_gate_key_rotate refuses while shards exist:
 * their seals and placement follow the keys). */
int  fs_gate_shard_drop(fs_gate *g, fs_shard_set *out, fs_detail *d);

/* Where the search's ranking happens when the gallery is sharded: rank
 * fills hits (room for k) with the top k distinct subjects over every
 * shard of set, in the home's subject numbers and rows, best first as
 * fs_rank_topk orders them (fs_shard_merge), and *n with how many; a
 * failure (a shard that did not open or answer) names the shard in d and
 * nothing of the list is kept. */
typedef struct fs_gate_ranker {
    int  (*rank)(void *ctx, const fs_shard_set *set,
                 const float tmpl[FS_DESC_DIM], size_t k, fs_hit *hits,
                 size_t *n, fs_detail *d);
    void  *ctx;
} fs_gate_ranker;
/* From now on fs_gate_search ranks through r (NULL: the gallery's own
 * templates, in this process): after every check it makes anyway, it
 * reads the home's shard set (FS_NOTFOUND: never sharded; FS_EFORMAT:
 * stale, its subjects changed since), calls r, holds each hit to the
 * home's records (the subject exists, the row is its; FS_EFORMAT
 * otherwise) and releases the list as an unsharded search does, the
 * search and its entry in one commit, a failure on the trail. */
void fs_gate_set_ranker(fs_gate *g, const fs_gate_ranker *r);

/* A shard opened to rank (what a shard's MPI rank holds): by the key
 * file (NULL: the recorded one), no session, no request, nothing of the
 * home's cases.  FS_EFORMAT when dir is not a shard. */
typedef struct fs_shard fs_shard;
typedef struct fs_shard_about {
    char     set[33];
    unsigned index, count;
    uint64_t templates, subjects;   /* the home's when sharded */
    size_t   rows;                  /* the shard's own */
    int      mode;                  /* FS_RANK_*: the home's setting */
} fs_shard_about;
int  fs_shard_open(const char *dir, const char *key_file, int threads,
                   fs_shard **out, fs_detail *d);
void fs_shard_info(const fs_shard *s, fs_shard_about *about);
/* The shard's top k distinct subjects for one probe template, in the
 * home's subject numbers and rows, ordered as fs_rank_topk orders the
 * home's (the shard keeps the home's order of subjects and of each one's
 * rows, so ties break the same way). */
int  fs_shard_rank(fs_shard *s, const float tmpl[FS_DESC_DIM], size_t k,
                   fs_hit *hits, size_t *n, fs_detail *d);
void fs_shard_close(fs_shard *s);
/* The per-shard lists (count of them, each best first; each subject in
 * one list only) merged into the top k, best first: score descending,
 * then subject number, then row, as fs_rank_topk breaks ties.  out has
 * room for k; *nout receives how many.  FS_EINVAL for k 0. */
int  fs_shard_merge(const fs_hit *const *lists, const size_t *n,
                    size_t count, size_t k, fs_hit *out, size_t *nout);

/* A released candidate list: opaque; only fs_gate_search makes one. */
typedef struct fs_candidates fs_candidates;

typedef struct fs_candidate {
    int   rank;                     /* 1 is the most similar */
    char  subject[FS_SUBJECT_MAX];
    float score;                    /* cosine similarity of the templates */
    /* In a gallery whose recipe names a second model (rescored 1): that
     * model's cosine between the probe's and the candidate's image (the
     * one `score` came from), and the two fused (engine/fs_eval.h
     * fs_eval_fused, FS_FUSION_FROZEN), by which the list is ordered. */
    int   rescored;
    float second, fused;
    /* How far the score stands above this probe's usual scores: its
     * z-score against the probe's FS_EVAL_COHORT best other subjects
     * (fs_eval_normalise, as `eval` measures it; 0 in a gallery of one
     * subject or of equal scores); of the first model's score.  NaN in
     * a search recorded before standings were kept. */
    float standing;
} fs_candidate;

/* The search (examiners, trained: G3, G9).  In this order, and before
 * any ranking, so that a refusal depends on nothing in the gallery: the
 * session and role; the request exists, is open, its crime type is
 * authorized under the profile in force now and its agency is not
 * suspended (G10 a-b, G7, G8); the human-review flag (G10 c).  Then
 * intake (G8: a still image's bytes, not a stream or a video), detection, the quality verdict (an unfit
 * probe, or one with no face, is FS_DENIED naming G13, and the image
 * rejection is stored on the request with the probe), the template, the
 * exact ranking of distinct subjects (by the gallery's recipe: with a
 * second model, its top max(k, 200) re-scored and ordered by the fused
 * score, fs_candidate's second and fused; the engine must run the
 * recipe's models, FS_EMODEL otherwise; each candidate's standing computed
 * from the first model's top max(k, FS_EVAL_COHORT + 1), and those below
 * the profile's standing floor, if it sets one, held back), and one commit
 * holding the search (request, model, k, the list with standings, the
 * floor and how many it held back), the probe sealed in the case file (G12)
 * and the audit entry with case and justification (G9, G18).  Only then
 * is *out set.  A refusal names its rule in the detail, and nothing of
 * any list exists to leak. */
int  fs_gate_search(fs_gate *g, fs_engine *e, const fs_search_in *in,
                    fs_candidates **out, fs_detail *d);
size_t      fs_candidates_count(const fs_candidates *c);
/* The i-th candidate, best first: FS_EINVAL past the end. */
int         fs_candidates_get(const fs_candidates *c, size_t i,
                              fs_candidate *out);
const char *fs_candidates_search_id(const fs_candidates *c);
const char *fs_candidates_request_id(const fs_candidates *c);
/* The profile's disclaimer, which every output of the list carries (G11). */
const char *fs_candidates_disclaimer(const fs_candidates *c);
/* What the comparison sheet's header shows of the search. */
typedef struct fs_candidates_about {
    char    case_no[FS_FIELD_MAX];
    char    crime[64];
    char    examiner[FS_USER_MAX];
    char    model[64];
    int64_t time;                   /* unix seconds, as on the record */
    /* the profile's floor on the standing (-INFINITY: none), and how
     * many of the top k it held back (never who) */
    double  standing_floor;
    size_t  held_back;
} fs_candidates_about;
const fs_candidates_about *fs_candidates_info(const fs_candidates *c);
/* The stored mugshot whose template put candidate i on the list (its
 * best), for the examiner's side-by-side comparison: the bytes as
 * enrolled, in a buffer the caller wipes and frees.  The session must
 * still be a trained examiner's (G9); FS_EINVAL past the end;
 * FS_NOTFOUND when the gallery changed since the search (the subject
 * removed, or its rows moved). */
int         fs_candidates_image(fs_gate *g, const fs_candidates *c,
                                size_t i, uint8_t **bytes, size_t *len,
                                fs_detail *d);
void        fs_candidates_free(fs_candidates *c);

/* ---- review and corroboration (G14) ----------------------------------------- */

/* A lead: one candidate of a released list that an examiner proposes,
 * after a visual comparison, for corroboration by distinct people, as
 * many as the profile in force when it was proposed requires (detroit:
 * the proposer and one more examiner, then a supervisor).  Every step is
 * a sign-off (who, unit, when, the note on how they concluded), checked
 * inside the verb and committed with its audit entry. */
#define FS_NOTE_MIN      10             /* characters of a sign-off's note */
#define FS_NOTE_MAX      1024
#define FS_SIGNOFFS_MAX  16

enum { FS_LEAD_PROPOSED = 0, FS_LEAD_APPROVED = 1, FS_LEAD_REJECTED = 2 };
enum { FS_SIGN_PROPOSE = 0, FS_SIGN_CORROBORATE = 1, FS_SIGN_APPROVE = 2,
       FS_SIGN_REJECT = 3 };

typedef struct fs_signoff {
    int     kind;                       /* FS_SIGN_* */
    char    user[FS_USER_MAX];
    char    unit[FS_FIELD_MAX];
    int64_t time;                       /* unix seconds */
    char    note[FS_NOTE_MAX];
} fs_signoff;

typedef struct fs_lead {
    char       id[FS_ID_MAX];           /* "L7" */
    char       request[FS_ID_MAX];
    char       search[FS_ID_MAX];
    char       subject[FS_SUBJECT_MAX];
    int        rank;                    /* in the search's list */
    float      score;
    int        state;                   /* FS_LEAD_* */
    int        examiners_needed;        /* corroborating examiners, besides
                                           the proposer (profile's
                                           review.examiners) */
    int        supervisors_needed;      /* review.supervisors */
    size_t     n_signoffs;
    fs_signoff signoffs[FS_SIGNOFFS_MAX];   /* in order; [0] proposes */
} fs_lead;

/* Proposes candidate subject of released search as a lead (trained
 * examiner): the search released a list (not an image rejection) for a
 * request still open, the subject is on that list, and no other lead of
 * the request is still proposed.  id receives "L<n>". */
int  fs_review_propose(fs_gate *g, const char *search, const char *subject,
                       const char *note, char id[FS_ID_MAX], fs_detail *d);
/* An independent examiner's corroboration (trained examiner; not the
 * proposer, not one who signed this lead already: FS_DENIED naming G14). */
int  fs_review_corroborate(fs_gate *g, const char *lead, const char *note,
                           fs_detail *d);
/* A supervisor's sign-off (trained supervisor, nobody who signed the lead
 * already): approve needs the profile's corroborations first; the lead is
 * approved once the profile's supervisors have approved.  reject ends the
 * lead; the request may then have another proposal. */
int  fs_review_approve(fs_gate *g, const char *lead, const char *note,
                       fs_detail *d);
int  fs_review_reject(fs_gate *g, const char *lead, const char *note,
                      fs_detail *d);
/* 1 when the lead has every sign-off its profile asks for (approved). */
int  fs_lead_complete(const fs_lead *l);
/* A lead (examiner, supervisor, auditor; the requester of its request),
 * read on the trail: FS_NOTFOUND. */
int  fs_lead_get(fs_gate *g, const char *id, fs_lead *l, fs_detail *d);
/* The leads of a request (NULL: all), in order; an array the caller
 * frees. */
int  fs_lead_list(fs_gate *g, const char *request, fs_lead **out, size_t *n,
                  fs_detail *d);
/* What the lead still needs, for a person: "needs 1 more examiner, then
 * 1 supervisor", "needs 1 supervisor", or "nothing: approved" (or
 * rejected) once it ended; into buf (cap bytes, NUL-terminated). */
void fs_lead_needs(const fs_lead *l, char *buf, size_t cap);
const char *fs_lead_state_name(int state);      /* "proposed", ... */
const char *fs_signoff_kind_name(int kind);     /* "proposed", ... */

/* ---- reports, dissemination, outcome (G15-G17) -------------------------------- */

enum { FS_REPORT_LEAD = 1,              /* possible-match report */
       FS_REPORT_NO_MATCH = 2,          /* no candidate was found */
       FS_REPORT_REJECTION = 3 };       /* the probe was unfit (G13) */
/* "lead", "no-match", "rejection" <-> FS_REPORT_*: FS_EINVAL. */
int         fs_report_kind_parse(const char *s, int *kind);
const char *fs_report_kind_name(int kind);

/* A report as issued: what it says is fixed when it is issued (the
 * disclaimer of the profile then in force, the sign-offs). */
typedef struct fs_report {
    char       id[FS_ID_MAX];           /* "P3" */
    int        kind;                    /* FS_REPORT_* */
    fs_request request;                 /* as it stood when issued */
    fs_lead    lead;                    /* FS_REPORT_LEAD */
    char       search[FS_ID_MAX];       /* the search it stands on: the
                                           lead's, or the rejected one's
                                           (FS_REPORT_REJECTION); "" for
                                           a no-match report */
    char       reasons[256];            /* FS_REPORT_REJECTION: G13's */
    char       disclaimer[1024];        /* G11 */
    char       issued_by[FS_USER_MAX];
    int64_t    issued;                  /* unix seconds */
    uint32_t   releases;                /* disseminations recorded (G16) */
} fs_report;

/* Issues (or, when issued already, returns again) the report of kind
 * for ref, a lead ("L7") or a request ("R3") (examiner, supervisor):
 * a lead report only for a lead with every sign-off of its profile (G14,
 * G15: FS_DENIED naming what is missing); a no-match report for a
 * request that had a released list and has no approved lead; a rejection
 * report for a request whose probe was found unfit.  Audited. */
int  fs_report_issue(fs_gate *g, int kind, const char *ref,
                     char id[FS_ID_MAX], fs_detail *d);
/* A report (examiner, supervisor, auditor; the requester of its
 * request), read on the trail. */
int  fs_report_get(fs_gate *g, const char *id, fs_report *r, fs_detail *d);
/* The images a report shows, in buffers the caller wipes and frees: the
 * probe the lead's search used, and the candidate's mugshot (FS_REPORT_LEAD
 * only; either may be NULL).  A probe purged under the retention (G12):
 * FS_NOTFOUND saying so, with the mugshot still given when there is one;
 * any other failure gives neither. */
int  fs_report_images(fs_gate *g, const char *id, uint8_t **probe,
                      size_t *probe_len, uint8_t **mugshot,
                      size_t *mugshot_len, fs_detail *d);

/* G16: one release of a report, recorded. */
enum { FS_MANNER_EMAIL = 1, FS_MANNER_PHONE = 2, FS_MANNER_IN_PERSON = 3 };
typedef struct fs_release {
    char    id[FS_ID_MAX];              /* "D4" */
    char    report[FS_ID_MAX];
    char    request[FS_ID_MAX];
    char    to[FS_FIELD_MAX];           /* the recipient */
    int     manner;                     /* FS_MANNER_* */
    char    detail[FS_FIELD_MAX];       /* address, number or witness */
    char    by[FS_USER_MAX];
    int64_t time;
} fs_release;
/* "email:ADDR", "phone:NUMBER", "in-person:WITNESS": FS_EINVAL naming
 * what is wrong. */
int  fs_manner_parse(const char *s, int *manner, char *detail, size_t cap,
                     fs_detail *d);
const char *fs_manner_name(int manner);         /* "email", ... */
/* Records a release of report to a recipient (examiner, supervisor).
 * id receives "D<n>". */
int  fs_report_disseminate(fs_gate *g, const char *report, const char *to,
                           const char *manner, char id[FS_ID_MAX],
                           fs_detail *d);
/* The releases of a report (NULL: all), in order. */
int  fs_release_list(fs_gate *g, const char *report, fs_release **out,
                     size_t *n, fs_detail *d);
/* G17: the requester who filed request (or a supervisor) records whether
 * its lead led to a positive identification (FS_POSITIVE_YES/NO). */
int  fs_request_outcome(fs_gate *g, const char *request, int positive_id,
                        fs_detail *d);

/* ---- oversight (G19) --------------------------------------------------------- */

#define FS_STATS_CRIMES_MAX 32
#define FS_STATS_RULES      21

/* Figures for [from, to), counted from the records and the trail so that
 * they add up: every request filed in the period is in exactly one of
 * open / closed by outcome; violations are the trail's refusals, by the
 * rule (G1..G21) their reason names. */
typedef struct fs_stats {
    int64_t  from, to;                  /* unix seconds */
    uint64_t requests_filed;
    uint64_t requests_open;
    uint64_t requests_closed[4];        /* by FS_OUTCOME_* (0 unused) */
    uint64_t requests_fulfilled;        /* closed with a lead or no-candidate */
    struct { char crime[64]; uint64_t requests; } crimes[FS_STATS_CRIMES_MAX];
    size_t   n_crimes;
    uint64_t searches_released, searches_rejected;
    uint64_t leads_proposed, leads_approved, leads_rejected;
    uint64_t reports[4];                /* by FS_REPORT_* (0 unused) */
    uint64_t releases;
    uint64_t positive_yes, positive_no;
    uint64_t refusals;                  /* every refusal on the trail */
    uint64_t violations[FS_STATS_RULES + 1];   /* [k]: refusals naming Gk;
                                                  [0]: naming no rule */
} fs_stats;
/* (admin, auditor, supervisor; read on the trail).  Requests count by
 * their filing time, as they stand now; searches, leads (proposed by the
 * first sign-off's time, approved or rejected by the deciding one's),
 * reports, releases, positive identifications (outcome_time) and
 * refusals by when they happened.  FS_EINVAL when to < from. */
int  fs_stats_count(fs_gate *g, int64_t from, int64_t to, fs_stats *s,
                    fs_detail *d);
/* The rule a refusal's text names: n of the first "G<n>" (1..21) standing
 * as a word ("G10:", "G3, G9"), else 0. */
int  fs_stats_rule_of(const char *text);

/* The calendar periods of the figures, in UTC: an ISO week ("2026-W49",
 * Monday to Monday), a month ("2026-12"), a year ("2026"). */
enum { FS_PERIOD_WEEK = 1, FS_PERIOD_MONTH = 2, FS_PERIOD_YEAR = 3 };
typedef struct fs_period {
    int     kind;                       /* FS_PERIOD_* */
    char    name[16];                   /* as above */
    int64_t from, to;                   /* [from, to), unix seconds */
} fs_period;
/* The period of kind named by text (NULL: the one holding now, unix
 * seconds): FS_EINVAL naming the form expected for a malformed text, a
 * year outside 1970-9999, a month outside 1-12 or a week the year does
 * not have. */
int  fs_period_parse(int kind, const char *text, int64_t now,
                     fs_period *out, fs_detail *d);

/* The monthly compliance audit (G19): n searches drawn at random, by a
 * generator seeded with seed (the same seed, month and records draw the
 * same sample), from the searches made in [from, to) (all of them when n
 * is larger; none when there were none: *out NULL); in search order, each
 * with the trail entries that name it ("search S7").  *population says
 * how many were made (admin, auditor; read on the trail). */
typedef struct fs_sample_item {
    char     search[FS_ID_MAX];
    char     request[FS_ID_MAX];
    char     case_no[FS_FIELD_MAX];
    char     crime[64];
    char     examiner[FS_USER_MAX];
    int64_t  time;
    int      released;                  /* 0: image rejection */
    size_t   n_entries;
    fs_audit_record *entries;           /* the trail's, about this search */
} fs_sample_item;
int  fs_audit_sample(fs_gate *g, int64_t from, int64_t to, size_t n,
                     uint64_t seed, fs_sample_item **out, size_t *n_out,
                     uint64_t *population, fs_detail *d);
void fs_audit_sample_free(fs_sample_item *items, size_t n);

/* Removes the probes past the profile's retention, except those of
 * requests held as evidence (G12; admin).  With dry_run nothing is
 * removed; *n says how many were (or would be).  Audited. */
int  fs_gate_purge(fs_gate *g, int dry_run, uint64_t *n, fs_detail *d);

#endif /* FS_GATE_H */
