/*
 * check_service.c - facesearchd, the gallery service (issue 13): the
 * gate's tests run a second time through it (check_gate.c and
 * check_accounts.c in service mode); a token copied to another OS user
 * opens nothing (G1); the files a user names are read with that user's
 * rights, never the service's; many clients at once with an enrolment and
 * a key rotation beside them; a SIGKILL mid-enrolment loses at most the
 * batch in hand; hostile and slow clients get an error and the door, and
 * stall nobody else; and the protocol's decoder on its seeds and the
 * fuzzer's finds (tests/fuzz/fuzz_wire.c).
 *
 * The tests that change OS user (setpriv, as root) skip with a note when
 * the suite does not run as root.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "../tools/fs_wire.h"
#include "fs_testutil.h"

TCase *tcase_gate(int through_service);
TCase *tcase_accounts(int through_service);
int    fs_fuzz_wire(const uint8_t *data, size_t size);
void   fs_fuzz_wire_seeds(void (*emit)(void *ctx, const char *name,
                                       const uint8_t *body, size_t len),
                          void *ctx);

#define PW TU_PASSWORD

static char gal[4096];

static void svc_setup(void)
{
    tu_tmp_setup();
    snprintf(gal, sizeof gal, "%s/gallery", tu_tmp);
    tu_service_mode(1);
}

#define RUN(out, err, ...) \
    tu_run_on(gal, NULL, out, err, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, \
                 (const char *const[]){ __VA_ARGS__, NULL })

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* A gallery served by a service started with opts (NULL-terminated): the
 * admin logged in in this process first, so that the service the test
 * talks to is the one with its options. */
static const char *served_with(const char *const opts[])
{
    tu_service_mode(0);
    tu_init_gallery(gal);
    const char *sock = tu_service_start(gal, opts);
    tu_service_mode(1);
    return sock;
}

/* The images of people first.. first+n-1 for an enrolment,
 * dir/subj-<i>/face.bmp: her face, each with one pixel of its own so
 * that no two are the same file (one face decoded, not n).  0 when the
 * face photo is absent. */
static int faces(const char *dir, int first, int n)
{
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    const char *one = tu_path(dir, "face.bmp");
    if (tu_face_variant(one, 0.8, 0) != 0)
        return 0;
    size_t len;
    uint8_t *bmp = tu_read(one, &len);
    ck_assert_ptr_nonnull(bmp);
    unlink(one);
    for (int i = first; i < first + n; i++) {
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/subj-%02d", dir, i);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        bmp[54] = (uint8_t)i;          /* the bottom-left pixel's blue */
        ck_assert_int_eq(tu_write(tu_path(sub, "face.bmp"), bmp, len), 0);
    }
    free(bmp);
    return 1;
}

/* The gallery's image count, from `gallery stats --json`. */
static long images_in(void)
{
    char *out, *err;
    ck_assert_msg(RUN(&out, &err, "gallery", "stats", "--json") == 0, "%s",
                  err);
    fs_json *j;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    long n = (long)fs_json_get(j, "images")->number;
    fs_json_free(j);
    free(out);
    free(err);
    return n;
}

/* ---- other OS users ------------------------------------------------------ */

/* Two OS users no account of this machine has. */
enum { UID_A = 64101, UID_B = 64102 };

static int as_root(void)
{
    if (geteuid() == 0 && system("command -v setpriv >/dev/null") == 0)
        return 1;
    fprintf(stderr, "note: not root (or no setpriv): the tests that run "
            "clients as other OS users are skipped\n");
    return 0;
}

/* uid's home under the scratch directory, its own and private, with its
 * runtime directory (where its session file goes).  The scratch
 * directory lets others through to it and to the service's socket. */
static const char *home_of(unsigned uid)
{
    static char home[2][4200];
    char *h = home[uid == UID_B];
    snprintf(h, sizeof home[0], "%s/home-%u", tu_tmp, uid);
    if (access(h, F_OK) != 0) {
        char run[4300];
        snprintf(run, sizeof run, "%s/run", h);
        ck_assert_int_eq(chmod(tu_tmp, 0711), 0);
        ck_assert_int_eq(mkdir(h, 0700), 0);
        ck_assert_int_eq(mkdir(run, 0700), 0);
        ck_assert_int_eq(chown(h, uid, uid), 0);
        ck_assert_int_eq(chown(run, uid, uid), 0);
    }
    return h;
}

