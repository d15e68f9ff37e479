/*
 * fs_testutil.h - what the Check suites share: where things are, scratch
 * directories, synthetic chips, small image writers and a runner for the
 * real binary and the reference peers.
 */
#ifndef FS_TESTUTIL_H
#define FS_TESTUTIL_H

#include <check.h>
#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../engine/base/fs_error.h"
#include "../engine/base/fs_json.h"
#include "../engine/base/fs_types.h"

/* $FACESEARCH_MODEL (set by `make check`); the suite cannot run without. */
const char *tu_model_path(void);
/* Our copy of the landmark model beside it (`make models`), or NULL
 * (dlib's own): what the CLI opens, 0.6 s sooner. */
const char *tu_landmarks(void);
/* $FACESEARCH_BIN: the facesearch binary under test. */
const char *tu_bin(void);
/* $FACESEARCH_PEER_CHIP: dlib's own chip, the reference of ours
 * (benchmarks/peer_dlib_chip.cpp). */
const char *tu_peer_chip(void);
/* ../shared, or NULL (with a note printed once) when it is absent. */
const char *tu_shared(void);

/* The scratch directory of the running test: a Check fixture pair that
 * makes it fresh for each test and removes it after. */
extern char *tu_tmp;
void tu_tmp_setup(void);
void tu_tmp_teardown(void);
/* A test case's template gallery under base (its gallery, session and
 * config directories, made once by the case's setup): tu_template_begin
 * makes base, the case's tu_tmp and XDG directories, and names gal in it;
 * once the gallery is made there, tu_template_done
 * keeps its anchor as it stands, and tu_template_copy copies the gallery
 * and sessions into tu_tmp for one test.  The copies share the template's
 * key and anchor files (their paths are sealed in the gallery), so each
 * starts from the anchor as the template left it, or the entries of the
 * test before would read as a fork. */
char *tu_template_begin(char gal[4096]);    /* the base, tu_tmp */
void tu_template_done(const char *base);
void tu_template_free(char **base);
void tu_template_copy(const char *base);
/* A test's start from the template: a fresh tu_tmp, gal in it, and the
 * template copied there (nothing when base is NULL: its making failed). */
void tu_template_start(const char *base, char gal[4096]);

/* A fresh directory under $TMPDIR, removed by tu_rmtree. */
char *tu_mkdtemp(void);
void  tu_rmtree(const char *dir);
/* dir + "/" + name, in a static ring of buffers. */
const char *tu_path(const char *dir, const char *name);

int   tu_write(const char *path, const void *data, size_t len);
/* Whether the file at path holds the n bytes of needle anywhere. */
int   tu_file_holds(const char *path, const void *needle, size_t n);
void *tu_read(const char *path, size_t *len);
/* A file the program made for its user alone: asserted 0600, read whole
 * and NUL-terminated (malloc'd). */
char *tu_read_private(const char *path);

/* The golden set's synthetic chips, made from their recipes (NETWORK.md
 * section 5): "syn_gradient.png", "syn_checker.png", "syn_gray128.png",
 * "syn_lcg.png".  Returns 0 on success. */
int tu_synthetic_chip(const char *name, uint8_t chip[FS_CHIP_BYTES]);

/* Uncompressed 24-bit BMP writer. */
int tu_write_bmp(const char *path, const uint8_t *rgb, int w, int h);

/* A PNG of w x h pixels, channels 1 (grey) or 3 (RGB), 8 or 16 bits,
 * every sample 200, in stored (uncompressed) deflate blocks; frames > 1
 * adds an acTL chunk (an APNG).  The pixel data is left out past 1 MB
 * (a header-only "bomb").  Returns the bytes written, 0 if over cap. */
size_t tu_png(uint8_t *out, size_t cap, uint32_t w, uint32_t h,
              int channels, int bits, int frames);
int    tu_write_png(const char *path, uint32_t w, uint32_t h, int channels,
                    int bits);
