// dlib_adapter.cpp - dlib's HOG detector, shape predictor and face-chip
// extraction behind dlib_adapter.h.  Thin on purpose: the choices (which
// upsampling, which face, what quality) are made in C, in fs_detect.c.
// Part of the vision module (fs_vision.h): the landmark file's SHA-256 is
// the program's own (fs_vision_host_services), so that both sides agree.
extern "C" {
#include "dlib_adapter.h"
#include "../engine/base/fs_error.h"
#include "../engine/base/fs_types.h"
#include "../engine/base/fs_crypt.h"
#include "fs_vision.h"
/* dlib's frontal face detector, serialized (dlib_frontal_dump.cpp) */
extern const size_t fs_dlib_frontal_size;
extern const unsigned char fs_dlib_frontal[];
}
#include "adapter_guard.hpp"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstddef>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wdeprecated-copy"
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <dlib/serialize.h>
#pragma GCC diagnostic pop

namespace {

/* Our R,G,B buffer as a read-only dlib image (dlib's generic image
 * interface), as dlib's own cv_image wraps OpenCV's pixels: rgb_pixel is
 * those three bytes in that order, so detection, landmarks and chip read
 * the decoded image in place.  Each used to copy it into a dlib matrix
 * first: 0.1 ms a copy for a 250x250 photo, 6.5 ms at 1920x1920, about
 * 1% of an image's time through detection and chip (1-2% for large
 * photos), and two transient copies of every image. */
struct rgb_view {
    const dlib::rgb_pixel *px;
    long nr, nc;
};
static_assert(sizeof(dlib::rgb_pixel) == 3 &&
              offsetof(dlib::rgb_pixel, red) == 0 &&
              offsetof(dlib::rgb_pixel, blue) == 2,
              "dlib's rgb_pixel is not R,G,B bytes");

rgb_view view(const uint8_t *rgb, int width, int height)
{
    return { reinterpret_cast<const dlib::rgb_pixel *>(rgb), height, width };
}

long num_rows(const rgb_view &v) { return v.nr; }
long num_columns(const rgb_view &v) { return v.nc; }
long width_step(const rgb_view &v) { return v.nc * 3; }
const void *image_data(const rgb_view &v) { return v.px; }

} // namespace

namespace dlib {
template <> struct image_traits<rgb_view> {
    typedef rgb_pixel pixel_type;
};
} // namespace dlib

typedef dlib::scan_fhog_pyramid<dlib::pyramid_down<6>> hog_scanner;
typedef hog_scanner::fhog_filterbank hog_filters;
typedef std::vector<std::pair<double, dlib::rectangle>> hog_hits;

/* dlib's frontal face detector and what its object_detector computes
 * from it for every image, computed once: each of the 5 filters as a
 * filter bank with its threshold, and the feature window's padded size
 * (scan_fhog_pyramid's private compute_fhog_window_size). */
struct fs_hog {
    dlib::frontal_face_detector det;
    std::vector<hog_filters>    fb;
    std::vector<double>         thresh;
    unsigned long               win_w = 0, win_h = 0;
};

/*
 * One detection taken apart (dlib_adapter.h): the steps of
 * object_detector::operator() and scan_fhog_pyramid's load and detect,
 * in dlib's own functions, with the loops that do not depend on each
 * other (features per level; filter per level) handed out as tasks.
 * Each task writes only its own slot, and the slots are read back in
 * dlib's order, so the boxes do not depend on who ran what.
 */
struct fs_hog_run {
    const fs_hog *hog = nullptr;
    double scale = 1.0;
    unsigned long levels = 0;
    dlib::array<dlib::array<dlib::array2d<float>>> feats;
    std::vector<hog_hits> hits;               /* [filter * levels + level] */
    std::atomic<unsigned long> next_feat{0}, next_filter{0};
    std::atomic<int> rc{FS_OK};

    virtual ~fs_hog_run() {}
    virtual void features(unsigned long level) = 0;

    void fail(int code)
    {
        int ok = FS_OK;
        rc.compare_exchange_strong(ok, code);
    }
};

namespace {

/* The pyramid's images of one pass, level 0 the image itself; dlib makes
 * them one from the other (pyramid_down<6>), as here, but drops each
 * once its features are out: they are kept so that any thread can take
 * any level. */
template <typename image_type>
struct hog_run_of final : fs_hog_run {
    typedef typename dlib::image_traits<image_type>::pixel_type pixel;
    image_type                        base;
    std::vector<dlib::array2d<pixel>> down;