/* facesearch ARGS --socket S run as uid (setpriv), with its own home and
 * runtime directory. */
static int run_as(unsigned uid, const char *input, char **out, char **err,
                  const char *const args[])
{
    char ru[32], rg[32], home[4300], run[4400];
    snprintf(ru, sizeof ru, "--reuid=%u", uid);
    snprintf(rg, sizeof rg, "--regid=%u", uid);
    snprintf(home, sizeof home, "HOME=%s", home_of(uid));
    snprintf(run, sizeof run, "XDG_RUNTIME_DIR=%s/run", home_of(uid));
    char *const prefix[] = { "setpriv", ru, rg, "--clear-groups", "env",
                             home, run, NULL };
    char *argv[40] = { "facesearch" };
    int n = 1;
    for (; args[n - 1] && n < 36; n++)
        argv[n] = (char *)args[n - 1];
    argv[n++] = "--socket";
    argv[n++] = (char *)tu_service_start(gal, NULL);
    argv[n] = NULL;
    return tu_run_full(prefix, input, argv, out, err);
}

/* As tu_expect_on, for a client of another OS user. */
static void expect_as(unsigned uid, int want, const char *what,
                      const char *input, const char *const args[])
{
    char *out, *err;
    int st = run_as(uid, input, &out, &err, args);
    /* what it printed, cut short: Check's messages have a limit */
    ck_assert_msg(st == want, "uid %u: %s %s: status %d, not %d: %.1000s"
                  "%.1000s", uid, args[0], args[1] ? args[1] : "", st, want,
                  out, err);
    const char *where = want ? err : out;
    ck_assert_msg(!what || strstr(where, what), "uid %u: %s %s: '%s' not "
                  "in: %.2000s", uid, args[0], args[1] ? args[1] : "", what,
                  where);
    free(out);
    free(err);
}

#define EXPECT_AS(uid, want, what, ...) \
    expect_as(uid, want, what, NULL, (const char *const[]){ __VA_ARGS__, \
                                                           NULL })

static void login_as(unsigned uid, const char *user)
{
    expect_as(uid, 0, "logged in as", PW "\n", (const char *const[]){
              "login", "--user", user, "--password-stdin", NULL });
}

/* The one file named *suffix in dir (its path, in a static buffer). */
static const char *file_in(const char *dir, const char *suffix)
{
    static char path[4400];
    DIR *dp = opendir(dir);
    ck_assert_msg(dp != NULL, "cannot read %s", dir);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(dp))) {
        size_t n = strlen(e->d_name), k = strlen(suffix);
        if (n > k && strcmp(e->d_name + n - k, suffix) == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            found++;
        }
    }
    closedir(dp);
    ck_assert_msg(found == 1, "%d files *%s in %s", found, suffix, dir);
    return path;
}

/* ---- who calls is the kernel's to say (G1) ----------------------------------- */

/* eve logs in as OS user A; her session file, copied into OS user B's
 * runtime directory (B's own file, 0600, as a copy B made would be),
 * opens nothing for B: refused, naming the reason, and on the trail; A's
 * own session goes on working. */
START_TEST(test_G1_token_copied_to_another_uid_refused)
{
    if (!as_root())
        return;
    tu_init_gallery(gal);
    tu_add_user(gal, "eve", "examiner", "2026-01-15");
    login_as(UID_A, "eve");
    EXPECT_AS(UID_A, 0, "name = detroit", "profile", "show");
    char dir[4400], copy[4600];
    snprintf(dir, sizeof dir, "%s/run/facesearch", home_of(UID_A));
    const char *src = file_in(dir, ".session");
    size_t len;
    char *token = tu_read(src, &len);
    ck_assert_ptr_nonnull(token);
    snprintf(dir, sizeof dir, "%s/run/facesearch", home_of(UID_B));
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(chown(dir, UID_B, UID_B), 0);
    snprintf(copy, sizeof copy, "%s/%s", dir, strrchr(src, '/') + 1);
    ck_assert_int_eq(tu_write(copy, token, len), 0);
    ck_assert_int_eq(chmod(copy, 0600), 0);
    ck_assert_int_eq(chown(copy, UID_B, UID_B), 0);
    free(token);
    EXPECT_AS(UID_B, 1, "belongs to another OS user than uid 64102",
              "profile", "show");
    EXPECT_AS(UID_B, 1, "a copied token opens nothing", "gallery", "stats");
    EXPECT_AS(UID_A, 0, "name = detroit", "profile", "show");
    EXPECT(0, "eve (TEST)  profile show  -> refused: the session of 'eve' "
           "belongs to another OS user than uid 64102", "audit", "log",
           "--user", "eve");
}
END_TEST

