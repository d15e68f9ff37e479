/*
 * bench_enroll.c - `facesearch bench enroll`: images per second of
 * enrolment, intake to commit, beside the reference pipeline on the same
 * images in the same run.
 *
 *   - facesearch: the gate's enroller as `facesearch enroll` drives it
 *     (fs_enroller_open, batches of FS_BENCH_ENROLL_BATCH through
 *     fs_enroller_run, the run's note), on an engine opened and warmed
 *     once (as the service keeps it), into a fresh sealed detroit gallery
 *     each round: files read from the set's directory and hashed, intake's
 *     checks, decode, detection, the dominant face, the chip, the
 *     network, each batch committed sealed with the audit entries naming
 *     its images, and the duplicate check.  The gallery's making and the
 *     admin's login are not timed; the enroller's open is.
 *   - reference-detect-embed: what face_recognition runs per image, the
 *     front of `bench search`'s reference (decode, dlib's HOG upsampled
 *     once, landmarks, the chip of the default face; one image per core,
 *     which face_recognition itself does not do) plus dlib's own DNN on
 *     each chip, one chip per batch, BLAS on every core
 *     (fs-peer-dlib-embed over the round's chips): the front's wall time
 *     plus the chips times the DNN's median time per face.
 *
 * The engines take turns, ours first in even rounds; each figure is the
 * median over rounds, the ratio the median of the per-round ratios.
 * Every round checks its gallery: the templates it holds are the images
 * enrolled, and the audit trail names each of them.  Not thread-safe (it
 * sets the environment for the sessions, as bench search does).
 */
#include "fs_bench.h"
#include "fs_bench_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../engine/facesearch.h"

#define PEER_SECS "0.5"           /* dlib's DNN per round */
#define WARM_IMAGES 16            /* the untimed warm-up enrolment */
#define ADMIN "benchadmin"
#define UNIT  "BENCH"

typedef struct bench {
    const fs_bench_enroll_options *o;
    fs_bench_enroll_report *rep;
    char dir[4200], gallery[4300], key[4300], anchor[4400], chipfile[4300],
         errfile[4300];
    char password[80];
    fs_engine *eng;               /* ours: warm, all cores */
    fs_engine **ref;              /* the reference's: one per core */
    fs_pool *pool;                /* the reference's front */
    fs_bench_set set;             /* the images, in memory for the reference */
    fs_enroll_item *items;        /* ours: the same images by path */
    char (*paths)[4400];
    char (*subjects)[FS_SUBJECT_MAX];
    uint8_t *chips, *has;
    int have_peer;
    int64_t start_us;
    double part_round[2][FS_BENCH_MAX_ROUNDS];
    double cpu_round[FS_BENCH_MAX_ROUNDS];   /* ours: CPU ms per image */
} bench;

/* ---- the gallery of a round ------------------------------------------------- */

static void gallery_remove(bench *b)
{
    fs_bench_remove_tree(b->gallery);
    unlink(b->key);
    unlink(b->anchor);
}

/* A new sealed gallery under detroit, its admin logged in. */
static int gallery_new(bench *b, fs_gate **g, fs_detail *d)
{
    gallery_remove(b);
    const char *profile = fs_profile_builtin("detroit");
    char key_path[4400], session[4400];
    fs_gate_init in = { profile, strlen(profile), ADMIN, UNIT, b->password,
                        b->key, fs_engine_model_id(b->eng),
                        fs_engine_model_sha256(b->eng), NULL, NULL };
    fs_gate_options go = { .key_file = b->key,
                           .model_id = fs_engine_model_id(b->eng),
                           .model_sha256 = fs_engine_model_sha256(b->eng) };
    int rc = fs_gate_create(b->gallery, &in, key_path, sizeof key_path, d);
    if (rc == FS_OK)
        rc = fs_gate_open(b->gallery, &go, g, d);
    if (rc == FS_OK)
        rc = fs_gate_login(*g, ADMIN, b->password, session, sizeof session,
                           d);
    return rc;
}

/* ---- ours ------------------------------------------------------------------ */

/* The first n images through the enroller, as `facesearch enroll` runs
 * them; *secs is the time from the enroller's open to the run's note,
 * *cpu the process's CPU time over it (every thread's: only ours work
 * then). */
