/*
 * check_tamper.c - the gate's records against a hostile insider who holds
 * the gallery's files (issue 12): each test replays one attack on a real
 * gallery, with nothing but LMDB, cp and the CLI, and shows it refused or
 * detected with nothing lost (G18, G21).  Galleries are made in-process,
 * so the tests need no model and stay fast.
 */
#include <check.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "fs_testutil.h"

#define PW    TU_PASSWORD
#define MODEL "test-model"
#define SHA   "0000000000000000000000000000000000000000000000000000000000000000"

enum { T_META = 1, T_AUDIT = 4 };          /* the gate's table numbers */

static char gal[4096], key[4096];

/* A detroit gallery made and opened in-process (with opt), its admin
 * logged in. */
static fs_gate *make_gallery_opts(const fs_gate_options *opt)
{
    const char *text = fs_profile_builtin("detroit");
    fs_gate_init in = { text, strlen(text), "admin", "HQ", PW, NULL, MODEL,
                        SHA, NULL, NULL };
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_create(gal, &in, key, sizeof key, &d) == FS_OK,
                  "%s", d.msg);
    /* the requester who files requests in the tests */
    fs_gate *g;
    ck_assert_int_eq(fs_gate_open(gal, NULL, &g, &d), FS_OK);
    char session[4200];
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    fs_user u = { .name = "ray", .unit = "HQ", .roles = FS_ROLE_REQUESTER };
    ck_assert_msg(fs_user_add(g, &u, PW, &d) == FS_OK, "%s", d.msg);
    fs_gate_close(g);
    ck_assert_msg(fs_gate_open(gal, opt, &g, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_gate_login(g, "admin", PW, session, sizeof session,
                                &d) == FS_OK, "%s", d.msg);
    return g;
}

static fs_gate *make_gallery(void)
{
    return make_gallery_opts(NULL);
}

static void setup(void)
{
    tu_tmp_setup();
    snprintf(gal, sizeof gal, "%s/gallery", tu_tmp);
}

/* ---- the attacker's tools: the LMDB file, behind the gate's back ---------- */

typedef tu_raw raw;
#define raw_open  tu_raw_open
#define raw_close tu_raw_close

static MDB_val raw_key(uint8_t buf[1 + 64], unsigned table, const void *k,
                       size_t klen)
{
    buf[0] = (uint8_t)table;
    memcpy(buf + 1, k, klen);
    return (MDB_val){ klen + 1, buf };
}

static MDB_val seq_key(uint8_t buf[1 + 64], uint64_t seq)
{
    uint8_t k[8];
    for (int i = 7; i >= 0; i--, seq >>= 8)
        k[i] = (uint8_t)seq;
    return raw_key(buf, T_AUDIT, k, 8);
}

/* A copy of a meta record's value (malloc'd), or NULL when absent. */
static uint8_t *meta_get(raw *r, const char *name, size_t *len)
{
    uint8_t kb[65];
    MDB_val k = raw_key(kb, T_META, name, strlen(name)), v;
    if (mdb_get(r->txn, r->dbi, &k, &v) != 0)
        return NULL;
    uint8_t *copy = malloc(v.mv_size + 1);
    memcpy(copy, v.mv_data, v.mv_size);
    *len = v.mv_size;
    return copy;
}

static void meta_put(raw *r, const char *name, const void *val, size_t len)
{
    uint8_t kb[65];
    MDB_val k = raw_key(kb, T_META, name, strlen(name));
    MDB_val v = { len, (void *)val };
    ck_assert_int_eq(mdb_put(r->txn, r->dbi, &k, &v, 0), 0);
}

static void meta_del(raw *r, const char *name)
{
    uint8_t kb[65];
    MDB_val k = raw_key(kb, T_META, name, strlen(name));
    ck_assert_int_eq(mdb_del(r->txn, r->dbi, &k, NULL), 0);
}

static void copy_tree(const char *from, const char *to)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    ck_assert_int_eq(system(cmd), 0);
}

/* fs_gate_open on gal: its code, the detail in d. */
static int reopen(fs_gate **g, fs_detail *d)
{
    return fs_gate_open(gal, NULL, g, d);
}

/* `facesearch audit verify [--anchor FILE]` on gal: the exit status, and
 * what it said (stdout and stderr). */
static int verify_cli(const char *anchor, char **said)
{
    char *out, *err;
    const char *args[] = { "audit", "verify", anchor ? "--anchor" : NULL,
                           anchor, NULL };
    int st = tu_run_on(gal, NULL, &out, &err, args);
    size_t n = strlen(out) + strlen(err) + 2;
    *said = malloc(n);
    snprintf(*said, n, "%s\n%s", out, err);
    free(out);
    free(err);
    return st;
}

/* ---- G18: the trail cannot be wiped or cut back unnoticed ---------------- */

/* The attack: delete every entry and the head; `audit verify` used to
 * say "intact, 0 entries". */
START_TEST(test_G18_trail_wiped_with_its_head_is_caught)
{
    fs_gate *g = make_gallery();
    fs_gate_close(g);
    raw r;
    raw_open(&r, gal);
    for (uint64_t s = 1; s <= 2; s++) {            /* init, login */
        uint8_t kb[65];
        MDB_val k = seq_key(kb, s);
        ck_assert_int_eq(mdb_del(r.txn, r.dbi, &k, NULL), 0);
    }
    meta_del(&r, "audit.head");
    raw_close(&r);
    char *said;
    int st = verify_cli(NULL, &said);
    ck_assert_msg(st == 3 && strstr(said, "head") && !strstr(said, "intact"),
                  "%d: %s", st, said);
    free(said);
}
END_TEST

/* The attack: the gallery put back to an older copy of itself (a backup,
 * or the trail cut with its head rolled back); the chain alone is intact,
 * the anchor is not fooled, and a copy of the anchor kept elsewhere says
 * the same. */