/* The files a user names are opened by their client, with their rights:
 * a folder of mugshots only OS user A may read is refused to B (both
 * logged in as the gallery's admin) though the service could read it,
 * and the service's own key file, named as a manifest or a profile, is
 * refused to B too; A enrols the folder. */
START_TEST(test_files_named_are_opened_with_the_users_own_rights)
{
    if (!as_root())
        return;
    tu_init_gallery(gal);
    login_as(UID_A, "admin");
    login_as(UID_B, "admin");
    char mugs[4400];
    snprintf(mugs, sizeof mugs, "%s/mugshots", home_of(UID_A));
    if (!faces(mugs, 0, 1))
        return;
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "chown -R %u:%u '%s'", UID_A, UID_A, mugs);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT_AS(UID_B, 2, "Permission denied", "enroll", mugs);
    ck_assert_int_eq(images_in(), 0);
    char keys[4400];
    snprintf(keys, sizeof keys, "%s/config/facesearch", tu_tmp);
    char key[4400];
    snprintf(key, sizeof key, "%s", file_in(keys, ".key"));
    EXPECT_AS(UID_B, 2, "Permission denied", "enroll", "--manifest", key);
    EXPECT_AS(UID_B, 2, "Permission denied", "profile", "set", key);
    EXPECT_AS(UID_A, 0, "1 enrolled", "enroll", mugs);
    ck_assert_int_eq(images_in(), 1);
}
END_TEST

/* ---- many at once, and a crash ------------------------------------------------ */

/* A request of ray's (the session's user) for a robbery: its id, R1. */
static void file_request(void)
{
    tu_request_robbery(gal, "R1");
}

/* Each person works from a runtime directory of their own; the admin's
 * is the test's own (tu_init_gallery logged them in there). */
static void as(const char *user)
{
    char dir[64];
    snprintf(dir, sizeof dir, "run%s%s", strcmp(user, "admin") ? "-" : "",
             strcmp(user, "admin") ? user : "");
    setenv("XDG_RUNTIME_DIR", tu_path(tu_tmp, dir), 1);
}

/* Lines in a file (0 when it is not there yet). */
static int lines_in(const char *path)
{
    size_t len;
    char *t = tu_read(path, &len);
    int n = 0;
    for (size_t i = 0; t && i < len; i++)
        n += t[i] == '\n';
    free(t);
    return n;
}

#define SEARCHERS 3

/* Three examiners search again and again while the admin enrols a batch
 * and rotates the key (LMDB readers beside its one writer, and the
 * rotation's exclusive turn).  Each command ends on its own; at the end
 * `gallery verify` and `audit verify` are clean, and the trail holds one
 * released search for each search that exited 0 (G9, G18, G21). */
