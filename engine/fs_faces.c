/*
 * fs_faces.c - image files in, templates out: the front of enrolment,
 * evaluation and search.
 *
 * Two calls, so that a caller can act between them (enrolment drops the
 * images it already holds before anything is decoded):
 *   fs_engine_read       files read whole and hashed, one per thread;
 *   fs_engine_templates  intake's still checks, decode, detect, the face
 *                        the rule picks, alignment (one per thread), then
 *                        one network batch for every chip.
 * Threads take jobs from a shared counter: images differ in size, so a
 * fixed split would leave a core idle.  Not thread-safe: the engine's
 * threads are driven from here.
 */
#include "fs_engine_int.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs_crypt.h"
#include "base/fs_file.h"

static void refuse(fs_face_job *j, int rc, const char *why)
{
    j->rc = rc;
    snprintf(j->reason, sizeof j->reason, "%s", why);
}

static void read_one(const fs_opener *o, fs_face_job *j)
{
    fs_detail d = { "" };
    int rc = fs_intake_check_arg(j->path, &d);
    if (rc == FS_OK)
        rc = fs_read_file_as(o, j->path, FS_IMAGE_MAX_BYTES, &j->bytes,
                             &j->len, &d);
    if (rc != FS_OK)
        refuse(j, rc, d.msg);
    else
        fs_sha256(j->bytes, j->len, j->sha256);
}

static int pick(const fs_image *img, const fs_face *f, int n, int rule)
{
    if (rule == FS_FACE_DOMINANT)
        return fs_dominant_face(f, n);
    if (rule == FS_FACE_LARGEST) {
        int best = n ? 0 : -1;
        for (int i = 1; i < n; i++)
            if (f[i].box[2] > f[best].box[2])
                best = i;
        return best;
    }
    return fs_default_face(f, n, img->width, img->height);
}

/* Decode, detect, pick, align: what makes a chip. */
static void see_one(fs_detector *det, const fs_quality_limits *ql,
                    fs_face_job *j, int rule, uint8_t *chip, uint8_t *chip2)
{
    fs_detail d = { "" };
    fs_still st;
    int rc = fs_intake_identify(j->bytes, j->len, j->path, &st, &d);
    if (rc != FS_OK) {
        refuse(j, rc, d.msg);
        return;
    }
    /* Decoding neutralises the orientation tag in place; callers keep
     * the bytes as they came. */
    uint8_t tag[2] = { 0, 0 };
    if (st.orientation_at)
        memcpy(tag, j->bytes + st.orientation_at, 2);
    fs_image img;
    rc = fs_image_decode(j->bytes, j->len, j->path, &img, &d);
    if (st.orientation_at)
        memcpy(j->bytes + st.orientation_at, tag, 2);
    if (rc != FS_OK) {
        refuse(j, rc, d.msg);
        return;
    }
    fs_face faces[FS_MAX_FACES];
    int n = 0;
    rc = fs_detect_faces(det, NULL, &img, ql, faces, FS_MAX_FACES, &n, &d);
    int f = rc == FS_OK ? pick(&img, faces, n, rule) : -1;
    j->faces = n;
    j->quality_ok = f >= 0 && faces[f].quality.ok;
    if (rc != FS_OK) {
        refuse(j, rc, d.msg);
    } else if (n == 0) {
        refuse(j, FS_NOTFOUND, "no face found");
    } else if (f < 0) {
        snprintf(d.msg, sizeof d.msg, "%d faces and none dominant (a "
                 "mugshot holds exactly one face)", n);
        refuse(j, FS_EINVAL, d.msg);
    } else if ((rc = fs_face_chip(&img, &faces[f], chip, &d)) != FS_OK) {
        refuse(j, rc, d.msg);
    } else if (chip2) {
        j->has2 = fs_face_chip224(&img, &faces[f], chip2, &d) == FS_OK;
    }
    fs_image_release(&img);
}

typedef struct team {
    fs_engine    *e;
    fs_face_job  *jobs;
    size_t        n;
    atomic_size_t next;
    int           stage, rule;
} team;

static void front_team(void *arg, int tid, int nthreads)
{
    (void)nthreads;
    team *t = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&t->next, 1);
        if (i >= t->n)
            break;
        fs_face_job *j = &t->jobs[i];
        if (j->skip || j->rc != FS_OK)
            continue;
        if (t->stage == 1)
            read_one(t->e->opener, j);
        else
            see_one(t->e->det[tid], &t->e->quality, j, t->rule,
                    t->e->chips + i * FS_CHIP_BYTES,
                    t->e->fr && j->tmpl2 ? t->e->chips2 + i * FS_FR_CHIP_BYTES
                                         : NULL);
    }
}

int fs_engine_read(fs_engine *e, fs_face_job *jobs, size_t n, fs_detail *d)
{
    int rc = fs_engine_pool(e, NULL, d);
    if (rc != FS_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        jobs[i].rc = FS_OK;
        jobs[i].reason[0] = 0;
        jobs[i].bytes = NULL;
        jobs[i].len = 0;
        jobs[i].faces = 0;
        jobs[i].quality_ok = 0;
    }
    team t = { e, jobs, n, 0, 1, 0 };
    fs_pool_run(e->front, front_team, &t);
    return FS_OK;
}

