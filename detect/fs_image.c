/*
 * fs_image.c - reading image files for detect/ (see fs_detect.h).
 */
#include "fs_detect.h"

#include <stdlib.h>
#include <string.h>

#include "../engine/fs_file.h"
#include "cv_adapter.h"

#define CHIP_SIDE 150

int fs_image_load(const char *path, fs_image *img, fs_detail *d)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, FS_IMAGE_MAX_BYTES, &buf, &len, d);
    if (rc != FS_OK)
        return rc;
    if (len == 0) {
        free(buf);
        return fs_fail(d, FS_EDECODE, "'%s' is empty", path);
    }
    fs_image out = { 0, 0, 0, 0, NULL };
    rc = fs_cv_decode(buf, len, &out.width, &out.height, &out.channels,
                      &out.depth_bits, &out.rgb);
    free(buf);
    if (rc == FS_ENOMEM)
        return fs_fail(d, rc, "no memory to decode '%s'", path);
    if (rc != FS_OK)
        return fs_fail(d, FS_EDECODE, "'%s' is not a decodable image "
                       "(corrupt, truncated or of an unknown type)", path);
    *img = out;
    return FS_OK;
}

void fs_image_release(fs_image *img)
{
    if (img) {
        free(img->rgb);
        img->rgb = NULL;
    }
}

int fs_chip_load(const char *path, uint8_t *chip, fs_detail *d)
{
    fs_image img = { 0, 0, 0, 0, NULL };
    int rc = fs_image_load(path, &img, d);
    if (rc != FS_OK)
        return rc;
    if (img.width != CHIP_SIDE || img.height != CHIP_SIDE ||
        img.channels != 3 || img.depth_bits != 8) {
        rc = fs_fail(d, FS_ESHAPE, "'%s' is %dx%d with %d channel%s of %d "
                     "bits; a chip must be 150x150 8-bit RGB", path,
                     img.width, img.height, img.channels,
                     img.channels == 1 ? "" : "s", img.depth_bits);
        fs_image_release(&img);
        return rc;
    }
    memcpy(chip, img.rgb, (size_t)CHIP_SIDE * CHIP_SIDE * 3);
    fs_image_release(&img);
    return FS_OK;
}