START_TEST(test_G18_G21_searches_while_enrolling_and_rotating_the_key)
{
    tu_init_gallery(gal);
    const char *mugs = strdup(tu_path(tu_tmp, "mugshots")),
               *batch = strdup(tu_path(tu_tmp, "batch")),
               *probe = strdup(tu_path(tu_tmp, "probe.bmp"));
    if (!faces(mugs, 0, 1) || !faces(batch, 1, 6) ||
        tu_face_variant(probe, 0.85, 0) != 0)
        return;
    EXPECT(0, "1 enrolled", "enroll", mugs);
    tu_add_user(gal, "ray", "requester", NULL);
    as("ray");
    ck_assert_int_eq(tu_login(gal, "ray", PW), 0);
    file_request();
    static const char *const eves[SEARCHERS] = { "eve1", "eve2", "eve3" };
    for (int i = 0; i < SEARCHERS; i++) {
        as("admin");
        tu_add_user(gal, eves[i], "examiner", "2026-01-15");
        as(eves[i]);
        ck_assert_int_eq(tu_login(gal, eves[i], PW), 0);
    }
    as("admin");

    /* each examiner: a shell loop of searches until STOP, each exit
     * status a line of its status file */
    const char *sock = tu_service_start(gal, NULL);
    const char *stop = strdup(tu_path(tu_tmp, "STOP"));
    static const char loop[] = "stop=$1; st=$2; shift 2; "
        "while [ ! -e \"$stop\" ]; do \"$@\" >/dev/null; "
        "echo $? >> \"$st\"; done";
    tu_proc *searcher[SEARCHERS];
    char status[SEARCHERS][4300];
    for (int i = 0; i < SEARCHERS; i++) {
        char env[4300];
        snprintf(env, sizeof env, "XDG_RUNTIME_DIR=%s/run-%s", tu_tmp,
                 eves[i]);
        snprintf(status[i], sizeof status[i], "%s/status-%s", tu_tmp,
                 eves[i]);
        char *const prefix[] = { "env", env, "sh", "-c", (char *)loop,
                                 "loop", (char *)stop, status[i], NULL };
        searcher[i] = tu_start(prefix, NULL, (char *const[]){ "facesearch",
            "search", "--request", "R1", (char *)probe, "--human-review",
            "--socket", (char *)sock, NULL });
    }
    double t0 = now();
    tu_proc *enrol = tu_start(NULL, NULL, (char *const[]){ "facesearch",
        "enroll", (char *)batch, "--batch", "2", "--socket", (char *)sock,
        NULL });
    tu_proc *rotate = tu_start(NULL, NULL, (char *const[]){ "facesearch",
        "key", "rotate", "--socket", (char *)sock, NULL });
    char *out, *err;
    int st = tu_finish(enrol, &out, &err);
    ck_assert_msg(st == 0 && strstr(out, "6 enrolled"), "enroll: %d %s%s",
                  st, out, err);
    free(out);
    free(err);
    st = tu_finish(rotate, &out, &err);
    ck_assert_msg(st == 0 && strstr(out, "rotated"), "key rotate: %d %s%s",
                  st, out, err);
    free(out);
    free(err);
    double busy = now() - t0;
    /* a few searches each, at least, before the loops stop */
    for (int i = 0; i < SEARCHERS; i++)
        for (int k = 0; lines_in(status[i]) < 2 && k < 6000; k++)
            usleep(10000);
    ck_assert_int_eq(tu_write(stop, "", 0), 0);
    int released = 0, searches = 0;
    for (int i = 0; i < SEARCHERS; i++) {
        st = tu_finish(searcher[i], &out, &err);
        ck_assert_msg(st == 0, "%s's loop: %d %s", eves[i], st, err);
        size_t len;
        char *t = tu_read(status[i], &len);
        ck_assert_ptr_nonnull(t);
        for (char *l = t; *l; l = strchr(l, '\n') + 1) {
            searches++;
            released += atoi(l) == 0;
        }
        /* none failed: each one either released or refused, saying why */
        ck_assert_msg(released == searches, "%s: a search failed: %s",
                      eves[i], err);
        free(t);
        free(out);
        free(err);
    }
    fprintf(stderr, "service: %d searches by %d examiners beside an "
            "enrolment and a key rotation (%.1f s)\n", searches, SEARCHERS,
            busy);
    EXPECT(0, "is consistent", "gallery", "verify");
    EXPECT(0, "intact", "audit", "verify");
    ck_assert_int_eq(images_in(), 7);
    /* one released search on the trail for each search that exited 0 */
    ck_assert_int_eq(RUN(&out, &err, "audit", "log", "--json"), 0);
    fs_json *j;
    ck_assert_int_eq(fs_json_parse(out, strlen(out), &j, NULL), FS_OK);
    int on_trail = 0;
    for (size_t i = 0; i < j->n; i++)
        on_trail += strcmp(fs_json_get(j->items[i], "action")->string,
                           "search") == 0 &&
                    strcmp(fs_json_get(j->items[i], "outcome")->string,
                           "released for human review") == 0;
    ck_assert_int_eq(on_trail, released);
    fs_json_free(j);
    free(out);
    free(err);
    free((void *)mugs);
    free((void *)batch);
    free((void *)probe);
    free((void *)stop);
}
END_TEST

/* The service killed (SIGKILL, its whole process group) once an
 * enrolment's first batch is in: the enrolling client says the command
 * ended without its result; restarted, the gallery and the trail verify,
 * what was committed stays, and the same enrolment run again enrols the
 * rest and skips what is in (G18). */
