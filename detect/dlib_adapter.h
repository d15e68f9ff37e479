/*
 * dlib_adapter.h - the C face of detect/'s dlib code: the HOG frontal
 * face detector, the 68-point shape predictor and dlib's face-chip
 * extraction.  Private to detect/.  No C++ type crosses this header;
 * every function catches all C++ exceptions and returns FS_E* codes.
 *
 * Images are our 8-bit R,G,B buffers (width*height*3, row-major), which
 * dlib reads where they lie, not from a copy; nothing of them is kept
 * past the call.
 *
 * Threads: an fs_hog and an fs_landmarker are read-only after they are
 * made and may be shared; a detection's state lives in its fs_hog_run.
 */
#ifndef FS_DLIB_ADAPTER_H
#define FS_DLIB_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_hog fs_hog;
typedef struct fs_landmarker fs_landmarker;

typedef struct fs_hog_box {
    double left, top, right, bottom;         /* pixels of the original */
    double score;                            /* detection confidence */
    int    pose;                             /* which of dlib's 5 filters */
} fs_hog_box;

int  fs_hog_create(fs_hog **out);
void fs_hog_free(fs_hog *hog);

/*
 * One detection in steps, so that the work of one image can be shared by
 * threads (fs_detect.c runs them on a pool): dlib's object_detector over
 * its HOG pyramid, taken apart where its loops do not depend on each
 * other, each step running dlib's own code, so the boxes are dlib's to
 * the bit however many threads ran.
 *
 *   fs_hog_begin     the image pyramid at `scale`: 1, the image as is,
 *                    on its grey levels; 2, 4, ..., doubled as many times,
 *                    on RGB, as dlib's Python calls it; under 1, its grey
 *                    levels shrunk by area averaging (a large photo's
 *                    working resolution).  levels > 0 keeps only the
 *                    pyramid's first `levels` levels (the larger faces
 *                    left to a pass at a working resolution); 0, all of
 *                    them.  rgb is read in place until fs_hog_end.
 *   fs_hog_features  the levels' features, shared by the threads that
 *                    call it at once (each takes the next task left);
 *   fs_hog_filters   then, after every call of fs_hog_features has
 *                    returned, the filters over them, shared likewise;
 *   fs_hog_end       the faces found, boxes in the original image's
 *                    pixels, at most max, strongest first; *n is how
 *                    many.  Frees the run, whatever it returns.
 *
 * An fs_hog is read-only here: any number of runs may use one at once.
 */
typedef struct fs_hog_run fs_hog_run;
int  fs_hog_begin(const fs_hog *hog, const uint8_t *rgb, int width,
                  int height, double scale, int levels,
                  fs_hog_run **out);
void fs_hog_features(fs_hog_run *run);
void fs_hog_filters(fs_hog_run *run);
int  fs_hog_end(fs_hog_run *run, fs_hog_box *boxes, int max, int *n);

/*
 * The 68-point shape predictor, split where dlib's arithmetic ends.
 * dlib's file is read into flat arrays that C walks (fs_detect.c): a
 * cascade of regression forests, each tree a full binary tree stored as
 * dlib stores it (node i's children at 2i+1 and 2i+2, leaves after the
 * splits).  Which pixels a cascade compares depends on the current shape
 * through dlib's similarity transform, so that sampling stays here, and
 * so does the rounding of the final points: the landmarks are dlib's to
 * the bit (test_chip_equals_dlib_reference).
 *
 * Shapes are the predictor's normalised coordinates, x0, y0, x1, y1, ...
 * (FS_SHAPE_COORDS floats).
 */
#define FS_SHAPE_COORDS     136      /* 68 points */
#define FS_SHAPE_MAX_PIXELS 4096     /* feature pixels per cascade */
#define FS_SHAPE_MAX_TREES  4096     /* trees per cascade */

typedef struct fs_shape_split {
    uint16_t a, b;                   /* go left when pixel a - pixel b */
    float    thresh;                 /* exceeds this */
} fs_shape_split;

typedef struct fs_shape_forest {
    int                   cascades, trees, splits;  /* splits per tree */
    int                   pixels;                   /* per cascade */
    const float          *initial;                  /* FS_SHAPE_COORDS */
    const fs_shape_split *split;    /* [cascade][tree][splits] */
    const float          *leaf;     /* [cascade][tree][splits + 1][COORDS] */
} fs_shape_forest;

/* dlib's own file, or our copy of it (fs_landmarker_save), told apart
 * by its first bytes.  FS_ENOENT, FS_EFORMAT (not a 68-point shape
 * predictor file, or one whose indexes point outside its own arrays),
 * FS_ETRUNC and FS_ECHECKSUM (our copy cut short or altered), FS_ENOMEM. */
int  fs_landmarker_open(const char *path, fs_landmarker **out);
/* The same numbers in our own layout, read 0.6 s sooner; FS_EIO. */
int  fs_landmarker_save(const fs_landmarker *lm, const char *path);
void fs_landmarker_close(fs_landmarker *lm);
const fs_shape_forest *fs_landmarker_forest(const fs_landmarker *lm);
/* The grey levels of cascade's feature pixels (forest->pixels of them)
 * for the face in box, placed relative to shape. */
int  fs_landmarker_sample(const fs_landmarker *lm, const uint8_t *rgb,
                          int width, int height, const fs_hog_box *box,
                          int cascade, const float *shape, float *values);
/* shape in the image's pixels, rounded as dlib rounds them. */
int  fs_landmarker_place(const fs_hog_box *box, const float *shape,
                         float points[FS_SHAPE_COORDS]);

/* The FS_CHIP_SIZE-square RGB chip of dlib's
 * get_face_chip_details(shape, FS_CHIP_SIZE, 0.25)
 * and extract_image_chip, from the 68 points. */
int  fs_dlib_face_chip(const uint8_t *rgb, int width, int height,
                       const float points[136], uint8_t *chip);
/* The 68 points carried into that chip's pixels by the same mapping. */
int  fs_dlib_chip_points(const float points[136], float out[136]);

#ifdef __cplusplus
}
#endif

#endif /* FS_DLIB_ADAPTER_H */
