/*
 * fs_vision.h - detect/'s C++ code (cv_adapter.h: OpenCV's codecs and
 * cascade; dlib_adapter.h: dlib's HOG, shape predictor and chips) as one
 * shared module, facesearch-vision.so, loaded on first use.  Private to
 * detect/ (and the suite, which checks when it is loaded).
 *
 * Why a module: linked into a command, OpenCV's image codecs alone pull in
 * some 150 shared libraries (GDAL, GDCM, HEIF...) that the dynamic linker
 * maps before main, 0.1 s or more that every gate command paid though it
 * never decodes an image.  Now only what decodes, detects or draws pays
 * it, once, on its first call here.
 *
 * The module exports one function, FS_VISION_ENTRY (fs_vision_entry_fn):
 * it keeps the host's services (below) and returns its table of the
 * adapter functions, or NULL when built for another FS_VISION_VERSION.
 * The table's members take their types from the adapter headers, so
 * those stay the one statement of each function's contract; no C++ type
 * crosses.
 *
 * Where it is looked for, the first found wins:
 *   $FACESEARCH_VISION, when set (and then only there: for tests);
 *   beside the running executable (the build tree: bin/, build/rel/);
 *   <executable's directory>/../lib/facesearch/ (what make install
 *   makes: PREFIX/bin/facesearchd beside PREFIX/lib/facesearch/).
 * In each place FS_VISION_FILE_AVX2 comes first on a processor with
 * AVX2, then FS_VISION_FILE.
 *
 * Thread-safe: the load happens once (pthread_once); its outcome, table
 * or failure, is kept for the life of the process.
 */
#ifndef FS_VISION_H
#define FS_VISION_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_error.h"
#include "cv_adapter.h"
#include "dlib_adapter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever fs_vision or fs_vision_host changes shape or meaning. */
#define FS_VISION_VERSION 3
#define FS_VISION_FILE    "facesearch-vision.so"
/* The same module built for AVX2, taken instead where the processor has
 * it: dlib's HOG features and filters run in 8 lanes, not two halves of 4
 * (a 12 MP photo's detection, CPU ms on a shared machine: 144 -> 108).
 * No FMA, but dlib's AVX paths round a few sums their own way: a face's
 * confidence may differ from the plain build's in the 7th digit
 * (fs_vision_avx2). */
#define FS_VISION_FILE_AVX2 "facesearch-vision-avx2.so"
#define FS_VISION_ENTRY   "fs_vision_entry"

/* What the module takes from the program that loads it, so that both
 * sides share one of each: the allocator of every buffer it hands back
 * (freed by the caller with free(); the suite's counting allocator sees
 * them), and the engine's SHA-256 (engine/base/fs_crypt.h). */
typedef struct fs_vision_host {
    void *(*alloc)(size_t n);
    void  (*sha256)(const void *in, size_t len, uint8_t *out);
} fs_vision_host;

typedef struct fs_vision {
    int    version;                       /* FS_VISION_VERSION */
    size_t size;                          /* sizeof (fs_vision) */
    __typeof__(fs_cv_decode)          *cv_decode;
    __typeof__(fs_cv_write_png)       *cv_write_png;
    __typeof__(fs_cv_encode_png)      *cv_encode_png;
    __typeof__(fs_cv_resize)          *cv_resize;
    __typeof__(fs_cascade_open)       *cascade_open;
    __typeof__(fs_cascade_close)      *cascade_close;
    __typeof__(fs_cascade_detect)     *cascade_detect;
    __typeof__(fs_hog_create)         *hog_create;
    __typeof__(fs_hog_free)           *hog_free;
    __typeof__(fs_hog_begin)          *hog_begin;
    __typeof__(fs_hog_features)       *hog_features;
    __typeof__(fs_hog_filters)        *hog_filters;
    __typeof__(fs_hog_end)            *hog_end;
    __typeof__(fs_landmarker_open)    *landmarker_open;
    __typeof__(fs_landmarker_save)    *landmarker_save;
    __typeof__(fs_landmarker_close)   *landmarker_close;
    __typeof__(fs_landmarker_forest)  *landmarker_forest;
    __typeof__(fs_landmarker_sample)  *landmarker_sample;
    __typeof__(fs_landmarker_place)   *landmarker_place;
    __typeof__(fs_dlib_face_chip)     *face_chip;
    __typeof__(fs_dlib_chip_points)   *chip_points;
} fs_vision;

/* The module's one export: NULL when version is not its own. */
typedef const fs_vision *fs_vision_entry_fn(int version,
                                            const fs_vision_host *host);

/* The module's table, loading it on the first call.  FS_EMODULE when no
 * module is where it is looked for (d names every place looked at), when
 * the file found does not load (not a shared object, a library it needs
 * is missing: d quotes the dynamic linker) or exports no FS_VISION_ENTRY,
 * or when it is a module of another version.  Every later call returns
 * the first's outcome. */
int fs_vision_get(const fs_vision **out, fs_detail *d);

/* Whether this process has loaded the module (the suite's check that gate
 * commands never do). */
int fs_vision_loaded(void);
/* Whether the module loaded is the AVX2 build (FS_VISION_FILE_AVX2): its
 * HOG confidences are dlib's built for AVX2, as dlib's own build makes it
 * where the processor has it, and differ from the plain build's in the
 * last bits (the suite holds each to the dlib peer built alike). */
int fs_vision_avx2(void);

/* Inside the module only: the services its loader passed in. */
extern fs_vision_host fs_vision_host_services;

#ifdef __cplusplus
}
#endif

#endif /* FS_VISION_H */
