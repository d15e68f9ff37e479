/*
 * fs_detect.h - the detect module: bytes in, still images and aligned
 * 150x150 face chips out.
 *
 * This first part is the intake of decoded images: a file is read whole
 * (bounded by FS_IMAGE_MAX_BYTES), decoded through OpenCV and handed on as
 * 8-bit RGB.  Nothing here trusts a file name.  OpenCV and dlib are in the
 * vision module (fs_vision.h), loaded by the first call that needs them:
 * any such call may fail with FS_EMODULE when it is missing.
 *
 * Thread-safe: no shared state.
 */
#ifndef FS_DETECT_H
#define FS_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_error.h"
#include "../engine/base/fs_pool.h"

#define FS_IMAGE_MAX_BYTES  ((size_t)64 << 20)
#define FS_IMAGE_MAX_PIXELS (40L * 1000 * 1000)    /* declared, pre-decode */
#define FS_IMAGE_MAX_SIDE   20000

typedef enum fs_image_type {
    FS_IMG_UNKNOWN, FS_IMG_JPEG, FS_IMG_PNG, FS_IMG_BMP, FS_IMG_TIFF,
    FS_IMG_WEBP
} fs_image_type;

/* What the bytes of a file say it is, before decoding. */
typedef struct fs_still {
    fs_image_type type;
    int           width, height;    /* as declared by its header */
    int           orientation;      /* EXIF 1..8; 1 = as stored */
    size_t        orientation_at;   /* file offset of its 16-bit value,
                                       0: no tag */
    int           orientation_be;   /* that value is big-endian */
    size_t        png_iccp_at;      /* file offset of a PNG's colour
                                       profile chunk, 0: none */
} fs_still;

/* Renames the PNG chunk at file offset at (its length field) to a private
 * type no decoder knows, and writes its CRC again, so that the decoder
 * skips it in silence.  The colour profile goes so: the decoder applies
 * none anyway, and libpng's warnings about known-bad sRGB profiles,
 * which nobody can act on, reached examiners' terminals. */
void fs_intake_png_mute(uint8_t *buf, size_t len, size_t at);

/* Intake (G8): refuses an argument naming a stream, URL or device rather
 * than a file (FS_DENIED, the detail names G8). */
int fs_intake_check_arg(const char *arg, fs_detail *d);

/* Intake (G8): identifies a still image from its bytes, never its name,
 * without decoding it.  FS_DENIED (G8) for video containers, animated
 * GIF/PNG/WebP and multi-page TIFF; FS_EDECODE for empty, truncated or
 * corrupt files; FS_ETOOBIG when the header declares more pixels than
 * the limits; FS_EUNSUPPORTED for GIF stills; FS_EFORMAT for anything
 * else.  path only names the file in the detail. */
int fs_intake_identify(const uint8_t *buf, size_t len, const char *path,
                       fs_still *out, fs_detail *d);

typedef struct fs_image {
    int      width, height; /* after EXIF orientation */
    int      channels;      /* what the file held: 1, 3 or 4 */
    int      depth_bits;    /* what the file held: 8 or 16 */
    fs_still still;         /* what intake found */
    uint8_t *rgb;           /* width*height*3, R,G,B, upright */
} fs_image;

/* Reads, checks (intake, above) and decodes the image at path, and turns
 * it upright by its EXIF orientation.  Errors name the file and the
 * fault: the intake codes, and FS_ENOENT, FS_EACCESS, FS_ENOTFILE,
 * FS_ETOOBIG (file size), FS_EDECODE. */
int  fs_image_load(const char *path, fs_image *img, fs_detail *d);
/* The same for an image already in memory (name only labels messages);
 * buf may be changed (its orientation tag is neutralised). */
int  fs_image_decode(uint8_t *buf, size_t len, const char *name,
                     fs_image *img, fs_detail *d);
void fs_image_release(fs_image *img);

