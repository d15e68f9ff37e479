/*
 * facesearch_mpi.c - facesearch-mpi: `facesearch search` over a gallery's
 * shards (issue 16), one MPI rank per shard and rank 0 for the rest:
 *
 *   mpirun --enable-recovery -n S+1 facesearch-mpi --shards DIR \
 *       search --request R1 PROBE --human-review [the options of search]
 *
 * Rank 0 runs the ordinary command (commands.c: the same options, checks
 * and output as `facesearch search`) on the home gallery, whose gate does
 * intake, detection, embedding and every check, and ranks through the
 * shards (fs_gate_set_ranker): it sends each shard rank the probe's
 * template and k, gathers their top k in the home's subject numbers and
 * rows, and merges them (fs_shard_merge); the gate maps them to subject
 * ids and releases the list with its entry as it releases its own.  Rank
 * r > 0 opens DIR/shard-<r-1> (fs_shard_open: by the key file, no
 * session) and answers; it never sees a request, a case, a session or
 * the probe, only templates and numbers.
 *
 * Faults: a shard that fails to open says so in its first message; one
 * that does not answer within --shard-timeout seconds (hung, its machine
 * gone) is named in the error.  A rank that dies makes mpirun stop the
 * job: SIGTERM to every rank, SIGKILL odls_base_sigkill_timeout seconds
 * later (1 by default).  The shard ranks ignore the SIGTERM and go on
 * answering until then; rank 0 takes it as the end of the job, gives the
 * shards a quarter of a second more and fails the search naming those
 * that did not answer.  Either way the search fails before anything is
 * released and the gate puts the failure on the trail; mpirun's own exit
 * status is then the dead rank's.  Otherwise rank 0 ends a failed command
 * with MPI_Abort, so that mpirun exits with the command's status (1, 2 or
 * 3, as facesearch would), under Open MPI's notice of the abort.  Rank 0 reaches the ranking only after
 * detection and embedding (about a second): `mpirun --mca
 * odls_base_sigkill_timeout 10` leaves it the time to record a failure
 * that began earlier, which SIGKILL otherwise cuts short (nothing
 * released either way).  (Open MPI's --enable-recovery would keep rank 0
 * alive instead, but mpirun then exits 0 whatever rank 0 says.)  The
 * template goes to each rank by a point-to-point send rather than
 * MPI_Bcast, since a collective with a dead member can block for ever;
 * every wait polls against a deadline for the same reason.
 *
 * The messages are C structs sent as bytes: the ranks are built from one
 * source for one architecture, as an MPI job's binaries are.  MPI stays
 * here: libfacesearch.a and the other commands do not link it.
 */
#include <mpi.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../benchmarks/fs_bench.h"
#include "fs_cli.h"

enum { TAG_HELLO = 1, TAG_QUERY = 2, TAG_REPLY = 3 };
enum { OP_QUIT = 0, OP_RANK = 1, OP_PING = 2 };

#define MSG_MAX 512

/* A shard rank's first word: its shard, or why it could not open it. */
typedef struct hello {
    int32_t  rc;
    uint32_t index, count;
    char     set[33];
    uint64_t templates, subjects;
    char     msg[MSG_MAX];
} hello;

typedef struct query {
    uint32_t op, k;
    uint32_t mode;               /* bench: 0 exact, 1 compressed */
    float    tmpl[FS_DESC_DIM];
} query;

typedef struct reply {
    int32_t  rc;
    uint32_t n;
    double   ms;                 /* the shard's ranking alone */
    char     msg[MSG_MAX];
    fs_hit   hits[FS_RANK_MAX_K];
} reply;

typedef struct mpi_opts {
    const char *shards;          /* DIR */
    const char *key_file;        /* the command's --key-file, or NULL */
    double      timeout;         /* seconds a shard has to answer */
    int         threads;         /* per shard rank; 0: every core */
    int         first;           /* argv index of the command */
} mpi_opts;

/* Rank 0: mpirun is stopping the job (a rank died, or a signal). */
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mpirun [--mca odls_base_sigkill_timeout 10] -n S+1 "
            "facesearch-mpi "
            "--shards DIR [--shard-timeout SEC] [--shard-threads T]\n"
            "         search --request ID PROBE_IMAGE --human-review "
            "[the options of facesearch search]\n\n"
            "The gated search over the S shards `facesearch gallery shard "
            "--into S DIR` made\nof the gallery: rank 0 runs the search on "
            "the gallery, rank r ranks DIR/shard-<r-1>.\n"
            "  --shards DIR         the shards' directory (required)\n"
            "  --shard-timeout SEC  how long a shard may take to open or to "
            "answer before the\n                       search fails naming "
            "it (default 120)\n"
            "  --shard-threads T    threads of each shard rank (default: "
            "every core)\n");
}