START_TEST(test_G18_trail_rolled_back_is_caught_by_the_anchor)
{
    fs_gate *g = make_gallery();
    fs_gate_close(g);
    char old[4200], kept[4200];
    snprintf(old, sizeof old, "%s", tu_path(tu_tmp, "gallery.old"));
    copy_tree(gal, old);                         /* 2 entries */
    tu_add_user(gal, "aud", "auditor", NULL);     /* 3 */
    tu_add_user(gal, "rex", "requester", NULL);   /* 4 */
    char *said;
    ck_assert_int_eq(verify_cli(NULL, &said), 0);          /* 5 */
    ck_assert_msg(strstr(said, "anchor") && strstr(said, "match"), "%s",
                  said);
    free(said);
    char anchor[4200];
    fs_gate_anchor_default(key, anchor, sizeof anchor);
    snprintf(kept, sizeof kept, "%s", tu_path(tu_tmp, "anchor.kept"));
    copy_tree(anchor, kept);
    copy_tree(old, gal);                           /* the rollback */
    int st = verify_cli(NULL, &said);
    ck_assert_msg(st == 3 && strstr(said, "cut back"), "%d: %s", st, said);
    free(said);
    /* the refused check above is on the rolled-back trail as its entry 5,
     * which the kept anchor knows as another */
    st = verify_cli(kept, &said);
    ck_assert_msg(st == 3 && strstr(said, "broken at entry 5") &&
                  strstr(said, "anchor"), "%d: %s", st, said);
    free(said);
    /* a named anchor that cannot be read is an error, not a pass */
    st = verify_cli(tu_path(tu_tmp, "no-such.anchor"), &said);
    ck_assert_msg(st != 0 && strstr(said, "no-such.anchor"), "%d: %s", st,
                  said);
    free(said);
}
END_TEST

static int count_entry(void *ctx, const fs_audit_record *r)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

/* The attack: one entry edited; `audit log` used to print it as if it
 * were true.  It now stops before it, naming the entry. */
START_TEST(test_G18_audit_log_stops_at_an_edited_entry)
{
    fs_gate *g = make_gallery();
    fs_detail d = { "" };
    int n = 0;
    ck_assert_int_eq(fs_audit_walk(g, NULL, count_entry, &n, &d), FS_OK);
    ck_assert_int_eq(n, 5);       /* init, login, user add, login, reading */
    fs_gate_close(g);
    raw r;
    raw_open(&r, gal);
    uint8_t kb[65];
    MDB_val k = seq_key(kb, 2), v;
    ck_assert_int_eq(mdb_get(r.txn, r.dbi, &k, &v), 0);
    uint8_t *e = malloc(v.mv_size);
    memcpy(e, v.mv_data, v.mv_size);
    uint8_t *at = memmem(e, v.mv_size, "login", 5);
    ck_assert_ptr_nonnull(at);
    memcpy(at, "logon", 5);
    MDB_val nv = { v.mv_size, e };
    ck_assert_int_eq(mdb_put(r.txn, r.dbi, &k, &nv, 0), 0);
    free(e);
    raw_close(&r);
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    n = 0;
    ck_assert_int_eq(fs_audit_walk(g, NULL, count_entry, &n, &d),
                     FS_ETAMPER);
    ck_assert_int_eq(n, 1);                  /* only the entry before it */
    ck_assert_msg(strstr(d.msg, "entry 2"), "%s", d.msg);
    fs_gate_close(g);
}
END_TEST

/* ---- G21: the records the gate reads before and after the key -------------- */

static void expect_open(int want, const char *what)
{
    fs_gate *g = NULL;
    fs_detail d = { "" };
    int rc = reopen(&g, &d);
    ck_assert_msg(rc == want && strstr(d.msg, what), "want %d '%s', got %d: "
                  "%s", want, what, rc, d.msg);
    fs_gate_close(rc == FS_OK ? g : NULL);
}

/* The attack: the gate's meta records (the profile, the request counter,
 * the key file's path, the gallery id) edited, planted in plain text or
 * removed offline.  Each is refused, never obeyed. */
