/*
 * bench_search.c - `facesearch bench search`: the whole gated search of
 * one probe, as an examiner's command runs it, beside the reference
 * pipeline's detection and embedding of the same probe.
 *
 *   - facesearch: fs_gate_search on a gate opened once and an engine
 *     opened once (model and landmarks loaded by a warm-up search), over a
 *     sealed gallery of N random unit templates: the session and request
 *     checks, intake, detection, alignment, the template, the ranking (the
 *     gate keeps the decrypted matrix between searches, as the service
 *     does; a command pays its load once), and the sealed search, probe
 *     and audit entry committed.
 *   - reference-detect-embed: decode, dlib's HOG with one upsampling as
 *     face_recognition calls it (FS_DETECT_UPSAMPLE_ALWAYS, with the same
 *     landmarks and chip as `bench detect`'s peer), plus dlib's own DNN
 *     on the chip, one chip per batch (bin/fs-peer-dlib-embed, BLAS on
 *     every core).
 *   - cold-open: a fresh fs_gate_open, fs_engine_open and the network
 *     built, and the first detection's landmark model: what every CLI
 *     search pays.
 *   - facesearch-service: `facesearch search --socket S` as a person runs
 *     it, a process of its own timed from its spawn to its exit, through
 *     a facesearchd the bench starts on the gallery (same key file, the
 *     socket in the bench's directory) and always stops; the examiner
 *     logs in through it.  Beside it, per round, a round trip that opens
 *     no gallery (`facesearch request --help` through the service) and
 *     the cheapest gated command through it (`facesearch request show`),
 *     which split what a command pays besides its search.
 *   - facesearch-cli: the same command in-process (`--gallery`), paying
 *     the cold open and the matrix's load each time: what the service
 *     takes away.
 *   - the second model (with second_model_path): the library call again
 *     on a gallery whose recipe names faceres (at most FS_BENCH_FUSED_MAX
 *     random templates, each with a random second template, kept in
 *     work_dir/search-N/fused-M), with what its probe pass and the
 *     shortlist's re-scoring add, beside the plain search of the run.
 *
 * The gallery is made once through the gate as its admin would
 * (fs_gate_create under the detroit profile, fs_gate_enroll_templates in
 * batches) and kept in work_dir/search-N for later runs, with its key
 * file and a random password (0600) beside it.  While the bench runs,
 * XDG_RUNTIME_DIR and XDG_CONFIG_HOME point into that directory, so the
 * bench's logins never touch the user's own sessions; they are restored
 * before it returns.  Each run files one request, searches, checks its
 * searches are on the audit trail and closes the request with no
 * candidate, which purges its probes (G12), so the kept gallery does not
 * grow with every run.
 *
 * The engines take turns, ours first in even rounds and the reference
 * first in odd ones; each figure is the median over rounds of a round's
 * median, and the ratio is the median of the per-round ratios.  Nothing
 * here prints: progress goes through the options' callback.  Not
 * thread-safe (it sets the environment).
 */
#include "fs_bench.h"
#include "fs_bench_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_file.h"

#define SEED        1             /* of the gallery's random templates */
#define ENROL_BATCH 8192
#define SEARCHES    3             /* timed searches per round */
#define DETECTS     3             /* reference detections per round */
#define PEER_SECS   "0.5"         /* dlib's DNN per round (5 batches or more) */
#define CANVAS_W    640
#define CANVAS_H    480
#define PROBE_SIDE  375           /* a 250x250 lfw-dev photo, 1.5x */
#define CANDIDATES  40            /* lfw-dev photos tried for the probe */
#define CLI_RUNS    1             /* in-process commands per round: each
                                     pays a cold open of a second or so */
#define MAX_IDS     (1 + FS_BENCH_MAX_ROUNDS * SEARCHES)
#define MAX_RUNS    (FS_BENCH_MAX_ROUNDS * SEARCHES)
#define SERVICE_WAIT 300.0        /* s: its start (about 5 at 1M) */
#define ADMIN       "benchadmin"
#define EXAMINER    "benchexaminer"
#define UNIT        "BENCH"

const char *const fs_bench_search_stage_names[FS_BENCH_STAGES] = {
    "gate", "intake", "detect", "align", "embed", "rank", "store"
};

typedef struct bench {
    const fs_bench_search_options *o;
    fs_bench_search_report *rep;
    char dir[4200], gallery[4300], key[4300], pwfile[4300], chipfile[4300],
         errfile[4300], probefile[4300], sockfile[4300], svclog[4300],
         cmderr[4300];
    char password[80];
    fs_gate    *g;
    fs_engine  *eng;              /* the search's: warm */
    fs_engine  *ref;              /* the reference's detection */
    fs_pool    *pool;             /* making templates */
    int         rank_mode;
    int         have_peer;        /* fs-peer-dlib-embed is there */
    fs_bench_blob probe;
    uint8_t     chip[FS_CHIP_BYTES];   /* the reference's, for dlib's DNN */
    char        request[FS_ID_MAX];
    char        ids[MAX_IDS][FS_ID_MAX];
    int         nids;
    int64_t     start_us;         /* wall clock: the audit walk's start */
    double      stage_round[FS_BENCH_STAGES][FS_BENCH_MAX_ROUNDS];
    double      part_round[FS_BENCH_SEARCH_ENGINES][3][FS_BENCH_MAX_ROUNDS];
    double      runs[FS_BENCH_SEARCH_ENGINES][MAX_RUNS];   /* for p99 */
    pid_t       service;          /* facesearchd while it runs, else 0 */
    int         off[FS_BENCH_SEARCH_ENGINES];   /* failed: the note says */
    char        kbuf[16];
    char       *svc_search[11], *cli_search[15], *round_trip[6],
               *floor_cmd[7];
    size_t      n;                /* templates in the gallery */
    const fs_recipe *recipe;      /* NULL, or the fused gallery's */
} bench;

/* A timed search of an engine, kept for its p99. */
static void run_kept(bench *b, int e, double ms)
{
    fs_bench_search_result *r = &b->rep->r[e];
    if (r->runs < MAX_RUNS)
        b->runs[e][r->runs++] = ms;
}

/* ---- the gallery ----------------------------------------------------------- */

/* A random password for the gallery's two accounts, kept 0600 beside
 * it. */
