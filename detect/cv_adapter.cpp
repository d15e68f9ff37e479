// cv_adapter.cpp - OpenCV image decoding behind cv_adapter.h.
//
// Library code never prints, but OpenCV writes some decoder failures
// straight to std::cerr (imdecode_'s catch block) and logs others.  On
// first use the adapter mutes both: OpenCV's logger, and std::cerr, which
// only the C++ dependencies use (our C code writes through stdio, which
// is untouched).
// Buffers handed back to C come from the program's allocator
// (fs_vision_host_services.alloc, fs_vision.h), which frees them.
// Decodes with IMREAD_UNCHANGED first so the caller learns what the file
// really holds (a grey or 16-bit chip is refused upstream, not silently
// converted), then converts to 8-bit RGB.
extern "C" {
#include "cv_adapter.h"
#include "fs_vision.h"
#include "../engine/base/fs_error.h"
}
#include "adapter_guard.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <iostream>
#include <mutex>
#include <streambuf>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <algorithm>
#include <new>
#include <numeric>
#include <vector>

namespace {

class null_buf : public std::streambuf {
protected:
    int overflow(int c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char *, std::streamsize n) override
    {
        return n;
    }
};

void mute_cpp_diagnostics()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // never destroyed: std::cerr is flushed after static destructors
        std::cerr.rdbuf(new null_buf);
        cv::utils::logging::setLogLevel(
            cv::utils::logging::LOG_LEVEL_SILENT);
    });
}

} // namespace

extern "C" int fs_cv_decode(const uint8_t *data, size_t len, int *width,
                            int *height, int *channels, int *depth_bits,
                            uint8_t **rgb)
{
    return fs_guarded([&] {
        mute_cpp_diagnostics();
        if (len == 0 || len > (size_t)INT32_MAX)
            return FS_EDECODE;
        cv::Mat buf(1, (int)len, CV_8UC1, const_cast<uint8_t *>(data));
        /* an 8-bit colour image of the size its header gives is decoded
         * into the caller's buffer and turned to RGB there: a 12 MP
         * photo pays one 36 MB buffer and one pass, not two and a copy */
        size_t hinted = *width > 0 && *height > 0
                        ? (size_t)*width * (size_t)*height * 3 : 0;
        uint8_t *p = nullptr;
        cv::Mat into;
        if (hinted) {
            p = static_cast<uint8_t *>(fs_vision_host_services.alloc(hinted));
            if (!p)
                return FS_ENOMEM;
            into = cv::Mat(*height, *width, CV_8UC3, p);
        }
        std::unique_ptr<uint8_t, void (*)(void *)> own(p, std::free);
        cv::Mat img = cv::imdecode(buf, cv::IMREAD_UNCHANGED |
                                            cv::IMREAD_IGNORE_ORIENTATION,
                                   &into);
        if (img.empty() || img.dims != 2)
            return FS_EDECODE;
        int ch = img.channels(), depth = img.depth();
        if ((depth != CV_8U && depth != CV_16U) ||
            (ch != 1 && ch != 3 && ch != 4))
            return FS_EDECODE;
        size_t bytes = (size_t)img.cols * img.rows * 3;
        if (p && img.data == p) {
            for (size_t i = 0; i < bytes; i += 3)
                std::swap(p[i], p[i + 2]);
        } else {
            cv::Mat eight = img;
            if (depth == CV_16U)
                img.convertTo(eight, CV_8U, 1.0 / 257.0);
            if (bytes != hinted) {      /* the header did not say it all */
                p = static_cast<uint8_t *>(
                    fs_vision_host_services.alloc(bytes ? bytes : 1));
                if (!p)
                    return FS_ENOMEM;
                own.reset(p);
            }
            /* converted straight into the caller's buffer, as above */
            cv::Mat out(img.rows, img.cols, CV_8UC3, p);
            if (ch == 1)
                cv::cvtColor(eight, out, cv::COLOR_GRAY2RGB);
            else if (ch == 3)
                cv::cvtColor(eight, out, cv::COLOR_BGR2RGB);
            else
                cv::cvtColor(eight, out, cv::COLOR_BGRA2RGB);
            if (out.data != p)        /* OpenCV chose a buffer of its own */
                return FS_EINTERNAL;
        }
        own.release();
        *width = img.cols;
        *height = img.rows;
        *channels = ch;
        *depth_bits = depth == CV_16U ? 16 : 8;
        *rgb = p;
        return FS_OK;
    }, FS_EDECODE);
}