/* The image as PNG bytes, in a buffer the caller frees: what a page
 * embeds, whatever the file was.  FS_ENOMEM, FS_EIO. */
int  fs_image_encode_png(const fs_image *img, uint8_t **png, size_t *len,
                         fs_detail *d);
/* A copy of img whose longer side is at most max_side pixels (shrunk
 * with area averaging, proportions kept; copied as it is when already
 * small enough): *out is the caller's to release, *scale (may be NULL)
 * the factor applied, so coordinates found on img can follow.  A page
 * need not carry a 4000-pixel probe whole. */
int  fs_image_scale(const fs_image *img, int max_side, fs_image *out,
                    double *scale, fs_detail *d);
/* A copy of the region of img around box (x, y, width, height), widened
 * by margin times the box's size on every side and clipped to the image:
 * one face of a group photo as an image of its own, with the context the
 * detector needs to find it again.  FS_EINVAL when the box lies outside
 * the image. */
int  fs_image_crop(const fs_image *img, const double box[4], double margin,
                   fs_image *out, fs_detail *d);

/* ---- faces ------------------------------------------------------------ */

#define FS_LANDMARKS_PATH "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
#define FS_CASCADE_PATH \
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define FS_MAX_FACES      64

/* Which pass found a face. */
enum { FS_FOUND_HOG, FS_FOUND_HOG_X2, FS_FOUND_CASCADE };

/* Quality thresholds (G13); a profile may change them. */
typedef struct fs_quality_limits {
    double min_face_width;      /* pixels, the detector's box */
    double min_eye_distance;    /* pixels between eye centres */
    double max_roll, max_yaw;   /* degrees */
    double min_sharpness;       /* variance of the Laplacian, grey levels^2 */
    double min_brightness, max_brightness;  /* mean grey level */
    double min_contrast;        /* standard deviation of grey */
} fs_quality_limits;

typedef struct fs_quality {
    double face_width, eye_distance;        /* pixels */
    double roll, yaw;                       /* degrees, estimated */
    double sharpness, brightness, contrast;
    int    ok;                              /* the verdict */
    char   reasons[256];                    /* why not, "; "-separated */
} fs_quality;

typedef struct fs_face {
    double     box[4];          /* x, y, width, height */
    double     score;           /* HOG confidence; 0 for the cascade */
    int        found_by;        /* FS_FOUND_* */
    float      landmarks[136];  /* 68 points: x0, y0, x1, y1, ... */
    fs_quality quality;
} fs_face;

typedef struct fs_detector fs_detector;

/* How to look for faces: ours, or dlib's HOG with one upsampling on every
 * image, as the face_recognition library calls it by default (the peer
 * `bench detect` measures against). */
enum { FS_DETECT_DEFAULT, FS_DETECT_UPSAMPLE_ALWAYS };

/* dlib's shape predictor file `from` as our own (FS_LANDMARKS_FILE),
 * written whole or not at all. */
int  fs_landmarks_convert(const char *from, const char *to, fs_detail *d);

/* Loads the 68-point shape predictor (FS_LANDMARKS_PATH when path is
 * NULL; dlib's file or our copy) and the fallback cascade
 * (FS_CASCADE_PATH).  A detector serves one thread at a time. */
int  fs_detector_open(const char *landmarks_path, fs_detector **out,
                      fs_detail *d);
void fs_detector_close(fs_detector *det);
/* A detector for another thread: it shares src's landmark model (95 MB,
 * read-only, what makes opening slow) and has its own HOG and cascade
 * state.  Close them in any order. */
int  fs_detector_clone(const fs_detector *src, fs_detector **out,
                       fs_detail *d);
void fs_quality_defaults(fs_quality_limits *q);

