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

#include "fs_cli.h"

enum { TAG_HELLO = 1, TAG_QUERY = 2, TAG_REPLY = 3 };
enum { OP_QUIT = 0, OP_RANK = 1 };

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
    float    tmpl[FS_DESC_DIM];
} query;

typedef struct reply {
    int32_t  rc;
    uint32_t n;
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
        rp->rc = s ? fs_shard_rank(s, q.tmpl, q.k, rp->hits, &n, &qd) : rc;
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
    query q = { OP_RANK, (uint32_t)k, { 0 } };
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
    query q = { OP_QUIT, 0, { 0 } };
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