uint32_t tu_crc32(const uint8_t *p, size_t n);

/* Runs the binary with argv (argv[0] ignored), stdin from /dev/null.
 * Returns the exit status; *out and *err (malloc'd, NUL-terminated)
 * hold what it printed. */
int tu_run(char *const argv[], char **out, char **err);
/* The same with stdin holding input (a password line, say). */
int tu_run_input(const char *input, char *const argv[], char **out,
                 char **err);
/* The same behind a command prefix, e.g. { "setpriv", ..., NULL }. */
int tu_run_prefixed(char *const prefix[], char *const argv[], char **out,
                    char **err);

/* The same behind a prefix (or NULL) with stdin holding input (or
 * nothing). */
int tu_run_full(char *const prefix[], const char *input, char *const argv[],
                char **out, char **err);
/* A run of the binary as tu_run_full, in the background: tu_start starts
 * it, tu_finish waits for it and returns what tu_run_full would (and
 * frees p). */
typedef struct tu_proc tu_proc;
tu_proc *tu_start(char *const prefix[], const char *input,
                  char *const argv[]);
int      tu_finish(tu_proc *p, char **out, char **err);
/* tu_finish without its assertion: the exit status, or minus the signal
 * that killed the program. */
int      tu_finish_status(tu_proc *p, char **out, char **err);

/* The same for another program, e.g. a peer (argv[0] ignored). */
int tu_run_program(const char *prog, char *const argv[], char **out,
                   char **err);
/* Another program started as tu_start starts the binary, in a session
 * of its own; tu_finish_within waits for it at most seconds and returns
 * what tu_finish_status would, or TU_TIMED_OUT once every process of the
 * session (a hung mpirun and its ranks) is killed. */
#define TU_TIMED_OUT (-1000)
tu_proc *tu_start_session(const char *prog, char *const argv[]);
int      tu_finish_within(tu_proc *p, double seconds, char **out,
                          char **err);

/* Runs the binary (as tu_run), asserts its exit status and parses what
 * it printed as JSON (asserted). */
fs_json *tu_run_json(int want_status, char *const argv[]);
/* The number under key (asserted to be one). */
double tu_num(const fs_json *j, const char *key);

/* Runs facesearch with the given arguments (see tu_run). */
#define TU_RUN(out, err, ...) \
    tu_run((char *const[]){ "facesearch", __VA_ARGS__, NULL }, out, err)

/* A refusal as users see it: exit status `want`, a "facesearch: "
 * message naming `what` on stderr, nothing on stdout. */
void tu_expect_refusal(int status, int want, const char *out,
                       const char *err, const char *what);
#define TU_REFUSED(want, what, ...) do {                                   \
        char *o_, *e_;                                                    \
        int st_ = TU_RUN(&o_, &e_, __VA_ARGS__);                          \
        tu_expect_refusal(st_, want, o_, e_, what);                       \
        free(o_);                                                         \
        free(e_);                                                         \
    } while (0)

/* The gallery service, facesearchd (the one beside $FACESEARCH_BIN).
 * tu_service_start starts it for gal when none of this test's serves
 * it, with --gallery gal --socket <scratch>/svc-N.sock and the extra
 * options (NULL-terminated, or NULL), in its own process group, its
 * standard error in <scratch>/svc-N.log; it returns once the socket
 * accepts, with the socket's path (the same across restarts).  The
 * test's teardown (tu_tmp_teardown) stops every service it started, as
 * does the test's exit.  tu_service_stop: SIGTERM to the group, SIGKILL
 * after 5 s, reaped (nothing when none runs); tu_service_kill: SIGKILL
 * to the whole group at once, as a crash would.  tu_service_log: what
 * the service logged so far (malloc'd). */