START_TEST(test_G21_gate_meta_edits_detected)
{
    fs_gate *g = make_gallery();
    fs_gate_close(g);
    char pristine[4200];
    snprintf(pristine, sizeof pristine, "%s", tu_path(tu_tmp, "pristine"));
    copy_tree(gal, pristine);
    raw r;
    size_t len;
    /* the profile: a byte flipped, then a plain, laxer profile planted */
    raw_open(&r, gal);
    uint8_t *v = meta_get(&r, "profile", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_null(memmem(v, len, "detroit", 7));    /* not plain */
    v[len / 2] ^= 1;
    meta_put(&r, "profile", v, len);
    free(v);
    raw_close(&r);
    expect_open(FS_ETAMPER, "edited");
    const char *lax = fs_profile_builtin("nypd");
    raw_open(&r, gal);
    meta_put(&r, "profile", lax, strlen(lax));
    raw_close(&r);
    expect_open(FS_ETAMPER, "edited");
    /* the profile removed */
    copy_tree(pristine, gal);
    raw_open(&r, gal);
    meta_del(&r, "profile");
    raw_close(&r);
    expect_open(FS_ETAMPER, "");
    /* the key file's path and the gallery's id: bound to the keys */
    copy_tree(pristine, gal);
    raw_open(&r, gal);
    meta_put(&r, "key_path", "/tmp/elsewhere.key", 18);
    raw_close(&r);
    expect_open(FS_EKEY, "");
    copy_tree(pristine, gal);
    raw_open(&r, gal);
    v = meta_get(&r, "id", &len);
    v[0] = v[0] == 'a' ? 'b' : 'a';
    meta_put(&r, "id", v, len);
    free(v);
    raw_close(&r);
    expect_open(FS_EKEY, "");
    /* a counter planted in plain: the next request would reuse a number */
    copy_tree(pristine, gal);
    ck_assert_int_eq(reopen(&g, &(fs_detail){ "" }), FS_OK);
    fs_detail d = { "" };
    char session[4200];
    ck_assert_int_eq(fs_gate_login(g, "ray", PW, session, sizeof session,
                                   &d), FS_OK);
    fs_request_form f = { "2026-001", "homicide", "Det. Ray", "HQ",
                          "555-0100", "suspect in a homicide seen on camera",
                          "witness photograph", 0, 0 };
    char id[FS_ID_MAX];
    ck_assert_msg(fs_request_file(g, &f, id, &d) == FS_OK, "%s", d.msg);
    fs_gate_close(g);
    raw_open(&r, gal);
    meta_put(&r, "next_request", "0", 1);
    raw_close(&r);
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    ck_assert_int_eq(fs_request_file(g, &f, id, &d), FS_ETAMPER);
    fs_gate_close(g);
    /* the untouched copy still opens */
    copy_tree(pristine, gal);
    expect_open(FS_OK, "");
}
END_TEST

/* gal opened with user logged in. */
static fs_gate *opened_as(const char *user)
{
    fs_gate *g;
    fs_detail d = { "" };
    char session[4200];
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    ck_assert_msg(fs_gate_login(g, user, PW, session, sizeof session, &d) ==
                  FS_OK, "%s", d.msg);
    return g;
}

/* ray's homicide request for case_no from agency, through g: its code,
 * the id given in id. */
static int ray_files(fs_gate *g, const char *case_no, const char *agency,
                     char id[FS_ID_MAX], fs_detail *d)
{
    fs_request_form f = { case_no, "homicide", "Det. Ray", agency,
                          "555-0100", "suspect in a homicide seen on camera",
                          "witness photograph", 0, 1 };
    id[0] = 0;
    return fs_request_file(g, &f, id, d);
}

/* ray files one request for each case in cases, in order. */
static void file_requests(const char *const *cases, int n)
{
    fs_gate *g = opened_as("ray");
    fs_detail d = { "" };
    char id[FS_ID_MAX];
    for (int i = 0; i < n; i++)
        ck_assert_msg(ray_files(g, cases[i], "HQ", id, &d) == FS_OK, "%s",
                      d.msg);
    fs_gate_close(g);
}

/* gallery verify names the counter, the next request is refused as
 * tampering, and R1 and R2 still hold their own cases: nothing was
 * written over. */
static void expect_no_reuse(void)
{
    fs_gate *g = opened_as("admin");
    fs_detail d = { "" };
    char id[FS_ID_MAX];
    int rc = fs_gate_gallery_verify(g, &d);
    ck_assert_msg(rc == FS_ETAMPER && strstr(d.msg, "next_request"),
                  "gallery verify: %d %s", rc, d.msg);
    fs_gate_close(g);
    g = opened_as("ray");
    rc = ray_files(g, "2026-999", "HQ", id, &d);
    ck_assert_msg(rc == FS_ETAMPER && strstr(d.msg, "next_request"),
                  "filed %s: %d %s", id, rc, d.msg);
    static const char *const was[] = { "R1", "2026-001", "R2", "2026-002" };
    for (int i = 0; i < 4; i += 2) {
        fs_request r;
        ck_assert_msg(fs_request_get(g, was[i], &r, &d) == FS_OK, "%s",
                      d.msg);
        ck_assert_str_eq(r.case_no, was[i + 1]);
    }
    fs_gate_close(g);
}

/* G21: a numbering counter (here next_request; searches, leads, reports
 * and releases are numbered by the same code) deleted offline, or put
 * back as it was one request ago (a sealed value, which opens), would
 * hand out a number already taken, and the new record would replace the
 * old: a search record, a sign-off or a release gone without a trace.
 * Each is refused, and the records stay. */
START_TEST(test_G21_numbering_counter_deleted_or_rolled_back)
{
    fs_gate_close(make_gallery());
    static const char *const cases[] = { "2026-001", "2026-002" };
    file_requests(cases, 1);
    raw r;
    size_t len;
    raw_open(&r, gal);
    uint8_t *after_one = meta_get(&r, "next_request", &len);
    raw_close(&r);
    ck_assert_ptr_nonnull(after_one);
    file_requests(cases + 1, 1);
    char pristine[4200];
    snprintf(pristine, sizeof pristine, "%s", tu_path(tu_tmp, "pristine"));
    copy_tree(gal, pristine);

    raw_open(&r, gal);
    meta_del(&r, "next_request");
    raw_close(&r);
    expect_no_reuse();

    copy_tree(pristine, gal);
    raw_open(&r, gal);
    meta_put(&r, "next_request", after_one, len);
    raw_close(&r);
    expect_no_reuse();
    free(after_one);

    copy_tree(pristine, gal);          /* untouched, it numbers on */
    static const char *const third[] = { "2026-003" };
    file_requests(third, 1);
    fs_gate *g = opened_as("admin");
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_gallery_verify(g, &d) == FS_OK, "%s", d.msg);
    fs_gate_close(g);
}
END_TEST

/* detroit with the line starting `start` replaced by `line`, put in
 * force through g (an admin's). */
static void detroit_with_in_force(fs_gate *g, const char *start,
                                  const char *line)
{
    fs_detail d = { "" };
    char *t = tu_profile_with(fs_profile_builtin("detroit"), start, line);
    ck_assert_msg(fs_gate_set_profile(g, t, strlen(t), &d) == FS_OK, "%s",
                  d.msg);
    free(t);
}

/* ray's request for Northville PD, an outside agency: its code. */
static int northville_request(void)
{
    fs_gate *g = opened_as("ray");
    fs_detail d = { "" };
    char id[FS_ID_MAX];
    int rc = ray_files(g, "2026-077", "Northville PD", id, &d);
    fs_gate_close(g);
    return rc;
}

/* G7, G21: under a profile that needs no MOU, an agency with no record
 * may request; a suspended agency's record deleted offline, or the count
 * of agencies beside it, would lift the suspension.  Each is refused as
 * tampering, and gallery verify says so. */
