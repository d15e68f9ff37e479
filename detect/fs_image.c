/*
 * fs_image.c - reading image files for detect/ (see fs_detect.h).
 */
#include "fs_detect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cv_adapter.h"

#define CHIP_SIDE 150

static int read_file(const char *path, uint8_t **buf, size_t *len,
                     fs_detail *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fs_fail(d, fs_errno_code(errno), "cannot open '%s': %s",
                       path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return fs_fail(d, FS_EIO, "cannot stat '%s': %s", path,
                       strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fs_fail(d, FS_ENOTFILE, "'%s' is not a regular file", path);
    }
    if ((size_t)st.st_size > FS_IMAGE_MAX_BYTES) {
        close(fd);
        return fs_fail(d, FS_ETOOBIG, "'%s' is %lld bytes, over the limit "
                       "of %zu", path, (long long)st.st_size,
                       FS_IMAGE_MAX_BYTES);
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        close(fd);
        return fs_fail(d, FS_ENOMEM, "no memory to read '%s'", path);
    }
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(p);
        return fs_fail(d, FS_EIO, "cannot read '%s'", path);
    }
    *buf = p;
    *len = n;
    return FS_OK;
}

int fs_image_load(const char *path, fs_image *img, fs_detail *d)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len, d);
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
    fs_image img;
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