extern "C" int fs_cv_write_png(const char *path, const uint8_t *rgb,
                               int width, int height)
{
    return fs_guarded([&] {
        mute_cpp_diagnostics();
        cv::Mat in(height, width, CV_8UC3, const_cast<uint8_t *>(rgb));
        cv::Mat bgr;
        cv::cvtColor(in, bgr, cv::COLOR_RGB2BGR);
        return cv::imwrite(path, bgr) ? FS_OK : FS_EIO;
    }, FS_EIO);
}

extern "C" int fs_cv_encode_png(const uint8_t *rgb, int width, int height,
                                uint8_t **png, size_t *len)
{
    return fs_guarded([&] {
        mute_cpp_diagnostics();
        cv::Mat in(height, width, CV_8UC3, const_cast<uint8_t *>(rgb));
        cv::Mat bgr;
        cv::cvtColor(in, bgr, cv::COLOR_RGB2BGR);
        std::vector<uchar> buf;
        if (!cv::imencode(".png", bgr, buf) || buf.empty())
            return FS_EIO;
        uint8_t *p = static_cast<uint8_t *>(fs_vision_host_services.alloc(buf.size()));
        if (!p)
            return FS_ENOMEM;
        std::memcpy(p, buf.data(), buf.size());
        *png = p;
        *len = buf.size();
        return FS_OK;
    }, FS_EIO);
}

extern "C" int fs_cv_resize(const uint8_t *rgb, int width, int height,
                            int out_w, int out_h, uint8_t **out)
{
    return fs_guarded([&] {
        mute_cpp_diagnostics();
        cv::Mat in(height, width, CV_8UC3, const_cast<uint8_t *>(rgb));
        cv::Mat dst;
        cv::resize(in, dst, cv::Size(out_w, out_h), 0, 0, cv::INTER_AREA);
        size_t row = (size_t)out_w * 3;
        uint8_t *p = static_cast<uint8_t *>(fs_vision_host_services.alloc(row * out_h + 1));
        if (!p)
            return FS_ENOMEM;
        for (int y = 0; y < out_h; y++)
            std::memcpy(p + (size_t)y * row, dst.ptr(y), row);
        *out = p;
        return FS_OK;
    }, FS_ENOMEM);
}

struct fs_cascade {
    cv::CascadeClassifier cc;
};

extern "C" int fs_cascade_open(const char *xml_path, fs_cascade **out)
{
    return fs_guarded([&] {
        mute_cpp_diagnostics();
        fs_cascade *c = new fs_cascade;
        if (!c->cc.load(xml_path)) {
            delete c;
            return FS_ENOENT;
        }
        *out = c;
        return FS_OK;
    }, FS_EFORMAT);
}

extern "C" void fs_cascade_close(fs_cascade *c)
{
    delete c;
}

extern "C" int fs_cascade_detect(fs_cascade *c, const uint8_t *rgb,
                                 int width, int height, int min_side,
                                 double (*boxes)[4], int max, int *n)
{
    return fs_guarded([&] {
        cv::Mat in(height, width, CV_8UC3, const_cast<uint8_t *>(rgb)), grey;
        cv::cvtColor(in, grey, cv::COLOR_RGB2GRAY);
        cv::equalizeHist(grey, grey);
        std::vector<cv::Rect> r;
        std::vector<int> votes;
        c->cc.detectMultiScale(grey, r, votes, 1.1, 5, 0,
                               cv::Size(min_side, min_side));
        std::vector<size_t> order(r.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return votes[a] > votes[b];
        });
        int k = 0;
        for (size_t i : order) {
            if (k == max)
                break;
            boxes[k][0] = r[i].x;
            boxes[k][1] = r[i].y;
            boxes[k][2] = r[i].width;
            boxes[k][3] = r[i].height;
            k++;
        }
        *n = k;
        return FS_OK;
    });
}