START_TEST(test_G7_G21_agency_record_removed_offline)
{
    fs_gate *g = make_gallery();
    fs_detail d = { "" };
    detroit_with_in_force(g, "outside_agency.require_mou =",
                          "outside_agency.require_mou = no");
    ck_assert_int_eq(fs_agency_add(g, "Southfield PD", "MOU-1", &d), FS_OK);
    ck_assert_int_eq(fs_agency_add(g, "Northville PD", "MOU-2", &d), FS_OK);
    ck_assert_int_eq(fs_agency_suspend(g, "Northville PD", "audit finding",
                                       &d), FS_OK);
    fs_gate_close(g);
    ck_assert_int_eq(northville_request(), FS_DENIED);
    char pristine[4200];
    snprintf(pristine, sizeof pristine, "%s", tu_path(tu_tmp, "pristine"));
    copy_tree(gal, pristine);
    static const char *const what[] = { "the record", "the record and the "
                                        "count" };
    for (int i = 0; i < 2; i++) {
        copy_tree(pristine, gal);
        raw r;
        uint8_t kb[65];
        raw_open(&r, gal);
        MDB_val k = raw_key(kb, 5, "Northville PD", 13);
        ck_assert_int_eq(mdb_del(r.txn, r.dbi, &k, NULL), 0);
        if (i == 1)
            meta_del(&r, "agencies");
        raw_close(&r);
        ck_assert_msg(northville_request() == FS_ETAMPER, "%s deleted",
                      what[i]);
        g = opened_as("admin");
        int rc = fs_gate_gallery_verify(g, &d);
        ck_assert_msg(rc == FS_ETAMPER && strstr(d.msg, "agency records"),
                      "%s deleted, gallery verify: %d %s", what[i], rc,
                      d.msg);
        fs_gate_close(g);
    }
    copy_tree(pristine, gal);           /* untouched: refused as before */
    ck_assert_int_eq(northville_request(), FS_DENIED);
}
END_TEST

/* ---- a handle kept open (a service's) while the gallery changes ---------- */

/* change(gal) in a process of its own (LMDB's locks are a process's, so
 * the test's open handle and the change cannot share one), to its end. */
static void elsewhere(void (*change)(void))
{
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid == 0) {
        change();
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(kid, &st, 0), kid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void remove_profile(void)
{
    raw r;
    raw_open(&r, gal);
    meta_del(&r, "profile");
    raw_close(&r);
}

/* G21: the profile record removed behind the back of a handle already
 * open: the next verb reads the profile in force (gate_profile_now),
 * finds none and refuses as tampering, read or write; it does not go on
 * under the copy it read when it opened. */
START_TEST(test_G21_profile_removed_under_an_open_handle)
{
    fs_gate *g = make_gallery();
    elsewhere(remove_profile);
    fs_detail d = { "" };
    fs_user *users = NULL;
    size_t n = 0;
    ck_assert_int_eq(fs_user_list(g, &users, &n, &d), FS_ETAMPER);
    ck_assert_msg(strstr(d.msg, "lacks its profile record"), "%s", d.msg);
    ck_assert_ptr_null(users);
    fs_user u = { .name = "mal", .unit = "HQ", .roles = FS_ROLE_ADMIN };
    d.msg[0] = 0;
    ck_assert_int_eq(fs_user_add(g, &u, PW, &d), FS_ETAMPER);
    ck_assert_msg(strstr(d.msg, "lacks its profile record"), "%s", d.msg);
    fs_gate_close(g);
}
END_TEST

/* The admin, in a handle of her own, puts detroit with one failed login
 * to a lock in force (stricter than shipped: allowed). */
static void one_failure_locks(void)
{
    fs_gate *h;
    fs_detail d = { "" };
    char session[4200];
    ck_assert_int_eq(fs_gate_open(gal, NULL, &h, &d), FS_OK);
    ck_assert_int_eq(fs_gate_login(h, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    detroit_with_in_force(h, "login.max_failures =",
                          "login.max_failures = 1");
    fs_gate_close(h);
}

/* G1: a login through a handle opened before a `profile set` is held to
 * the profile in force: one failure locks ray out, as the new profile
 * says, where the handle's copy of detroit allowed five. */
START_TEST(test_G1_login_under_the_profile_in_force)
{
    fs_gate *g = make_gallery();
    elsewhere(one_failure_locks);
    char session[4200];
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_login(g, "ray", "not-his-password", session,
                                   sizeof session, &d), FS_EAUTH);
    ck_assert_int_eq(fs_gate_login(g, "ray", PW, session, sizeof session,
                                   &d), FS_EAUTH);
    /* locked, as the admin sees it */
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    fs_user *users = NULL;
    size_t n = 0;
    ck_assert_int_eq(fs_user_list(g, &users, &n, &d), FS_OK);
    size_t i = 0;
    while (i < n && strcmp(users[i].name, "ray") != 0)
        i++;
    ck_assert(i < n && users[i].locked_until > (int64_t)time(NULL));
    free(users);
    fs_gate_close(g);
}
END_TEST

/* The attack: the key file kept inside the gallery, so that whoever
 * copies the directory holds its key.  Refused at init and at open. */
START_TEST(test_G21_key_file_inside_the_gallery_refused)
{
    const char *text = fs_profile_builtin("detroit");
    char inside[4200];
    snprintf(inside, sizeof inside, "%s/the.key", gal);
    fs_gate_init in = { text, strlen(text), "admin", "HQ", PW, inside, MODEL,
                        SHA, NULL, NULL };
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_create(gal, &in, key, sizeof key, &d), FS_EKEY);
    ck_assert_msg(strstr(d.msg, "G21") && strstr(d.msg, "inside"), "%s",
                  d.msg);
    struct stat st;
    ck_assert_int_ne(stat(gal, &st), 0);          /* nothing was made */
    fs_gate *g = make_gallery();
    fs_gate_close(g);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -p '%s' '%s'", key, inside);
    ck_assert_int_eq(system(cmd), 0);
    fs_gate_options o = { .key_file = inside };
    ck_assert_int_eq(fs_gate_open(gal, &o, &g, &d), FS_EKEY);
    ck_assert_msg(strstr(d.msg, "inside"), "%s", d.msg);
    /* through a path that only resolves inside */
    snprintf(inside, sizeof inside, "%s/../gallery/./the.key", gal);
    ck_assert_int_eq(fs_gate_open(gal, &o, &g, &d), FS_EKEY);
}
END_TEST

/* ---- G18, G20: an enrolment's entries name every image ------------------- */

typedef struct named {
    char   objects[64 * 1024];
    int    parts;
} named;

static int collect_enrol(void *ctx, const fs_audit_record *r)
{
    named *n = ctx;
    if (strcmp(r->action, "enroll") == 0) {
        strncat(n->objects, r->objects, sizeof n->objects -
                strlen(n->objects) - 2);
        strcat(n->objects, " ");
        n->parts++;
    }
    return 0;
}

/* The attack on accountability: a large batch whose entry named only its
 * first images, so most of what went in was on no record. */
START_TEST(test_G18_enrolment_entries_name_every_image)
{
    fs_gate *g = make_gallery();
    enum { N = 60 };
    fs_mugshot *m = calloc(N, sizeof *m);
    char (*ids)[FS_SUBJECT_MAX] = calloc(N, FS_SUBJECT_MAX);
    uint8_t img[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], FS_SUBJECT_MAX, "subject-with-a-long-booking-id-"
                 "%04d", i);
        m[i].subject = ids[i];
        m[i].lawful_source = "booking";
        memcpy(img[i], "imgbytes", 8);
        img[i][0] = (uint8_t)i;
        m[i].image = img[i];
        m[i].image_len = 8;
        fs_sha256(img[i], 8, m[i].sha256);
        m[i].tmpl[i % FS_DESC_DIM] = 1.0f;
    }
    fs_detail d = { "" };
    fs_put_result *res = calloc(N, sizeof *res);
    ck_assert_msg(fs_gate_enroll_templates(g, m, N, res, &d) == FS_OK, "%s",
                  d.msg);
    named *n = calloc(1, sizeof *n);
    ck_assert_int_eq(fs_audit_walk(g, NULL, collect_enrol, n, &d), FS_OK);
    ck_assert_int_gt(n->parts, 1);         /* more than one entry's room */
    for (int i = 0; i < N; i++) {
        char one[FS_SUBJECT_MAX + 24];
        snprintf(one, sizeof one, "%s/%llu", ids[i],
                 (unsigned long long)res[i].image_id);
        ck_assert_msg(strstr(n->objects, one), "%s is on no entry", one);
    }
    free(n);
    free(res);
    free(ids);
    free(m);
    fs_gate_close(g);
}
END_TEST

