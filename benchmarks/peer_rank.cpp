/*
 * peer_rank.cpp - benchmark peer of `facesearch bench rank`: the vector
 * search libraries a user would otherwise pick, on the same vectors, in a
 * process of their own.
 *
 *   faiss    Faiss IndexFlatIP, Debian's libfaiss-dev 1.7.3 (static,
 *            built for generic x86-64), exact inner-product search; its
 *            threads are OpenMP's and OpenBLAS's, set per run.
 *   hnswlib  hnswlib 0.6.2 (libhnswlib-dev, header-only) HierarchicalNSW
 *            over InnerProductSpace, M=16, ef_construction=200, ef=200;
 *            approximate, so the bench reports its recall.
 *
 *   fs-peer-rank --vectors FILE --n N --queries FILE --nq Q --k K
 *                [--engines faiss,hnswlib] [--hnsw-cache PATH]
 *
 * FILE holds N (resp. Q) rows of 128 float32, native byte order, no
 * header; the gallery file is mapped, not read.  The hnswlib index is
 * loaded from --hnsw-cache when the file is there and holds N points,
 * else built on every core (progress lines) and saved there.
 *
 * Then a line protocol, one command per line on stdin, answers on stdout:
 *   (startup)                     progress TEXT ... then: ready
 *   ids ENGINE                    ids ENGINE Q K, then Q lines of K row
 *                                 numbers, best first (-1: none)
 *   run ENGINE BATCH THREADS SECONDS FIRST
 *                                 lat ENGINE CALLS ms ms ...: the wall
 *                                 time of each call of BATCH probes,
 *                                 cycling through the queries from FIRST,
 *                                 one warm-up call, then calls until
 *                                 SECONDS have passed (at least 3)
 *   quit
 * Errors: "fs-peer-rank: ..." on stderr, or "error TEXT" on stdout for a
 * bad command; exit 2 for bad arguments or input, 3 for anything else.
 *
 * Threads: faiss gets omp_set_num_threads and openblas_set_num_threads
 * before each run (the bench starts us with OMP_WAIT_POLICY=PASSIVE:
 * OpenMP's default spinning makes Faiss several times slower on a small
 * shared machine).  hnswlib answers one probe on the calling thread; a
 * batch is split over THREADS threads by queries, as its Python binding
 * does.
 */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>

#include <faiss/IndexFlat.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#include <hnswlib/hnswlib.h>
#pragma GCC diagnostic pop

extern "C" void openblas_set_num_threads(int);

namespace {

constexpr int DIM = 128;
constexpr int EXIT_BADINPUT = 2, EXIT_OTHER = 3;
constexpr int HNSW_M = 16, HNSW_EF_CONSTRUCTION = 200, HNSW_EF = 200;
constexpr int MIN_CALLS = 3;

[[noreturn]] void fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("fs-peer-rank: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(code);
}

double now()
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

long parse_count(const char *opt, const char *s, long max)
{
    char *end;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > max)
        fail(EXIT_BADINPUT, "%s: must be an integer in 1..%ld: '%s'", opt, max,
             s);
    return v;
}

// A read-only mapping of exactly `rows` rows of DIM floats.
const float *map_rows(const char *path, size_t rows)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail(EXIT_BADINPUT, "cannot open '%s': %s", path, std::strerror(errno));
    struct stat st;
    size_t want = rows * DIM * sizeof(float);
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != want)
        fail(EXIT_BADINPUT, "'%s' holds %lld bytes, not %zu rows of %d floats",
             path, (long long)st.st_size, rows, DIM);
    void *p = mmap(nullptr, want, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        fail(EXIT_OTHER, "cannot map '%s': %s", path, std::strerror(errno));
    return static_cast<const float *>(p);
}

struct Peer {
    const float *vec = nullptr, *queries = nullptr;
    size_t n = 0, nq = 0, k = 0;
    std::unique_ptr<faiss::IndexFlatIP> faiss;
    std::unique_ptr<hnswlib::InnerProductSpace> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
    std::vector<float> dist;
    std::vector<faiss::Index::idx_t> labels;