    void features(unsigned long l) override
    {
        const hog_scanner &sc = hog->det.get_scanner();
        const auto &fe = sc.get_feature_extractor();
        if (l == 0)
            fe(base, feats[0], sc.get_cell_size(), hog->win_h, hog->win_w);
        else
            fe(down[l - 1], feats[l], sc.get_cell_size(), hog->win_h,
               hog->win_w);
    }

    /* as create_fhog_pyramid counts and makes them, at most `keep` of
     * them when keep > 0 */
    void make_pyramid(unsigned long keep)
    {
        const hog_scanner &sc = hog->det.get_scanner();
        const dlib::pyramid_down<6> pyr;
        dlib::rectangle rect = dlib::get_rect(base);
        levels = 0;
        do {
            rect = pyr.rect_down(rect);
            ++levels;
        } while (rect.width() >= sc.get_min_pyramid_layer_width() &&
                 rect.height() >= sc.get_min_pyramid_layer_height() &&
                 levels < sc.get_max_pyramid_levels());
        if (keep > 0 && levels > keep)
            levels = keep;
        down.resize(levels - 1);
        for (unsigned long l = 1; l < levels; l++) {
            if (l == 1)
                pyr(base, down[0]);
            else
                pyr(down[l - 2], down[l - 1]);
        }
        feats.set_max_size(levels);
        feats.set_size(levels);
        hits.resize(hog->fb.size() * levels);
    }
};

} // namespace

extern "C" int fs_hog_create(fs_hog **out)
{
    return fs_guarded([&] {
        /* dlib's own detector in dlib's plain serialized form (compiled
         * in by dlib_frontal_dump.cpp: get_frontal_face_detector()
         * decodes it from a compressed string, a third of a second of
         * CPU), read once per process, then copied (C++11 makes the
         * first use thread-safe) */
        static const dlib::frontal_face_detector decoded = [] {
            std::istringstream in(std::string(
                reinterpret_cast<const char *>(fs_dlib_frontal),
                fs_dlib_frontal_size));
            dlib::frontal_face_detector d;
            dlib::deserialize(d, in);
            return d;
        }();
        std::unique_ptr<fs_hog> h(new fs_hog);
        h->det = decoded;
        const hog_scanner &sc = h->det.get_scanner();
        for (unsigned long i = 0; i < h->det.num_detectors(); i++) {
            /* as processed_weight_vector::init and operator() take them */
            h->fb.push_back(sc.build_fhog_filterbank(h->det.get_w(i)));
            h->thresh.push_back(h->det.get_w(i)(sc.get_num_dimensions()));
        }
        const dlib::rectangle win = dlib::grow_rect(
            sc.get_feature_extractor().image_to_feats(
                dlib::centered_rect(dlib::point(0, 0),
                                    sc.get_detection_window_width(),
                                    sc.get_detection_window_height()),
                sc.get_cell_size(), 1, 1),
            sc.get_padding());
        h->win_w = win.width();
        h->win_h = win.height();
        *out = h.release();
        return FS_OK;
    });
}

extern "C" void fs_hog_free(fs_hog *hog)
{
    delete hog;
}

/* img's grey levels (dlib's own conversion of each pixel) shrunk to
 * out_w x out_h by area averaging: each output pixel the mean of the
 * source area it covers, edge pixels weighted by the part inside it.
 * Rows are read once in order, so the 36 MB of a 12 MP photo stream
 * through once. */
