/*
 * fs_detect.h - the detect module: bytes in, still images and aligned
 * 150x150 face chips out.
 *
 * This first part is the intake of decoded images: a file is read whole
 * (bounded by FS_IMAGE_MAX_BYTES), decoded through OpenCV and handed on as
 * 8-bit RGB.  Nothing here trusts a file name.
 *
 * Thread-safe: no shared state.
 */
#ifndef FS_DETECT_H
#define FS_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/fs_error.h"

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
} fs_still;

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
void fs_image_release(fs_image *img);

/* Loads an already aligned face chip: exactly 150x150, 8-bit, 3-channel
 * RGB, else FS_ESHAPE naming what the file holds.  chip receives
 * 150*150*3 bytes. */
int  fs_chip_load(const char *path, uint8_t *chip, fs_detail *d);

#endif /* FS_DETECT_H */
