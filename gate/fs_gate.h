/*
 * fs_gate.h - the policy gate's foundation: the profile a gallery runs
 * under, accounts and roles, sessions, the keys of encryption at rest and
 * the tamper-evident audit trail (rules G1-G3, G18, G21 of GATE.md).
 *
 * A gate is a gallery opened for people.  Everything it keeps lives in
 * the gallery's LMDB environment (fs_record_* tables), so that every
 * change commits in one transaction with the audit entry that records it:
 * an action without its entry cannot happen (G18).  The pattern is
 *
 *     fs_gate_begin(gate, &b)  ->  the change, through b  ->
 *     fs_gate_commit(gate, b, &entry)   (appends the entry, commits)
 *
 * and fs_gate_note for an action that changes nothing but must be on
 * record (a read, a refusal, a failed login).
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

#include "../engine/fs_crypt.h"
#include "../engine/fs_error.h"
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
                                       $XDG_CONFIG_HOME/facesearch/ */
    const char *model_id;           /* the model the gallery's templates */
    const char *model_sha256;       /* will come from */
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
} fs_gate_options;

/* Opens the gallery at dir and unlocks it with the key file: FS_EKEY
 * when the file is missing, too open (not 0600), or not this gallery's. */
int  fs_gate_open(const char *dir, const fs_gate_options *opt, fs_gate **out,
                  fs_detail *d);
void fs_gate_close(fs_gate *g);

fs_gallery       *fs_gate_gallery(fs_gate *g);
const fs_profile *fs_gate_profile(const fs_gate *g);
/* The profile's text as the gallery keeps it. */
const char       *fs_gate_profile_text(const fs_gate *g);
/* The key file in use. */
const char       *fs_gate_key_path(const fs_gate *g);

/* ---- sessions ----------------------------------------------------------- */

/* Checks name and password (constant-time, slow hash) and opens a
 * session: FS_EAUTH for an unknown user or a wrong password (the same
 * answer for both, after the profile's delay), FS_ELOCKED while locked
 * after repeated failures, FS_EDISABLED (G3).  Every attempt is audited.
 * The token goes to a 0600 file whose path session_path receives. */
int  fs_gate_login(fs_gate *g, const char *name, const char *password,
                   char *session_path, size_t cap, fs_detail *d);
/* Ends this OS user's session on this gallery (the one fs_gate_session
 * found, else it is looked up): FS_ESESSION when none. */
int  fs_gate_logout(fs_gate *g, fs_detail *d);

/* The person acting: this OS user's session on this gallery, valid and
 * unexpired, for an enabled account holding at least one of the roles in
 * any_of (0: any account).  FS_ESESSION (no session, expired, forged),
 * FS_EDISABLED, or FS_DENIED naming the missing role; refusals are
 * audited under action.  On success the gate acts as *who from then on. */
int  fs_gate_session(fs_gate *g, unsigned any_of, const char *action,
                     fs_user *who, fs_detail *d);

/* ---- actions and the audit trail (G18) ------------------------------------ */

typedef struct fs_audit_entry {
    const char *action;             /* "user add", "enroll", "login" ... */
    const char *case_no;            /* NULL or "" when none */
    const char *justification;
    const char *objects;            /* ids the action touched */
    const char *outcome;            /* "ok", or what was refused and why */
} fs_audit_entry;

/* A write batch for a change; fs_gate_commit appends the entry for the
 * session's user and commits both, or nothing (the batch is ended either
 * way). */
int  fs_gate_begin(fs_gate *g, fs_gallery_batch **b, fs_detail *d);
int  fs_gate_commit(fs_gate *g, fs_gallery_batch *b, const fs_audit_entry *e,
                    fs_detail *d);
/* The usual shape of both: change(ctx, b, d) runs in a fresh batch, then
 * the entry is appended and both commit, or neither (the change's own
 * code returns when it fails).  A change refused by a rule or by its
 * input (FS_DENIED, FS_EINVAL, FS_EXISTS, FS_NOTFOUND) goes on the trail
 * as refused, with the reason. */
int  fs_gate_change(fs_gate *g,
                    int (*change)(void *ctx, fs_gallery_batch *b,
                                  fs_detail *d),
                    void *ctx, const fs_audit_entry *e, fs_detail *d);
/* Appends an entry within a batch the caller commits (enrolment commits
 * batch by batch, each with its entry). */
int  fs_gate_audit(fs_gate *g, fs_gallery_batch *b, const fs_audit_entry *e,
                   fs_detail *d);
/* An entry in a transaction of its own: reads and refusals. */
int  fs_gate_note(fs_gate *g, const fs_audit_entry *e, fs_detail *d);

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

/* Walks the whole chain: every entry's MAC over the one before it, the
 * numbering, the recorded head and base.  FS_OK with *n entries, or
 * FS_ETAMPER with *bad the first entry that fails (edited, inserted,
 * removed or moved there) and the detail saying what was found. */
int  fs_audit_verify(fs_gate *g, uint64_t *n, uint64_t *bad, fs_detail *d);

typedef struct fs_audit_filter {
    int64_t     since_us, until_us;  /* 0: unbounded */
    const char *user;                /* NULL: anyone */
    const char *case_no;             /* NULL: any */
} fs_audit_filter;

/* Calls fn for each entry that passes f, oldest first; fn returning
 * non-zero stops the walk with that value. */
int  fs_audit_walk(fs_gate *g, const fs_audit_filter *f,
                   int (*fn)(void *ctx, const fs_audit_record *r), void *ctx,
                   fs_detail *d);

/* Removes the entries older than before_us, keeping the chain
 * verifiable; FS_DENIED (G18) when before_us lies within the profile's
 * audit retention.  The purge is itself audited. */
int  fs_audit_purge(fs_gate *g, int64_t before_us, uint64_t *purged,
                    fs_detail *d);

/* ---- administration --------------------------------------------------------- */

/* Adds an account (G1-G3): FS_EXISTS, FS_EINVAL for a bad name, roles
 * or password, FS_DENIED when examiner or supervisor is asked for
 * without a training date (G3). */
int  fs_user_add(fs_gate *g, fs_gallery_batch *b, const fs_user *u,
                 const char *password, fs_detail *d);
int  fs_user_disable(fs_gate *g, fs_gallery_batch *b, const char *name,
                     fs_detail *d);
/* Every account, by name, in an array the caller frees. */
int  fs_user_list(fs_gate *g, fs_gallery_batch *b, fs_user **out, size_t *n,
                  fs_detail *d);

/* Replaces the profile the gallery runs under with the text of an edited
 * or another profile file (parsed first: FS_EINVAL naming the line, and
 * nothing changes).  Audited with both names. */
int  fs_gate_set_profile(fs_gate *g, const char *text, size_t len,
                         fs_detail *d);

/* Re-wraps the data and audit keys under a new key-encryption key and
 * replaces the key file with it; the old file's key opens nothing after.
 * Audited.  A crash midway leaves the gallery openable with the old file
 * or the new one (new_path's ".new" sibling is picked up at open). */
int  fs_gate_key_rotate(fs_gate *g, fs_detail *d);

#endif /* FS_GATE_H */
