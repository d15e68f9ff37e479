/*
 * fs_engine.h - the pipeline's front: still images in, faces, aligned
 * chips and templates out.  It composes detect/ and embed/ and knows
 * nothing of galleries, people or cases: the gate (gate/fs_gate.h) sits
 * above it and is the only layer that turns a template into candidates.
 *
 * Errors follow fs_error.h: FS_OK or a negative FS_E* code, results in
 * out-parameters written only on success, and an optional fs_detail for
 * the human message.
 *
 * An fs_engine runs one call at a time (callers serialise); it spreads
 * each call over its own threads.
 */
#ifndef FS_ENGINE_H
#define FS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/fs_crypt.h"
#include "base/fs_error.h"
#include "base/fs_file.h"
#include "base/fs_types.h"
#include "../detect/fs_detect.h"    /* fs_image, fs_face: pipeline results */
#include "../embed/fs_faceres.h"    /* FS_FR_DESC_DIM: the second template */
#include "base/fs_pool.h"

typedef struct fs_engine fs_engine;

/* Our copy of dlib's landmark model, which `make models` and `make
 * install` put beside the model: the same numbers, read in 0.1 s where
 * dlib's own encoding takes about 0.7 s. */
#define FS_LANDMARKS_FILE "landmarks_68.fsl"

typedef struct fs_engine_options {
    const char *model_path;   /* the converted model file (make models);
                                 NULL: no embedding (detection only) */
    const char *landmarks_path;  /* NULL: FS_LANDMARKS_PATH, dlib's */
    int         detect_mode;     /* FS_DETECT_*: 0 is ours */
    int         threads;      /* <= 0: one per online CPU */
    int         max_batch;    /* chips per network batch; <= 0: 16 */
    const fs_quality_limits *quality;  /* G13 verdicts: a profile's
                                          (fs_profile.quality); NULL:
                                          fs_quality_defaults */
    const char *second_model_path;  /* faceres (embed/fs_faceres.h,
                                       models/faceres_v1.fsm): a second
                                       opinion for re-scoring a shortlist
                                       (issue 17); NULL: none */
} fs_engine_options;

int  fs_engine_open(const fs_engine_options *opt, fs_engine **out,
                    fs_detail *d);
void fs_engine_close(fs_engine *e);

const char *fs_engine_model_id(const fs_engine *e);
const char *fs_engine_model_sha256(const fs_engine *e);
/* The second model's (second_model_path), "" when it runs none: a
 * gallery whose recipe names one needs an engine that runs it. */
const char *fs_engine_second_model_id(const fs_engine *e);
const char *fs_engine_second_model_sha256(const fs_engine *e);
/* The engine's thread pool, made on first use: work of the layers above
 * (ranking) runs on the same threads as the pipeline. */
int         fs_engine_pool(fs_engine *e, fs_pool **pool, fs_detail *d);
/* Loads now what the engine otherwise makes on first use without
 * starting a thread: the networks (fs_engine_open only reads and checks
 * their models) and every thread's face detector (the landmark model, a
 * second or two).  A process that forks workers from a warm engine (the
 * service) calls it once; each child then starts its own threads. */
int         fs_engine_warm(fs_engine *e, fs_detail *d);
/* Builds now the networks the engine otherwise builds when it first
 * embeds (the benchmarks time it apart). */
int         fs_engine_networks(fs_engine *e, fs_detail *d);
/* Files named in jobs (fs_engine_read) are opened through o from now
 * on (NULL: by this process, with its rights); o must outlive its use. */
void        fs_engine_set_opener(fs_engine *e, const fs_opener *o);
/* Per chip: with batch 0 the network's nominal FLOPs (as direct
 * convolution), else those this engine computes at that batch size. */
double      fs_engine_flops_per_chip(fs_engine *e, int batch);

/* Descriptors of n aligned chips (n * FS_CHIP_BYTES bytes, R,G,B).
 * desc receives n * FS_DESC_DIM raw network outputs, as dlib computes
 * them; tmpl, when not NULL, the unit-norm templates used for ranking
 * (with the mirror on, of the mean of each chip's and its mirror image's
 * descriptors; desc stays the chip's own). */
