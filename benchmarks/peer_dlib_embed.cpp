/*
 * peer_dlib_embed.cpp - benchmark peer: dlib's own DNN face-recognition
 * ResNet (the anet_type of dlib's examples/dnn_face_recognition_ex.cpp),
 * filled with facesearch's weights (models/face_resnet_v1.fsm), timed.
 *
 *   fs-peer-dlib-embed --model PATH --chips FILE --count N --batch B
 *                      --seconds S [--dump OUT.f32]
 *
 * FILE holds N raw 150x150 RGB chips (row-major, R,G,B interleaved, no
 * header), exactly N*67500 bytes.  Batches of B chips are built by cycling
 * through the N chips; one warm-up batch, then batches are timed until S
 * seconds have passed and at least 5 batches were timed.  ms_per_face is
 * the median batch time / B.  --dump first runs all N chips once (batches
 * of at most B) and writes N*128 raw float32 little-endian descriptors:
 * the raw fc output, not L2-normalised (dlib's loss_metric::to_label copies
 * the fc output unchanged).
 *
 * Output: one JSON line on stdout,
 *   {"engine":"dlib-dnn","batch":B,"timed_batches":K,"ms_per_face":X,
 *    "faces_per_s":Y}
 * Errors: "fs-peer-dlib-embed: ..." on stderr; exit 2 for bad arguments or
 * input (missing/unreadable file, wrong chips size, missing tensor, wrong
 * tensor shape, model file refused), 3 for anything else.
 *
 * Threads: nothing is set here.  dlib's CPU DNN code runs convolutions,
 * affine and pooling on the calling thread; its matrix products go to the
 * BLAS library (OpenBLAS), whose threads the caller controls through
 * OPENBLAS_NUM_THREADS / OMP_NUM_THREADS.
 *
 * Weight mapping (facesearch file -> dlib):
 *   <stage>[/convN]/conv/filters  TF HWIO [kh][kw][cin][cout]
 *                                 -> con_ params [cout][cin][kh][kw], then
 *   <stage>[/convN]/conv/bias     [cout] -> con_ biases (after the filters)
 *   <stage>[/convN]/scale/weights [cout] -> affine_ gamma (CONV_MODE)
 *   <stage>[/convN]/scale/biases  [cout] -> affine_ beta
 *   fc                            [256][128] -> fc_no_bias params [in][out]
 * dlib's visit_layers walks from the output back to the input, so the
 * collected con_/affine_ layers are reversed into input order and matched
 * one to one with the stage table of NETWORK.md section 4.
 */
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include <sys/stat.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wdeprecated-copy"
#pragma GCC diagnostic ignored "-Wclass-memaccess"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <dlib/dnn.h>
#pragma GCC diagnostic pop

extern "C" {
#include "../embed/fs_embed.h"
}

#include "peer_main.hpp"

namespace {

// ---------------------------------------------------------------------------
// dlib's network, exactly as in examples/dnn_face_recognition_ex.cpp.

using namespace dlib;

template <template <int, template <typename> class, int, typename> class block,
          int N, template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block,
          int N, template <typename> class BN, typename SUBNET>
using residual_down =
    add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET>
using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET>
using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
                            alevel0<
                            alevel1<
                            alevel2<
                            alevel3<
                            alevel4<
                            max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2,
                            input_rgb_image_sized<150>
                            >>>>>>>>>>>>;

// ---------------------------------------------------------------------------
// Errors.

const char *const PROG = "fs-peer-dlib-embed";
using peer::EXIT_BADINPUT;
using peer::EXIT_OTHER;
using peer::fail;

// ---------------------------------------------------------------------------
// Arguments.

constexpr size_t CHIP_SIDE = 150;
constexpr size_t CHIP_BYTES = CHIP_SIDE * CHIP_SIDE * 3;   // 67500
constexpr size_t DESC_DIM = 128;
constexpr size_t MAX_BATCH = 4096;
constexpr size_t MIN_TIMED = 5;

struct args {
    std::string model, chips, dump;
    size_t count = 0, batch = 0;
    double seconds = -1;
    bool have_count = false, have_batch = false, have_seconds = false,
         have_dump = false;
};

size_t parse_size(const char *opt, const char *s, size_t max)
{
    if (*s < '0' || *s > '9')
        fail(EXIT_BADINPUT, "%s: not a positive integer: '%s'", opt, s);
    errno = 0;
    char *end = nullptr;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > max)
        fail(EXIT_BADINPUT, "%s: must be an integer in 1..%zu: '%s'", opt, max, s);
    return static_cast<size_t>(v);
}