/* Our options before the command; the command's own --key-file, which
 * the shard ranks need too. */
static int parse(int argc, char **argv, mpi_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = 120;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--help") == 0)
            return -1;
        if (i + 1 >= argc)
            return EXIT_USAGE;
        char *end;
        if (strcmp(argv[i], "--shards") == 0) {
            o->shards = argv[i + 1];
        } else if (strcmp(argv[i], "--shard-timeout") == 0) {
            o->timeout = strtod(argv[i + 1], &end);
            if (*end || !(o->timeout > 0 && o->timeout <= 86400))
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "--shard-threads") == 0) {
            long t = strtol(argv[i + 1], &end, 10);
            if (*end || t < 0 || t > 1024)
                return EXIT_USAGE;
            o->threads = (int)t;
        } else {
            return EXIT_USAGE;
        }
    }
    o->first = i;
    for (int j = i; j + 1 < argc; j++)
        if (strcmp(argv[j], "--key-file") == 0)
            o->key_file = argv[j + 1];
    return o->shards && *o->shards ? EXIT_OK : EXIT_USAGE;
}

/* ---- a shard rank ---------------------------------------------------------------- */

static int shard_main(int rank, const mpi_opts *o)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/shard-%d", o->shards, rank - 1);
    hello h;
    memset(&h, 0, sizeof h);
    fs_detail d = { "" };
    fs_shard *s = NULL;
    int rc = fs_shard_open(dir, o->key_file, o->threads, &s, &d);
    fs_shard_about ab;
    if (rc == FS_OK) {
        fs_shard_info(s, &ab);
        h.index = ab.index;
        h.count = ab.count;
        memcpy(h.set, ab.set, sizeof h.set);
        h.templates = ab.templates;
        h.subjects = ab.subjects;
    }
    h.rc = rc;
    snprintf(h.msg, sizeof h.msg, "%s", d.msg);
    MPI_Send(&h, sizeof h, MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD);
    reply *rp = malloc(sizeof *rp);
    query q;
    while (rp && MPI_Recv(&q, sizeof q, MPI_BYTE, 0, TAG_QUERY,
                          MPI_COMM_WORLD, MPI_STATUS_IGNORE) == MPI_SUCCESS &&
           q.op == OP_RANK) {
        size_t n = 0;
        fs_detail qd = { "" };
        double t0 = now();
        rp->rc = s ? fs_shard_rank(s, q.tmpl, q.k, rp->hits, &n, &qd) : rc;
        rp->ms = (now() - t0) * 1e3;
        rp->n = (uint32_t)n;
        snprintf(rp->msg, sizeof rp->msg, "%s", s ? qd.msg : d.msg);
        fs_wipe(&q, sizeof q);
        MPI_Send(rp, (int)(offsetof(reply, hits) + n * sizeof rp->hits[0]),
                 MPI_BYTE, 0, TAG_REPLY, MPI_COMM_WORLD);
    }
    fs_shard_close(s);
    free(rp);
    signal(SIGTERM, SIG_DFL);       /* rank 0's abort may follow: go then */
    return EXIT_OK;
}

/* ---- rank 0 ---------------------------------------------------------------------- */

typedef struct ranks {
    const mpi_opts *o;
    int      size;
    int      greeted;              /* every hello in */
    int      broken;               /* a shard rank failed to answer */
    int     *gone;                 /* per rank: no answer, not to wait on */
    hello   *hellos;               /* [rank] */
    reply   *replies;              /* [rank] */
} ranks;

/* Waits for the requests (one per shard rank, [r - 1]) until the deadline;
 * each rank that did not answer is marked gone.  The first of them, or
 * FS_OK. */
