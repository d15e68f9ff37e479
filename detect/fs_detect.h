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

typedef struct fs_image {
    int      width, height;
    int      channels;      /* what the file held: 1, 3 or 4 */
    int      depth_bits;    /* what the file held: 8 or 16 */
    uint8_t *rgb;           /* width*height*3, R,G,B */
} fs_image;

/* Reads and decodes the image at path.  Errors name the file and the
 * fault: FS_ENOENT, FS_EIO (unreadable, a directory), FS_ETOOBIG,
 * FS_EDECODE (empty, truncated, not an image). */
int  fs_image_load(const char *path, fs_image *img, fs_detail *d);
void fs_image_release(fs_image *img);

/* Loads an already aligned face chip: exactly 150x150, 8-bit, 3-channel
 * RGB, else FS_ESHAPE naming what the file holds.  chip receives
 * 150*150*3 bytes. */
int  fs_chip_load(const char *path, uint8_t *chip, fs_detail *d);

#endif /* FS_DETECT_H */