static void grey_shrunk(const rgb_view &img, long out_w, long out_h,
                        dlib::array2d<unsigned char> &out)
{
    const long W = img.nc, H = img.nr;
    const double rx = (double)W / out_w, ry = (double)H / out_h;
    out.set_size(out_h, out_w);
    /* per output column: its first source column and the weights of the
     * columns it covers */
    const long span = (long)rx + 2;
    std::vector<long> first(out_w);
    std::vector<float> wx((size_t)out_w * span, 0.0f);
    for (long x = 0; x < out_w; x++) {
        const double a = x * rx, b = (x + 1) * rx;
        first[x] = (long)a;
        for (long i = first[x]; i < W && i < b; i++)
            wx[(size_t)x * span + (i - first[x])] =
                (float)(std::min(b, (double)i + 1) - std::max(a, (double)i));
    }
    std::vector<float> acc(W);
    const float norm = (float)(1.0 / (rx * ry));
    for (long y = 0; y < out_h; y++) {
        const double a = y * ry, b = (y + 1) * ry;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (long j = (long)a; j < H && j < b; j++) {
            const float w = (float)(std::min(b, (double)j + 1) -
                                    std::max(a, (double)j));
            const dlib::rgb_pixel *row = img.px + j * W;
            for (long i = 0; i < W; i++) {
                unsigned char g;
                dlib::assign_pixel(g, row[i]);
                acc[i] += w * g;
            }
        }
        unsigned char *o = &out[y][0];
        for (long x = 0; x < out_w; x++) {
            const float *wr = &wx[(size_t)x * span];
            const float *src = &acc[first[x]];
            const long n = std::min(span, W - first[x]);
            float v = 0;
            for (long k = 0; k < n; k++)
                v += wr[k] * src[k];
            v = v * norm + 0.5f;
            o[x] = (unsigned char)(v > 255.0f ? 255.0f : v);
        }
    }
}

extern "C" int fs_hog_begin(const fs_hog *hog, const uint8_t *rgb, int width,
                            int height, double scale, int levels,
                            fs_hog_run **out)
{
    return fs_guarded([&] {
        const rgb_view img = view(rgb, width, height);
        if (scale <= 1.0) {
            /* The pass every image gets scans grey levels: a third of the
             * gradient work of RGB, where dlib takes the strongest channel.
             * Whole sets, 2 threads: lfw-dev 3.38x the peer's images/s
             * (RGB: 2.9x) finding 99.97% (RGB: 99.95%), faces94 100%;
             * eval rank-1 0.9516 against 0.9531, FNIR at FPIR 0.003 0.424
             * against 0.447.  The doubled pass stays RGB, as the peer's. */
            std::unique_ptr<hog_run_of<dlib::array2d<unsigned char>>> r(
                new hog_run_of<dlib::array2d<unsigned char>>);
            r->hog = hog;
            const long w = std::max(1L, std::lround(width * scale)),
                       h = std::max(1L, std::lround(height * scale));
            if (scale < 1.0 && w < width) {
                grey_shrunk(img, w, h, r->base);
                r->scale = (double)w / width;
            } else {
                dlib::assign_image(r->base, img);
            }
            r->make_pyramid(levels > 0 ? (unsigned long)levels : 0);
            *out = r.release();
            return FS_OK;
        }
        /* as dlib's Python, whose in-place pyramid_up is this one into a
         * new image */
        std::unique_ptr<hog_run_of<dlib::matrix<dlib::rgb_pixel>>> r(
            new hog_run_of<dlib::matrix<dlib::rgb_pixel>>);
        r->hog = hog;
        const dlib::pyramid_down<2> pyr;
        dlib::pyramid_up(img, r->base, pyr);
        r->scale = 2.0;
        while (r->scale * 2.0 <= scale) {
            dlib::pyramid_up(r->base, pyr);
            r->scale *= 2.0;
        }
        r->make_pyramid(levels > 0 ? (unsigned long)levels : 0);
        *out = r.release();
        return FS_OK;
    });
}

/* Tasks are taken in turn, largest first (each level is smaller than the
 * one before), by whichever thread is free: a thread slowed by another
 * process leaves its share to the others. */
extern "C" void fs_hog_features(fs_hog_run *run)
{
    int rc = fs_guarded([&] {
        unsigned long t;
        while ((t = run->next_feat++) < run->levels)
            run->features(t);
        return FS_OK;
    });
    if (rc != FS_OK)
        run->fail(rc);
}