START_TEST(test_G18_sigkill_mid_enrolment_loses_at_most_the_batch)
{
    tu_init_gallery(gal);
    enum { N = 12 };
    const char *mugs = strdup(tu_path(tu_tmp, "mugshots"));
    if (!faces(mugs, 0, N))
        return;
    const char *sock = tu_service_start(gal, NULL);
    /* each commit appends the trail's new head to the anchor file: the
     * first batch is in when it grows */
    char keys[4300];
    snprintf(keys, sizeof keys, "%s/config/facesearch", tu_tmp);
    const char *anchor = strdup(file_in(keys, ".anchor"));
    struct stat st0, st1;
    ck_assert_int_eq(stat(anchor, &st0), 0);
    tu_proc *enrol = tu_start(NULL, NULL, (char *const[]){ "facesearch",
        "enroll", (char *)mugs, "--batch", "2", "--threads", "1",
        "--socket", (char *)sock, NULL });
    for (int k = 0; stat(anchor, &st1) == 0 && st1.st_size == st0.st_size &&
                    k < 60000; k++)
        usleep(1000);
    tu_service_kill(gal);
    char *out, *err;
    int st = tu_finish(enrol, &out, &err);
    ck_assert_msg(st == 3 && strstr(err, "without its result"),
                  "the enrolling client: %d %s%s", st, out, err);
    free(out);
    free(err);
    tu_service_start(gal, NULL);
    EXPECT(0, "is consistent", "gallery", "verify");
    EXPECT(0, "intact", "audit", "verify");
    long kept = images_in();
    ck_assert_msg(kept >= 2 && kept < N, "%ld of %d images kept", kept, N);
    char want[128];
    snprintf(want, sizeof want, "%d images: %ld enrolled, %ld already in "
             "the gallery", N, N - kept, kept);
    EXPECT(0, want, "enroll", mugs);
    ck_assert_int_eq(images_in(), N);
    EXPECT(0, "intact", "audit", "verify");
    free((void *)mugs);
    free((void *)anchor);
}
END_TEST

/* ---- hostile and slow clients ------------------------------------------------ */

/* A raw connection to the service, its HELLO read; a receive timeout of
 * 10 s so that no test hangs on it. */
static int raw_connect(const char *sock)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fs_wire_msg m;
    fs_detail d = { "" };
    ck_assert_msg(fs_wire_recv(fd, FS_WIRE_RUN_MAX, &m, &d) == FS_OK, "%s",
                  d.msg);
    ck_assert_int_eq(m.type, FS_W_HELLO);
    fs_wire_clear(&m);
    return fd;
}

static void raw_write(int fd, const void *p, size_t n)
{
    ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
}

/* Whether the service closed the connection (rather than the receive
 * timeout passing), whatever it sent before. */
static int closed_by_service(int fd)
{
    char b[4096];
    ssize_t r;
    while ((r = read(fd, b, sizeof b)) > 0)
        ;
    return r == 0 || errno == ECONNRESET;
}

/* The RUN of `profile set FILE` as the admin whose session file is in
 * the test's runtime directory, with out (or /dev/null) as its standard
 * output and error. */
static void send_run(int fd, const char *file, int out)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/run/facesearch", tu_tmp);
    size_t len;
    char *hex = tu_read(file_in(dir, ".session"), &len);
    ck_assert_ptr_nonnull(hex);
    hex[64] = 0;
    fs_wire_msg m = { .type = FS_W_RUN, .version = FS_WIRE_VERSION,
                      .flags = FS_W_HAS_TOKEN, .argc = 4,
                      .argv = { "facesearch", "profile", "set", file },
                      .nfds = 3 };
    ck_assert_int_eq(fs_unhex(hex, m.token, sizeof m.token), FS_OK);
    free(hex);
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    m.fds[0] = nul;
    m.fds[1] = m.fds[2] = out >= 0 ? out : nul;
    ck_assert_int_eq(fs_wire_send(fd, &m, NULL), FS_OK);
    close(nul);
}

/* Garbage, a frame over the limit, a RUN with too few descriptors or
 * missing the terminal it announces or with too many, a frame cut short,
 * a client that never speaks, a question answered out of turn or without
 * the file asked for: each gets the door (or its command an error), the
 * service's log says why, nothing crashes, and the service serves the
 * next command at once. */