static int password_new(bench *b, fs_detail *d)
{
    int rc = fs_bench_password(b->password, sizeof b->password, d);
    if (rc != FS_OK)
        return rc;
    int fd = open(b->pwfile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fs_fail(d, FS_EIO, "cannot create '%s': %s", b->pwfile,
                       strerror(errno));
    size_t len = strlen(b->password);
    int ok = write(fd, b->password, len) == (ssize_t)len;
    return close(fd) == 0 && ok ? FS_OK
           : fs_fail(d, FS_EIO, "cannot write '%s'", b->pwfile);
}

static int password_read(bench *b, fs_detail *d)
{
    struct stat st;
    if (lstat(b->pwfile, &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & 077))
        return fs_fail(d, FS_EKEY, "'%s' is missing or not private",
                       b->pwfile);
    uint8_t *buf;
    size_t len;
    int rc = fs_read_file(b->pwfile, sizeof b->password - 1, &buf, &len, d);
    if (rc != FS_OK)
        return rc;
    memcpy(b->password, buf, len);
    b->password[len] = 0;
    fs_wipe(buf, len);
    free(buf);
    return FS_OK;
}

static int gate_open(bench *b, fs_gate **g, fs_detail *d)
{
    fs_gate_options go = { .key_file = b->key,
                           .model_id = fs_engine_model_id(b->eng),
                           .model_sha256 = fs_engine_model_sha256(b->eng) };
    return fs_gate_open(b->gallery, &go, g, d);
}

static int login(bench *b, const char *user, fs_detail *d)
{
    char session[4400];
    return fs_gate_login(b->g, user, b->password, session, sizeof session,
                         d);
}

/* A new gallery under detroit with its admin, logged in. */
static int gallery_create(bench *b, fs_detail *d)
{
    const char *profile = fs_profile_builtin("detroit");
    char key_path[4400];
    fs_gate_init in = { profile, strlen(profile), ADMIN, UNIT, b->password,
                        b->key, fs_engine_model_id(b->eng),
                        fs_engine_model_sha256(b->eng), NULL, b->recipe };
    int rc = password_new(b, d);
    if (rc == FS_OK)
        rc = fs_gate_create(b->gallery, &in, key_path, sizeof key_path, d);
    if (rc == FS_OK)
        rc = gate_open(b, &b->g, d);
    if (rc == FS_OK)
        rc = login(b, ADMIN, d);
    return rc;
}

/* The kept gallery, its admin logged in: FS_OK, or why it cannot serve. */
static int gallery_reopen(bench *b, fs_detail *d)
{
    struct stat st;
    if (stat(b->gallery, &st) != 0)
        return fs_fail(d, FS_NOTFOUND, "no gallery yet");
    int rc = password_read(b, d);
    if (rc == FS_OK)
        rc = gate_open(b, &b->g, d);
    if (rc == FS_OK)
        rc = login(b, ADMIN, d);
    return rc;
}

/* A random unit second template per row of the batch: FS_DESC2_DIM /
 * FS_DESC_DIM random units of the first kind laid end to end, scaled;
 * one (cnt first templates' room) is scratch. */
static void random_seconds(bench *b, size_t i0, size_t cnt, float *one,
                           float *v2)
{
    const int parts = FS_DESC2_DIM / FS_DESC_DIM;
    for (int p = 0; p < parts; p++) {
        fs_bench_random_units(b->pool, SEED + 1 + (uint64_t)p, i0, cnt, one);
        for (size_t i = 0; i < cnt; i++)
            for (int k = 0; k < FS_DESC_DIM; k++)
                v2[i * FS_DESC2_DIM + (size_t)p * FS_DESC_DIM + (size_t)k] =
                    one[i * FS_DESC_DIM + (size_t)k] * 0.35355339f;
    }
}

/* Templates have rows `have` .. n - 1: subject "b<row + 1>", one each,
 * with a few image bytes of their own (so each sha256, the record's key,
 * is unique), in batches committed with their audit entries. */
static int enrol(bench *b, size_t have, fs_detail *d)
{
    const fs_bench_search_options *o = b->o;
    fs_mugshot *m = calloc(ENROL_BATCH, sizeof *m);
    char (*subj)[16] = calloc(ENROL_BATCH, sizeof *subj);
    uint8_t (*img)[16] = calloc(ENROL_BATCH, sizeof *img);
    float *vec = malloc((size_t)ENROL_BATCH * FS_DESC_DIM * sizeof *vec);
    float *v2 = b->recipe ? malloc((size_t)ENROL_BATCH * FS_DESC2_DIM *
                                   sizeof *v2) : NULL;
    int rc = m && subj && img && vec && (!b->recipe || v2) ? FS_OK
             : fs_fail(d, FS_ENOMEM, "no memory for a batch");
    double t0 = fs_bench_now();
    if (rc == FS_OK)
        say(o, "enrolling %zu random unit templates through the gate (%zu "
            "there already)", b->n - have, have);
    for (size_t i0 = have; rc == FS_OK && i0 < b->n; i0 += ENROL_BATCH) {
        size_t cnt = b->n - i0 < ENROL_BATCH ? b->n - i0 : ENROL_BATCH;
        if (v2)
            random_seconds(b, i0, cnt, vec, v2);
        fs_bench_random_units(b->pool, SEED, i0, cnt, vec);
        for (size_t i = 0; i < cnt; i++) {
            uint64_t row = i0 + i;
            snprintf(subj[i], sizeof subj[i], "b%07llu",
                     (unsigned long long)row + 1);
            memcpy(img[i], "fsbench-", 8);
            for (int k = 0; k < 8; k++)
                img[i][8 + k] = (uint8_t)(row >> (8 * k));
            m[i] = (fs_mugshot){ .subject = subj[i], .source_agency = UNIT,
                                 .lawful_source = "booking",
                                 .image = img[i], .image_len = 16 };
            fs_sha256(img[i], 16, m[i].sha256);
            memcpy(m[i].tmpl, vec + i * FS_DESC_DIM, sizeof m[i].tmpl);
            m[i].tmpl2 = v2 ? v2 + i * FS_DESC2_DIM : NULL;
        }
        rc = fs_gate_enroll_templates(b->g, m, cnt, NULL, d);
        double el = fs_bench_now() - t0, rate = (double)(i0 + cnt - have) / el;
        say(o, "gallery: %zu/%zu templates, %.0f/s, ETA %.0f s", i0 + cnt,
            b->n, rate, (double)(b->n - i0 - cnt) / rate);
    }
    free(m);
    free(subj);
    free(img);
    free(vec);
    free(v2);
    return rc;
}

/* The gallery of n templates with an examiner, reused when an earlier
 * run left it (finished from where it stopped when cut short), made anew
 * when what is there cannot serve; then the examiner logged in. */
static int gallery_get(bench *b, fs_detail *d)
{
    const fs_bench_search_options *o = b->o;
    fs_bench_search_report *rep = b->rep;
    double t0 = fs_bench_now();
    fs_detail why = { "" };
    int rc = gallery_reopen(b, &why), built = 0;
    if (rc != FS_OK) {
        if (rc != FS_NOTFOUND)
            say(o, "making the gallery anew (%s)", why.msg);
        fs_gate_close(b->g);
        b->g = NULL;
        if (fs_bench_remove_tree(b->gallery) != FS_OK)
            return fs_fail(d, FS_EIO, "cannot remove '%s'", b->gallery);
        unlink(b->key);
        unlink(b->pwfile);
        say(o, "creating the sealed gallery %s (profile detroit)",
            b->gallery);
        if ((rc = gallery_create(b, d)) != FS_OK)
            return rc;
        built = 1;
    }
    fs_gallery_stats st;
    if ((rc = fs_gate_gallery_stat(b->g, &st, d)) != FS_OK)
        return rc;
    if (!b->recipe != !st.recipe.second_model_id[0]) {
        fs_gate_close(b->g);
        b->g = NULL;
        return fs_fail(d, FS_EFORMAT, "gallery '%s' was made by another "
                       "recipe: remove it", b->gallery);
    }
    if (st.templates < b->n) {
        if ((rc = enrol(b, (size_t)st.templates, d)) != FS_OK ||
            (rc = fs_gate_gallery_stat(b->g, &st, d)) != FS_OK)
            return rc;
        built = 1;
    }
    if (st.templates != b->n)
        return fs_fail(d, FS_EFORMAT, "gallery '%s' holds %llu templates, "
                       "not %zu", b->gallery,
                       (unsigned long long)st.templates, b->n);
    if (built && !b->recipe)
        rep->build_s = fs_bench_now() - t0;
    if (!b->recipe)
        rep->gallery_bytes = st.file_bytes;
    b->rank_mode = st.rank_mode;
    fs_user u = { .name = EXAMINER, .unit = UNIT, .roles = FS_ROLE_EXAMINER,
                  .trained = "2020-01-01" };
    rc = fs_user_add(b->g, &u, b->password, d);
    if (rc != FS_OK && rc != FS_EXISTS)
        return rc;
    return login(b, EXAMINER, d);
}

/* ---- the probe ---------------------------------------------------------------- */

/* The reference's front on the probe: decode, detection (HOG upsampled
 * once), landmarks, the chip of the default face; its time in *ms. */
static int ref_detect(bench *b, double *ms, fs_detail *d)
{
    fs_face *faces = malloc(FS_MAX_FACES * sizeof *faces);
    int n = 0, k;
    double t0 = fs_bench_now();
    int rc = faces ? fs_bench_front(b->ref, &b->probe, faces, &n, &k, b->chip,
                                    d)
                   : fs_fail(d, FS_ENOMEM, "no memory");
    *ms = (fs_bench_now() - t0) * 1e3;
    if (rc == FS_OK && n == 0)
        rc = fs_fail(d, FS_ENOENT, "the reference found no face");
    /* the probe has one face, fit for search, for the reference too */
    if (rc == FS_OK && (n != 1 || !faces[0].quality.ok))
        rc = fs_fail(d, FS_EINVAL, "%d faces, the first %s", n,
                     faces[0].quality.ok ? "fit" : faces[0].quality.reasons);
    free(faces);
    return rc;
}

/* The lfw-dev photo, enlarged and centred on a mid-grey canvas, as BMP
 * bytes. */
static fs_bench_blob on_canvas(const fs_bench_blob *photo)
{
    fs_bench_blob out = { NULL, 0, NULL };
    uint8_t *copy = malloc(photo->n);
    fs_image img;
    if (!copy)
        return out;
    memcpy(copy, photo->p, photo->n);
    if (fs_image_decode(copy, photo->n, "lfw-dev photo", &img, NULL) ==
        FS_OK) {
        uint8_t *big = fs_bench_enlarge(&img, PROBE_SIDE);
        uint8_t *canvas = malloc((size_t)CANVAS_W * CANVAS_H * 3);
        if (big && canvas) {
            memset(canvas, 128, (size_t)CANVAS_W * CANVAS_H * 3);
            int x0 = (CANVAS_W - PROBE_SIDE) / 2, y0 = (CANVAS_H - PROBE_SIDE) / 2;
            for (int y = 0; y < PROBE_SIDE; y++)
                memcpy(canvas + 3 * ((size_t)(y0 + y) * CANVAS_W + x0),
                       big + 3 * (size_t)y * PROBE_SIDE, 3 * PROBE_SIDE);
            out = fs_bench_bmp(canvas, CANVAS_W, CANVAS_H);
        }
        free(big);
        free(canvas);
        fs_image_release(&img);
    }
    free(copy);
    return out;
}

/* The first lfw-dev photo, in name order, that makes a probe with one
 * face fit for search under the profile; the reference's engine is warm
 * after. */
static int probe_pick(bench *b, fs_detail *d)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/datasets/lfw-dev", b->o->shared_dir);
    fs_bench_set set = { "lfw-dev", NULL, 0 };
    if (fs_bench_load_set(dir, CANDIDATES, &set) != FS_OK)
        return fs_fail(d, FS_ENOENT, "no photos in '%s': bench search needs "
                       "../shared/datasets/lfw-dev for a real face", dir);
    int rc = FS_ENOENT;
    for (int i = 0; i < set.n && rc != FS_OK; i++) {
        b->probe = on_canvas(&set.files[i]);
        if (!b->probe.p)
            continue;
        double ms;
        fs_detail why = { "" };
        rc = ref_detect(b, &ms, &why);
        if (rc == FS_OK) {
            snprintf(b->rep->probe_source, sizeof b->rep->probe_source,
                     "lfw-dev/%s at %dx%d on %dx%d grey", set.files[i].name,
                     PROBE_SIDE, PROBE_SIDE, CANVAS_W, CANVAS_H);
        } else {
            free(b->probe.p);
            b->probe.p = NULL;
        }
    }
    fs_bench_free_set(&set);
    if (rc != FS_OK)
        return fs_fail(d, FS_ENOENT, "none of the first %d photos of '%s' "
                       "makes a probe with one face fit for search",
                       CANDIDATES, dir);
    b->rep->probe_width = CANVAS_W;
    b->rep->probe_height = CANVAS_H;
    b->rep->probe_bytes = b->probe.n;
    return fs_bench_write_file(b->chipfile, b->chip, FS_CHIP_BYTES) == FS_OK
           ? FS_OK : fs_fail(d, FS_EIO, "cannot write '%s'", b->chipfile);
}