/* as detect_from_fhog_pyramid does for one filter at one level */
static void filter_level(fs_hog_run *run, unsigned long f, unsigned long l)
{
    const fs_hog *hog = run->hog;
    const hog_scanner &sc = hog->det.get_scanner();
    const auto &fe = sc.get_feature_extractor();
    const long pad = (long)sc.get_padding(), cell = (long)sc.get_cell_size();
    const dlib::pyramid_down<6> pyr;
    dlib::array2d<float> saliency;
    const dlib::rectangle area = dlib::impl::apply_filters_to_fhog(
        hog->fb[f], run->feats[l], saliency);
    hog_hits &hits = run->hits[f * run->levels + l];
    for (long r = area.top(); r <= area.bottom(); ++r)
        for (long c = area.left(); c <= area.right(); ++c)
            if (saliency[r][c] >= hog->thresh[f]) {
                dlib::rectangle rect = fe.feats_to_image(
                    dlib::centered_rect(dlib::point(c, r),
                                        hog->win_w - 2 * pad,
                                        hog->win_h - 2 * pad),
                    cell, hog->win_h, hog->win_w);
                hits.push_back(std::make_pair(saliency[r][c],
                                              pyr.rect_up(rect, l)));
            }
}

extern "C" void fs_hog_filters(fs_hog_run *run)
{
    if (run->rc != FS_OK)
        return;
    const unsigned long nf = run->hog->fb.size(), tasks = nf * run->levels;
    int rc = fs_guarded([&] {
        unsigned long t;
        while ((t = run->next_filter++) < tasks)
            filter_level(run, t % nf, t / nf);
        return FS_OK;
    });
    if (rc != FS_OK)
        run->fail(rc);
}

extern "C" int fs_hog_end(fs_hog_run *run, fs_hog_box *boxes, int max,
                          int *n)
{
    std::unique_ptr<fs_hog_run> own(run);
    if (run->rc != FS_OK)
        return run->rc;
    return fs_guarded([&] {
        const fs_hog *hog = run->hog;
        const unsigned long nf = hog->fb.size();
        /* object_detector::operator(): each filter's hits over the levels
         * in order, sorted as its scan sorts them, then all of them, then
         * its non-maximum suppression */
        std::vector<dlib::rect_detection> accum, dets;
        hog_hits all;
        for (unsigned long f = 0; f < nf; f++) {
            all.clear();
            for (unsigned long l = 0; l < run->levels; l++) {
                const hog_hits &h = run->hits[f * run->levels + l];
                all.insert(all.end(), h.begin(), h.end());
            }
            std::sort(all.rbegin(), all.rend(), dlib::impl::compare_pair_rect);
            for (const auto &h : all) {
                dlib::rect_detection t;
                t.detection_confidence = h.first - hog->thresh[f];
                t.weight_index = f;
                t.rect = h.second;
                accum.push_back(t);
            }
        }
        if (nf > 1)
            std::sort(accum.rbegin(), accum.rend());
        const dlib::test_box_overlap &overlap = hog->det.get_overlap_tester();
        for (const auto &a : accum) {
            bool hit = false;
            for (const auto &k : dets)
                if ((hit = overlap(k.rect, a.rect)))
                    break;
            if (!hit)
                dets.push_back(a);
        }
        std::sort(dets.begin(), dets.end(),
                  [](const dlib::rect_detection &a,
                     const dlib::rect_detection &b) {
                      return a.detection_confidence > b.detection_confidence;
                  });
        const double scale = run->scale;
        int k = 0;
        for (const auto &d : dets) {
            if (k == max)
                break;
            boxes[k].left = d.rect.left() / scale;
            boxes[k].top = d.rect.top() / scale;
            boxes[k].right = (d.rect.right() + 1) / scale - 1;
            boxes[k].bottom = (d.rect.bottom() + 1) / scale - 1;
            boxes[k].score = d.detection_confidence;
            boxes[k].pose = (int)d.weight_index;
            k++;
        }
        *n = k;
        return FS_OK;
    });
}

/* dlib's shape_predictor, its forests flattened (dlib_adapter.h).  In
 * dlib's own layout every leaf is a separate heap vector, 120,000 of
 * them: a fit adds 7,500 leaves scattered over 65 MB and spent most of
 * its time waiting for memory (4.6 ms a face on faces94, one thread).
 * Contiguous, on huge pages where the kernel gives them, and fetched
 * ahead (fs_detect.c), the same fit takes 1.4 ms. */
struct fs_landmarker {
    dlib::matrix<float, 0, 1>                            initial;
    std::vector<std::vector<unsigned long>>              anchor;
    std::vector<std::vector<dlib::vector<float, 2>>>     delta;
    std::vector<fs_shape_split>                          split;
    float                                               *leaf = nullptr;
    fs_shape_forest                                      forest = {};