static int enrol(bench *b, fs_gate *g, int n, double *secs, double *cpu,
                 int *enrolled, int *rejected, fs_detail *d)
{
    fs_enroller *en = NULL;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double t0 = fs_bench_now();
    int rc = fs_enroller_open(b->eng, g, &en, d);
    for (int done = 0; rc == FS_OK && done < n;
         done += FS_BENCH_ENROLL_BATCH) {
        int cnt = n - done < FS_BENCH_ENROLL_BATCH ? n - done
                                                   : FS_BENCH_ENROLL_BATCH;
        rc = fs_enroller_run(en, b->items + done, (size_t)cnt, d);
    }
    *enrolled = *rejected = 0;
    for (int i = 0; rc == FS_OK && i < n; i++) {
        *enrolled += b->items[i].status == FS_ENROLLED;
        *rejected += b->items[i].status == FS_ENROLL_REJECTED;
    }
    if (rc == FS_OK) {
        char objects[160];
        snprintf(objects, sizeof objects, "%d images: %d enrolled, %d "
                 "rejected", n, *enrolled, *rejected);
        rc = fs_enroller_note(en, b->o->dataset, objects, d);
    }
    *secs = fs_bench_now() - t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    *cpu = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9;
    fs_enroller_close(en);
    return rc;
}

typedef struct audit_count {
    int named;                    /* subject/image-id pairs in the entries */
} audit_count;

static int audit_one(void *ctx, const fs_audit_record *r)
{
    audit_count *c = ctx;
    if (strcmp(r->action, "enroll") != 0)
        return 0;
    /* a batch's entries name "subject/id" per image; the run's note
     * holds counts alone */
    char copy[sizeof r->objects];
    snprintf(copy, sizeof copy, "%s", r->objects);
    for (char *save, *t = strtok_r(copy, " ", &save); t;
         t = strtok_r(NULL, " ", &save))
        c->named += strchr(t, '/') != NULL;
    return 0;
}

/* One timed enrolment of every image into a fresh gallery, then the
 * gallery held to it: a template per enrolled image, each on the trail. */
static int round_ours(bench *b, fs_detail *d)
{
    fs_bench_enroll_report *rep = b->rep;
    fs_bench_enroll_result *r = &rep->r[FS_BENCH_ENROLL_OURS];
    fs_gate *g = NULL;
    double secs, cpu;
    int enrolled = 0, rejected = 0;
    int rc = gallery_new(b, &g, d);
    if (rc == FS_OK)
        rc = enrol(b, g, rep->images, &secs, &cpu, &enrolled, &rejected, d);
    fs_gallery_stats st;
    audit_count c = { 0 };
    fs_audit_filter flt = { b->start_us, 0, ADMIN, NULL };
    if (rc == FS_OK)
        rc = fs_gate_gallery_stat(g, &st, d);
    if (rc == FS_OK)
        rc = fs_audit_walk(g, &flt, audit_one, &c, d);
    if (rc == FS_OK)
        rc = fs_gate_logout(g, d);
    fs_gate_close(g);
    gallery_remove(b);
    if (rc != FS_OK)
        return rc;
    if (st.templates != (uint64_t)enrolled)
        return fs_fail(d, FS_EINTERNAL, "the gallery holds %llu templates "
                       "after %d images were enrolled",
                       (unsigned long long)st.templates, enrolled);
    rep->enrolled = enrolled;
    rep->rejected = rejected;
    rep->templates = st.templates;
    rep->audited = c.named;
    r->with_face = enrolled;
    b->cpu_round[r->rounds] = cpu * 1e3 / rep->images;
    r->round_ms[r->rounds++] = secs * 1e3 / rep->images;
    return FS_OK;
}

/* ---- the reference -------------------------------------------------------- */

static int round_reference(bench *b, fs_detail *d)
{
    fs_bench_enroll_report *rep = b->rep;
    fs_bench_enroll_result *r = &rep->r[FS_BENCH_ENROLL_REFERENCE];
    if (!b->have_peer)
        return FS_OK;                   /* the note says why */
    int with_face = 0;
    double secs = fs_bench_front_pass(b->pool, b->ref, &b->set, &with_face,
                                      b->chips, b->has, NULL);
    if (with_face == 0)
        return fs_fail(d, FS_ENOENT, "the reference found no face in %d "
                       "images", rep->images);
    /* the chips found, packed, for dlib's DNN */
    size_t nc = 0;
    for (int i = 0; i < rep->images; i++)
        if (b->has[i] && nc++ != (size_t)i)
            memcpy(b->chips + (nc - 1) * FS_CHIP_BYTES,
                   b->chips + (size_t)i * FS_CHIP_BYTES, FS_CHIP_BYTES);
    if (fs_bench_write_file(b->chipfile, b->chips, nc * FS_CHIP_BYTES) !=
        FS_OK)
        return fs_fail(d, FS_EIO, "cannot write '%s'", b->chipfile);
    char count[16], emb_note[sizeof r->note];
    snprintf(count, sizeof count, "%zu", nc);
    char *argv[] = { (char *)b->o->peer_dlib, "--model",
                     (char *)b->o->model_path, "--chips", b->chipfile,
                     "--count", count, "--batch", "1", "--seconds",
                     PEER_SECS, NULL };
    double emb;
    if (fs_bench_peer_ms(argv, rep->ncpu, b->errfile, "dlib-dnn", &emb,
                         emb_note, sizeof emb_note) != FS_OK) {
        snprintf(r->note, sizeof r->note, "%s", emb_note);
        b->have_peer = 0;               /* no figure from here on */
        return FS_OK;
    }
    double front = secs * 1e3 / rep->images,
           dnn = emb * (double)nc / rep->images;
    b->part_round[0][r->rounds] = front;
    b->part_round[1][r->rounds] = dnn;
    r->with_face = with_face;
    r->round_ms[r->rounds++] = front + dnn;
    return FS_OK;
}