const char *tu_service_start(const char *gal, const char *const extra[]);
/* facesearchd beside $FACESEARCH_BIN's facesearch (a static buffer). */
const char *tu_daemon(void);
void        tu_service_stop(const char *gal);
void        tu_service_kill(const char *gal);
char       *tu_service_log(const char *gal);
/* Service mode (off at each test's end): tu_run_on, tu_expect_on,
 * tu_login and tu_add_user reach the gallery through its service
 * (--socket, the service started on first use) rather than in this
 * process (--gallery); init and the engine commands still run here. */
void        tu_service_mode(int on);

/* facesearch ARGS --gallery gal (or --socket, in service mode), stdin
 * holding input (or nothing): the exit status, *out and *err as tu_run
 * (freed by the caller). */
int  tu_run_on(const char *gal, const char *input, char **out, char **err,
               const char *const args[]);
/* Exit status `want` and `what` in the output (stdout, or stderr when
 * refused, which then starts "facesearch: "). */
void tu_expect_on(const char *gal, int want, const char *what,
                  const char *input, const char *const args[]);
/* The workflow tests' robbery request (case 2026-0042, the clerk's
 * account, the victim's photo), filed on gal by whoever acts there now (a
 * requester): asserts it is filed, `id` (R1, or R for any) on stdout. */
void tu_request_robbery(const char *gal, const char *id);

/* The gallery's LMDB environment opened behind the gate's back, as an
 * attacker with the file would: a write transaction, the gate's record
 * table ("records") open in dbi.  tu_raw_close commits.  (LMDB allows one
 * handle on an environment per process: close the gate first.) */
typedef struct tu_raw {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi  dbi;
} tu_raw;
void tu_raw_open(tu_raw *r, const char *gal);
void tu_raw_close(tu_raw *r);
/* Calls fn for every record of every table of the environment. */
void tu_raw_each(const char *gal,
                 void (*fn)(void *ctx, const char *table, const MDB_val *k,
                            const MDB_val *v),
                 void *ctx);

/* As an attacker with the file would: opens the gallery's LMDB
 * environment behind its back and passes every record of the gate's
 * table to edit, which returns a new value for it (malloc'd, freed here)
 * or NULL to leave it.  Returns how many were edited. */
int  tu_edit_records(const char *gal, unsigned table,
                     void *(*edit)(void *ctx, const void *val, size_t len,
                                   size_t *new_len),
                     void *ctx);

/* An animated GIF of `frames` 2x2 frames at path: 0 on success. */
int  tu_write_gif(const char *path, int frames);

/* Every test account's password: strong enough for the profiles. */
#define TU_PASSWORD "Test-Passw0rd-2026"

/* A new gallery at gal made by `facesearch init` under profile (a name
 * or a file) with administrator admin, who is then logged in (the
 * session lives in the test's scratch directory).  Init runs in this
 * process; a service of that path is stopped first. */
void tu_init_gallery_as(const char *gal, const char *profile,
                        const char *admin);
/* The same under detroit (its failed-login pause cut to 0.1 s) with
 * administrator "admin". */
void tu_init_gallery(const char *gal);
/* A profile's text (fs_profile_builtin's, say) with its first line that
 * begins with `start` replaced by the line `instead` (NULL: dropped);
 * the caller frees it. */
char *tu_profile_with(const char *text, const char *start,
                      const char *instead);
/* The shipped profile `name` with its login limits changed: a lock after
 * max_failures failures in a row (<= 0: as shipped), delay_ms after each
 * failure.  The caller frees it. */
char *tu_profile_logins(const char *name, int max_failures, int delay_ms);
/* text (malloc'd: freed here) written to tu_tmp/name, for `profile set`
 * or `init --profile`; its path (as tu_path's). */
const char *tu_profile_file(const char *name, char *text);
/* `facesearch login`: its exit status. */
int  tu_login(const char *gal, const char *user, const char *password);
/* Acts as user (password TU_PASSWORD) from here on, in a session file of
 * their own (XDG_RUNTIME_DIR=<scratch>/run-as/<user>), as people on
 * their own OS accounts have: the first time logs them in, coming back
 * costs no login.  For the workflow tests, where people take turns; the
 * tests of login itself use tu_login.  A template's sessions are copied
 * with it (tu_template_copy). */