    ~fs_landmarker() { free(leaf); }
};

/* Room for n floats on 2 MB boundaries, so that the kernel may back
 * them with huge pages. */
static float *alloc_leaves(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    const size_t bytes = (n * sizeof(float) + huge - 1) / huge * huge;
    void *p = nullptr;
    if (posix_memalign(&p, huge, bytes) != 0)
        throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);     /* advice: refusal is harmless */
#endif
    return static_cast<float *>(p);
}

/* The sizes both readers accept: trees full binary trees (fs_detect.c
 * walks them so), within the room fs_detect.c keeps. */
static int shape_bounds(unsigned long cascades, unsigned long trees,
                        unsigned long splits)
{
    return cascades > 0 && cascades <= 64 && trees > 0 &&
           trees <= FS_SHAPE_MAX_TREES && splits > 0 && splits <= 255 &&
           ((splits + 1) & splits) == 0;
}

/* The checks both readers end with (dlib trusts a file's indexes; the
 * walk in fs_detect.c must not), and the forest pointed at the arrays. */
static int forest_done(fs_landmarker &lm)
{
    fs_shape_forest &f = lm.forest;
    size_t cascades = (size_t)f.cascades;
    if (lm.initial.size() != FS_SHAPE_COORDS || lm.anchor.size() != cascades ||
        lm.delta.size() != cascades)
        return FS_EFORMAT;
    size_t pixels = lm.anchor[0].size();
    if (pixels == 0 || pixels > FS_SHAPE_MAX_PIXELS)   /* fs_detect.c's room */
        return FS_EFORMAT;
    for (size_t c = 0; c < cascades; c++) {
        if (lm.anchor[c].size() != pixels || lm.delta[c].size() != pixels)
            return FS_EFORMAT;
        for (unsigned long a : lm.anchor[c])
            if (a >= FS_SHAPE_COORDS / 2)
                return FS_EFORMAT;
    }
    for (const fs_shape_split &sp : lm.split)
        if (sp.a >= pixels || sp.b >= pixels)
            return FS_EFORMAT;
    f.pixels = (int)pixels;
    f.initial = &lm.initial(0);
    f.split = lm.split.data();
    f.leaf = lm.leaf;
    return FS_OK;
}

/* dlib's serialize(shape_predictor): version 1, the initial shape, the
 * forests (a vector per cascade of trees, each its splits and leaves),
 * the anchor indexes and deltas.  Read one tree at a time into the flat
 * arrays, and checked, since dlib trusts the file's indexes. */
static int read_predictor(std::istream &in, fs_landmarker &lm)
{
    int version;
    unsigned long cascades;
    dlib::deserialize(version, in);
    dlib::deserialize(lm.initial, in);
    dlib::deserialize(cascades, in);
    if (version != 1 || lm.initial.size() != FS_SHAPE_COORDS ||
        cascades == 0 || cascades > 64)
        return FS_EFORMAT;
    fs_shape_forest &f = lm.forest;
    dlib::impl::regression_tree tree;
    size_t at = 0;
    for (unsigned long c = 0; c < cascades; c++) {
        unsigned long trees;
        dlib::deserialize(trees, in);
        if (trees == 0 || trees > FS_SHAPE_MAX_TREES ||
            (c > 0 && trees != (unsigned long)f.trees))
            return FS_EFORMAT;
        for (unsigned long t = 0; t < trees; t++) {
            deserialize(tree, in);           /* dlib::impl's, by ADL */
            size_t splits = tree.splits.size();
            if (c == 0 && t == 0) {
                if (!shape_bounds(cascades, trees, splits))
                    return FS_EFORMAT;
                f.cascades = (int)cascades;
                f.trees = (int)trees;
                f.splits = (int)splits;
                lm.split.resize(cascades * trees * splits);
                lm.leaf = alloc_leaves(cascades * trees * (splits + 1) *
                                       FS_SHAPE_COORDS);
            }
            if (splits != (size_t)f.splits ||
                tree.leaf_values.size() != splits + 1)
                return FS_EFORMAT;
            for (size_t k = 0; k < splits; k++) {
                const auto &sp = tree.splits[k];
                if (sp.idx1 >= FS_SHAPE_MAX_PIXELS ||
                    sp.idx2 >= FS_SHAPE_MAX_PIXELS)
                    return FS_EFORMAT;
                lm.split[at * splits + k] = { (uint16_t)sp.idx1,
                                              (uint16_t)sp.idx2, sp.thresh };
            }
            for (size_t k = 0; k <= splits; k++) {
                const auto &v = tree.leaf_values[k];
                if (v.size() != FS_SHAPE_COORDS)
                    return FS_EFORMAT;
                std::copy(&v(0), &v(0) + FS_SHAPE_COORDS,
                          lm.leaf + (at * (splits + 1) + k) *
                                        FS_SHAPE_COORDS);
            }
            at++;
        }
    }
    dlib::deserialize(lm.anchor, in);
    dlib::deserialize(lm.delta, in);
    return forest_done(lm);
}

