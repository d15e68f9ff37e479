/*
 * fs_image.c - reading image files for detect/ (see fs_detect.h), and
 * handing decoded ones on: scaled down, or encoded as PNG in memory.
 */
#include "fs_detect.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../engine/base/fs_file.h"
#include "../engine/base/fs_types.h"
#include "fs_vision.h"

/* Refuses devices and streams by what the path is, before opening it:
 * opening a camera or a FIFO could block or start a capture. */
static int check_node(const char *path, fs_detail *d)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return FS_OK;                 /* fs_read_file names the error */
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        return fs_fail(d, FS_DENIED, "G8: '%s' is a device; facial "
                       "recognition runs on one still image file only", path);
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return fs_fail(d, FS_DENIED, "G8: '%s' is a stream (pipe or "
                       "socket); facial recognition runs on one still "
                       "image file only", path);
    return FS_OK;
}

/* Turns a decoded image upright: EXIF orientations 2-8 are mirror
 * and quarter-turn combinations of the stored pixels. */
static int orient(fs_image *img, int o)
{
    if (o <= 1 || o > 8)
        return FS_OK;
    int w = img->width, h = img->height, swap = o >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *out = malloc((size_t)ow * oh * 3);
    if (!out)
        return FS_ENOMEM;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            int sx, sy;
            switch (o) {
            case 2:  sx = w - 1 - ox; sy = oy;          break;
            case 3:  sx = w - 1 - ox; sy = h - 1 - oy;  break;
            case 4:  sx = ox;         sy = h - 1 - oy;  break;
            case 5:  sx = oy;         sy = ox;          break;
            case 6:  sx = oy;         sy = h - 1 - ox;  break;
            case 7:  sx = w - 1 - oy; sy = h - 1 - ox;  break;
            default: sx = w - 1 - oy; sy = ox;          break;   /* 8 */
            }
            memcpy(out + 3 * ((size_t)oy * ow + ox),
                   img->rgb + 3 * ((size_t)sy * w + sx), 3);
        }
    free(img->rgb);
    img->rgb = out;
    img->width = ow;
    img->height = oh;
    return FS_OK;
}

int fs_image_decode(uint8_t *buf, size_t len, const char *name,
                    fs_image *img, fs_detail *d)
{
    fs_image out = { 0, 0, 0, 0, { FS_IMG_UNKNOWN, 0, 0, 1, 0, 0, 0 }, NULL };
    int rc = fs_intake_identify(buf, len, name, &out.still, d);
    if (rc != FS_OK)
        return rc;                    /* intake said why */
    if (out.still.orientation_at) {
        /* decoders differ on whether they apply it: none sees it */
        uint8_t *v = buf + out.still.orientation_at;
        v[0] = out.still.orientation_be ? 0 : 1;
        v[1] = out.still.orientation_be ? 1 : 0;
    }
    if (out.still.png_iccp_at)
        fs_intake_png_mute(buf, len, out.still.png_iccp_at);
    const fs_vision *v;
    if ((rc = fs_vision_get(&v, d)) != FS_OK)
        return rc;
    out.width = out.still.width;      /* the header's size, a hint */
    out.height = out.still.height;
    rc = v->cv_decode(buf, len, &out.width, &out.height, &out.channels,
                      &out.depth_bits, &out.rgb);
    if (rc == FS_ENOMEM)
        return fs_fail(d, rc, "no memory to decode '%s'", name);
    if (rc != FS_OK)
        return fs_fail(d, FS_EDECODE, "'%s' could not be decoded (corrupt "
                       "image data)", name);
    if (out.width != out.still.width || out.height != out.still.height) {
        fs_image_release(&out);
        return fs_fail(d, FS_EDECODE, "'%s' decodes to %dx%d pixels but "
                       "its header says %dx%d: corrupt", name, out.width,
                       out.height, out.still.width, out.still.height);
    }
    if ((rc = orient(&out, out.still.orientation)) != FS_OK) {
        fs_image_release(&out);
        return fs_fail(d, rc, "no memory to turn '%s' upright", name);
    }
    *img = out;
    return FS_OK;
}