/* ---- the run ----------------------------------------------------------------- */

/* The set in memory (the reference's input) and the same files by path
 * (ours: the enroller reads them), subject = the identity folder. */
static int inputs(bench *b, fs_detail *d)
{
    const fs_bench_enroll_options *o = b->o;
    if (fs_bench_load_set(o->dataset, o->limit, &b->set) != FS_OK)
        return fs_fail(d, FS_ENOENT, "no images in '%s'", o->dataset);
    int n = b->rep->images = b->set.n;
    b->items = calloc((size_t)n, sizeof *b->items);
    b->paths = calloc((size_t)n, sizeof *b->paths);
    b->subjects = calloc((size_t)n, sizeof *b->subjects);
    b->chips = malloc((size_t)n * FS_CHIP_BYTES);
    b->has = calloc((size_t)n, 1);
    if (!b->items || !b->paths || !b->subjects || !b->chips || !b->has)
        return fs_fail(d, FS_ENOMEM, "no memory for %d images", n);
    for (int i = 0; i < n; i++) {
        const char *name = b->set.files[i].name;
        const char *slash = strchr(name, '/');
        size_t sl = slash ? (size_t)(slash - name) : strlen(name);
        if (sl >= sizeof b->subjects[i])
            sl = sizeof b->subjects[i] - 1;
        memcpy(b->subjects[i], name, sl);
        snprintf(b->paths[i], sizeof b->paths[i], "%s/%s", o->dataset, name);
        b->items[i] = (fs_enroll_item){ .path = b->paths[i],
                                        .subject = b->subjects[i],
                                        .lawful_source = "booking",
                                        .source_agency = UNIT };
    }
    return FS_OK;
}

static int engines(bench *b, fs_detail *d)
{
    const fs_bench_enroll_options *o = b->o;
    int ncpu = b->rep->ncpu;
    fs_engine_options eo = { .model_path = o->model_path,
                             .landmarks_path = o->landmarks_path };
    int rc = fs_engine_open(&eo, &b->eng, d);
    if (rc == FS_OK)
        rc = fs_engine_warm(b->eng, d);
    b->ref = calloc((size_t)ncpu, sizeof *b->ref);
    if (rc == FS_OK && (!b->ref || fs_pool_create(ncpu, &b->pool) != FS_OK))
        rc = fs_fail(d, FS_ENOMEM, "cannot set up %d threads", ncpu);
    /* one thread each, as face_recognition runs dlib's detector */
    for (int t = 0; rc == FS_OK && t < ncpu; t++) {
        fs_engine_options ro = { .landmarks_path = o->landmarks_path,
                                 .detect_mode = FS_DETECT_UPSAMPLE_ALWAYS,
                                 .threads = 1 };
        rc = fs_engine_open(&ro, &b->ref[t], d);
        if (rc == FS_OK)
            rc = fs_bench_engine_warm(b->ref[t], d);
    }
    return rc;
}

/* An untimed enrolment of a few images: the network's buffers, the
 * threads and the gate's first commit are paid before the rounds. */
static int warm_up(bench *b, fs_detail *d)
{
    fs_gate *g = NULL;
    double secs, cpu;
    int e, r, n = b->rep->images < WARM_IMAGES ? b->rep->images
                                              : WARM_IMAGES;
    int rc = gallery_new(b, &g, d);
    if (rc == FS_OK)
        rc = enrol(b, g, n, &secs, &cpu, &e, &r, d);
    if (rc == FS_OK)
        rc = fs_gate_logout(g, d);
    fs_gate_close(g);
    gallery_remove(b);
    return rc;
}

static void summarise(bench *b)
{
    fs_bench_enroll_report *rep = b->rep;
    for (int e = 0; e < FS_BENCH_ENROLL_ENGINES; e++) {
        fs_bench_enroll_result *r = &rep->r[e];
        if (r->rounds == 0)
            continue;
        r->ms_per_image = fs_bench_rounds_median(r->round_ms, r->rounds);
        r->images_per_s = 1e3 / r->ms_per_image;
        if (e == FS_BENCH_ENROLL_OURS)
            r->cpu_ms = fs_bench_rounds_median(b->cpu_round, r->rounds);
        for (int p = 0; p < 2 && e == FS_BENCH_ENROLL_REFERENCE; p++)
            r->part_ms[p] = fs_bench_rounds_median(b->part_round[p],
                                                   r->rounds);
        r->ok = 1;
    }
    const fs_bench_enroll_result *us = &rep->r[FS_BENCH_ENROLL_OURS],
                                 *ref = &rep->r[FS_BENCH_ENROLL_REFERENCE];
    /* time per image of the reference over ours: how many times ours
     * enrols the reference's images per second */
    if (us->ok && ref->ok)
        rep->ratio = fs_bench_round_ratio(ref->round_ms, ref->rounds,
                                          us->round_ms, us->rounds);
}