static int wait_all(ranks *R, MPI_Request *req, int *silent)
{
    double end = now() + R->o->timeout;
    int left = R->size - 1, noticed = 0;
    *silent = 0;
    while (left > 0 && now() < end) {
        if (stopping && !noticed) {        /* what answers, answers soon */
            noticed = 1;
            end = now() + 0.25 < end ? now() + 0.25 : end;
        }
        left = 0;
        for (int r = 1; r < R->size; r++) {
            int done = 1;
            if (req[r - 1] != MPI_REQUEST_NULL)
                MPI_Test(&req[r - 1], &done, MPI_STATUS_IGNORE);
            left += !done;
        }
        if (left > 0) {
            struct timespec nap = { 0, 100000 };    /* 0.1 ms */
            nanosleep(&nap, NULL);
        }
    }
    for (int r = 1; r < R->size; r++)
        if (req[r - 1] != MPI_REQUEST_NULL) {
            R->gone[r] = 1;
            R->broken = 1;
            if (!*silent)
                *silent = r;
        }
    return *silent ? FS_EIO : FS_OK;
}

static int silent_fail(const ranks *R, int r, const char *what,
                       fs_detail *d)
{
    if (stopping)
        return fs_fail(d, FS_EIO, "shard %d (%s/shard-%d, MPI rank %d) did "
                       "not %s: its rank died or was killed, and mpirun is "
                       "stopping the job; nothing is released", r - 1,
                       R->o->shards, r - 1, r, what);
    return fs_fail(d, FS_EIO, "shard %d (%s/shard-%d, MPI rank %d) did not "
                   "%s within %g s: its rank died, hangs or cannot be "
                   "reached; nothing is released", r - 1, R->o->shards,
                   r - 1, r, what, R->o->timeout);
}

/* Every shard answered, but the job is ending: nothing goes out. */
static int stopped(fs_detail *d)
{
    return fs_fail(d, FS_EIO, "mpirun is stopping the job (a rank died, or "
                   "a signal): nothing is released");
}

/* Every shard rank's first word, held to the gallery's set. */
static int greet(ranks *R, const fs_shard_set *set, fs_detail *d)
{
    MPI_Request req[FS_SHARDS_MAX];
    for (int r = 1; r < R->size; r++)
        MPI_Irecv(&R->hellos[r], sizeof R->hellos[r], MPI_BYTE, r, TAG_HELLO,
                  MPI_COMM_WORLD, &req[r - 1]);
    int silent;
    if (wait_all(R, req, &silent) != FS_OK)
        return silent_fail(R, silent, "open its shard", d);
    for (int r = 1; r < R->size; r++) {
        const hello *h = &R->hellos[r];
        if (h->rc != FS_OK)        /* as opening it here would fail */
            return fs_fail(d, h->rc, "shard %d (%s/shard-%d) did not open: "
                           "%.400s", r - 1, R->o->shards, r - 1, h->msg);
        if (strcmp(h->set, set->id) || h->index != (unsigned)r - 1 ||
            h->count != set->count)
            return fs_fail(d, FS_EFORMAT, "shard %d (%s/shard-%d) is "
                           "shard %u of set %.32s, not shard %d of this "
                           "gallery's set %s", r - 1, R->o->shards, r - 1,
                           h->index, h->set, r - 1, set->id);
        /* enrolment brings each shard up before the home records the
         * set current: a shard short of it missed that (or is an old
         * copy) and would leave its new subjects off the list */
        if (h->templates != set->templates || h->subjects != set->subjects)
            return fs_fail(d, FS_EFORMAT, "shard %d (%s/shard-%d) is in "
                           "step with the gallery at %llu templates, %llu "
                           "subjects, not at its %llu and %llu: bring it up "
                           "with 'facesearch gallery shard --sync'", r - 1,
                           R->o->shards, r - 1,
                           (unsigned long long)h->templates,
                           (unsigned long long)h->subjects,
                           (unsigned long long)set->templates,
                           (unsigned long long)set->subjects);
    }
    R->greeted = 1;
    return FS_OK;
}

/* The gate's ranker: the template to every shard rank, their lists
 * merged. */