START_TEST(test_hostile_messages_get_an_error_and_the_service_serves_on)
{
    const char *sock = served_with((const char *const[]){
        "--answer-seconds", "1", NULL });
    int fd, nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    /* garbage: a frame of an unknown type, then bytes that are no frame */
    static const char *const garbage[] = { "\x05\0\0\0hello",
                                           "GET / HTTP/1.0\r\n\r\n" };
    for (int i = 0; i < 2; i++) {
        fd = raw_connect(sock);
        raw_write(fd, garbage[i], i ? strlen(garbage[i]) : 9);
        ck_assert(closed_by_service(fd));
        close(fd);
        EXPECT(0, "subjects", "gallery", "stats");
    }
    /* over the limit: refused on its length (the log says so), the body
     * never awaited */
    fd = raw_connect(sock);
    uint32_t big = FS_WIRE_RUN_MAX + 1;
    raw_write(fd, &big, 4);
    ck_assert(closed_by_service(fd));
    close(fd);
    EXPECT(0, "subjects", "gallery", "stats");
    /* RUNs with the wrong descriptors */
    for (int nfds = 0; nfds <= 3; nfds++) {
        fs_wire_msg m = { .type = FS_W_RUN, .version = FS_WIRE_VERSION,
                          .argc = 3, .argv = { "facesearch", "gallery",
                                               "stats" },
                          .flags = nfds == 3 ? FS_W_HAS_TTY : 0,
                          .nfds = nfds, .fds = { nul, nul, nul } };
        fd = raw_connect(sock);
        ck_assert_int_eq(fs_wire_send(fd, &m, NULL), FS_OK);
        ck_assert_msg(closed_by_service(fd), "%d descriptors", nfds);
        close(fd);
    }
    {   /* more descriptors than any message carries */
        uint8_t *frame;
        size_t len;
        fs_wire_msg m = { .type = FS_W_RUN, .version = FS_WIRE_VERSION,
                          .argc = 1, .argv = { "facesearch" } };
        ck_assert_int_eq(fs_wire_encode(&m, &frame, &len), FS_OK);
        int fds[8] = { nul, nul, nul, nul, nul, nul, nul, nul };
        union {
            struct cmsghdr h;
            char           b[CMSG_SPACE(sizeof fds)];
        } ctl;
        memset(&ctl, 0, sizeof ctl);
        struct iovec iov = { frame, len };
        struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl.b,
                            .msg_controllen = sizeof ctl.b };
        struct cmsghdr *c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(c), fds, sizeof fds);
        fd = raw_connect(sock);
        ck_assert_int_eq(sendmsg(fd, &h, 0), (ssize_t)len);
        ck_assert(closed_by_service(fd));
        close(fd);
        free(frame);
    }
    EXPECT(0, "subjects", "gallery", "stats");
    /* a frame cut short, then gone */
    fd = raw_connect(sock);
    raw_write(fd, "\x64\0\0\0\x02\x01\0\0\0\0", 10);
    close(fd);
    EXPECT(0, "subjects", "gallery", "stats");
    /* a client that never speaks: shown the door after --answer-seconds */
    fd = raw_connect(sock);
    double t0 = now();
    ck_assert(closed_by_service(fd));
    double waited = now() - t0;
    ck_assert_msg(waited > 0.5 && waited < 5, "%.2f s", waited);
    close(fd);
    /* a question answered out of turn, and one answered without the file:
     * the command fails, saying so on the user's standard error, and the
     * conversation ends with its exit status */
    const char *errf = tu_path(tu_tmp, "raw.err");
    for (int way = 0; way < 2; way++) {
        int out = open(errf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        fd = raw_connect(sock);
        send_run(fd, "/etc/hostname", out);
        close(out);
        fs_wire_msg q;
        ck_assert_int_eq(fs_wire_recv(fd, FS_WIRE_FRAME_MAX, &q, NULL),
                         FS_OK);
        ck_assert_int_eq(q.type, FS_W_OPEN);
        ck_assert_str_eq(q.text, "/etc/hostname");
        fs_wire_clear(&q);
        fs_wire_msg r = { .type = way ? FS_W_REPLY : FS_W_DROP };
        ck_assert_int_eq(fs_wire_send(fd, &r, NULL), FS_OK);
        ck_assert_int_eq(fs_wire_recv(fd, FS_WIRE_FRAME_MAX, &q, NULL),
                         FS_OK);
        ck_assert_int_eq(q.type, FS_W_EXIT);
        ck_assert_int_eq(q.code, 3);
        fs_wire_clear(&q);
        close(fd);
        size_t len;
        char *said = tu_read(errf, &len);
        ck_assert_msg(strstr(said, way ? "sent no file" : "out of turn"),
                      "%s", said);
        free(said);
    }
    EXPECT(0, "subjects", "gallery", "stats");
    close(nul);
    /* the log names each refusal; no child of the service crashed */
    char *log = tu_service_log(gal);
    static const char *const said[] = {
        "a malformed message", "bytes (the limit is",
        "not a command of this protocol", "too many descriptors",
        "closed the connection", "did not answer in time",
    };
    for (size_t i = 0; i < sizeof said / sizeof *said; i++)
        ck_assert_msg(strstr(log, said[i]), "'%s' not in the log:\n%s",
                      said[i], log);
    ck_assert_msg(!strstr(log, "signal"), "%s", log);
    free(log);
}
END_TEST

