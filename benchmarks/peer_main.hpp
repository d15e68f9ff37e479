// peer_main.hpp - what the dlib peer programs share: their exit codes,
// the one way they fail (an exception carrying the code and message), and
// the main() that turns any failure into "prog: message" and that code.
// Header-only: each peer is a single translation unit.
#ifndef FS_PEER_MAIN_HPP
#define FS_PEER_MAIN_HPP

#include <cstdarg>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

namespace peer {

constexpr int EXIT_BADINPUT = 2;
constexpr int EXIT_OTHER = 3;

struct error {
    int code;
    std::string msg;
};

[[noreturn]] __attribute__((format(printf, 2, 3)))
inline void fail(int code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    throw error{code, buf};
}

// run(argc, argv) with every failure reported as "prog: message", and
// the output it printed checked written.
inline int main(const char *prog, int (*run)(int, char **), int argc,
                char **argv)
{
    try {
        int rc = run(argc, argv);
        if (std::fflush(stdout) != 0 || std::ferror(stdout))
            fail(EXIT_OTHER, "cannot write to stdout");
        return rc;
    } catch (const error &e) {
        std::fprintf(stderr, "%s: %s\n", prog, e.msg.c_str());
        return e.code;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_OTHER;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: %s\n", prog, e.what());
        return EXIT_OTHER;
    } catch (...) {
        std::fprintf(stderr, "%s: unknown error\n", prog);
        return EXIT_OTHER;
    }
}

}  // namespace peer

#endif  // FS_PEER_MAIN_HPP