/* All faces in img, strongest first, with landmarks and quality judged
 * against q (defaults when NULL).  Faces of about 40 px and up are
 * found: dlib's HOG scans the image as it is (grey levels), then
 * doubled where that found nothing, then OpenCV's cascade where HOG
 * found nothing at all.  A photo with a side over 2000 px is first
 * scanned at a working resolution where a 200 px face fills dlib's
 * 80 px window (a 12 MP photo at 1600x1200); only when that finds
 * nothing is it scanned whole.  Boxes, landmarks and chips are always
 * the full image's.  The HOG scan of this one image is shared by
 * pool's threads (NULL: the calling thread alone; never the pool the
 * caller is itself a thread of); the faces are the same either way. */
int  fs_detect_faces(fs_detector *det, fs_pool *pool, const fs_image *img,
                     const fs_quality_limits *q, fs_face *faces, int max,
                     int *n, fs_detail *d);
void fs_detector_set_mode(fs_detector *det, int mode);

/* The face used when none is named: the one nearest the image centre.
 * In group photos the largest is often the wrong one: `facesearch eval
 * --face centre|largest` on lfw-dev (501 enrolled, 1983 mated probes)
 * gives rank-1 0.952 for this rule against 0.944 for the largest face,
 * and rank-20 0.9950 against 0.9899.  -1 when n == 0. */
int  fs_default_face(const fs_face *faces, int n, int width, int height);

/* The gallery rule: a mugshot holds exactly one dominant face, the
 * largest, at least FS_DOMINANT_WIDTH_RATIO times as wide as any other.
 * Its index, or -1 when there is no face or none dominates. */
#define FS_DOMINANT_WIDTH_RATIO 2.0
int  fs_dominant_face(const fs_face *faces, int n);

/* Writes img as a PNG with every face drawn: its box (green when fit for
 * search, red when not; thicker for `chosen`) and its landmarks. */
int  fs_annotate(const fs_image *img, const fs_face *faces, int n,
                 int chosen, const char *png_path, fs_detail *d);
/* The same drawing on img's own pixels, the faces' coordinates first
 * multiplied by scale (faces found on an image since scaled by it). */
void fs_draw_faces(fs_image *img, const fs_face *faces, int n, int chosen,
                   double scale);
/* Only the 68 points (x0, y0, ...), multiplied by scale, as dots. */
void fs_draw_landmarks(fs_image *img, const float points[136], double scale);

/* The aligned 150x150 chip of a face, made as dlib makes it. */
int  fs_face_chip(const fs_image *img, const fs_face *f, uint8_t *chip,
                  fs_detail *d);
/* The face's 68 landmarks where its chip shows them (chip pixels), so
 * an examiner can see how the chip was aligned. */
int  fs_face_chip_landmarks(const fs_face *f, float points[136],
                            fs_detail *d);

/* The 224x224 chip of the second network (embed/fs_faceres.h): the
 * five points of fs_face_points5 mapped by a least-squares similarity
 * onto ArcFace's template (eyes, nose tip, mouth corners) scaled from 112
 * to 224; bilinear, black outside the image.  (Widened 1.25 times about
 * the centre, for more of the head as VGGFace2's crops hold, lfw-dev's
 * fused rank-1 rose 0.9637 -> 0.9697 but FNIR at FPIR 0.01 and 0.003
 * rose too, 0.176 -> 0.195 and 0.230 -> 0.264: the plain template won.)
 * chip receives 224*224*3 bytes, R,G,B. */
#define FS_CHIP224_SIZE 224
int  fs_face_chip224(const fs_image *img, const fs_face *f, uint8_t *chip,
                     fs_detail *d);
/* The eye centres (means of points 36-41 and 42-47), the nose tip (30)
 * and the mouth corners (48, 54) of 68 landmarks, in image order. */
void fs_face_points5(const float landmarks[136], double pts[5][2]);

/* Loads an already aligned face chip: exactly 150x150, 8-bit, 3-channel
 * RGB, else FS_ESHAPE naming what the file holds.  chip receives
 * 150*150*3 bytes. */
int  fs_chip_load(const char *path, uint8_t *chip, fs_detail *d);

#endif /* FS_DETECT_H */