static int rank_shards(void *ctx, const fs_shard_set *set,
                       const float tmpl[FS_DESC_DIM], size_t k, fs_hit *hits,
                       size_t *n, fs_detail *d)
{
    ranks *R = ctx;
    *n = 0;
    if (R->broken)
        return fs_fail(d, FS_EIO, "a shard rank stopped answering earlier "
                       "in this run");
    if ((unsigned)R->size - 1 != set->count)
        return fs_fail(d, FS_EINVAL, "the gallery is in %u shards (%s) but "
                       "this run has %d shard ranks: start it with mpirun "
                       "-n %u", set->count, set->dir, R->size - 1,
                       set->count + 1);
    int rc = R->greeted ? FS_OK : greet(R, set, d);
    if (rc != FS_OK)
        return rc;
    query q = { OP_RANK, (uint32_t)k, 0, { 0 } };
    memcpy(q.tmpl, tmpl, sizeof q.tmpl);
    MPI_Request req[FS_SHARDS_MAX], sent[FS_SHARDS_MAX];
    for (int r = 1; r < R->size; r++) {
        MPI_Irecv(&R->replies[r], sizeof R->replies[r], MPI_BYTE, r,
                  TAG_REPLY, MPI_COMM_WORLD, &req[r - 1]);
        MPI_Isend(&q, sizeof q, MPI_BYTE, r, TAG_QUERY, MPI_COMM_WORLD,
                  &sent[r - 1]);
    }
    int silent;
    rc = wait_all(R, req, &silent);
    for (int r = 1; r < R->size; r++)
        if (R->gone[r])
            MPI_Request_free(&sent[r - 1]);
        else
            MPI_Wait(&sent[r - 1], MPI_STATUS_IGNORE);
    fs_wipe(&q, sizeof q);
    if (rc != FS_OK)
        return silent_fail(R, silent, "answer", d);
    if (stopping)
        return stopped(d);
    const fs_hit *lists[FS_SHARDS_MAX];
    size_t counts[FS_SHARDS_MAX];
    for (int r = 1; r < R->size; r++) {
        const reply *p = &R->replies[r];
        if (p->rc != FS_OK)
            return fs_fail(d, p->rc, "shard %d (%s/shard-%d) failed to "
                           "rank: %.400s", r - 1, R->o->shards, r - 1,
                           p->msg);
        if (p->n > k)
            return fs_fail(d, FS_EINTERNAL, "shard %d sent %u hits for k "
                           "%zu", r - 1, p->n, k);
        lists[r - 1] = p->hits;
        counts[r - 1] = p->n;
    }
    return fs_shard_merge(lists, counts, (size_t)R->size - 1, k, hits, n);
}

/* The shard ranks told to stop; those gone are not waited on. */
static void dismiss(const ranks *R)
{
    query q = { OP_QUIT, 0, 0, { 0 } };
    for (int r = 1; r < R->size; r++) {
        MPI_Request s;
        if (R->gone[r])
            continue;
        MPI_Isend(&q, sizeof q, MPI_BYTE, r, TAG_QUERY, MPI_COMM_WORLD, &s);
        MPI_Wait(&s, MPI_STATUS_IGNORE);
    }
}

static int home_main(int argc, char **argv, int size, const mpi_opts *o)
{
    ranks R = { o, size, 0, 0, calloc((size_t)size, sizeof(int)),
                calloc((size_t)size, sizeof(hello)),
                calloc((size_t)size, sizeof(reply)) };
    int st;
    if (!R.gone || !R.hellos || !R.replies) {
        fs_error_msg("out of memory");
        st = EXIT_INTERNAL;
    } else if (size < 2 || size - 1 > FS_SHARDS_MAX) {
        fs_error_msg("facesearch-mpi runs one rank per shard beside rank "
                     "0: start it with mpirun -n S+1 (S from 1 to %d), "
                     "not %d rank%s", FS_SHARDS_MAX, size,
                     size == 1 ? "" : "s");
        st = EXIT_USAGE;
    } else if (o->first >= argc || strcmp(argv[o->first], "search") != 0) {
        fs_error_msg("facesearch-mpi runs 'search' only; the other "
                     "commands are facesearch's");
        st = EXIT_USAGE;
    } else {
        /* the command line as facesearch would have it */
        int n = argc - o->first + 1;
        char **av = malloc(((size_t)n + 1) * sizeof *av);
        fs_gate_ranker gr = { rank_shards, &R };
        if (av) {
            av[0] = argv[0];
            memcpy(av + 1, argv + o->first, ((size_t)n - 1) * sizeof *av);
            av[n] = NULL;
            fs_cli_ranker = &gr;
            st = fs_cli_main(n, av, NULL);
            fs_cli_ranker = NULL;
        } else {
            fs_error_msg("out of memory");
            st = EXIT_INTERNAL;
        }
        free(av);
    }
    if (R.gone)
        dismiss(&R);
    free(R.gone);
    free(R.hellos);
    free(R.replies);
    fflush(stdout);
    fflush(stderr);
    /* mpirun exits with rank 0's status only through an abort (a plain
     * exit other than 0 costs it two kill timeouts and, with a rank gone,
     * MPI_Finalize would wait for that rank) */
    if (st != EXIT_OK)
        MPI_Abort(MPI_COMM_WORLD, st);
    return st;
}