static int reserve(fs_engine *e, size_t n, fs_detail *d)
{
    if (n <= e->scratch)
        return FS_OK;
    free(e->chips);
    free(e->desc);
    free(e->tmpl);
    free(e->chips2);
    free(e->desc2);
    e->chips = malloc(n * FS_CHIP_BYTES);
    e->desc = malloc(n * FS_DESC_DIM * sizeof *e->desc);
    e->tmpl = malloc(n * FS_DESC_DIM * sizeof *e->tmpl);
    e->chips2 = e->fr ? malloc(n * FS_FR_CHIP_BYTES) : NULL;
    e->desc2 = e->fr ? malloc(n * FS_FR_DESC_DIM * sizeof *e->desc2) : NULL;
    e->scratch = n;
    if (e->chips && e->desc && e->tmpl && (!e->fr || (e->chips2 && e->desc2)))
        return FS_OK;
    e->scratch = 0;
    return fs_fail(d, FS_ENOMEM, "no memory for %zu face chips", n);
}

/* A second descriptor scaled to unit length into out: 0 when it is all
 * zero (ReLU6 averages: only for a chip of nothing), out then zero. */
static int second_unit(const float *v, float *out)
{
    double ss = 0;
    for (int k = 0; k < FS_FR_DESC_DIM; k++)
        ss += (double)v[k] * v[k];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int k = 0; k < FS_FR_DESC_DIM; k++)
        out[k] = v[k] * inv;
    return ss > 0;
}

int fs_engine_face_second(fs_engine *e, const fs_image *img,
                          const fs_face *f, float tmpl2[FS_DESC2_DIM],
                          fs_detail *d)
{
    if (!e->model2_id[0])
        return fs_fail(d, FS_EMODEL, "this engine runs no second model");
    int rc = fs_engine_networks(e, d);
    if (rc != FS_OK)
        return rc;
    uint8_t *chip = malloc(FS_FR_CHIP_BYTES);
    float *desc = malloc(FS_FR_DESC_DIM * sizeof *desc);
    rc = chip && desc ? fs_face_chip224(img, f, chip, d)
                      : fs_fail(d, FS_ENOMEM, "no memory for a chip");
    if (rc == FS_OK && (rc = fs_faceres_forward(e->fr, chip, 1, desc))
                       != FS_OK)
        fs_fail(d, rc, "the second network failed: %s", fs_strerror(rc));
    if (rc == FS_OK && !second_unit(desc, tmpl2))
        rc = fs_fail(d, FS_EINVAL, "the second network sees nothing in "
                     "the face's chip");
    if (chip)
        fs_wipe(chip, FS_FR_CHIP_BYTES);
    free(chip);
    free(desc);
    return rc;
}

/* The second network's batch over the 224 chips of the jobs that asked
 * for one and got it, each descriptor scaled to unit length. */
static int second_templates(fs_engine *e, fs_face_job *jobs, size_t n,
                            fs_detail *d)
{
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        fs_face_job *j = &jobs[i];
        j->has2 = j->has2 && !j->skip && j->rc == FS_OK && j->tmpl2;
        if (j->has2 && nc++ != i)
            memcpy(e->chips2 + (nc - 1) * FS_FR_CHIP_BYTES,
                   e->chips2 + i * FS_FR_CHIP_BYTES, FS_FR_CHIP_BYTES);
    }
    int rc = nc ? fs_faceres_forward(e->fr, e->chips2, nc, e->desc2) : FS_OK;
    if (rc != FS_OK)
        return fs_fail(d, rc, "the second network failed: %s",
                       fs_strerror(rc));
    for (size_t i = 0, c = 0; i < n; i++) {
        if (!jobs[i].has2)
            continue;
        jobs[i].has2 = second_unit(e->desc2 + c++ * FS_FR_DESC_DIM,
                                   jobs[i].tmpl2);
    }
    return FS_OK;
}

int fs_engine_templates(fs_engine *e, fs_face_job *jobs, size_t n, int rule,
                        fs_detail *d)
{
    if (!e->net && !e->model)
        return fs_fail(d, FS_EINVAL, "templates need the model");
    size_t todo = 0;
    for (size_t i = 0; i < n; i++)
        todo += !jobs[i].skip && jobs[i].rc == FS_OK;
    if (todo == 0)
        return FS_OK;
    int rc = fs_engine_networks(e, d);
    if (rc == FS_OK)
        rc = fs_engine_front(e, d);
    if (rc == FS_OK)
        rc = reserve(e, n, d);
    if (rc != FS_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        jobs[i].has2 = 0;
    team t = { e, jobs, n, 0, 2, rule };
    fs_pool_run(e->front, front_team, &t);

    /* One network batch for every chip, packed in place. */
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].skip && jobs[i].rc == FS_OK && nc++ != i)
            memcpy(e->chips + (nc - 1) * FS_CHIP_BYTES,
                   e->chips + i * FS_CHIP_BYTES, FS_CHIP_BYTES);
    rc = nc ? fs_engine_embed(e, e->chips, nc, e->desc, e->tmpl) : FS_OK;
    if (rc != FS_OK)
        return fs_fail(d, rc, "embedding failed: %s", fs_strerror(rc));
    for (size_t i = 0, c = 0; i < n; i++)
        if (!jobs[i].skip && jobs[i].rc == FS_OK)
            memcpy(jobs[i].tmpl, e->tmpl + c++ * FS_DESC_DIM,
                   sizeof jobs[i].tmpl);
    return e->fr ? second_templates(e, jobs, n, d) : FS_OK;
}

void fs_face_jobs_release(fs_face_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].bytes);
        jobs[i].bytes = NULL;
    }
}