double parse_seconds(const char *s)
{
    errno = 0;
    char *end = nullptr;
    double v = std::strtod(s, &end);
    if (*s == '\0' || errno != 0 || *end != '\0' || !std::isfinite(v) ||
        v < 0 || v > 86400.0)
        fail(EXIT_BADINPUT, "--seconds: must be a number in 0..86400: '%s'", s);
    return v;
}

args parse_args(int argc, char **argv)
{
    args a;
    bool have_model = false, have_chips = false;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        bool known = !std::strcmp(opt, "--model") || !std::strcmp(opt, "--chips") ||
                     !std::strcmp(opt, "--count") || !std::strcmp(opt, "--batch") ||
                     !std::strcmp(opt, "--seconds") || !std::strcmp(opt, "--dump");
        if (!known)
            fail(EXIT_BADINPUT, "unknown argument '%s'", opt);
        if (i + 1 >= argc)
            fail(EXIT_BADINPUT, "%s needs a value", opt);
        const char *val = argv[++i];
        bool dup = false;
        if (!std::strcmp(opt, "--model")) {
            dup = have_model; have_model = true; a.model = val;
        } else if (!std::strcmp(opt, "--chips")) {
            dup = have_chips; have_chips = true; a.chips = val;
        } else if (!std::strcmp(opt, "--count")) {
            dup = a.have_count; a.have_count = true;
            a.count = parse_size(opt, val, SIZE_MAX / CHIP_BYTES);
        } else if (!std::strcmp(opt, "--batch")) {
            dup = a.have_batch; a.have_batch = true;
            a.batch = parse_size(opt, val, MAX_BATCH);
        } else if (!std::strcmp(opt, "--seconds")) {
            dup = a.have_seconds; a.have_seconds = true;
            a.seconds = parse_seconds(val);
        } else {
            dup = a.have_dump; a.have_dump = true; a.dump = val;
        }
        if (dup)
            fail(EXIT_BADINPUT, "%s given twice", opt);
        if (*val == '\0')
            fail(EXIT_BADINPUT, "%s: empty value", opt);
    }
    if (!have_model) fail(EXIT_BADINPUT, "missing --model");
    if (!have_chips) fail(EXIT_BADINPUT, "missing --chips");
    if (!a.have_count) fail(EXIT_BADINPUT, "missing --count");
    if (!a.have_batch) fail(EXIT_BADINPUT, "missing --batch");
    if (!a.have_seconds) fail(EXIT_BADINPUT, "missing --seconds");
    return a;
}

// ---------------------------------------------------------------------------
// Chips.

std::vector<matrix<rgb_pixel>> read_chips(const std::string &path, size_t n)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        fail(EXIT_BADINPUT, "cannot open chips '%s': %s", path.c_str(),
             std::strerror(errno));
    const size_t want = n * CHIP_BYTES;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size != (unsigned long long)want) {
        std::fclose(f);
        fail(EXIT_BADINPUT,
             "chips '%s': size is %lld bytes, not --count * %zu = %zu",
             path.c_str(), (long long)st.st_size, CHIP_BYTES, want);
    }
    std::vector<unsigned char> buf;
    try {
        buf.resize(want);
    } catch (const std::bad_alloc &) {
        std::fclose(f);
        fail(EXIT_OTHER, "no memory for %zu chips", n);
    }
    size_t got = std::fread(buf.data(), 1, want, f);
    bool read_err = std::ferror(f) != 0;
    int extra = (got == want) ? std::fgetc(f) : EOF;
    read_err = read_err || std::ferror(f) != 0;
    std::fclose(f);
    if (read_err)
        fail(EXIT_BADINPUT, "cannot read chips '%s'", path.c_str());
    if (got != want || extra != EOF)
        fail(EXIT_BADINPUT,
             "chips '%s': size is not --count * %zu = %zu bytes (%s)",
             path.c_str(), CHIP_BYTES, want,
             got != want ? "file too short" : "file too long");

    std::vector<matrix<rgb_pixel>> chips(n);
    for (size_t i = 0; i < n; i++) {
        matrix<rgb_pixel> &m = chips[i];
        m.set_size(CHIP_SIDE, CHIP_SIDE);
        const unsigned char *p = buf.data() + i * CHIP_BYTES;
        for (size_t r = 0; r < CHIP_SIDE; r++)
            for (size_t c = 0; c < CHIP_SIDE; c++, p += 3)
                m(r, c) = rgb_pixel(p[0], p[1], p[2]);
    }
    return chips;
}

// ---------------------------------------------------------------------------
// Weights.

struct conv_spec {
    std::string prefix;   // e.g. "conv64_down/conv1"; tensors are <prefix>/conv/...
    unsigned cin, cout, k, stride;
};