/* ---- bench rank --mpi ------------------------------------------------------------ */

/* `facesearch bench rank --mpi S` starts, under mpirun -n S+1:
 *
 *   facesearch-mpi bench-rank --gallery N --queries Q --k K --seed SEED
 *       --rounds R [--json]
 *
 * bench rank's N random unit vectors, every S-th row (from r - 1) on
 * shard rank r, each answering as a shard rank answers a search (one
 * thread, exact and compressed rankers made once), and the whole on rank
 * 0 as the unsharded reference.  Rank 0 times, per probe: the sends of
 * the template (a point-to-point send to each rank, as the search makes
 * it), the wait for the S replies, the merge; each reply carries its
 * shard's ranking time, so what the messages cost is the rest.  It
 * checks the merged list against the unsharded one (exact: identical),
 * and measures the bare round trip (a query out, k hits back, no
 * ranking) that the scale model in benchmarks/README.md takes as its
 * MPI latency. */

typedef struct bench_opts {
    long n, queries, k, seed, rounds, trips;
    int  json;
} bench_opts;

static int bench_parse(int argc, char **argv, bench_opts *b)
{
    *b = (bench_opts){ 1000000, 50, 50, 1, 3, 2000, 0 };
    static const char *const name[] = { "--gallery", "--queries", "--k",
                                         "--seed", "--rounds", "--trips" };
    static const long lo[] = { 1, 1, 1, 0, 1, 1 };
    static const long hi[] = { 100000000, 100000, FS_RANK_MAX_K,
                               1L << 62, 100, 1000000 };
    long *v[] = { &b->n, &b->queries, &b->k, &b->seed, &b->rounds,
                  &b->trips };
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            b->json = 1;
            continue;
        }
        size_t j = 0;
        while (j < 6 && strcmp(argv[i], name[j]))
            j++;
        char *end;
        if (j == 6 || i + 1 >= argc)
            return EXIT_USAGE;
        *v[j] = strtol(argv[++i], &end, 10);
        if (*end || *v[j] < lo[j] || *v[j] > hi[j])
            return EXIT_USAGE;
    }
    return EXIT_OK;
}

static const char *const mode_name[2] = { "exact", "compressed" };

static int bench_shard(int rank, int size, const bench_opts *b)
{
    fs_templates t;
    uint32_t *rows = NULL;
    fs_detail d = { "" };
    fs_ranker *rk[2] = { NULL, NULL };
    int rc = fs_bench_rank_part((uint64_t)b->seed, (size_t)b->n,
                                (unsigned)rank - 1, (unsigned)size - 1, &t,
                                &rows, &d);
    for (int m = 0; rc == FS_OK && t.n && m < 2; m++) {
        fs_rank_options ro = { .mode = m ? FS_RANK_COMPRESSED
                                         : FS_RANK_EXACT, .isa = -1 };
        rc = fs_ranker_create(&t, &ro, &rk[m], &d);
    }
    hello h;
    memset(&h, 0, sizeof h);
    h.rc = rc;
    h.index = (uint32_t)rank - 1;
    h.count = (uint32_t)size - 1;
    h.templates = t.n;
    snprintf(h.msg, sizeof h.msg, "%s", d.msg);
    MPI_Send(&h, sizeof h, MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD);
    reply *rp = calloc(1, sizeof *rp);
    query q;
    while (rp && MPI_Recv(&q, sizeof q, MPI_BYTE, 0, TAG_QUERY,
                          MPI_COMM_WORLD, MPI_STATUS_IGNORE) == MPI_SUCCESS &&
           q.op != OP_QUIT) {
        size_t n = 0;
        double t0 = now();
        rp->rc = FS_OK;
        if (q.op == OP_RANK && q.mode < 2 && rk[q.mode]) {
            rp->rc = fs_rank_topk(rk[q.mode], q.tmpl, 1, q.k, rp->hits, &n);
            for (size_t i = 0; i < n; i++)
                rp->hits[i].row = rows[rp->hits[i].row];
        } else if (q.op == OP_PING) {   /* a reply of the same size */
            n = q.k <= FS_RANK_MAX_K ? q.k : 0;
        }
        rp->ms = (now() - t0) * 1e3;
        rp->n = (uint32_t)n;
        MPI_Send(rp, (int)(offsetof(reply, hits) + n * sizeof rp->hits[0]),
                 MPI_BYTE, 0, TAG_REPLY, MPI_COMM_WORLD);
    }
    for (int m = 0; m < 2; m++)
        fs_ranker_free(rk[m]);
    fs_bench_rank_part_free(&t, rows);
    free(rp);
    return EXIT_OK;
}