/* Our own copy of the same predictor (fs-model-convert --landmarks, made
 * by `make models`): the flat arrays as they lie in memory, read straight
 * into place.  dlib's portable encoding of its 16 million floats took
 * about 0.7 s to decode, which every command that detects paid (more under
 * the sanitizers); this takes a read and a hash.  The numbers are dlib's
 * to the bit (test_landmarks_converted_are_dlibs_own).
 *
 *   header   "FSLMARK1", u32 cascades, trees, splits, pixels,
 *            sha256 of the payload
 *   payload  leaves   f32 [cascades][trees][splits + 1][136]
 *            initial  f32 [136]
 *            splits   {u16 a, u16 b, f32 thresh} [cascades][trees][splits]
 *            anchors  u32 [cascades][pixels]
 *            deltas   f32 [cascades][pixels][2]
 *
 * The leaves come first so that the payload is read, whole, into the
 * huge-page-aligned block they are walked in. */
static const char FLAT_MAGIC[8] = { 'F', 'S', 'L', 'M', 'A', 'R', 'K', '1' };

struct flat_header {
    char     magic[8];
    uint32_t cascades, trees, splits, pixels;
    uint8_t  sha256[FS_SHA256_BYTES];
};
static_assert(sizeof(flat_header) == 56, "flat_header has padding");
static_assert(sizeof(fs_shape_split) == 8, "fs_shape_split has padding");

/* Bytes of each part of the payload, from a header already in bounds. */
struct flat_sizes {
    size_t leaf, initial, split, anchor, delta, total;
};

static flat_sizes flat_sizes_of(const flat_header &h)
{
    flat_sizes z;
    size_t trees = (size_t)h.cascades * h.trees;
    z.leaf = trees * (h.splits + 1) * FS_SHAPE_COORDS * sizeof(float);
    z.initial = FS_SHAPE_COORDS * sizeof(float);
    z.split = trees * h.splits * sizeof(fs_shape_split);
    z.anchor = (size_t)h.cascades * h.pixels * sizeof(uint32_t);
    z.delta = (size_t)h.cascades * h.pixels * 2 * sizeof(float);
    z.total = z.leaf + z.initial + z.split + z.anchor + z.delta;
    return z;
}

static int read_flat(FILE *in, fs_landmarker &lm)
{
    flat_header h;
    struct stat st;
    if (fread(&h, sizeof h, 1, in) != 1 ||
        memcmp(h.magic, FLAT_MAGIC, sizeof h.magic) != 0)
        return FS_EFORMAT;
    if (!shape_bounds(h.cascades, h.trees, h.splits) || h.pixels == 0 ||
        h.pixels > FS_SHAPE_MAX_PIXELS)
        return FS_EFORMAT;
    const flat_sizes z = flat_sizes_of(h);
    if (fstat(fileno(in), &st) != 0)
        return FS_EIO;
    if ((size_t)st.st_size != sizeof h + z.total)
        return (size_t)st.st_size < sizeof h + z.total ? FS_ETRUNC
                                                        : FS_EFORMAT;
    lm.leaf = alloc_leaves(z.total / sizeof(float));
    uint8_t *p = reinterpret_cast<uint8_t *>(lm.leaf), sha[FS_SHA256_BYTES];
    if (fread(p, 1, z.total, in) != z.total)
        return FS_ETRUNC;
    fs_vision_host_services.sha256(p, z.total, sha);
    if (memcmp(sha, h.sha256, sizeof sha) != 0)
        return FS_ECHECKSUM;
    p += z.leaf;
    lm.initial.set_size(FS_SHAPE_COORDS);
    memcpy(&lm.initial(0), p, z.initial);
    p += z.initial;
    lm.split.resize(z.split / sizeof(fs_shape_split));
    memcpy(lm.split.data(), p, z.split);
    p += z.split;
    lm.anchor.assign(h.cascades, std::vector<unsigned long>(h.pixels));
    lm.delta.assign(h.cascades,
                    std::vector<dlib::vector<float, 2>>(h.pixels));
    const uint32_t *a = reinterpret_cast<const uint32_t *>(p);
    const float *dv = reinterpret_cast<const float *>(p + z.anchor);
    for (uint32_t c = 0; c < h.cascades; c++)
        for (uint32_t i = 0; i < h.pixels; i++, a++, dv += 2) {
            lm.anchor[c][i] = *a;
            lm.delta[c][i] = dlib::vector<float, 2>(dv[0], dv[1]);
        }
    lm.forest.cascades = (int)h.cascades;
    lm.forest.trees = (int)h.trees;
    lm.forest.splits = (int)h.splits;
    return forest_done(lm);
}