int fs_image_load(const char *path, fs_image *img, fs_detail *d)
{
    int rc = fs_intake_check_arg(path, d);
    if (rc == FS_OK)
        rc = check_node(path, d);
    if (rc != FS_OK)
        return rc;
    uint8_t *buf = NULL;
    size_t len = 0;
    rc = fs_read_file(path, FS_IMAGE_MAX_BYTES, &buf, &len, d);
    if (rc != FS_OK)
        return rc;
    rc = fs_image_decode(buf, len, path, img, d);
    free(buf);
    return rc;
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
    fs_image img = { 0, 0, 0, 0, { FS_IMG_UNKNOWN, 0, 0, 1, 0, 0, 0 }, NULL };
    int rc = fs_image_load(path, &img, d);
    if (rc != FS_OK)
        return rc;
    if (img.width != FS_CHIP_SIZE || img.height != FS_CHIP_SIZE ||
        img.channels != 3 || img.depth_bits != 8) {
        rc = fs_fail(d, FS_ESHAPE, "'%s' is %dx%d with %d channel%s of %d "
                     "bits; a chip must be 150x150 8-bit RGB", path,
                     img.width, img.height, img.channels,
                     img.channels == 1 ? "" : "s", img.depth_bits);
        fs_image_release(&img);
        return rc;
    }
    memcpy(chip, img.rgb, (size_t)FS_CHIP_SIZE * FS_CHIP_SIZE * 3);
    fs_image_release(&img);
    return FS_OK;
}

int fs_image_encode_png(const fs_image *img, uint8_t **png, size_t *len,
                        fs_detail *d)
{
    const fs_vision *v;
    int rc = fs_vision_get(&v, d);
    if (rc != FS_OK)
        return rc;
    rc = v->cv_encode_png(img->rgb, img->width, img->height, png, len);
    return rc == FS_OK ? FS_OK : fs_fail(d, rc, "cannot encode a %dx%d "
                                         "image as PNG: %s", img->width,
                                         img->height, fs_strerror(rc));
}

int fs_image_scale(const fs_image *img, int max_side, fs_image *out,
                   double *scale, fs_detail *d)
{
    int w = img->width, h = img->height, side = w > h ? w : h;
    double s = max_side > 0 && side > max_side ? (double)max_side / side
                                               : 1.0;
    fs_image o = *img;
    o.width = s < 1.0 ? (int)(w * s + 0.5) : w;
    o.height = s < 1.0 ? (int)(h * s + 0.5) : h;
    o.width += o.width == 0;
    o.height += o.height == 0;
    int rc = FS_OK;
    if (s < 1.0) {
        const fs_vision *v;
        if ((rc = fs_vision_get(&v, d)) != FS_OK)
            return rc;
        rc = v->cv_resize(img->rgb, w, h, o.width, o.height, &o.rgb);
    } else {
        size_t bytes = (size_t)w * h * 3;
        o.rgb = malloc(bytes ? bytes : 1);
        if (o.rgb)
            memcpy(o.rgb, img->rgb, bytes);
        else
            rc = FS_ENOMEM;
    }
    if (rc != FS_OK)
        return fs_fail(d, rc, "no memory to scale a %dx%d image", w, h);
    *out = o;
    if (scale)
        *scale = s;
    return FS_OK;
}

int fs_image_crop(const fs_image *img, const double box[4], double margin,
                  fs_image *out, fs_detail *d)
{
    double mx = box[2] * margin, my = box[3] * margin;
    double x0 = box[0] - mx, y0 = box[1] - my;
    double x1 = box[0] + box[2] + mx, y1 = box[1] + box[3] + my;
    int l = x0 < 0 ? 0 : (int)x0, t = y0 < 0 ? 0 : (int)y0;
    int r = x1 > img->width ? img->width : (int)x1;
    int b = y1 > img->height ? img->height : (int)y1;
    if (!(box[2] > 0 && box[3] > 0) || r <= l || b <= t)
        return fs_fail(d, FS_EINVAL, "the face's box lies outside the "
                       "%dx%d image", img->width, img->height);
    fs_image o = *img;
    o.width = r - l;
    o.height = b - t;
    size_t row = (size_t)o.width * 3;
    o.rgb = malloc(row * (size_t)o.height);
    if (!o.rgb)
        return fs_fail(d, FS_ENOMEM, "no memory to crop a %dx%d region",
                       o.width, o.height);
    for (int y = 0; y < o.height; y++)
        memcpy(o.rgb + row * (size_t)y,
               img->rgb + ((size_t)(t + y) * (size_t)img->width +
                           (size_t)l) * 3, row);
    *out = o;
    return FS_OK;
}