/* One probe out to every shard rank and their replies in (op PING: no
 * ranking); the times of the sends and of the whole, ms. */
static void bench_trip(int size, uint32_t op, uint32_t mode, uint32_t k,
                       const float *tmpl, reply *replies, double *send_ms,
                       double *all_ms)
{
    query q = { op, k, mode, { 0 } };
    if (tmpl)
        memcpy(q.tmpl, tmpl, sizeof q.tmpl);
    MPI_Request rq[FS_SHARDS_MAX], sq[FS_SHARDS_MAX];
    double t0 = now();
    for (int r = 1; r < size; r++) {
        MPI_Irecv(&replies[r], sizeof replies[r], MPI_BYTE, r, TAG_REPLY,
                  MPI_COMM_WORLD, &rq[r - 1]);
        MPI_Isend(&q, sizeof q, MPI_BYTE, r, TAG_QUERY, MPI_COMM_WORLD,
                  &sq[r - 1]);
    }
    MPI_Waitall(size - 1, sq, MPI_STATUSES_IGNORE);
    *send_ms = (now() - t0) * 1e3;
    MPI_Waitall(size - 1, rq, MPI_STATUSES_IGNORE);
    *all_ms = (now() - t0) * 1e3;
}

typedef struct bench_mode {
    double unsharded, sharded, send, wait, shard, merge, messages, share;
    long   identical, lists;
} bench_mode;