void tu_as(const char *gal, const char *user);

/* A verb raced against another command (tu_during): prepare(ctx), in the
 * racer's process before the race, returns what run needs (prepare may
 * be NULL: ctx itself); run does the verb through the racer's handle. */
typedef struct fs_gate fs_gate;
typedef struct tu_verb {
    void *(*prepare)(void *ctx);
    int   (*run)(fs_gate *g, void *state, fs_detail *d);
    void  *ctx;
} tu_verb;

/* user's verb v on gal, in a process of its own (the racer's pid) with
 * its own handle and its session as tu_as leaves it: prepared, it writes
 * a byte to ready and waits for one on go, then runs and writes what came
 * of it, "rc detail" in TU_RACER_OUT bytes, to back. */
#define TU_RACER_OUT 300
pid_t tu_racer(const char *gal, const char *user, const tu_verb *v,
               int ready, int go, int back);

/* tu_racer's verb with meanwhile() run while it waits to commit: the test
 * holds the gallery's write lock, the verb runs up to it and sleeps
 * there, is stopped, the lock goes to meanwhile's command, then the verb
 * goes on.  What came of it in res. */
void tu_during(const char *gal, const char *user, const tu_verb *v,
               void (*meanwhile)(void), char res[TU_RACER_OUT]);
/* `facesearch user add` (password TU_PASSWORD) by the session's admin;
 * trained may be NULL. */
void tu_add_user(const char *gal, const char *user, const char *roles,
                 const char *trained);

/* Allocations (malloc, calloc, realloc, aligned_alloc) made so far by
 * code linked into the suite, the engine included. */
long tu_alloc_count(void);
/* Makes the n-th allocation from now (0: the next) fail, as if memory ran
 * out; negative: none fails. */
void tu_alloc_fail_at(long n);

/* $FACESEARCH_FACE: a photo of one person (scikit-image's astronaut.png,
 * which `make check` takes from Debian's python3-skimage), or NULL with a
 * note printed once: tests that need a released list skip then. */
const char *tu_face_photo(void);
/* Her head cut from that photo, scaled and mirrored as asked, written as a
 * BMP at path: a different image of the same person.  0, or -1 when the
 * photo is absent. */
int tu_face_variant(const char *path, double scale, int mirror);

/* ---- pages in a real browser ------------------------------------------ */

/* What headless Chromium made of a page: how many images the document
 * holds and how many of them loaded (complete, naturalWidth > 0), how
 * many inline SVG charts, the screenshot, and the DOM after load. */
typedef struct tu_page {
    int   images, loaded, svgs;
    char  png[4200];            /* the screenshot (see tu_browser_render) */
    char *dom;                  /* malloc'd; tu_page_free */
} tu_page;

/* Renders the page at html_path in headless Chromium (`chromium` on the
 * PATH, or $FACESEARCH_CHROMIUM; "none": no rendering, as the sanitized
 * run asks) at a width x height window, under
 * `timeout`, with a fresh profile directory removed after: a screenshot
 * to <html_path>.png (or, when $FACESEARCH_SCREENSHOTS names a directory,
 * to <that>/<page's file name>.png, kept for people to look at), and the
 * counts from a copy of the page with a small script injected that, on
 * load, writes them into the DOM (read back with --dump-dom; the page
 * itself stays script-free).  Returns 1 when rendered; 0 when Chromium
 * is absent and $CI is not "true" (skipped, with a note printed once);
 * under CI=true its absence fails the test (`make test` installs it). */
int  tu_browser_render(const char *html_path, int width, int height,
                       tu_page *out);
void tu_page_free(tu_page *p);
/* Chromium's DOM of any file (an SVG, say) as it loaded it, with no
 * script added: malloc'd, or NULL when skipped as above. */
char *tu_browser_dom(const char *path);

#endif /* FS_TESTUTIL_H */