/* ---- the engines ---------------------------------------------------------------- */

/* One gated search: its time, and each stage's into stage (ms). */
static int search_once(bench *b, double *ms, double stage[FS_BENCH_STAGES],
                       fs_detail *d)
{
    fs_search_stages st;
    fs_search_in in = { b->request, b->probe.p, b->probe.n, "probe.bmp", -1,
                        b->o->k, 1, &st };
    fs_candidates *c = NULL;
    double t0 = fs_bench_now();
    int rc = fs_gate_search(b->g, b->eng, &in, &c, d);
    *ms = (fs_bench_now() - t0) * 1e3;
    if (rc != FS_OK)
        return rc;
    snprintf(b->rep->search_id, sizeof b->rep->search_id, "%s",
             fs_candidates_search_id(c));
    b->rep->candidates = fs_candidates_count(c);
    b->rep->searches++;
    if (b->nids < MAX_IDS)
        snprintf(b->ids[b->nids++], FS_ID_MAX, "%s",
                 fs_candidates_search_id(c));
    fs_candidates_free(c);
    double v[FS_BENCH_STAGES] = { st.gate, st.intake, st.detect, st.align,
                                  st.embed, st.rank, st.store };
    for (int s = 0; s < FS_BENCH_STAGES; s++)
        stage[s] = v[s] * 1e3;
    return FS_OK;
}

