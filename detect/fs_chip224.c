/*
 * fs_chip224.c - the 224x224 chip of the second network (faceres,
 * embed/fs_faceres.h): five points of the 68 landmarks (the eye centres,
 * the nose tip, the mouth corners) carried by the least-squares
 * similarity onto ArcFace's five-point template, scaled from 112 to 224
 * pixels, then the image sampled bilinearly (black outside it).
 *
 * Plain C, no dlib: the chip is ours to define, and five points hold the
 * alignment well where the 68 disagree (profiles, expressions).
 */
#include "fs_detect.h"

#include <math.h>
#include <string.h>

/* ArcFace's reference points on its 112x112 chip (insightface,
 * face_align.py): eyes, nose tip, mouth corners, as the image shows
 * them (the subject's right eye on the left). */
static const double ref112[5][2] = {
    { 38.2946, 51.6963 }, { 73.5318, 51.5014 }, { 56.0252, 71.7366 },
    { 41.5493, 92.3655 }, { 70.7299, 92.2041 },
};

void fs_face_points5(const float lm[136], double pts[5][2])
{
    static const int eye[2][2] = { { 36, 42 }, { 42, 48 } };
    for (int e = 0; e < 2; e++) {
        pts[e][0] = pts[e][1] = 0.0;
        for (int i = eye[e][0]; i < eye[e][1]; i++) {
            pts[e][0] += lm[2 * i] / 6.0;
            pts[e][1] += lm[2 * i + 1] / 6.0;
        }
    }
    static const int one[3] = { 30, 48, 54 };
    for (int k = 0; k < 3; k++) {
        pts[2 + k][0] = lm[2 * one[k]];
        pts[2 + k][1] = lm[2 * one[k] + 1];
    }
}

/* Least squares u = a x - b y + tx, v = b x + a y + ty from `from` to
 * `to` (a similarity: rotation, scale, shift; no reflection). */
static void similarity(const double from[5][2], const double to[5][2],
                       double m[6])
{
    double mx = 0, my = 0, mu = 0, mv = 0;
    for (int i = 0; i < 5; i++) {
        mx += from[i][0] / 5;
        my += from[i][1] / 5;
        mu += to[i][0] / 5;
        mv += to[i][1] / 5;
    }
    double sxx = 0, sa = 0, sb = 0;
    for (int i = 0; i < 5; i++) {
        double x = from[i][0] - mx, y = from[i][1] - my;
        double u = to[i][0] - mu, v = to[i][1] - mv;
        sxx += x * x + y * y;
        sa += x * u + y * v;
        sb += x * v - y * u;
    }
    double a = sxx > 0 ? sa / sxx : 1.0, b = sxx > 0 ? sb / sxx : 0.0;
    m[0] = a;
    m[1] = -b;
    m[2] = mu - a * mx + b * my;
    m[3] = b;
    m[4] = a;
    m[5] = mv - b * mx - a * my;
}

int fs_face_chip224(const fs_image *img, const fs_face *f, uint8_t *chip,
                    fs_detail *d)
{
    if (!img || !img->rgb || img->width < 1 || img->height < 1 || !f)
        return fs_fail(d, FS_EINVAL, "no image or face for the 224 chip");
    double pts[5][2], tmpl[5][2], m[6];
    fs_face_points5(f->landmarks, pts);
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 2; k++)
            tmpl[i][k] = ref112[i][k] * (FS_CHIP224_SIZE / 112.0);
    similarity(tmpl, pts, m);           /* chip pixel -> image point */
    if (!isfinite(m[0]) || !isfinite(m[3]) || m[0] * m[0] + m[3] * m[3] <= 0)
        return fs_fail(d, FS_EINVAL, "the face's landmarks do not place "
                       "a chip");
    const int w = img->width, h = img->height;
    for (int y = 0; y < FS_CHIP224_SIZE; y++)
        for (int x = 0; x < FS_CHIP224_SIZE; x++) {
            double u = m[0] * x + m[1] * y + m[2];
            double v = m[3] * x + m[4] * y + m[5];
            uint8_t *out = chip + 3 * ((size_t)y * FS_CHIP224_SIZE + x);
            double fx = floor(u), fy = floor(v);
            int x0 = (int)fx, y0 = (int)fy;
            if (!(u > -1.0 && v > -1.0 && u < w && v < h)) {
                out[0] = out[1] = out[2] = 0;
                continue;
            }
            double ax = u - fx, ay = v - fy;
            double wt[4] = { (1 - ax) * (1 - ay), ax * (1 - ay),
                             (1 - ax) * ay, ax * ay };
            int xs[4] = { x0, x0 + 1, x0, x0 + 1 };
            int ys[4] = { y0, y0, y0 + 1, y0 + 1 };
            double acc[3] = { 0, 0, 0 };
            for (int k = 0; k < 4; k++) {
                if (xs[k] < 0 || ys[k] < 0 || xs[k] >= w || ys[k] >= h)
                    continue;           /* black outside the image */
                const uint8_t *p = img->rgb + 3 * ((size_t)ys[k] * w + xs[k]);
                for (int ch = 0; ch < 3; ch++)
                    acc[ch] += wt[k] * p[ch];
            }
            for (int ch = 0; ch < 3; ch++)
                out[ch] = (uint8_t)(acc[ch] + 0.5 > 255 ? 255 : acc[ch] + 0.5);
        }
    return FS_OK;
}