    // Probes [first, first + batch) of the query set, wrapping around,
    // into rows of `ids` (k per probe).
    void search(bool use_faiss, size_t first, size_t batch, int threads,
                std::vector<float> &buf, long *ids)
    {
        buf.resize(batch * DIM);
        for (size_t i = 0; i < batch; i++)
            std::memcpy(&buf[i * DIM], queries + ((first + i) % nq) * DIM,
                        DIM * sizeof(float));
        if (use_faiss) {
            dist.resize(batch * k);
            labels.resize(batch * k);
            faiss->search((faiss::Index::idx_t)batch, buf.data(),
                          (faiss::Index::idx_t)k, dist.data(), labels.data());
            for (size_t i = 0; i < batch * k; i++)
                ids[i] = (long)labels[i];
            return;
        }
        auto one = [&](size_t i) {
            auto pq = hnsw->searchKnn(&buf[i * DIM], k);
            long *out = ids + i * k;
            for (size_t j = 0; j < k; j++)
                out[j] = -1;
            for (size_t j = pq.size(); j-- > 0; pq.pop())
                out[j] = (long)pq.top().second;
        };
        if (batch == 1 || threads <= 1) {
            for (size_t i = 0; i < batch; i++)
                one(i);
            return;
        }
        std::vector<std::thread> team;
        for (int t = 0; t < threads; t++)
            team.emplace_back([&, t] {
                for (size_t i = (size_t)t; i < batch; i += (size_t)threads)
                    one(i);
            });
        for (auto &th : team)
            th.join();
    }
};

void build_hnsw(Peer &p, const char *cache)
{
    p.space = std::make_unique<hnswlib::InnerProductSpace>(DIM);
    struct stat st;
    if (cache && stat(cache, &st) == 0) {
        try {
            auto h = std::make_unique<hnswlib::HierarchicalNSW<float>>(
                p.space.get(), std::string(cache));
            if (h->cur_element_count == p.n) {
                p.hnsw = std::move(h);
                std::printf("progress hnswlib: index loaded from %s\n", cache);
                std::fflush(stdout);
                return;
            }
        } catch (const std::exception &) {
            // a damaged or foreign cache file: build afresh below
        }
    }
    p.hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        p.space.get(), p.n, HNSW_M, HNSW_EF_CONSTRUCTION);
    unsigned nt = std::max(1u, std::thread::hardware_concurrency());
    std::atomic<size_t> next{0}, done{0};
    double t0 = now();
    // hnswlib wants the first point in before concurrent inserts
    p.hnsw->addPoint(p.vec, 0);
    next = 1;
    done = 1;
    std::vector<std::thread> team;
    for (unsigned t = 0; t < nt; t++)
        team.emplace_back([&] {
            for (size_t i; (i = next.fetch_add(1)) < p.n;) {
                p.hnsw->addPoint(p.vec + i * DIM, i);
                done.fetch_add(1);
            }
        });
    size_t shown = 0;
    double last = t0;
    while (done.load() < p.n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        size_t d = done.load();
        double el = now() - t0;
        // a line per percent, at most one every 5 seconds
        if ((d - shown >= p.n / 100 && now() - last >= 5) || d == p.n) {
            last = now();
            double rate = d / std::max(el, 1e-9);
            std::printf("progress hnswlib build (M=%d, ef_construction=%d, "
                        "%u threads): %zu/%zu points, %.0f/s, ETA %.0f s\n",
                        HNSW_M, HNSW_EF_CONSTRUCTION, nt, d, p.n, rate,
                        (p.n - d) / std::max(rate, 1e-9));
            std::fflush(stdout);
            shown = d;
        }
    }
    for (auto &th : team)
        th.join();
    std::printf("progress hnswlib: built in %.1f s\n", now() - t0);
    if (cache) {
        std::string tmp = std::string(cache) + ".tmp";
        p.hnsw->saveIndex(tmp);
        if (std::rename(tmp.c_str(), cache) != 0)
            std::printf("progress hnswlib: cannot keep the index in %s\n",
                        cache);
    }
    std::fflush(stdout);
}