/* A client that connects and never sends its command holds up only
 * itself: another's command completes at once beside it, while the
 * silent one is still waited for (its 30 s are not up). */
START_TEST(test_slow_client_stalls_nobody)
{
    tu_init_gallery(gal);
    int slow = raw_connect(tu_service_start(gal, NULL));
    double t0 = now();
    EXPECT(0, "subjects", "gallery", "stats");
    EXPECT(0, "admin", "user", "list");
    double took = now() - t0;
    ck_assert_msg(took < 10, "%.2f s beside a silent client", took);
    struct pollfd pf = { slow, POLLIN, 0 };
    ck_assert_int_eq(poll(&pf, 1, 0), 0);        /* not shown the door */
    close(slow);
}
END_TEST

/* ---- the protocol's decoder ------------------------------------------------ */

static void seed_round_trip(void *ctx, const char *name, const uint8_t *body,
                            size_t len)
{
    fs_wire_msg m;
    fs_detail d = { "" };
    ck_assert_msg(fs_wire_decode(body, len, &m, &d) == FS_OK, "seed %s: %s",
                  name, d.msg);
    fs_wire_clear(&m);
    fs_fuzz_wire(body, len);            /* aborts when it does not encode
                                           back to the same bytes */
    (*(int *)ctx)++;
}

/* Every kind of message decodes and encodes back to its bytes; each of
 * the fuzzer's finds kept in tests/fuzz/regress_wire/ passes again. */
START_TEST(test_wire_seeds_and_regress_replayed)
{
    int seeds = 0;
    fs_fuzz_wire_seeds(seed_round_trip, &seeds);
    ck_assert_int_ge(seeds, FS_W_EXIT);
    const char *tests = getenv("FACESEARCH_TESTS");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/fuzz/regress_wire",
             tests && *tests ? tests : "tests");
    DIR *dp = opendir(dir);
    ck_assert_msg(dp != NULL, "cannot read %s", dir);
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len;
        uint8_t *b = tu_read(tu_path(dir, e->d_name), &len);
        ck_assert_msg(b != NULL, "cannot read %s", e->d_name);
        fs_fuzz_wire(b, len);
        free(b);
    }
    closedir(dp);
}
END_TEST

/* A frame body built by hand: a type byte and fields. */
typedef struct frame {
    uint8_t b[256];
    size_t  n;
} frame;

static void f_u8(frame *f, uint8_t v)
{
    f->b[f->n++] = v;
}

static void f_u32(frame *f, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        f_u8(f, (uint8_t)(v >> 8 * i));
}

static void f_str(frame *f, const char *s, size_t n)
{
    f_u32(f, (uint32_t)n);
    memcpy(f->b + f->n, s, n);
    f->n += n;
}

static void expect_malformed(const frame *f, const char *what)
{
    fs_wire_msg m;
    fs_detail d = { "" };
    ck_assert_msg(fs_wire_decode(f->b, f->n, &m, &d) == FS_EFORMAT,
                  "%s: decoded", what);
    ck_assert_ptr_null(m.frame);
    fs_fuzz_wire(f->b, f->n);
}

