/*
 * peer_dlib_chip.cpp - reference peer: the aligned face chip made by dlib
 * end to end, as the face_recognition library makes it, for the test that
 * holds our chip to it (tests/check_detect.c).  Nothing of facesearch is
 * linked or included: dlib decodes the file (dlib::load_image), fits its
 * 68-point shape predictor in the box given, and cuts the chip with
 * get_face_chip_details(shape, 150, 0.25) and extract_image_chip.
 *
 *   fs-peer-dlib-chip --landmarks DAT --faces LIST --out CHIPS
 *
 * LIST holds one face per line: "LEFT TOP RIGHT BOTTOM PATH", the box in
 * pixels of the image (doubles, turned into a dlib::rectangle by dlib's
 * own drectangle rounding), then the image file (the rest of the line).
 * The box is given rather than found so that the comparison is of
 * decoding, landmarks and chip alone, not of detectors.
 *
 * CHIPS receives one raw 150x150 chip per face, in LIST's order (row-
 * major, R,G,B interleaved, no header); stdout one line per face, its 68
 * landmarks "x0 y0 x1 y1 ...", so a difference can be traced to its
 * stage.
 *
 *   fs-peer-dlib-chip --detect LIST
 *
 * dlib's frontal face detector as our detector's passes call it, for the
 * test that holds our split of its work over threads to it: LIST holds
 * "UPSAMPLE PATH" per line (0: the image's grey levels as they are; n:
 * the RGB image doubled n times with pyramid_up, as dlib's Python does),
 * PATH a lossless image, so both sides read the same pixels.  stdout
 * gets, per line of LIST, the number of faces and then, strongest
 * first, "LEFT TOP RIGHT BOTTOM CONFIDENCE POSE" of each, the rectangle
 * in the scanned image's pixels.
 *
 * Errors: "fs-peer-dlib-chip: ..." on stderr; exit 2 for bad arguments or
 * input, 3 for anything else.
 */
#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wdeprecated-copy"
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <dlib/serialize.h>
#pragma GCC diagnostic pop

#include "peer_main.hpp"