/* ---- G20, G21: keys that rotate, removals that remove ------------------- */

/* n subjects "<prefix>-<i>" with one synthetic template each, enrolled. */
static void enrol_some(fs_gate *g, const char *prefix, int n)
{
    fs_mugshot *m = calloc((size_t)n, sizeof *m);
    char (*ids)[FS_SUBJECT_MAX] = calloc((size_t)n, FS_SUBJECT_MAX);
    uint8_t (*img)[16] = calloc((size_t)n, 16);
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], FS_SUBJECT_MAX, "%s-%d", prefix, i);
        m[i].subject = ids[i];
        m[i].lawful_source = "booking";
        snprintf((char *)img[i], 16, "%s%d", prefix, i);
        m[i].image = img[i];
        m[i].image_len = 16;
        fs_sha256(img[i], 16, m[i].sha256);
        m[i].tmpl[i % FS_DESC_DIM] = 1.0f;
    }
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_enroll_templates(g, m, (size_t)n, NULL, &d)
                  == FS_OK, "%s", d.msg);
    free(img);
    free(ids);
    free(m);
}

static char *data_file(void)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", gal);
    return path;
}

/* Verified as an auditor would: the gallery and the trail. */
static void expect_clean(fs_gate *g)
{
    fs_detail d = { "" };
    fs_audit_check c;
    ck_assert_msg(fs_gate_gallery_verify(g, &d) == FS_OK, "%s", d.msg);
    ck_assert_msg(fs_audit_verify(g, NULL, &c, &d) == FS_OK, "%s", d.msg);
}

/* The attack: keep the old key file (or a backup of it) across a
 * rotation; it used to open everything, since rotation re-wrapped the
 * same data key.  Now it opens nothing, the old wrapped keys are not in
 * the file, and everything reads and verifies under the new key. */
START_TEST(test_G21_rotation_leaves_the_old_key_useless)
{
    fs_gate *g = make_gallery();
    enrol_some(g, "rot", 5);
    char old_key[4200];
    snprintf(old_key, sizeof old_key, "%s", tu_path(tu_tmp, "old.key"));
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -p '%s' '%s'", key, old_key);
    ck_assert_int_eq(system(cmd), 0);
    fs_gate_close(g);
    raw r;
    size_t wlen = 0;
    raw_open(&r, gal);
    uint8_t *wrapped = meta_get(&r, "keys", &wlen);
    raw_close(&r);
    ck_assert(tu_file_holds(data_file(), wrapped, wlen));
    fs_detail d = { "" };
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    char session[4200];
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    ck_assert_msg(fs_gate_key_rotate(g, &d) == FS_OK, "%s", d.msg);
    expect_clean(g);
    fs_subject_info info;
    ck_assert_int_eq(fs_gate_subject_show(g, "rot-3", &info, NULL, 0, NULL,
                                          &d), FS_OK);
    fs_gate_close(g);
    ck_assert(!tu_file_holds(data_file(), wrapped, wlen));
    free(wrapped);
    fs_gate_options o = { .key_file = old_key };
    ck_assert_int_eq(fs_gate_open(gal, &o, &g, &d), FS_EKEY);
    expect_open(FS_OK, "");
    /* a second rotation from the rotated state works too */
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    ck_assert_int_eq(fs_gate_key_rotate(g, &d), FS_OK);
    expect_clean(g);
    fs_gate_close(g);
}
END_TEST

/* A crash after a rotation committed but before its new key file took
 * the old one's place: the gallery names the pending file, the next open
 * unlocks with it and puts it in place. */