static int round_ours(bench *b, fs_detail *d)
{
    double ms[SEARCHES], st[FS_BENCH_STAGES][SEARCHES], one[FS_BENCH_STAGES];
    for (int i = 0; i < SEARCHES; i++) {
        int rc = search_once(b, &ms[i], one, d);
        if (rc != FS_OK)
            return rc;
        run_kept(b, FS_BENCH_OURS, ms[i]);
        for (int s = 0; s < FS_BENCH_STAGES; s++)
            st[s][i] = one[s];
    }
    fs_bench_search_result *r = &b->rep->r[FS_BENCH_OURS];
    for (int s = 0; s < FS_BENCH_STAGES; s++)
        b->stage_round[s][r->rounds] = fs_bench_median(st[s], SEARCHES);
    r->round_ms[r->rounds++] = fs_bench_median(ms, SEARCHES);
    return FS_OK;
}

static int round_reference(bench *b, fs_detail *d)
{
    fs_bench_search_result *r = &b->rep->r[FS_BENCH_REFERENCE];
    double det[DETECTS], emb;
    if (!b->have_peer)
        return FS_OK;                   /* the note says why */
    for (int i = 0; i < DETECTS; i++) {
        int rc = ref_detect(b, &det[i], d);
        if (rc != FS_OK)
            return rc;
    }
    char *argv[] = { (char *)b->o->peer_dlib, "--model",
                     (char *)b->o->model_path, "--chips", b->chipfile,
                     "--count", "1", "--batch", "1", "--seconds", PEER_SECS,
                     NULL };
    if (fs_bench_peer_ms(argv, b->rep->ncpu, b->errfile, "dlib-dnn", &emb,
                         r->note, sizeof r->note) != FS_OK)
        return FS_OK;                   /* the note says why; no figure */
    double dm = fs_bench_median(det, DETECTS);
    b->part_round[FS_BENCH_REFERENCE][0][r->rounds] = dm;
    b->part_round[FS_BENCH_REFERENCE][1][r->rounds] = emb;
    r->round_ms[r->rounds++] = dm + emb;
    return FS_OK;
}

/* What a command pays before its first search: the gate opened, the
 * network loaded, the landmark model loaded (its first detection). */
static int cold_open(bench *b, fs_detail *d)
{
    fs_gate *g = NULL;
    fs_engine *e = NULL;
    fs_engine_options eo = { .model_path = b->o->model_path,
                             .landmarks_path = b->o->landmarks_path };
    double t0 = fs_bench_now();
    int rc = gate_open(b, &g, d);
    double t1 = fs_bench_now();
    if (rc == FS_OK)
        rc = fs_engine_open(&eo, &e, d);
    if (rc == FS_OK)
        rc = fs_engine_networks(e, d);
    double t2 = fs_bench_now();
    if (rc == FS_OK)
        rc = fs_bench_engine_warm(e, d);
    double t3 = fs_bench_now();
    fs_engine_close(e);
    fs_gate_close(g);
    if (rc != FS_OK)
        return rc;
    fs_bench_search_result *r = &b->rep->r[FS_BENCH_COLD];
    double (*p)[FS_BENCH_MAX_ROUNDS] = b->part_round[FS_BENCH_COLD];
    p[0][r->rounds] = (t1 - t0) * 1e3;
    p[1][r->rounds] = (t2 - t1) * 1e3;
    p[2][r->rounds] = (t3 - t2) * 1e3;
    r->round_ms[r->rounds++] = (t3 - t0) * 1e3;
    return FS_OK;
}

/* ---- the command as a person runs it ------------------------------------- */