/* Writes every part of the payload in its order, through one hash. */
template <typename Part>
static void flat_parts(const fs_landmarker &lm, Part part)
{
    const fs_shape_forest &f = lm.forest;
    size_t trees = (size_t)f.cascades * f.trees;
    part(lm.leaf, trees * (f.splits + 1) * FS_SHAPE_COORDS * sizeof(float));
    part(&lm.initial(0), FS_SHAPE_COORDS * sizeof(float));
    part(lm.split.data(), lm.split.size() * sizeof(fs_shape_split));
    for (const auto &anchors : lm.anchor)
        for (unsigned long a : anchors) {
            uint32_t v = (uint32_t)a;
            part(&v, sizeof v);
        }
    for (const auto &deltas : lm.delta)
        for (const auto &v : deltas) {
            float xy[2] = { v.x(), v.y() };
            part(xy, sizeof xy);
        }
}

extern "C" int fs_landmarker_open(const char *path, fs_landmarker **out)
{
    /* dlib's deserialize throws on a short or malformed file */
    return fs_guarded([&]() -> int {
        char magic[sizeof FLAT_MAGIC] = { 0 };
        std::unique_ptr<FILE, int (*)(FILE *)> flat(fopen(path, "rb"),
                                                    fclose);
        if (!flat)
            return FS_ENOENT;
        std::unique_ptr<fs_landmarker> lm(new fs_landmarker);
        int rc;
        if (fread(magic, sizeof magic, 1, flat.get()) == 1 &&
            memcmp(magic, FLAT_MAGIC, sizeof magic) == 0) {
            rewind(flat.get());
            rc = read_flat(flat.get(), *lm);
        } else {
            flat.reset();
            std::ifstream f(path, std::ios::binary);
            if (!f)
                return FS_ENOENT;
            rc = read_predictor(f, *lm);
        }
        if (rc == FS_OK)
            *out = lm.release();
        return rc;
    }, FS_EFORMAT);
}

extern "C" int fs_landmarker_save(const fs_landmarker *lm, const char *path)
{
    return fs_guarded([&]() -> int {
        const fs_shape_forest &f = lm->forest;
        flat_header h = {};
        memcpy(h.magic, FLAT_MAGIC, sizeof h.magic);
        h.cascades = (uint32_t)f.cascades;
        h.trees = (uint32_t)f.trees;
        h.splits = (uint32_t)f.splits;
        h.pixels = (uint32_t)f.pixels;
        std::vector<uint8_t> payload;
        payload.reserve(flat_sizes_of(h).total);
        flat_parts(*lm, [&](const void *p, size_t n) {
            const uint8_t *b = static_cast<const uint8_t *>(p);
            payload.insert(payload.end(), b, b + n);
        });
        fs_vision_host_services.sha256(payload.data(), payload.size(),
                                       h.sha256);
        std::unique_ptr<FILE, int (*)(FILE *)> out(fopen(path, "wb"), fclose);
        if (!out)
            return FS_EIO;
        if (fwrite(&h, sizeof h, 1, out.get()) != 1 ||
            fwrite(payload.data(), 1, payload.size(), out.get()) !=
                payload.size() ||
            fflush(out.get()) != 0 || fsync(fileno(out.get())) != 0)
            return FS_EIO;
        return fclose(out.release()) == 0 ? FS_OK : FS_EIO;
    });
}