/* What no encoder writes is refused: a string running past the frame or
 * holding a NUL, bytes after the last field, an unknown type or flag, a
 * RUN of no or too many arguments, a listing longer than its frame or
 * with a name that is empty, holds a '/' or a bad kind, an empty path. */
START_TEST(test_wire_decoder_refuses_what_no_encoder_writes)
{
    frame f;
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_HELLO); f_u32(&f, 1); f_u32(&f, 10); f.b[f.n++] = 'x';
    expect_malformed(&f, "a string past the frame");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_HELLO); f_u32(&f, 1); f_str(&f, "a\0b", 3);
    expect_malformed(&f, "a NUL in a string");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_EXIT); f_u32(&f, 0); f_u8(&f, 0);
    expect_malformed(&f, "a byte after the last field");
    f = (frame){ .n = 0 };
    f_u8(&f, 0); f_u32(&f, 0);
    expect_malformed(&f, "type 0");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_EXIT + 1);
    expect_malformed(&f, "a type past the last");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, 8); f_u32(&f, 1);
    f_str(&f, "fs", 2);
    expect_malformed(&f, "an unknown RUN flag");
    f = (frame){ .n = 0 };             /* a token, and a refused one */
    f_u8(&f, FS_W_RUN); f_u32(&f, 1);
    f_u32(&f, FS_W_HAS_TOKEN | FS_W_TOKEN_REFUSED);
    for (int i = 0; i < 8; i++)
        f_u32(&f, 0);
    f_u32(&f, 1);
    f_str(&f, "fs", 2);
    expect_malformed(&f, "a token both sent and refused");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, 0); f_u32(&f, 0);
    expect_malformed(&f, "a RUN of no arguments");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, 0);
    f_u32(&f, FS_WIRE_ARGS_MAX + 1);
    for (int i = 0; i < 40; i++)
        f_u32(&f, 0);
    expect_malformed(&f, "a RUN of too many arguments");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, FS_W_HAS_TOKEN);
    f_u32(&f, 1); f_str(&f, "fs", 2);
    expect_malformed(&f, "a RUN whose token is missing");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_REPLY); f_u32(&f, 0); f_str(&f, "", 0);
    f_u32(&f, 0x40000000u);
    expect_malformed(&f, "a listing longer than its frame");
    static const struct { uint8_t kind; const char *name; } bad[] = {
        { 0, "" }, { 0, "a/b" }, { 2, "a" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f = (frame){ .n = 0 };
        f_u8(&f, FS_W_REPLY); f_u32(&f, 0); f_str(&f, "", 0); f_u32(&f, 1);
        f_u8(&f, bad[i].kind); f_str(&f, bad[i].name, strlen(bad[i].name));
        expect_malformed(&f, "a bad entry");
    }
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_OPEN); f_str(&f, "", 0);
    expect_malformed(&f, "an empty path");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_SAVE); f_u32(&f, 0);
    expect_malformed(&f, "a short token");
    fs_wire_msg m;
    ck_assert_int_eq(fs_wire_decode(f.b, 0, &m, NULL), FS_EFORMAT);
}
END_TEST

Suite *suite_service(void)
{
    Suite *s = suite_create("service");
    /* "again": the sanitized run leaves these out (Makefile); the cases
     * below take the service's and the client's paths under it */
    TCase *gate = tcase_gate(1), *accounts = tcase_accounts(1);
    tcase_set_tags(gate, "again");
    tcase_set_tags(accounts, "again");
    suite_add_tcase(s, gate);
    suite_add_tcase(s, accounts);
    TCase *tc = tcase_create("service");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, svc_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_G1_token_copied_to_another_uid_refused);
    tcase_add_test(tc, test_files_named_are_opened_with_the_users_own_rights);
    tcase_add_test(tc, test_G18_G21_searches_while_enrolling_and_rotating_the_key);
    tcase_add_test(tc, test_G18_sigkill_mid_enrolment_loses_at_most_the_batch);
    tcase_add_test(tc, test_hostile_messages_get_an_error_and_the_service_serves_on);
    tcase_add_test(tc, test_slow_client_stalls_nobody);
    suite_add_tcase(s, tc);
    TCase *wire = tcase_create("wire");
    tcase_add_test(wire, test_wire_seeds_and_regress_replayed);
    tcase_add_test(wire, test_wire_decoder_refuses_what_no_encoder_writes);
    suite_add_tcase(s, wire);
    return s;
}