/* The row of engine e is measured no further; its note says why. */
static void row_fail(bench *b, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row_fail(bench *b, int e, const char *fmt, ...)
{
    fs_bench_search_result *r = &b->rep->r[e];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
    b->off[e] = 1;
}

/* The commands of the process rows: the probe is a file in the bench's
 * directory, written once; the service's search names its socket, the
 * in-process one the gallery, key file and model. */
static void commands_make(bench *b)
{
    char *cli = (char *)b->o->cli;
    snprintf(b->kbuf, sizeof b->kbuf, "%d", b->o->k);
    char *svc[] = { cli, "search", "--socket", b->sockfile, "--request",
                    b->request, b->probefile, "--k", b->kbuf,
                    "--human-review", NULL };
    char *own[] = { cli, "search", "--gallery", b->gallery, "--key-file",
                    b->key, "--model", (char *)b->o->model_path,
                    "--request", b->request, b->probefile, "--k", b->kbuf,
                    "--human-review", NULL };
    char *start[] = { cli, "request", "--help", "--socket", b->sockfile,
                      NULL };
    char *floor[] = { cli, "request", "show", b->request, "--socket",
                      b->sockfile, NULL };
    _Static_assert(sizeof svc == sizeof b->svc_search &&
                   sizeof own == sizeof b->cli_search &&
                   sizeof start == sizeof b->round_trip &&
                   sizeof floor == sizeof b->floor_cmd,
                   "the argument lists fill their arrays");
    memcpy(b->svc_search, svc, sizeof svc);
    memcpy(b->cli_search, own, sizeof own);
    memcpy(b->round_trip, start, sizeof start);
    memcpy(b->floor_cmd, floor, sizeof floor);
}

/* One command of engine e's row, timed from its spawn to its exit; when
 * it fails, its last line on standard error goes in the row's note. */
static int command_ms(bench *b, int e, char **argv, double *ms)
{
    if (b->off[e])
        return FS_EIO;
    if (fs_bench_run_timed(argv, NULL, b->cmderr, ms) == FS_OK)
        return FS_OK;
    char tail[200];
    fs_bench_last_line(b->cmderr, tail, sizeof tail);
    row_fail(b, e, "'facesearch %s' failed: %s", argv[1],
             tail[0] ? tail : "(no message)");
    return FS_EIO;
}

/* A released search by a command of e's row: counted for the trail. */
static int command_search(bench *b, int e, char **argv, double *ms)
{
    int rc = command_ms(b, e, argv, ms);
    if (rc == FS_OK)
        b->rep->searches++;
    return rc;
}

static void service_stop(bench *b)
{
    if (b->service > 0)
        fs_bench_daemon_stop(b->service);
    b->service = 0;
}

/* The examiner logged in through the service, as a person does it: the
 * password on the client's standard input. */
static int service_login(bench *b)
{
    char *argv[] = { (char *)b->o->cli, "login", "--socket", b->sockfile,
                     "--user", EXAMINER, "--password-stdin", NULL };
    fs_bench_child c;
    int rc = fs_bench_child_start(argv, NULL, b->cmderr, &c);
    if (rc != FS_OK)
        return rc;
    fprintf(c.to, "%s\n", b->password);
    fflush(c.to);
    char line[256];
    while (fgets(line, sizeof line, c.from))   /* till it has ended */
        ;
    return fs_bench_child_stop(&c);
}

/* facesearchd on the gallery and its key file, listening at the bench's
 * socket, the examiner logged in through it; on any failure the row
 * says why and the run goes on without it. */
static void service_start(bench *b)
{
    const fs_bench_search_options *o = b->o;
    const int e = FS_BENCH_SERVICE;
    if (!o->service || access(o->service, X_OK) != 0) {
        row_fail(b, e, "%s is not built (make all)",
                 o->service ? o->service : "facesearchd");
        return;
    }
    say(o, "starting facesearchd on the gallery (the model, the landmark "
        "model and the %zu templates loaded once)", o->n);
    unlink(b->sockfile);                /* an interrupted run's */
    char *argv[] = { (char *)o->service, "--gallery", b->gallery,
                     "--key-file", b->key, "--model", (char *)o->model_path,
                     "--socket", b->sockfile, NULL };
    double t0 = fs_bench_now();
    if (fs_bench_daemon_start(argv, b->svclog, &b->service) != FS_OK) {
        b->service = 0;
        row_fail(b, e, "cannot start %s", o->service);
        return;
    }
    struct stat st;
    while (lstat(b->sockfile, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        if (!fs_bench_daemon_alive(b->service)) {
            char tail[200];
            b->service = 0;
            fs_bench_last_line(b->svclog, tail, sizeof tail);
            row_fail(b, e, "facesearchd did not start: %s", tail);
            return;
        }
        if (fs_bench_now() - t0 > SERVICE_WAIT) {
            row_fail(b, e, "facesearchd did not listen within %.0f s",
                     SERVICE_WAIT);
            return;
        }
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    }
    b->rep->service_warm_s = fs_bench_now() - t0;
    if (service_login(b) != FS_OK) {
        char tail[200];
        fs_bench_last_line(b->cmderr, tail, sizeof tail);
        row_fail(b, e, "the examiner's login through the service failed: "
                 "%s", tail[0] ? tail : "(no message)");
        return;
    }
}

/* The process rows' start: the probe file and the service.  No command
 * needs a warm-up: each is a fresh process (or a fresh child of the
 * service), and the page cache already holds the binary, its libraries
 * and the model, which this process loaded. */
static int commands_start(bench *b, fs_detail *d)
{
    commands_make(b);
    if (!b->o->cli || access(b->o->cli, X_OK) != 0) {
        for (int e = FS_BENCH_SERVICE; e <= FS_BENCH_CLI; e++)
            row_fail(b, e, "%s is not built (make all)",
                     b->o->cli ? b->o->cli : "facesearch");
        return FS_OK;
    }
    if (fs_bench_write_file(b->probefile, b->probe.p, b->probe.n) != FS_OK)
        return fs_fail(d, FS_EIO, "cannot write '%s'", b->probefile);
    service_start(b);
    return FS_OK;
}

/* A round of the service's row: its searches (their median), then a
 * round trip that opens no gallery (`request --help` through the
 * service: the front's start, the connection, the warm parent's fork) and
 * the cheapest gated command through it, so the round splits into what
 * any command pays and the
 * search's own work. */
static void round_service(bench *b)
{
    const int e = FS_BENCH_SERVICE;
    fs_bench_search_result *r = &b->rep->r[e];
    double ms[SEARCHES], start, floor;
    for (int i = 0; i < SEARCHES; i++) {
        if (command_search(b, e, b->svc_search, &ms[i]) != FS_OK)
            return;
        run_kept(b, e, ms[i]);
    }
    if (command_ms(b, e, b->round_trip, &start) != FS_OK ||
        command_ms(b, e, b->floor_cmd, &floor) != FS_OK)
        return;
    b->part_round[e][0][r->rounds] = start;
    b->part_round[e][1][r->rounds] = floor;
    r->round_ms[r->rounds++] = fs_bench_median(ms, SEARCHES);
}

static void round_cli(bench *b)
{
    const int e = FS_BENCH_CLI;
    fs_bench_search_result *r = &b->rep->r[e];
    double ms[CLI_RUNS];
    for (int i = 0; i < CLI_RUNS; i++) {
        if (command_search(b, e, b->cli_search, &ms[i]) != FS_OK)
            return;
        run_kept(b, e, ms[i]);
    }
    r->round_ms[r->rounds++] = fs_bench_median(ms, CLI_RUNS);
}

/* The ranking as the gate does it now: one ranker kept with the matrix
 * (built once, as fs_gallery_ranker builds it for a holder that serves
 * search after search), then one probe's exact top k.  *build_ms is the
 * making, *out the median of the calls after it. */
static int scan_ms(const fs_templates *t, int mode, fs_pool *pool,
                   const float *probe, int k, fs_hit *hits, double *build_ms,
                   double *out, fs_detail *d)
{
    enum { REPS = 7 };
    fs_rank_options ro = { .mode = mode, .isa = -1, .pool = pool };
    fs_rank_options_kept(&ro, t->n);
    fs_ranker *rk = NULL;
    double ms[REPS], t0 = fs_bench_now();
    int rc = fs_ranker_create(t, &ro, &rk, d);
    for (int i = 0; rc == FS_OK && i < REPS; i++) {
        size_t nh;
        double t1 = fs_bench_now();
        rc = fs_rank_topk(rk, probe, 1, (size_t)k, hits, &nh);
        ms[i] = (fs_bench_now() - t1) * 1e3;
        if (i == 0)
            *build_ms = (fs_bench_now() - t0) * 1e3 - ms[i];
    }
    fs_ranker_free(rk);
    if (rc == FS_OK)
        *out = fs_bench_median(ms + 1, REPS - 1);
    return rc;
}

/* The ranking alone over the same templates already in memory, on the
 * threads the gate ranked on and on every core: what of the rank stage
 * is the scan, and what is the list's making (subject ids, candidates). */
static int rank_scan(bench *b, fs_detail *d)
{
    fs_bench_search_report *rep = b->rep;
    size_t n = b->o->n, bytes = n * FS_DESC_DIM * sizeof(float);
    float *vec = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    uint32_t *subj = malloc(n * sizeof *subj);
    fs_hit *hits = malloc((size_t)b->o->k * sizeof *hits);
    float probe[FS_DESC_DIM];
    fs_pool *pool = NULL;
    int rc = vec && subj && hits ? fs_engine_pool(b->eng, &pool, d)
             : fs_fail(d, FS_ENOMEM, "no memory for %zu templates", n);
    fs_templates t = { vec, subj, n };
    double build_all;
    if (rc == FS_OK) {
        say(b->o, "the ranking alone over the same %zu templates in memory",
            n);
        fs_bench_random_units(b->pool, SEED, 0, n, vec);
        fs_bench_random_units(NULL, SEED + 0x5eed, 0, 1, probe);
        for (size_t i = 0; i < n; i++)
            subj[i] = (uint32_t)i;
        rep->rank_threads = fs_pool_threads(pool);
        rc = scan_ms(&t, b->rank_mode, pool, probe, b->o->k, hits,
                     &rep->rank_build_ms, &rep->rank_scan_ms, d);
    }
    rep->rank_scan_all_ms = rep->rank_scan_ms;
    if (rc == FS_OK && rep->rank_threads < fs_pool_threads(b->pool))
        rc = scan_ms(&t, b->rank_mode, b->pool, probe, b->o->k, hits,
                     &build_all, &rep->rank_scan_all_ms, d);
    free(vec);
    free(subj);
    free(hits);
    return rc;
}

/* ---- the audit trail ------------------------------------------------------------- */

typedef struct audit_find {
    bench *b;
    int    found[MAX_IDS];
    int    others;                /* the commands' searches */
} audit_find;

static int audit_one(void *ctx, const fs_audit_record *r)
{
    audit_find *f = ctx;
    if (strcmp(r->action, "search") != 0 ||
        strcmp(r->outcome, "released for human review") != 0)
        return 0;
    int mine = 0;
    for (int i = 0; i < f->b->nids; i++) {
        char needle[FS_ID_MAX + 16];
        snprintf(needle, sizeof needle, "search %s,", f->b->ids[i]);
        if (strstr(r->objects, needle))
            f->found[i] = mine = 1;
    }
    f->others += !mine;
    return 0;
}

/* How many of the run's searches are on the trail, each with its entry:
 * read as the admin (an examiner cannot read the trail).  The library's
 * searches are found by their ids; the commands' (whose lists went to
 * /dev/null) are the examiner's other released searches since the start
 * (the gallery is the bench's own). */
static int audit_check(bench *b, fs_detail *d)
{
    int rc = login(b, ADMIN, d);
    audit_find f = { b, { 0 }, 0 };
    fs_audit_filter flt = { b->start_us, 0, EXAMINER, NULL };
    if (rc == FS_OK)
        rc = fs_audit_walk(b->g, &flt, audit_one, &f, d);
    for (int i = 0; rc == FS_OK && i < b->nids; i++)
        b->rep->audited += f.found[i];
    if (rc == FS_OK)
        b->rep->audited += f.others;
    return rc;
}

/* ---- the run ------------------------------------------------------------------------ */

static void summarise(bench *b)
{
    fs_bench_search_report *rep = b->rep;
    for (int e = 0; e < FS_BENCH_SEARCH_ENGINES; e++) {
        fs_bench_search_result *r = &rep->r[e];
        if (r->rounds == 0 || b->off[e])
            continue;
        r->ms_p50 = fs_bench_rounds_median(r->round_ms, r->rounds);
        for (int p = 0; p < 3 && e != FS_BENCH_OURS; p++)
            r->part_ms[p] = fs_bench_rounds_median(b->part_round[e][p],
                                                   r->rounds);
        if (r->runs > 0)
            r->ms_p99 = fs_bench_quantile(b->runs[e], (size_t)r->runs,
                                          0.99);
        r->ok = 1;
    }
    for (int s = 0; s < FS_BENCH_STAGES; s++)
        rep->stage_ms[s] = fs_bench_median(b->stage_round[s],
                                           rep->r[FS_BENCH_OURS].rounds);
    const fs_bench_search_result *us = &rep->r[FS_BENCH_OURS],
                                 *ref = &rep->r[FS_BENCH_REFERENCE];
    rep->ratio = fs_bench_round_ratio(us->round_ms, us->rounds,
                                      ref->round_ms, ref->rounds);
    const fs_bench_search_result *svc = &rep->r[FS_BENCH_SERVICE],
                                 *cli = &rep->r[FS_BENCH_CLI];
    if (svc->ok)
        rep->ratio_service = fs_bench_round_ratio(svc->round_ms, svc->rounds,
                                                  ref->round_ms, ref->rounds);
    if (cli->ok)
        rep->ratio_cli = fs_bench_round_ratio(cli->round_ms, cli->rounds,
                                              ref->round_ms, ref->rounds);
}

/* The run's request, as the examiner files it. */
static int request_file(bench *b, fs_detail *d)
{
    fs_request_form f = { "BENCH-1", "robbery", EXAMINER, UNIT,
                          "bench@example.org",
                          "benchmark of the gated search: a synthetic "
                          "gallery, no real case",
                          "booking photo of a witness", 0, 0 };
    return fs_request_file(b->g, &f, b->request, d);
}

/* The fused gallery's searches, once warm: the medians of each search's
 * time and of its second-model stages into the report. */
static int fused_searches(bench *f, const bench *b, fs_detail *d)
{
    fs_bench_search_report *rep = f->rep;
    enum { MAX = FS_BENCH_MAX_ROUNDS * SEARCHES };
    double ms[MAX], second[MAX], rescore[MAX], rank[MAX];
    int n = rep->rounds * SEARCHES, rc = FS_OK;
    for (int i = -1; rc == FS_OK && i < n; i++) {   /* -1: the warm-up */
        fs_search_stages st;
        fs_search_in in = { f->request, b->probe.p, b->probe.n, "probe.bmp",
                            -1, f->o->k, 1, &st };
        fs_candidates *c = NULL;
        double t0 = fs_bench_now();
        rc = fs_gate_search(f->g, f->eng, &in, &c, d);
        if (rc == FS_OK && i >= 0) {
            ms[i] = (fs_bench_now() - t0) * 1e3;
            second[i] = st.second * 1e3;
            rescore[i] = st.rescore * 1e3;
            rank[i] = st.rank * 1e3;
        }
        fs_candidates_free(c);
    }
    if (rc != FS_OK)
        return rc;
    rep->fused_ms = fs_bench_median(ms, n);
    rep->fused_second_ms = fs_bench_median(second, n);
    rep->fused_rescore_ms = fs_bench_median(rescore, n);
    rep->fused_rank_ms = fs_bench_median(rank, n);
    return FS_OK;
}

/* What the second model adds (fs_bench_search_report.fused_*): the same
 * library call on a gallery whose recipe names it, made and kept beside
 * the plain one.  A failure is noted in the report; the run goes on. */
static void fused_part(bench *b)
{
    const fs_bench_search_options *o = b->o;
    fs_bench_search_report *rep = b->rep;
    if (!o->second_model_path) {
        snprintf(rep->fused_note, sizeof rep->fused_note, "no second model "
                 "(%s beside the model: make models)", FS_FR_MODEL_FILE);
        return;
    }
    bench *f = calloc(1, sizeof *f);
    fs_detail d = { "" };
    fs_recipe recipe = { 0, "", "", 0 };
    fs_engine_options eo = { .model_path = o->model_path,
                             .landmarks_path = o->landmarks_path,
                             .second_model_path = o->second_model_path };
    int rc = f ? FS_OK : fs_fail(&d, FS_ENOMEM, "no memory");
    if (rc == FS_OK) {
        *f = (bench){ .o = o, .rep = rep, .pool = b->pool, .recipe = &recipe,
                      .n = o->n < FS_BENCH_FUSED_MAX ? o->n
                                                     : FS_BENCH_FUSED_MAX };
        snprintf(f->dir, sizeof f->dir, "%s/fused-%zu", b->dir, f->n);
        snprintf(f->gallery, sizeof f->gallery, "%s/gallery", f->dir);
        snprintf(f->key, sizeof f->key, "%s/key", f->dir);
        snprintf(f->pwfile, sizeof f->pwfile, "%s/password", f->dir);
        rc = fs_engine_open(&eo, &f->eng, &d);
    }
    if (rc == FS_OK) {
        snprintf(recipe.second_model_id, sizeof recipe.second_model_id, "%s",
                 fs_engine_second_model_id(f->eng));
        snprintf(recipe.second_model_sha256,
                 sizeof recipe.second_model_sha256, "%s",
                 fs_engine_second_model_sha256(f->eng));
        say(o, "the second model: a gallery of %zu templates whose recipe "
            "names it", f->n);
        rc = fs_bench_dir(b->dir, f->dir, &d);
    }
    if (rc == FS_OK)
        rc = gallery_get(f, &d);
    if (rc == FS_OK)
        rc = request_file(f, &d);
    if (rc == FS_OK)
        rc = fused_searches(f, b, &d);
    uint64_t purged = 0;
    if (rc == FS_OK)
        rc = fs_request_close(f->g, f->request, FS_OUTCOME_NO_CANDIDATE,
                              &purged, &d);
    if (rc == FS_OK)
        rc = fs_gate_logout(f->g, &d);
    rep->fused_ok = rc == FS_OK;
    rep->fused_n = f ? f->n : 0;
    if (rc != FS_OK)
        snprintf(rep->fused_note, sizeof rep->fused_note, "%s", d.msg);
    if (f) {
        fs_gate_close(f->g);
        fs_engine_close(f->eng);
        fs_wipe(f->password, sizeof f->password);
    }
    free(f);
}

static int run(bench *b, fs_detail *d)
{
    const fs_bench_search_options *o = b->o;
    fs_bench_search_report *rep = b->rep;
    fs_engine_options eo = { .model_path = o->model_path,
                             .landmarks_path = o->landmarks_path };
    int rc = fs_engine_open(&eo, &b->eng, d);
    if (rc == FS_OK && (rc = fs_pool_create(rep->ncpu, &b->pool)) != FS_OK)
        fs_fail(d, rc, "cannot start %d threads", rep->ncpu);
    if (rc == FS_OK)
        rc = gallery_get(b, d);
    if (rc != FS_OK)
        return rc;
    /* one thread, as face_recognition runs dlib's detector */
    fs_engine_options ro = { .detect_mode = FS_DETECT_UPSAMPLE_ALWAYS,
                             .quality = &fs_gate_profile(b->g)->quality,
                             .threads = 1 };
    if ((rc = fs_engine_open(&ro, &b->ref, d)) != FS_OK ||
        (rc = probe_pick(b, d)) != FS_OK)
        return rc;
    if ((rc = request_file(b, d)) != FS_OK)
        return rc;
    say(o, "warm-up: a gated search (the landmark model loads)");
    double ms, st[FS_BENCH_STAGES];
    if ((rc = search_once(b, &ms, st, d)) != FS_OK ||
        (rc = commands_start(b, d)) != FS_OK)
        return rc;
    for (int round = 0; round < rep->rounds; round++)
        for (int turn = 0; turn < 2; turn++) {
            int ours = (round + turn) % 2 == 0;
            say(o, "round %d/%d: %s", round + 1, rep->rounds,
                ours ? "facesearch: the library call, then the command "
                       "through the service and in-process" :
                       "reference, HOG upsampled once + dlib's DNN");
            rc = ours ? round_ours(b, d) : round_reference(b, d);
            if (rc != FS_OK)
                return rc;
            if (ours) {
                round_service(b);
                round_cli(b);
            }
        }
    service_stop(b);
    fused_part(b);
    uint64_t purged = 0;
    if ((rc = rank_scan(b, d)) != FS_OK ||
        (rc = fs_request_close(b->g, b->request, FS_OUTCOME_NO_CANDIDATE,
                               &purged, d)) != FS_OK ||
        (rc = audit_check(b, d)) != FS_OK ||
        (rc = fs_gate_logout(b->g, d)) != FS_OK)
        return rc;
    /* the cold opens last, with the warm gate closed: one process keeps
     * one handle on an LMDB environment */
    fs_gate_close(b->g);
    b->g = NULL;
    for (int round = 0; round < rep->rounds && rc == FS_OK; round++) {
        say(o, "round %d/%d: cold open (gate, network, landmark model)",
            round + 1, rep->rounds);
        rc = cold_open(b, d);
    }
    return rc;
}

int fs_bench_search(const fs_bench_search_options *o,
                    fs_bench_search_report *rep, fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    rep->n = o->n;
    rep->k = o->k;
    rep->rounds = o->rounds > 0 ? o->rounds : 3;
    if (rep->rounds > FS_BENCH_MAX_ROUNDS)
        rep->rounds = FS_BENCH_MAX_ROUNDS;
    static const char *const names[FS_BENCH_SEARCH_ENGINES] = {
        "facesearch", "reference-detect-embed", "cold-open",
        "facesearch-service", "facesearch-cli"
    };
    for (int e = 0; e < FS_BENCH_SEARCH_ENGINES; e++)
        snprintf(rep->r[e].engine, sizeof rep->r[e].engine, "%s", names[e]);
    if (o->n < 1 || o->n > UINT32_MAX - 1 || o->k < 1 ||
        o->k > FS_RANK_MAX_K)
        return fs_fail(d, FS_EINVAL, "bad gallery size or k");
    bench *b = calloc(1, sizeof *b);
    if (!b)
        return fs_fail(d, FS_ENOMEM, "no memory");
    b->o = o;
    b->n = o->n;
    b->rep = rep;
    b->have_peer = access(o->peer_dlib, X_OK) == 0;
    if (!b->have_peer)
        snprintf(rep->r[FS_BENCH_REFERENCE].note,
                 sizeof rep->r[FS_BENCH_REFERENCE].note,
                 "%s is not built (make all)", o->peer_dlib);
    b->start_us = fs_bench_wall_us();
    snprintf(b->dir, sizeof b->dir, "%s/search-%zu", o->work_dir, o->n);
    snprintf(b->gallery, sizeof b->gallery, "%s/gallery", b->dir);
    snprintf(b->key, sizeof b->key, "%s/key", b->dir);
    snprintf(b->pwfile, sizeof b->pwfile, "%s/password", b->dir);
    snprintf(b->chipfile, sizeof b->chipfile, "%s/probe-chip.rgb", b->dir);
    snprintf(b->errfile, sizeof b->errfile, "%s/dlib-dnn.err", b->dir);
    snprintf(b->probefile, sizeof b->probefile, "%s/probe.bmp", b->dir);
    snprintf(b->sockfile, sizeof b->sockfile, "%s/facesearchd.sock", b->dir);
    snprintf(b->svclog, sizeof b->svclog, "%s/facesearchd.log", b->dir);
    snprintf(b->cmderr, sizeof b->cmderr, "%s/command.err", b->dir);
    snprintf(rep->gallery_dir, sizeof rep->gallery_dir, "%s", b->gallery);
    fs_bench_env env = { NULL, NULL, 0 };
    int rc = fs_bench_dir(o->work_dir, b->dir, d);
    if (rc == FS_OK)
        rc = fs_bench_env_private(b->dir, &env, d);
    if (rc == FS_OK)
        rc = run(b, d);
    if (rc == FS_OK)
        summarise(b);
    service_stop(b);                    /* on every way out */
    fs_gate_close(b->g);
    fs_engine_close(b->eng);
    fs_engine_close(b->ref);
    fs_pool_free(b->pool);
    fs_bench_env_restore(&env);
    unlink(b->chipfile);
    unlink(b->errfile);
    unlink(b->probefile);
    unlink(b->cmderr);
    free(b->probe.p);
    fs_wipe(b->password, sizeof b->password);
    free(b);
    return rc;
}