extern "C" void fs_landmarker_close(fs_landmarker *lm)
{
    delete lm;
}

extern "C" const fs_shape_forest *fs_landmarker_forest(const fs_landmarker *lm)
{
    return &lm->forest;
}

/* Whole pixels as dlib itself rounds a box in doubles (drectangle:
 * floor(v + 0.5), also left of the image), so that the predictor sees
 * the box that dlib's own tools, and our reference, would give it. */
static dlib::rectangle to_rect(const fs_hog_box *b)
{
    return dlib::drectangle(b->left, b->top, b->right, b->bottom);
}

static dlib::matrix<float, 0, 1> to_shape(const float *shape)
{
    dlib::matrix<float, 0, 1> m(FS_SHAPE_COORDS);
    std::copy(shape, shape + FS_SHAPE_COORDS, &m(0));
    return m;
}

extern "C" int fs_landmarker_sample(const fs_landmarker *lm,
                                    const uint8_t *rgb, int width,
                                    int height, const fs_hog_box *box,
                                    int cascade, const float *shape,
                                    float *values)
{
    return fs_guarded([&] {
        std::vector<float> v;
        dlib::impl::extract_feature_pixel_values(
            view(rgb, width, height), to_rect(box), to_shape(shape),
            lm->initial, lm->anchor[cascade], lm->delta[cascade], v);
        std::copy(v.begin(), v.end(), values);
        return FS_OK;
    });
}

extern "C" int fs_landmarker_place(const fs_hog_box *box, const float *shape,
                                   float points[FS_SHAPE_COORDS])
{
    return fs_guarded([&] {
        const dlib::point_transform_affine to_img =
            dlib::impl::unnormalizing_tform(to_rect(box));
        const dlib::matrix<float, 0, 1> s = to_shape(shape);
        for (unsigned i = 0; i < FS_SHAPE_COORDS / 2; i++) {
            const dlib::point p = to_img(dlib::impl::location(s, i));
            points[2 * i] = (float)p.x();
            points[2 * i + 1] = (float)p.y();
        }
        return FS_OK;
    });
}

/* The chip's placement as dlib computes it from the 68 points (whole
 * pixels, as dlib's own full_object_detection holds them). */
static dlib::chip_details chip_of(const float points[136])
{
    std::vector<dlib::point> parts(68);
    long l = (long)points[0], t = (long)points[1], r = l, b = t;
    for (unsigned i = 0; i < 68; i++) {
        parts[i] = dlib::point((long)points[2 * i], (long)points[2 * i + 1]);
        l = std::min(l, parts[i].x());
        r = std::max(r, parts[i].x());
        t = std::min(t, parts[i].y());
        b = std::max(b, parts[i].y());
    }
    dlib::full_object_detection s(dlib::rectangle(l, t, r, b), parts);
    return dlib::get_face_chip_details(s, FS_CHIP_SIZE, 0.25);
}

extern "C" int fs_dlib_chip_points(const float points[136], float out[136])
{
    return fs_guarded([&] {
        dlib::point_transform_affine to_chip =
            dlib::get_mapping_to_chip(chip_of(points));
        for (unsigned i = 0; i < 68; i++) {
            dlib::dpoint p = to_chip(dlib::dpoint(points[2 * i],
                                                  points[2 * i + 1]));
            out[2 * i] = (float)p.x();
            out[2 * i + 1] = (float)p.y();
        }
        return FS_OK;
    });
}

extern "C" int fs_dlib_face_chip(const uint8_t *rgb, int width, int height,
                                 const float points[136], uint8_t *chip)
{
    return fs_guarded([&] {
        dlib::matrix<dlib::rgb_pixel> out;
        const long side = FS_CHIP_SIZE;
        dlib::extract_image_chip(view(rgb, width, height), chip_of(points),
                                 out);
        if (out.nr() != side || out.nc() != side)
            return FS_EINTERNAL;
        for (long y = 0; y < side; y++)
            for (long x = 0; x < side; x++) {
                uint8_t *p = chip + 3 * (y * side + x);
                p[0] = out(y, x).red;
                p[1] = out(y, x).green;
                p[2] = out(y, x).blue;
            }
        return FS_OK;
    });
}