// The 29 convolutions in input order (NETWORK.md section 4).
std::vector<conv_spec> conv_table()
{
    std::vector<conv_spec> t;
    t.push_back({"conv32_down", 3, 32, 7, 2});
    struct stage { const char *name; unsigned cin, cout; bool down; };
    static const stage stages[] = {
        {"conv32_1", 32, 32, false},    {"conv32_2", 32, 32, false},
        {"conv32_3", 32, 32, false},
        {"conv64_down", 32, 64, true},  {"conv64_1", 64, 64, false},
        {"conv64_2", 64, 64, false},    {"conv64_3", 64, 64, false},
        {"conv128_down", 64, 128, true}, {"conv128_1", 128, 128, false},
        {"conv128_2", 128, 128, false},
        {"conv256_down", 128, 256, true}, {"conv256_1", 256, 256, false},
        {"conv256_2", 256, 256, false},
        {"conv256_down_out", 256, 256, true},
    };
    for (const stage &s : stages) {
        t.push_back({std::string(s.name) + "/conv1", s.cin, s.cout, 3, s.down ? 2u : 1u});
        t.push_back({std::string(s.name) + "/conv2", s.cout, s.cout, 3, 1});
    }
    return t;
}

fs_tensor find_tensor(const fs_model *m, const std::string &name,
                      unsigned ndim, const unsigned *dims)
{
    fs_tensor t;
    int rc = fs_model_find(m, name.c_str(), &t);
    if (rc == FS_NOTFOUND)
        fail(EXIT_BADINPUT, "model: missing tensor '%s'", name.c_str());
    if (rc != FS_OK)
        fail(EXIT_OTHER, "model: tensor '%s': %s", name.c_str(), fs_strerror(rc));
    bool ok = t.ndim == ndim && t.data != nullptr;
    size_t count = 1;
    for (unsigned i = 0; ok && i < ndim; i++) {
        ok = t.dims[i] == dims[i];
        count *= dims[i];
    }
    ok = ok && t.count == count;
    if (!ok) {
        std::string want, got;
        for (unsigned i = 0; i < ndim; i++)
            want += (i ? "," : "") + std::to_string(dims[i]);
        for (unsigned i = 0; i < t.ndim && i < 4; i++)
            got += (i ? "," : "") + std::to_string(t.dims[i]);
        fail(EXIT_BADINPUT, "model: tensor '%s' has shape [%s], expected [%s]",
             name.c_str(), got.c_str(), want.c_str());
    }
    return t;
}

struct conv_weights {
    conv_spec spec;
    fs_tensor filters, bias, scale_w, scale_b;
};

struct model_weights {
    std::vector<conv_weights> convs;
    fs_tensor fc;
};

model_weights load_weights(const fs_model *m)
{
    model_weights w;
    for (const conv_spec &s : conv_table()) {
        conv_weights c;
        c.spec = s;
        const unsigned fdims[4] = {s.k, s.k, s.cin, s.cout};
        const unsigned vdims[1] = {s.cout};
        c.filters = find_tensor(m, s.prefix + "/conv/filters", 4, fdims);
        c.bias = find_tensor(m, s.prefix + "/conv/bias", 1, vdims);
        c.scale_w = find_tensor(m, s.prefix + "/scale/weights", 1, vdims);
        c.scale_b = find_tensor(m, s.prefix + "/scale/biases", 1, vdims);
        w.convs.push_back(c);
    }
    const unsigned fc_dims[2] = {256, DESC_DIM};
    w.fc = find_tensor(m, "fc", 2, fc_dims);
    return w;
}

// Collects the parameterised layers of the net, in visit order (output
// back to input).
struct conv_ref {
    tensor *params;
    long num_filters, nr, nc, stride_y, stride_x;
};

struct layer_collector {
    std::vector<conv_ref> *convs;
    std::vector<affine_ *> *affines;
    std::vector<tensor *> *fcs;

    template <typename T>
    void operator()(size_t, T &) const {}

    template <long nf, long nr, long nc, int sy, int sx, int py, int px,
              typename U, typename E>
    void operator()(size_t, add_layer<con_<nf, nr, nc, sy, sx, py, px>, U, E> &l) const
    {
        auto &d = l.layer_details();
        convs->push_back({&d.get_layer_params(), d.num_filters(), d.nr(), d.nc(),
                          d.stride_y(), d.stride_x()});
    }

    template <typename U, typename E>
    void operator()(size_t, add_layer<affine_, U, E> &l) const
    {
        affines->push_back(&l.layer_details());
    }