START_TEST(test_G21_rotation_interrupted_before_the_rename_recovers)
{
    fs_gate *g = make_gallery();
    enrol_some(g, "crash", 3);
    char old_key[4200], cmd[12800];
    snprintf(old_key, sizeof old_key, "%s", tu_path(tu_tmp, "old.key"));
    snprintf(cmd, sizeof cmd, "cp -p '%s' '%s'", key, old_key);
    ck_assert_int_eq(system(cmd), 0);
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_key_rotate(g, &d) == FS_OK, "%s", d.msg);
    fs_gate_close(g);
    raw r;
    size_t n = 0;
    raw_open(&r, gal);
    char *pending = (char *)meta_get(&r, "key.pending", &n);
    raw_close(&r);
    ck_assert_ptr_nonnull(pending);
    pending[n] = 0;
    /* the state a crash leaves: the new key still under its pending name,
     * the old one where the key file belongs */
    snprintf(cmd, sizeof cmd, "mv '%s' '%s' && cp -p '%s' '%s'", key,
             pending, old_key, key);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(reopen(&g, &d) == FS_OK, "%s", d.msg);
    expect_clean(g);
    fs_gate_close(g);
    ck_assert_int_ne(access(pending, F_OK), 0);      /* moved into place */
    fs_gate_options o = { .key_file = old_key };
    ck_assert_int_eq(fs_gate_open(gal, &o, &g, &d), FS_EKEY);
    free(pending);
}
END_TEST

/* The attack (or accident): three rotations at once.  One process used to
 * unlink another's new key file after that one had committed, leaving a
 * gallery no key opens.  Now they serialise or are refused, and the
 * gallery always opens and verifies. */
START_TEST(test_G21_concurrent_rotations_never_lose_the_key)
{
    fs_gate *g = make_gallery();
    enrol_some(g, "race", 20);
    fs_gate_close(g);
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        if ((kids[i] = fork()) == 0) {
            fs_gate *k = NULL;
            fs_detail kd = { "" };
            int rc = fs_gate_open(gal, NULL, &k, &kd);
            if (rc == FS_OK)
                rc = fs_gate_key_rotate(k, &kd);
            if (rc != FS_OK && rc != FS_EBUSY)
                fprintf(stderr, "rotation %d: %s\n", i, kd.msg);
            fs_gate_close(k);
            _exit(rc == FS_OK ? 0 : rc == FS_EBUSY ? 2 : 100 - rc);
        }
    }
    int done = 0;
    for (int i = 0; i < 3; i++) {
        int st;
        ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) <= 2, "rotation %d: "
                      "exit %d (100 - rc)", i, WEXITSTATUS(st));
        done += WEXITSTATUS(st) == 0;
    }
    ck_assert_int_ge(done, 1);
    fs_detail d = { "" };
    ck_assert_msg(reopen(&g, &d) == FS_OK, "%s", d.msg);
    expect_clean(g);
    fs_gate_close(g);
}
END_TEST

/* The index's tables of one environment written over another's. */
typedef struct restore {
    raw  to;
    char done[16][32];              /* the tables emptied so far */
    int  ndone;
} restore;

static void put_back(void *ctx, const char *table, const MDB_val *k,
                     const MDB_val *v)
{
    restore *x = ctx;
    MDB_dbi db;
    if (strcmp(table, "records") == 0)
        return;
    ck_assert_int_eq(mdb_dbi_open(x->to.txn, table, MDB_CREATE, &db), 0);
    int i = 0;
    while (i < x->ndone && strcmp(x->done[i], table) != 0)
        i++;
    if (i == x->ndone) {             /* first record: the table emptied */
        ck_assert_int_lt(x->ndone, 16);
        snprintf(x->done[x->ndone++], sizeof x->done[0], "%s", table);
        ck_assert_int_eq(mdb_drop(x->to.txn, db, 0), 0);
    }
    ck_assert_int_eq(mdb_put(x->to.txn, db, (MDB_val *)k, (MDB_val *)v, 0),
                     0);
}

/* Copies every table of the environment at from but the gate's records
 * into the one at to: the index's tables put back from an older copy, the
 * trail left as it is. */
static void restore_index_tables(const char *from, const char *to)
{
    restore x = { .ndone = 0 };
    raw_open(&x.to, to);
    tu_raw_each(from, put_back, &x);
    ck_assert_int_gt(x.ndone, 2);
    raw_close(&x.to);
}

/* Every value of at least 24 bytes (sealed envelopes, MACs) in every
 * database of the environment at dir. */
typedef struct values {
    uint8_t **v;
    size_t   *len;
    size_t    n;
} values;

static void keep_value(void *ctx, const char *table, const MDB_val *k,
                       const MDB_val *v)
{
    values *out = ctx;
    (void)table;
    (void)k;
    if (v->mv_size < 24)
        return;
    out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
    out->len = realloc(out->len, (out->n + 1) * sizeof *out->len);
    out->v[out->n] = malloc(v->mv_size);
    memcpy(out->v[out->n], v->mv_data, v->mv_size);
    out->len[out->n++] = v->mv_size;
}

static void values_of(const char *dir, values *out)
{
    memset(out, 0, sizeof *out);
    tu_raw_each(dir, keep_value, out);
}

static int values_hold(const values *s, const uint8_t *v, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->v[i], v, len) == 0)
            return 1;
    return 0;
}

static void values_free(values *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->len);
}

/* What was in the file at `before` and is no longer a live record must
 * not be in the file any more: freed pages hold nothing. */
static int gone_values_left(const values *before)
{
    values now;
    values_of(gal, &now);
    int left = 0;
    for (size_t i = 0; i < before->n; i++)
        if (!values_hold(&now, before->v[i], before->len[i]) &&
            tu_file_holds(data_file(), before->v[i], before->len[i]))
            left++;
    values_free(&now);
    return left;
}

/* The attacks on a removal: the subject read back from freed pages of the
 * live file, or its records put back from a copy taken before, with both
 * verifications clean.  Now the file no longer holds it, and gallery
 * verify holds the gallery to the trail. */