static int run(bench *b, fs_detail *d)
{
    const fs_bench_enroll_options *o = b->o;
    fs_bench_enroll_report *rep = b->rep;
    int rc = inputs(b, d);
    if (rc == FS_OK) {
        say(o, "%d images of %s; loading the network and the landmark "
            "model", rep->images, o->dataset);
        rc = engines(b, d);
    }
    if (rc == FS_OK) {
        say(o, "warm-up: %d images enrolled into a throwaway gallery",
            WARM_IMAGES);
        rc = warm_up(b, d);
    }
    for (int round = 0; rc == FS_OK && round < rep->rounds; round++)
        for (int turn = 0; rc == FS_OK && turn < 2; turn++) {
            int ours = (round + turn) % 2 == 0;
            say(o, "round %d/%d: %s", round + 1, rep->rounds,
                ours ? "facesearch: enrolment into a fresh sealed gallery"
                     : "reference: HOG upsampled once + dlib's DNN");
            rc = ours ? round_ours(b, d) : round_reference(b, d);
        }
    return rc;
}

int fs_bench_enroll(const fs_bench_enroll_options *o,
                    fs_bench_enroll_report *rep, fs_detail *d)
{
    memset(rep, 0, sizeof *rep);
    rep->ncpu = fs_cpu_count();
    rep->rounds = o->rounds > 0 ? o->rounds : 3;
    if (rep->rounds > FS_BENCH_MAX_ROUNDS)
        rep->rounds = FS_BENCH_MAX_ROUNDS;
    rep->batch = FS_BENCH_ENROLL_BATCH;
    snprintf(rep->r[0].engine, sizeof rep->r[0].engine, "facesearch");
    snprintf(rep->r[1].engine, sizeof rep->r[1].engine,
             "reference-detect-embed");
    snprintf(rep->dataset, sizeof rep->dataset, "%s", o->dataset);
    if (o->limit < 1)
        return fs_fail(d, FS_EINVAL, "the number of images must be 1 or "
                       "more");
    bench *b = calloc(1, sizeof *b);
    if (!b)
        return fs_fail(d, FS_ENOMEM, "no memory");
    b->o = o;
    b->rep = rep;
    b->have_peer = o->peer_dlib && access(o->peer_dlib, X_OK) == 0;
    if (!b->have_peer)
        snprintf(rep->r[1].note, sizeof rep->r[1].note,
                 "%s is not built (make all)",
                 o->peer_dlib ? o->peer_dlib : "fs-peer-dlib-embed");
    b->start_us = fs_bench_wall_us();
    snprintf(b->dir, sizeof b->dir, "%s/enroll-%d", o->work_dir, o->limit);
    snprintf(b->gallery, sizeof b->gallery, "%s/gallery", b->dir);
    snprintf(b->key, sizeof b->key, "%s/key", b->dir);
    snprintf(b->anchor, sizeof b->anchor, "%s.anchor", b->key);
    snprintf(b->chipfile, sizeof b->chipfile, "%s/chips.rgb", b->dir);
    snprintf(b->errfile, sizeof b->errfile, "%s/dlib-dnn.err", b->dir);
    snprintf(rep->gallery_dir, sizeof rep->gallery_dir, "%s", b->gallery);
    fs_bench_env env = { NULL, NULL, 0 };
    int rc = fs_bench_password(b->password, sizeof b->password, d);
    if (rc == FS_OK)
        rc = fs_bench_dir(o->work_dir, b->dir, d);
    if (rc == FS_OK)
        rc = fs_bench_env_private(b->dir, &env, d);
    if (rc == FS_OK)
        rc = run(b, d);
    if (rc == FS_OK)
        summarise(b);
    fs_bench_env_restore(&env);
    gallery_remove(b);
    unlink(b->chipfile);
    unlink(b->errfile);
    fs_engine_close(b->eng);
    for (int t = 0; b->ref && t < rep->ncpu; t++)
        fs_engine_close(b->ref[t]);
    free(b->ref);
    fs_pool_free(b->pool);
    fs_bench_free_set(&b->set);
    free(b->items);
    free(b->paths);
    free(b->subjects);
    free(b->chips);
    free(b->has);
    fs_wipe(b->password, sizeof b->password);
    free(b);
    return rc;
}