    template <unsigned long n, fc_bias_mode bm, typename U, typename E>
    void operator()(size_t, add_layer<fc_<n, bm>, U, E> &l) const
    {
        fcs->push_back(&l.layer_details().get_layer_params());
    }
};

void collect(anet_type &net, std::vector<conv_ref> &convs,
             std::vector<affine_ *> &affines, std::vector<tensor *> &fcs)
{
    convs.clear();
    affines.clear();
    fcs.clear();
    visit_layers(net, layer_collector{&convs, &affines, &fcs});
    std::reverse(convs.begin(), convs.end());
    std::reverse(affines.begin(), affines.end());
}

void fill_net(anet_type &net, const model_weights &w)
{
    std::vector<conv_ref> convs;
    std::vector<affine_ *> affines;
    std::vector<tensor *> fcs;

    // 1. Every affine_ in CONV_MODE (one gamma/beta per channel), as dlib's
    //    trained model has it.  This must happen before the first forward
    //    pass, which sizes the parameters.
    collect(net, convs, affines, fcs);
    if (convs.size() != w.convs.size() || affines.size() != w.convs.size() ||
        fcs.size() != 1)
        fail(EXIT_OTHER, "internal: dlib net has %zu con, %zu affine, %zu fc layers",
             convs.size(), affines.size(), fcs.size());
    for (affine_ *a : affines)
        *a = affine_(CONV_MODE);

    // 2. One forward pass allocates every parameter tensor.
    {
        matrix<rgb_pixel> z(CHIP_SIDE, CHIP_SIDE);
        for (long r = 0; r < z.nr(); r++)
            for (long c = 0; c < z.nc(); c++)
                z(r, c) = rgb_pixel(0, 0, 0);
        std::vector<matrix<rgb_pixel>> one(1, z);
        (void)net(one);
    }
    collect(net, convs, affines, fcs);

    // 3. Copy the weights in.
    for (size_t i = 0; i < convs.size(); i++) {
        const conv_weights &cw = w.convs[i];
        const conv_spec &s = cw.spec;
        const conv_ref &cr = convs[i];
        const size_t cin = s.cin, cout = s.cout, k = s.k;
        const size_t nfilt = cout * cin * k * k;
        if (cr.num_filters != (long)cout || cr.nr != (long)k || cr.nc != (long)k ||
            cr.stride_y != (long)s.stride || cr.stride_x != (long)s.stride ||
            cr.params->size() != nfilt + cout)
            fail(EXIT_OTHER,
                 "internal: dlib con layer %zu (%ld filters %ldx%ld stride %ld, "
                 "%zu params) does not fit '%s'",
                 i, cr.num_filters, cr.nr, cr.nc, cr.stride_y,
                 (size_t)cr.params->size(), s.prefix.c_str());
        float *dst = cr.params->host();
        const float *src = cw.filters.data;   // [ky][kx][ci][co]
        for (size_t co = 0; co < cout; co++)
            for (size_t ci = 0; ci < cin; ci++)
                for (size_t ky = 0; ky < k; ky++)
                    for (size_t kx = 0; kx < k; kx++)
                        dst[((co * cin + ci) * k + ky) * k + kx] =
                            src[((ky * k + kx) * cin + ci) * cout + co];
        std::memcpy(dst + nfilt, cw.bias.data, cout * sizeof(float));

        affine_ &a = *affines[i];
        auto g = a.get_gamma();
        auto b = a.get_beta();
        if (a.get_mode() != CONV_MODE || g.size() != cout || b.size() != cout)
            fail(EXIT_OTHER, "internal: dlib affine layer %zu does not fit '%s'",
                 i, s.prefix.c_str());
        std::memcpy(g.host(), cw.scale_w.data, cout * sizeof(float));
        std::memcpy(b.host(), cw.scale_b.data, cout * sizeof(float));
    }
    tensor &fc = *fcs[0];
    if (fc.size() != w.fc.count)
        fail(EXIT_OTHER, "internal: dlib fc layer has %zu params, expected %zu",
             (size_t)fc.size(), w.fc.count);
    std::memcpy(fc.host(), w.fc.data, w.fc.count * sizeof(float));
}

// ---------------------------------------------------------------------------
// Running.

std::vector<matrix<rgb_pixel>> make_batch(const std::vector<matrix<rgb_pixel>> &chips,
                                          size_t b, size_t &cursor)
{
    std::vector<matrix<rgb_pixel>> batch;
    batch.reserve(b);
    for (size_t i = 0; i < b; i++) {
        batch.push_back(chips[cursor]);
        cursor = (cursor + 1) % chips.size();
    }
    return batch;
}