START_TEST(test_G20_removed_subject_is_gone_and_stays_gone)
{
    fs_gate *g = make_gallery();
    enrol_some(g, "keep", 3);
    enrol_some(g, "zq-removed-subject", 1);
    const char *id = "zq-removed-subject-0";
    fs_gate_close(g);
    values old;
    values_of(gal, &old);
    char before[4200];
    snprintf(before, sizeof before, "%s", tu_path(tu_tmp, "before"));
    copy_tree(gal, before);
    fs_detail d = { "" };
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    char session[4200];
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    ck_assert_msg(fs_gate_subject_remove(g, id, "court order 2026-77", &d)
                  == FS_OK, "%s", d.msg);
    fs_gate_close(g);
    int left = gone_values_left(&old);
    ck_assert_msg(left == 0, "%d records gone from the gallery are still in "
                  "data.mdb", left);
    values_free(&old);
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    expect_clean(g);
    fs_gate_close(g);
    /* the index's tables from before the removal, the trail from after */
    restore_index_tables(before, gal);
    ck_assert_int_eq(reopen(&g, &d), FS_OK);
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    ck_assert_int_eq(fs_gate_gallery_verify(g, &d), FS_ETAMPER);
    ck_assert_msg(strstr(d.msg, id) && strstr(d.msg, "removed"), "%s",
                  d.msg);
    fs_gate_close(g);
}
END_TEST

/* A subject enrolled again after its removal is allowed back (G20): the
 * trail's last word on it is the new enrolment. */
START_TEST(test_G20_subject_enrolled_again_after_removal_verifies)
{
    fs_gate *g = make_gallery();
    enrol_some(g, "back", 2);
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_subject_remove(g, "back-1", "court order", &d),
                     FS_OK);
    expect_clean(g);
    enrol_some(g, "back", 2);             /* back-0 is there: back-1 anew */
    expect_clean(g);
    fs_subject_info info;
    ck_assert_int_eq(fs_gate_subject_show(g, "back-1", &info, NULL, 0, NULL,
                                          &d), FS_OK);
    fs_gate_close(g);
}
END_TEST

START_TEST(test_G20_removal_waits_for_the_gallery_alone)
{
    fs_gate *g = make_gallery_opts(&(fs_gate_options){ .alone_wait_ms = 200 });
    enrol_some(g, "busy", 2);
    fs_gate *other;
    fs_detail d = { "" };
    ck_assert_int_eq(reopen(&other, &d), FS_OK);
    ck_assert_int_eq(fs_gate_subject_remove(g, "busy-1", "court order",
                                            &d), FS_EBUSY);
    ck_assert_int_eq(fs_gate_key_rotate(g, &d), FS_EBUSY);
    fs_gate_close(other);
    fs_subject_info info;
    ck_assert_int_eq(fs_gate_subject_show(g, "busy-1", &info, NULL, 0, NULL,
                                          &d), FS_OK);
    ck_assert_int_eq(fs_gate_subject_remove(g, "busy-1", "court order", &d),
                     FS_OK);
    expect_clean(g);
    fs_gate_close(g);
}
END_TEST

/* ---- G18, G21: any record of the store, one byte flipped ------------------ */

/* What an admin or auditor runs, on gal: 1 when any of it refuses. */
static int store_refuses(void)
{
    fs_gate *g;
    fs_detail d;
    if (fs_gate_open(gal, NULL, &g, &d) != FS_OK)
        return 1;
    int bad = 0;
    fs_user *users = NULL;
    fs_request *reqs = NULL;
    fs_agency *ags = NULL;
    size_t n;
    const char *text;
    fs_audit_check c;
    bad |= fs_user_list(g, &users, &n, &d) != FS_OK;
    bad |= fs_gate_profile_show(g, &text, &d) != FS_OK;
    bad |= fs_request_list(g, 0, &reqs, &n, &d) != FS_OK;
    bad |= fs_agency_list(g, &ags, &n, &d) != FS_OK;
    bad |= fs_audit_verify(g, NULL, &c, &d) != FS_OK;
    bad |= fs_gate_gallery_verify(g, &d) != FS_OK;
    free(users);
    free(reqs);
    free(ags);
    fs_gate_close(g);
    return bad;
}

typedef struct where {
    char db[32];
    uint8_t key[80];
    size_t klen;
} where;

typedef struct places {
    where *w;
    size_t n;
} places;

static void keep_place(void *ctx, const char *table, const MDB_val *k,
                       const MDB_val *v)
{
    places *p = ctx;
    if (k->mv_size > sizeof p->w->key || !v->mv_size)
        return;
    p->w = realloc(p->w, (p->n + 1) * sizeof *p->w);
    snprintf(p->w[p->n].db, sizeof p->w[p->n].db, "%s", table);
    memcpy(p->w[p->n].key, k->mv_data, k->mv_size);
    p->w[p->n++].klen = k->mv_size;
}

/* The first finding: a flipped byte in 9 of 30 records of the
 * gate and the meta went unnoticed.  Now a byte flipped in the value of
 * any record of any table, one at a time on a fresh copy, is refused by
 * what an admin or auditor runs; none is silently obeyed. */