int fs_engine_embed(fs_engine *e, const uint8_t *chips, size_t n,
                    float *desc, float *tmpl);
/* Templates from now on from each chip and its mirror image, averaged
 * (on) or from the chip alone (off, the default).  Twice the network's
 * work; measured on lfw-dev (eval --mirror): rank-1 0.9516 -> 0.9617,
 * FNIR at FPIR 0.01 0.244 -> 0.202.  Templates made either way are not
 * comparable: one gallery takes one recipe. */
void fs_engine_set_mirror(fs_engine *e, int on);

/* Reads an aligned chip file: a 150x150 8-bit RGB image (FS_ESHAPE
 * otherwise, with the detail naming what the file holds). */
int fs_chip_read(const char *path, uint8_t *chip, fs_detail *d);

/* Reads a still image through intake (G8: refusals name the rule) and
 * decodes it upright. */
int fs_image_read(const char *path, fs_image *img, fs_detail *d);

/* Faces in an image, strongest first, each with landmarks and quality
 * (G13).  The landmark model loads on the first call.  The engine's
 * threads share the image's HOG scan. */
int fs_engine_detect(fs_engine *e, const fs_image *img, fs_face *faces,
                     int max, int *n, fs_detail *d);
/* The limits fs_engine_detect judges faces by from now on (G13): the
 * gate sets its profile's before it judges a probe. */
void fs_engine_set_quality(fs_engine *e, const fs_quality_limits *q);
/* The aligned 150x150 chip of a detected face. */
int fs_engine_face_chip(fs_engine *e, const fs_image *img,
                        const fs_face *f, uint8_t *chip, fs_detail *d);
/* The second model's unit-norm template of a detected face (from its
 * 224 chip, fs_face_chip224), as fs_engine_templates makes it for
 * tmpl2: FS_EMODEL when the engine runs no second model. */
int fs_engine_face_second(fs_engine *e, const fs_image *img,
                          const fs_face *f, float tmpl2[FS_DESC2_DIM],
                          fs_detail *d);

/* ---- templates from image files ----------------------------------------- */

/* Which face of an image makes its template. */
enum {
    FS_FACE_CENTRE   = 0,   /* the one nearest the image centre: probes */
    FS_FACE_LARGEST  = 1,   /* the widest */
    FS_FACE_DOMINANT = 2    /* exactly one dominant face, else refused:
                               the gallery rule */
};

/* One image file on its way to a template. */
typedef struct fs_face_job {
    const char *path;             /* in */
    int         skip;             /* in: leave this job alone */
    int         rc;               /* out: FS_OK, or why no template */
    char        reason[320];      /* out: the why, naming the file */
    uint8_t     sha256[32];       /* after fs_engine_read */
    uint8_t    *bytes;            /* after fs_engine_read: the file as read */
    size_t      len;
    int         faces;            /* after fs_engine_templates: found */
    int         quality_ok;       /* after fs_engine_templates: the G13
                                     verdict on the face the rule picked */
    float       tmpl[FS_DESC_DIM];   /* after fs_engine_templates */
    /* The second network's unit-norm template of the same face (from its
     * 224 chip), when the engine was opened with second_model_path:
     * tmpl2 (in) is the caller's room for FS_FR_DESC_DIM floats, NULL for
     * none; has2 (out) is 1 when it was filled.  A face whose 224 chip
     * cannot be cut keeps its first template, with has2 0. */
    float      *tmpl2;
    int         has2;
} fs_face_job;

/* Reads and hashes every job's file on the engine's threads, refusing
 * stream and device arguments (G8) before opening anything. */
int  fs_engine_read(fs_engine *e, fs_face_job *jobs, size_t n, fs_detail *d);
/* For every job read and not skipped: intake's still-image checks (G8),
 * decode, detection, the face the rule picks, alignment, and one network
 * batch for all the chips.  Per-job refusals land in the jobs; the return
 * code is for failures of the whole call. */
int  fs_engine_templates(fs_engine *e, fs_face_job *jobs, size_t n, int rule,
                         fs_detail *d);
/* Frees what fs_engine_read kept (the bytes). */
void fs_face_jobs_release(fs_face_job *jobs, size_t n);

#endif /* FS_ENGINE_H */