static int bench_home(int size, const bench_opts *b)
{
    int S = size - 1;
    size_t k = (size_t)b->k, nq = (size_t)b->queries;
    size_t nt = nq * (size_t)b->rounds;
    fs_templates t;
    uint32_t *rows = NULL;
    fs_detail d = { "" };
    fs_ranker *rk[2] = { NULL, NULL };
    float *probes = malloc(nq * FS_DESC_DIM * sizeof *probes);
    reply *replies = calloc((size_t)size, sizeof *replies);
    fs_hit *want = malloc(k * sizeof *want), *got = malloc(k * sizeof *got);
    double *v[7];
    for (int i = 0; i < 7; i++)
        v[i] = malloc((nt > (size_t)b->trips ? nt : (size_t)b->trips) *
                      sizeof(double));
    int rc = probes && replies && want && got && v[6] ? FS_OK
             : fs_fail(&d, FS_ENOMEM, "out of memory");
    if (rc == FS_OK)
        rc = fs_bench_rank_part((uint64_t)b->seed, (size_t)b->n, 0, 1, &t,
                                &rows, &d);
    for (int m = 0; rc == FS_OK && m < 2; m++) {
        fs_rank_options ro = { .mode = m ? FS_RANK_COMPRESSED
                                         : FS_RANK_EXACT, .isa = -1 };
        rc = fs_ranker_create(&t, &ro, &rk[m], &d);
    }
    if (rc == FS_OK)
        fs_bench_rank_probes((uint64_t)b->seed, (int)nq, probes);
    /* every shard rank's first word */
    for (int r = 1; r < size; r++) {
        hello h;
        MPI_Recv(&h, sizeof h, MPI_BYTE, r, TAG_HELLO, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        if (rc == FS_OK && h.rc != FS_OK)
            rc = fs_fail(&d, h.rc, "shard rank %d failed: %.400s", r, h.msg);
    }
    /* the bare round trip: what the model takes as MPI's latency */
    double send_ms, all_ms, trip_med = 0, trip_p99 = 0;
    for (long i = 0; rc == FS_OK && i < b->trips; i++) {
        bench_trip(size, OP_PING, 0, (uint32_t)k, NULL, replies, &send_ms,
                   &all_ms);
        v[0][i] = all_ms * 1e3;
    }
    if (rc == FS_OK) {
        trip_med = fs_bench_quantile(v[0], (size_t)b->trips, 0.5);
        trip_p99 = fs_bench_quantile(v[0], (size_t)b->trips, 0.99);
    }
    bench_mode res[2];
    memset(res, 0, sizeof res);
    for (int m = 0; rc == FS_OK && m < 2; m++) {
        bench_mode *x = &res[m];
        size_t nw, ng;
        /* first calls apart: the exact ranker's second builds its copy */
        for (int w = 0; w < 2; w++) {
            fs_rank_topk(rk[m], probes, 1, k, want, &nw);
            bench_trip(size, OP_RANK, (uint32_t)m, (uint32_t)k, probes,
                       replies, &send_ms, &all_ms);
        }
        size_t at = 0;
        for (long round = 0; rc == FS_OK && round < b->rounds; round++)
            for (size_t q = 0; rc == FS_OK && q < nq; q++, at++) {
                const float *p = probes + q * FS_DESC_DIM;
                double t0 = now();
                rc = fs_rank_topk(rk[m], p, 1, k, want, &nw);
                v[0][at] = (now() - t0) * 1e3;
                t0 = now();
                bench_trip(size, OP_RANK, (uint32_t)m, (uint32_t)k, p,
                           replies, &send_ms, &all_ms);
                const fs_hit *lists[FS_SHARDS_MAX];
                size_t counts[FS_SHARDS_MAX];
                double slowest = 0;
                for (int r = 1; r < size; r++) {
                    if (replies[r].rc != FS_OK && rc == FS_OK)
                        rc = fs_fail(&d, replies[r].rc, "shard rank %d "
                                     "failed to rank", r);
                    lists[r - 1] = replies[r].hits;
                    counts[r - 1] = replies[r].n;
                    slowest = replies[r].ms > slowest ? replies[r].ms
                                                      : slowest;
                }
                double t1 = now();
                if (rc == FS_OK)
                    rc = fs_shard_merge(lists, counts, (size_t)S, k, got,
                                        &ng);
                double merge = (now() - t1) * 1e3;
                double total = (now() - t0) * 1e3;
                v[1][at] = total;
                v[2][at] = send_ms;
                v[3][at] = all_ms - send_ms;
                v[4][at] = slowest;
                v[5][at] = merge;
                v[6][at] = total - slowest - merge;
                int same = ng == nw;
                for (size_t i = 0; same && i < ng; i++)
                    same = got[i].subject == want[i].subject &&
                           got[i].row == want[i].row &&
                           got[i].score == want[i].score;
                x->identical += same;
                x->lists++;
            }
        double *f[] = { &x->unsharded, &x->sharded, &x->send, &x->wait,
                        &x->shard, &x->merge, &x->messages };
        for (int i = 0; rc == FS_OK && i < 7; i++)
            *f[i] = fs_bench_quantile(v[i], nt, 0.5);
        x->share = x->sharded > 0 ? (x->messages + x->merge) / x->sharded
                                  : 0;
    }
    query quit = { OP_QUIT, 0, 0, { 0 } };
    for (int r = 1; r < size; r++)
        MPI_Send(&quit, sizeof quit, MPI_BYTE, r, TAG_QUERY, MPI_COMM_WORLD);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (rc == FS_OK && b->json) {
        printf("{\"bench\":\"rank-mpi\",\"n\":%ld,\"dim\":%d,\"k\":%ld,"
               "\"shards\":%d,\"ranks\":%d,\"cores\":%ld,\"threads_per_rank"
               "\":1,\"queries\":%ld,\"rounds\":%ld,\"query_bytes\":%zu,"
               "\"reply_bytes\":%zu,\"trip_us\":{\"median\":%.1f,\"p99\":"
               "%.1f,\"trips\":%ld},\"modes\":[", b->n, FS_DESC_DIM, b->k,
               S, size, cores, b->queries, b->rounds, sizeof(query),
               offsetof(reply, hits) + k * sizeof(fs_hit), trip_med,
               trip_p99, b->trips);
        for (int m = 0; m < 2; m++)
            printf("%s{\"mode\":\"%s\",\"unsharded_ms\":%.3f,\"sharded_ms\":"
                   "%.3f,\"send_ms\":%.4f,\"wait_ms\":%.3f,"
                   "\"slowest_shard_ms\":%.3f,\"merge_ms\":%.4f,"
                   "\"messages_ms\":%.3f,\"merge_share\":%.4f,"
                   "\"identical_lists\":%ld,\"lists\":%ld}", m ? "," : "",
                   mode_name[m], res[m].unsharded, res[m].sharded,
                   res[m].send, res[m].wait, res[m].shard, res[m].merge,
                   res[m].messages, res[m].share, res[m].identical,
                   res[m].lists);
        printf("]}\n");
    } else if (rc == FS_OK) {
        printf("bench rank --mpi: %ld random unit vectors of %d dimensions, "
               "k=%ld, in %d shard%s\n  (mpirun: %d ranks, one thread each, "
               "on %ld cores%s; the machine may be shared:\n  compare only "
               "figures of this run), %ld probes x %ld rounds, medians\n\n",
               b->n, FS_DESC_DIM, b->k, S, S == 1 ? "" : "s", size, cores,
               size > cores ? ", oversubscribed" : "", b->queries,
               b->rounds);
        printf("MPI round trip, the query (%zu B) to %d shard rank%s and "
               "%ld hits back (%zu B each),\n  no ranking: median %.1f us, "
               "p99 %.1f us (%ld trips)\n\n", sizeof(query), S,
               S == 1 ? "" : "s", b->k,
               offsetof(reply, hits) + k * sizeof(fs_hit), trip_med,
               trip_p99, b->trips);
        printf("%-11s %11s %10s %9s %12s %10s %10s %8s %10s\n", "mode",
               "unsharded", "sharded", "send", "slowest", "messages",
               "merge", "share", "identical");
        printf("%-11s %11s %10s %9s %12s %10s %10s %8s %10s\n", "", "ms",
               "ms", "ms", "shard ms", "ms", "ms", "", "lists");
        for (int m = 0; m < 2; m++)
            printf("%-11s %11.2f %10.2f %9.4f %12.2f %10.3f %10.4f %7.1f%% "
                   "%5ld/%ld\n", mode_name[m], res[m].unsharded,
                   res[m].sharded, res[m].send, res[m].shard,
                   res[m].messages, res[m].merge, 100 * res[m].share,
                   res[m].identical, res[m].lists);
        printf("\nsharded = send + wait for the replies + merge; messages = "
               "sharded - slowest shard's ranking - merge\n(the broadcast "
               "and the gather, with the waits of ranks sharing cores); "
               "share = (messages + merge) / sharded.\n");
    }
    for (int m = 0; m < 2; m++)
        fs_ranker_free(rk[m]);
    if (rows)
        fs_bench_rank_part_free(&t, rows);
    for (int i = 0; i < 7; i++)
        free(v[i]);
    free(probes);
    free(replies);
    free(want);
    free(got);
    if (rc != FS_OK) {
        fs_error_msg("bench rank --mpi: %s", d.msg[0] ? d.msg
                                                      : fs_strerror(rc));
        return fs_exit_status(rc);
    }
    /* the compressed mode may lose a subject; the exact one may not */
    if (res[0].identical != res[0].lists) {
        fs_error_msg("bench rank --mpi: %ld of %ld exact sharded lists "
                     "differ from the unsharded ones", res[0].lists -
                     res[0].identical, res[0].lists);
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

static int bench_main(int argc, char **argv, int rank, int size)
{
    bench_opts b;
    if (bench_parse(argc, argv, &b) != EXIT_OK || size < 2 ||
        size - 1 > FS_SHARDS_MAX) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -n S+1 facesearch-mpi bench-rank "
                    "[--gallery N] [--queries Q] [--k K] [--seed SEED] "
                    "[--rounds R] [--trips T] [--json]   (S 1..%d; "
                    "`facesearch bench rank --mpi S` starts it)\n",
                    FS_SHARDS_MAX);
        return EXIT_USAGE;
    }
    return rank == 0 ? bench_home(size, &b) : bench_shard(rank, size, &b);
}

int main(int argc, char **argv)
{
    int provided, rank = 0, size = 1;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) !=
        MPI_SUCCESS) {
        fprintf(stderr, "facesearch-mpi: MPI did not start\n");
        return EXIT_INTERNAL;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 1 && strcmp(argv[1], "bench-rank") == 0) {
        int st = bench_main(argc, argv, rank, size);
        fflush(stdout);
        if (st != EXIT_OK && rank == 0)
            MPI_Abort(MPI_COMM_WORLD, st);
        MPI_Finalize();
        return st;
    }
    mpi_opts o;
    int st = parse(argc, argv, &o);
    if (st != EXIT_OK) {
        if (rank == 0)
            usage(st < 0 ? stdout : stderr);
        MPI_Finalize();
        return st < 0 ? EXIT_OK : EXIT_USAGE;
    }
    /* see the head: rank 0 records the end, the shards answer on */
    if (rank == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
    } else {
        signal(SIGTERM, SIG_IGN);
    }
    st = rank == 0 ? home_main(argc, argv, size, &o) : shard_main(rank, &o);
    MPI_Finalize();
    return st;
}