START_TEST(test_G21_every_record_flipped_is_noticed)
{
    fs_gate *g = make_gallery();
    enrol_some(g, "flip", 3);
    fs_detail d = { "" };
    char session[4200], id[FS_ID_MAX];
    ck_assert_int_eq(fs_agency_add(g, "Northville PD", "MOU-7", &d), FS_OK);
    ck_assert_int_eq(fs_gate_login(g, "ray", PW, session, sizeof session,
                                   &d), FS_OK);
    fs_request_form f = { "2026-002", "homicide", "Det. Ray", "HQ",
                          "555-0100", "suspect in a homicide seen by a "
                          "witness", "witness photograph", 0, 0 };
    ck_assert_msg(fs_request_file(g, &f, id, &d) == FS_OK, "%s", d.msg);
    ck_assert_int_eq(fs_gate_login(g, "admin", PW, session, sizeof session,
                                   &d), FS_OK);
    fs_gate_close(g);
    ck_assert_int_eq(store_refuses(), 0);        /* intact, it passes */
    char pristine[4200], anchor[4200], kept[4200];
    snprintf(pristine, sizeof pristine, "%s", tu_path(tu_tmp, "pristine"));
    snprintf(kept, sizeof kept, "%s", tu_path(tu_tmp, "anchor.kept"));
    fs_gate_anchor_default(key, anchor, sizeof anchor);
    copy_tree(gal, pristine);
    copy_tree(anchor, kept);
    /* every record of every table, by database and key */
    places p = { NULL, 0 };
    tu_raw_each(gal, keep_place, &p);
    where *w = p.w;
    size_t nw = p.n;
    raw r;
    ck_assert_int_gt(nw, 30);
    char missed[2048] = "";
    int flipped = 0;
    for (size_t i = 0; i < nw; i++) {
        copy_tree(pristine, gal);
        copy_tree(kept, anchor);
        raw_open(&r, gal);
        MDB_dbi db;
        ck_assert_int_eq(mdb_dbi_open(r.txn, w[i].db, 0, &db), 0);
        MDB_val fk = { w[i].klen, w[i].key }, fv;
        int found = mdb_get(r.txn, db, &fk, &fv) == 0;
        if (found) {
            uint8_t *copy = malloc(fv.mv_size);
            memcpy(copy, fv.mv_data, fv.mv_size);
            copy[fv.mv_size / 2] ^= 0x01;
            MDB_val nv = { fv.mv_size, copy };
            /* a dupsort table takes the flipped value beside the old */
            ck_assert_int_eq(mdb_del(r.txn, db, &fk, &fv), 0);
            ck_assert_int_eq(mdb_put(r.txn, db, &fk, &nv, 0), 0);
            free(copy);
        }
        raw_close(&r);
        if (!found)
            continue;
        flipped++;
        if (!store_refuses() && strlen(missed) < sizeof missed - 80)
            snprintf(missed + strlen(missed), sizeof missed - strlen(missed),
                     " %s/%.*s", w[i].db, (int)(w[i].klen < 24 ? w[i].klen
                     : 24), (char *)w[i].key);
    }
    free(w);
    ck_assert_int_gt(flipped, 30);
    ck_assert_msg(!missed[0], "flipped and unnoticed:%s", missed);
}
END_TEST

/* ---- a copied session token ---------------------------------------------- */

/* The copy of a token another OS user presents: what a copied session
 * file gives them. */
static int load_copy(void *ctx, uint8_t token[FS_TOKEN_BYTES], fs_detail *d)
{
    (void)d;
    memcpy(token, ctx, FS_TOKEN_BYTES);
    return FS_OK;
}

typedef struct found {
    const char *action, *outcome;
    int         n;
} found;

static int count_entries(void *ctx, const fs_audit_record *r)
{
    found *f = ctx;
    f->n += strcmp(r->action, f->action) == 0 &&
            strstr(r->outcome, f->outcome) != NULL;
    return 0;
}

/* G1, G3: a session serves the OS user who opened it (the uid the
 * service learns from the kernel, or this process's).  The same token
 * presented for another uid opens nothing, the refusal is on the trail,
 * and the owner's session goes on. */
START_TEST(test_G1_session_token_serves_only_its_uid)
{
    fs_gate *g = make_gallery();
    fs_user who;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_gate_session(g, 0, "gallery stats", &who, &d),
                     FS_OK);
    uint8_t token[FS_TOKEN_BYTES];
    ck_assert_int_eq(fs_session_load(fs_gate_id(g), token, &d), FS_OK);
    fs_gate_caller thief = { (uint32_t)geteuid() + 1, load_copy, NULL,
                             NULL, token };
    fs_gate_set_caller(g, &thief);
    ck_assert_int_eq(fs_gate_session(g, 0, "gallery stats", &who, &d),
                     FS_ESESSION);
    ck_assert_msg(strstr(d.msg, "another OS user"), "%s", d.msg);
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gate_gallery_stat(g, &st, &d), FS_ESESSION);

    fs_gate_set_caller(g, NULL);          /* the owner, as before */
    ck_assert_msg(fs_gate_gallery_stat(g, &st, &d) == FS_OK, "%s", d.msg);
    found f = { "gallery stats", "another OS user", 0 };
    ck_assert_msg(fs_audit_walk(g, NULL, count_entries, &f, &d) == FS_OK,
                  "%s", d.msg);
    ck_assert_int_eq(f.n, 2);
    char uid[40];                         /* each login names its OS user */
    snprintf(uid, sizeof uid, "ok (OS uid %u)", (unsigned)geteuid());
    found logins = { "login", uid, 0 };
    ck_assert_int_eq(fs_audit_walk(g, NULL, count_entries, &logins, &d),
                     FS_OK);
    ck_assert_int_eq(logins.n, 2);
    fs_gate_close(g);
}
END_TEST

Suite *suite_tamper(void)
{
    Suite *s = suite_create("tamper");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, tu_tmp_teardown);
    tcase_add_test(tc, test_G18_trail_wiped_with_its_head_is_caught);
    tcase_add_test(tc, test_G18_trail_rolled_back_is_caught_by_the_anchor);
    tcase_add_test(tc, test_G18_audit_log_stops_at_an_edited_entry);
    tcase_add_test(tc, test_G21_gate_meta_edits_detected);
    tcase_add_test(tc, test_G21_numbering_counter_deleted_or_rolled_back);
    tcase_add_test(tc, test_G7_G21_agency_record_removed_offline);
    tcase_add_test(tc, test_G21_profile_removed_under_an_open_handle);
    tcase_add_test(tc, test_G1_login_under_the_profile_in_force);
    tcase_add_test(tc, test_G21_key_file_inside_the_gallery_refused);
    tcase_add_test(tc, test_G18_enrolment_entries_name_every_image);
    tcase_add_test(tc, test_G21_rotation_leaves_the_old_key_useless);
    tcase_add_test(tc, test_G21_rotation_interrupted_before_the_rename_recovers);
    tcase_add_test(tc, test_G21_concurrent_rotations_never_lose_the_key);
    tcase_add_test(tc, test_G20_removed_subject_is_gone_and_stays_gone);
    tcase_add_test(tc, test_G20_subject_enrolled_again_after_removal_verifies);
    tcase_add_test(tc, test_G20_removal_waits_for_the_gallery_alone);
    tcase_add_test(tc, test_G21_every_record_flipped_is_noticed);
    tcase_add_test(tc, test_G1_session_token_serves_only_its_uid);
    suite_add_tcase(s, tc);
    return s;
}