namespace {

const char *const PROG = "fs-peer-dlib-chip";
using peer::EXIT_BADINPUT;
using peer::EXIT_OTHER;
using peer::fail;
constexpr unsigned long CHIP_SIDE = 150;    // face_recognition's default
constexpr double CHIP_PADDING = 0.25;       // ... and dlib Python's

struct args {
    std::string landmarks, faces, out, detect;
};

args parse_args(int argc, char **argv)
{
    args a;
    for (int i = 1; i < argc; i += 2) {
        const char *opt = argv[i];
        std::string *dst = !std::strcmp(opt, "--landmarks") ? &a.landmarks
                         : !std::strcmp(opt, "--faces")     ? &a.faces
                         : !std::strcmp(opt, "--out")       ? &a.out
                         : !std::strcmp(opt, "--detect")    ? &a.detect
                                                            : nullptr;
        if (!dst)
            fail(EXIT_BADINPUT, "unknown argument '%s'", opt);
        if (i + 1 >= argc || !*argv[i + 1])
            fail(EXIT_BADINPUT, "%s needs a value", opt);
        if (!dst->empty())
            fail(EXIT_BADINPUT, "%s given twice", opt);
        *dst = argv[i + 1];
    }
    if (!a.detect.empty() ? !a.landmarks.empty() || !a.faces.empty() ||
                            !a.out.empty()
                          : a.landmarks.empty() || a.faces.empty() ||
                            a.out.empty())
        fail(EXIT_BADINPUT, "usage: %s --landmarks DAT --faces LIST "
             "--out CHIPS, or %s --detect LIST", PROG, PROG);
    return a;
}

struct face {
    dlib::drectangle box;
    std::string path;
};

std::vector<face> read_faces(const std::string &path)
{
    std::ifstream f(path);
    if (!f)
        fail(EXIT_BADINPUT, "cannot open '%s': %s", path.c_str(),
             std::strerror(errno));
    std::vector<face> faces;
    std::string line;
    for (int no = 1; std::getline(f, line); no++) {
        std::istringstream in(line);
        double l, t, r, b;
        face fc;
        if (!(in >> l >> t >> r >> b) || !std::getline(in >> std::ws, fc.path)
            || fc.path.empty())
            fail(EXIT_BADINPUT, "'%s' line %d: not LEFT TOP RIGHT BOTTOM "
                 "PATH", path.c_str(), no);
        fc.box = dlib::drectangle(l, t, r, b);
        faces.push_back(fc);
    }
    return faces;
}

void load(dlib::matrix<dlib::rgb_pixel> &img, const std::string &path)
{
    try {
        dlib::load_image(img, path);
    } catch (const std::exception &e) {
        fail(EXIT_BADINPUT, "cannot load '%s': %s", path.c_str(), e.what());
    }
}

int detect(const std::string &list)
{
    std::ifstream f(list);
    if (!f)
        fail(EXIT_BADINPUT, "cannot open '%s': %s", list.c_str(),
             std::strerror(errno));
    dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
    std::string line, path;
    for (int no = 1; std::getline(f, line); no++) {
        std::istringstream in(line);
        int upsample;
        if (!(in >> upsample) || upsample < 0 ||
            !std::getline(in >> std::ws, path) || path.empty())
            fail(EXIT_BADINPUT, "'%s' line %d: not UPSAMPLE PATH",
                 list.c_str(), no);
        dlib::matrix<dlib::rgb_pixel> img;
        load(img, path);
        std::vector<dlib::rect_detection> dets;
        if (upsample == 0) {
            dlib::array2d<unsigned char> grey;
            dlib::assign_image(grey, img);
            det(grey, dets);
        } else {
            for (int i = 0; i < upsample; i++)
                dlib::pyramid_up(img);
            det(img, dets);
        }
        std::sort(dets.begin(), dets.end(),
                  [](const dlib::rect_detection &a,
                     const dlib::rect_detection &b) {
                      return a.detection_confidence > b.detection_confidence;
                  });
        std::printf("%zu\n", dets.size());
        for (const auto &d : dets)
            std::printf("%ld %ld %ld %ld %.17g %lu\n", d.rect.left(),
                        d.rect.top(), d.rect.right(), d.rect.bottom(),
                        d.detection_confidence, d.weight_index);
    }
    return 0;
}

int run(int argc, char **argv)
{
    const args a = parse_args(argc, argv);
    if (!a.detect.empty())
        return detect(a.detect);
    const std::vector<face> faces = read_faces(a.faces);

    dlib::shape_predictor sp;
    try {
        dlib::deserialize(a.landmarks) >> sp;
    } catch (const std::exception &e) {
        fail(EXIT_BADINPUT, "cannot load the shape predictor '%s': %s",
             a.landmarks.c_str(), e.what());
    }
    FILE *out = std::fopen(a.out.c_str(), "wb");
    if (!out)
        fail(EXIT_OTHER, "cannot create '%s': %s", a.out.c_str(),
             std::strerror(errno));

    dlib::matrix<dlib::rgb_pixel> img;
    std::string loaded;                 // faces of one image come together
    std::vector<unsigned char> raw(CHIP_SIDE * CHIP_SIDE * 3);
    try {
        for (const face &fc : faces) {
            if (fc.path != loaded) {
                load(img, fc.path);
                loaded = fc.path;
            }
            dlib::full_object_detection shape =
                sp(img, dlib::rectangle(fc.box));
            dlib::matrix<dlib::rgb_pixel> chip;
            dlib::extract_image_chip(
                img, dlib::get_face_chip_details(shape, CHIP_SIDE,
                                                 CHIP_PADDING), chip);
            for (unsigned long i = 0; i < shape.num_parts(); i++)
                std::printf("%s%ld %ld", i ? " " : "", shape.part(i).x(),
                            shape.part(i).y());
            std::printf("\n");
            unsigned char *p = raw.data();
            for (long y = 0; y < chip.nr(); y++)
                for (long x = 0; x < chip.nc(); x++, p += 3) {
                    p[0] = chip(y, x).red;
                    p[1] = chip(y, x).green;
                    p[2] = chip(y, x).blue;
                }
            if (std::fwrite(raw.data(), 1, raw.size(), out) != raw.size())
                fail(EXIT_OTHER, "cannot write '%s': %s", a.out.c_str(),
                     std::strerror(errno));
        }
    } catch (...) {
        std::fclose(out);
        throw;
    }
    if (std::fclose(out) != 0)
        fail(EXIT_OTHER, "cannot write '%s': %s", a.out.c_str(),
             std::strerror(errno));
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    return peer::main(PROG, run, argc, argv);
}
