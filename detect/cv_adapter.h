/*
 * cv_adapter.h - the C face of detect/'s OpenCV code.  Private to detect/.
 * No C++ type crosses this header; every function catches all C++
 * exceptions and turns them into FS_E* codes.
 */
#ifndef FS_CV_ADAPTER_H
#define FS_CV_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes an encoded image held in memory.  *width and *height: on entry
 * the size its header gives (0 when unknown: a hint, never trusted), on
 * success the size decoded.  On success *rgb is a malloc'd
 * width*height*3 buffer of 8-bit R,G,B; *channels and *depth_bits tell
 * what the file itself held (1, 3 or 4 channels; 8 or 16 bits).
 * FS_EDECODE when OpenCV cannot decode it, FS_ENOMEM. */
int fs_cv_decode(const uint8_t *data, size_t len, int *width, int *height,
                 int *channels, int *depth_bits, uint8_t **rgb);

/* OpenCV's cascade face detector, the fallback where dlib's HOG finds
 * nothing.  One thread at a time per cascade. */
typedef struct fs_cascade fs_cascade;
int  fs_cascade_open(const char *xml_path, fs_cascade **out);
void fs_cascade_close(fs_cascade *c);
/* Boxes (x, y, width, height) of faces at least min_side pixels wide,
 * most confirmed first; *n is how many (at most max). */
int  fs_cascade_detect(fs_cascade *c, const uint8_t *rgb, int width,
                       int height, int min_side, double (*boxes)[4],
                       int max, int *n);

/* Writes width*height 8-bit R,G,B pixels as a PNG file.  FS_EIO. */
int fs_cv_write_png(const char *path, const uint8_t *rgb, int width,
                    int height);
/* The same pixels as PNG bytes in memory: *png malloc'd, *len bytes.
 * FS_ENOMEM, FS_EIO. */
int fs_cv_encode_png(const uint8_t *rgb, int width, int height,
                     uint8_t **png, size_t *len);
/* The pixels resampled to out_w x out_h (area averaging, which does not
 * alias when shrinking) into a malloc'd buffer.  FS_ENOMEM. */
int fs_cv_resize(const uint8_t *rgb, int width, int height, int out_w,
                 int out_h, uint8_t **out);

#ifdef __cplusplus
}
#endif

#endif /* FS_CV_ADAPTER_H */