int serve(Peer &p)
{
    char line[256];
    std::vector<float> buf;
    std::vector<long> ids;
    while (std::fgets(line, sizeof line, stdin)) {
        char cmd[16] = "", eng[16] = "";
        long batch = 0, threads = 0, first = 0;
        double seconds = 0;
        int got = std::sscanf(line, "%15s %15s %ld %ld %lf %ld", cmd, eng,
                              &batch, &threads, &seconds, &first);
        bool use_faiss = std::strcmp(eng, "faiss") == 0;
        bool known = (use_faiss && p.faiss) ||
                     (std::strcmp(eng, "hnswlib") == 0 && p.hnsw);
        if (std::strcmp(cmd, "quit") == 0)
            return 0;
        if (got >= 2 && !known) {
            std::printf("error engine '%s' not loaded\n", eng);
        } else if (got == 2 && std::strcmp(cmd, "ids") == 0) {
            omp_set_num_threads((int)std::thread::hardware_concurrency());
            openblas_set_num_threads(
                (int)std::thread::hardware_concurrency());
            ids.assign(p.nq * p.k, -1);
            p.search(use_faiss, 0, p.nq,
                     (int)std::thread::hardware_concurrency(), buf,
                     ids.data());
            std::printf("ids %s %zu %zu\n", eng, p.nq, p.k);
            for (size_t q = 0; q < p.nq; q++)
                for (size_t j = 0; j < p.k; j++)
                    std::printf("%ld%c", ids[q * p.k + j],
                                j + 1 == p.k ? '\n' : ' ');
        } else if (got == 6 && std::strcmp(cmd, "run") == 0 && batch >= 1 &&
                   batch <= 4096 && threads >= 1 && threads <= 1024 &&
                   first >= 0) {
            omp_set_num_threads((int)threads);
            openblas_set_num_threads((int)threads);
            ids.assign((size_t)batch * p.k, -1);
            size_t q = (size_t)first;
            p.search(use_faiss, q, (size_t)batch, (int)threads, buf,
                     ids.data());                               // warm-up
            std::vector<double> lat;
            double start = now();
            while ((int)lat.size() < MIN_CALLS || now() - start < seconds) {
                q += (size_t)batch;
                double t0 = now();
                p.search(use_faiss, q, (size_t)batch, (int)threads, buf,
                         ids.data());
                lat.push_back((now() - t0) * 1e3);
            }
            std::printf("lat %s %zu", eng, lat.size());
            for (double v : lat)
                std::printf(" %.6g", v);
            std::printf("\n");
        } else {
            std::printf("error bad command\n");
        }
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    const char *vectors = nullptr, *queries = nullptr, *cache = nullptr;
    const char *engines = "faiss,hnswlib";
    Peer p;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            fail(EXIT_BADINPUT, "%s needs a value", opt);
        const char *v = argv[++i];
        if (!std::strcmp(opt, "--vectors"))
            vectors = v;
        else if (!std::strcmp(opt, "--queries"))
            queries = v;
        else if (!std::strcmp(opt, "--n"))
            p.n = (size_t)parse_count(opt, v, 1L << 31);
        else if (!std::strcmp(opt, "--nq"))
            p.nq = (size_t)parse_count(opt, v, 1L << 24);
        else if (!std::strcmp(opt, "--k"))
            p.k = (size_t)parse_count(opt, v, 100000);
        else if (!std::strcmp(opt, "--engines"))
            engines = v;
        else if (!std::strcmp(opt, "--hnsw-cache"))
            cache = v;
        else
            fail(EXIT_BADINPUT, "unknown argument '%s'", opt);
    }
    if (!vectors || !queries || !p.n || !p.nq || !p.k)
        fail(EXIT_BADINPUT, "need --vectors, --n, --queries, --nq and --k");
    try {
        p.vec = map_rows(vectors, p.n);
        p.queries = map_rows(queries, p.nq);
        if (std::strstr(engines, "faiss")) {
            p.faiss = std::make_unique<faiss::IndexFlatIP>(DIM);
            p.faiss->add((faiss::Index::idx_t)p.n, p.vec);
            std::printf("progress faiss: IndexFlatIP holds %zu vectors\n",
                        p.n);
            std::fflush(stdout);
        }
        if (std::strstr(engines, "hnswlib")) {
            build_hnsw(p, cache);
            p.hnsw->setEf(HNSW_EF);
        }
        std::printf("ready\n");
        std::fflush(stdout);
        return serve(p);
    } catch (const std::bad_alloc &) {
        fail(EXIT_OTHER, "out of memory");
    } catch (const std::exception &e) {
        fail(EXIT_OTHER, "%s", e.what());
    }
}