void write_le_f32(FILE *f, const float *v, size_t n, const std::string &path)
{
    std::vector<unsigned char> out(n * 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        std::memcpy(&u, &v[i], 4);
        out[4 * i + 0] = (unsigned char)(u);
        out[4 * i + 1] = (unsigned char)(u >> 8);
        out[4 * i + 2] = (unsigned char)(u >> 16);
        out[4 * i + 3] = (unsigned char)(u >> 24);
    }
    if (std::fwrite(out.data(), 1, out.size(), f) != out.size())
        fail(EXIT_OTHER, "cannot write '%s': %s", path.c_str(), std::strerror(errno));
}

void dump_all(anet_type &net, const std::vector<matrix<rgb_pixel>> &chips,
              size_t b, const std::string &path)
{
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f)
        fail(EXIT_OTHER, "cannot create '%s': %s", path.c_str(), std::strerror(errno));
    try {
        std::vector<float> flat;
        for (size_t start = 0; start < chips.size(); start += b) {
            size_t end = std::min(chips.size(), start + b);
            std::vector<matrix<rgb_pixel>> batch(chips.begin() + start,
                                                 chips.begin() + end);
            std::vector<matrix<float, 0, 1>> d = net(batch, batch.size());
            if (d.size() != batch.size())
                fail(EXIT_OTHER, "internal: %zu descriptors for %zu chips",
                     d.size(), batch.size());
            flat.assign((end - start) * DESC_DIM, 0.0f);
            for (size_t i = 0; i < d.size(); i++) {
                if ((size_t)d[i].size() != DESC_DIM)
                    fail(EXIT_OTHER, "internal: descriptor of %ld values",
                         (long)d[i].size());
                for (size_t j = 0; j < DESC_DIM; j++)
                    flat[i * DESC_DIM + j] = d[i]((long)j);
            }
            write_le_f32(f, flat.data(), flat.size(), path);
        }
    } catch (...) {
        std::fclose(f);
        throw;
    }
    if (std::fclose(f) != 0)
        fail(EXIT_OTHER, "cannot write '%s': %s", path.c_str(), std::strerror(errno));
}

int run(int argc, char **argv)
{
    const args a = parse_args(argc, argv);

    // Inputs first: a bad argument or file costs no network set-up.
    std::vector<matrix<rgb_pixel>> chips = read_chips(a.chips, a.count);

    fs_model *m = nullptr;
    fs_detail det;
    det.msg[0] = '\0';
    int rc = fs_model_open(a.model.c_str(), &m, &det);
    if (rc != FS_OK)
        fail(rc == FS_ENOMEM || rc == FS_EINTERNAL ? EXIT_OTHER : EXIT_BADINPUT,
             "cannot open model '%s': %s%s%s", a.model.c_str(), fs_strerror(rc),
             det.msg[0] ? ": " : "", det.msg);

    anet_type net;
    try {
        model_weights w = load_weights(m);
        fill_net(net, w);
    } catch (...) {
        fs_model_close(m);
        throw;
    }
    fs_model_close(m);   // every weight now lives in the dlib net

    if (a.have_dump)
        dump_all(net, chips, a.batch, a.dump);

    using clock = std::chrono::steady_clock;
    size_t cursor = 0;
    {
        std::vector<matrix<rgb_pixel>> warm = make_batch(chips, a.batch, cursor);
        (void)net(warm, warm.size());
    }

    std::vector<double> ms;
    const clock::time_point t_start = clock::now();
    for (;;) {
        std::vector<matrix<rgb_pixel>> batch = make_batch(chips, a.batch, cursor);
        const clock::time_point t0 = clock::now();
        std::vector<matrix<float, 0, 1>> d = net(batch, batch.size());
        const clock::time_point t1 = clock::now();
        if (d.size() != batch.size())
            fail(EXIT_OTHER, "internal: %zu descriptors for %zu chips", d.size(),
                 batch.size());
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        const double elapsed =
            std::chrono::duration<double>(clock::now() - t_start).count();
        if (ms.size() >= MIN_TIMED && elapsed >= a.seconds)
            break;
    }

    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    const size_t k = s.size();
    const double median = (k % 2) ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
    const double ms_per_face = median / (double)a.batch;
    const double faces_per_s = ms_per_face > 0 ? 1000.0 / ms_per_face : 0.0;

    std::printf("{\"engine\":\"dlib-dnn\",\"batch\":%zu,\"timed_batches\":%zu,"
                "\"ms_per_face\":%.6f,\"faces_per_s\":%.4f}\n",
                a.batch, k, ms_per_face, faces_per_s);
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    return peer::main(PROG, run, argc, argv);
}
