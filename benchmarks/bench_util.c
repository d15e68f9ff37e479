/*
 * bench_util.c - the helpers of fs_bench_int.h.
 */
#include "fs_bench_int.h"
#include "fs_bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../engine/base/fs_error.h"
#include "../engine/base/fs_file.h"
#include "../engine/base/fs_json.h"
#include "../engine/base/fs_pool.h"

extern char **environ;

double fs_bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fs_bench_median(double *v, int n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double fs_bench_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)n + 0.999999);
    return v[i == 0 ? 0 : i > n ? n - 1 : i - 1];
}

int fs_bench_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return FS_EIO;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? FS_OK : FS_EIO;
}

void fs_bench_last_line(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n')
            snprintf(buf, len, "%s", line);
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

/* environ with the variables named in set replaced by set's values; the
 * array is malloc'd, its strings are borrowed. */
static char **child_env(const char *const *set)
{
    size_t n = 0, ns = 0;
    while (environ[n])
        n++;
    while (set && set[ns])
        ns++;
    char **env = calloc(n + ns + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < ns && !replaced; j++) {
            size_t len = strcspn(set[j], "=") + 1;
            replaced = strncmp(environ[i], set[j], len) == 0;
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < ns; j++)
        env[k++] = (char *)set[j];
    return env;
}

/* Spawns argv with stdin from in_fd (-1: /dev/null), stdout to out_fd,
 * stderr to errfile; the child closes close_fd. */
static int spawn(char **argv, const char *const *env_set, const char *errfile,
                 int in_fd, int out_fd, int close_a, int close_b, pid_t *pid)
{
    char **env = child_env(env_set);
    if (!env)
        return FS_ENOMEM;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                         O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errfile,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (close_a >= 0)
        posix_spawn_file_actions_addclose(&fa, close_a);
    if (close_b >= 0)
        posix_spawn_file_actions_addclose(&fa, close_b);
    int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    return rc == 0 ? FS_OK : FS_ENOENT;
}

static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return FS_EIO;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? FS_OK : FS_EIO;
}

int fs_bench_spawn_capture(char **argv, const char *const *env_set,
                           const char *errfile, char *out, size_t outlen)
{
    int fds[2];
    if (pipe(fds) != 0)
        return FS_EIO;
    pid_t pid;
    int rc = spawn(argv, env_set, errfile, -1, fds[1], fds[0], -1, &pid);
    close(fds[1]);
    if (rc != FS_OK) {
        close(fds[0]);
        return rc;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fds[0], out + got, outlen - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == outlen - 1)
            break;
    }
    out[got] = 0;
    close(fds[0]);
    return reap(pid);
}

int fs_bench_run_timed(char **argv, const char *const *env_set,
                       const char *errfile, double *ms)
{
    int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (out < 0)
        return FS_EIO;
    pid_t pid;
    double t0 = fs_bench_now();
    int rc = spawn(argv, env_set, errfile, -1, out, -1, -1, &pid);
    if (rc == FS_OK)
        rc = reap(pid);
    *ms = (fs_bench_now() - t0) * 1e3;
    close(out);
    return rc;
}

int fs_bench_daemon_start(char **argv, const char *logfile, pid_t *pid)
{
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(logfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t me = getpid();
    pid_t p = in >= 0 && log >= 0 ? fork() : -1;
    if (p == 0) {
        /* async-signal-safe calls only: we may have threads */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != me ||
            dup2(in, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
            dup2(log, STDERR_FILENO) < 0)
            _exit(127);
        close_range(3, ~0u, 0);     /* none of our files: the gallery's */
        execv(argv[0], argv);
        _exit(127);
    }
    if (in >= 0)
        close(in);
    if (log >= 0)
        close(log);
    if (p < 0)
        return FS_EIO;
    *pid = p;
    return FS_OK;
}

int fs_bench_daemon_alive(pid_t pid)
{
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR)
        ;
    return r == 0;
}

void fs_bench_daemon_stop(pid_t pid)
{
    if (kill(pid, SIGTERM) != 0)
        return;
    for (int i = 0; i < 500; i++) {          /* 5 s: it stops within 1 */
        if (!fs_bench_daemon_alive(pid))
            return;
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int fs_bench_child_start(char **argv, const char *const *env_set,
                         const char *errfile, fs_bench_child *c)
{
    int in[2], out[2];
    if (pipe(in) != 0)
        return FS_EIO;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        return FS_EIO;
    }
    int rc = spawn(argv, env_set, errfile, in[0], out[1], in[1], out[0],
                   &c->pid);
    close(in[0]);
    close(out[1]);
    c->to = rc == FS_OK ? fdopen(in[1], "w") : NULL;
    c->from = rc == FS_OK ? fdopen(out[0], "r") : NULL;
    if (!c->to || !c->from) {
        if (c->to)
            fclose(c->to);
        else
            close(in[1]);
        if (c->from)
            fclose(c->from);
        else
            close(out[0]);
        if (rc == FS_OK)
            reap(c->pid);
        return rc == FS_OK ? FS_EIO : rc;
    }
    return FS_OK;
}

int fs_bench_child_stop(fs_bench_child *c)
{
    fclose(c->to);
    fclose(c->from);
    return reap(c->pid);
}

void fs_bench_say(void (*progress)(void *ctx, const char *msg), void *ctx,
                  const char *fmt, ...)
{
    if (!progress)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    progress(ctx, msg);
}

double fs_bench_round_ratio(const double *a, int na, const double *b,
                            int nb)
{
    double v[FS_BENCH_MAX_ROUNDS];
    int n = 0;
    for (int i = 0; i < na && i < nb && n < FS_BENCH_MAX_ROUNDS; i++)
        v[n++] = a[i] / b[i];
    return n ? fs_bench_median(v, n) : 0;
}

int fs_bench_spawn_threads(char **argv, int threads, const char *errfile,
                           char *out, size_t outlen)
{
    char blas[64], omp[64];
    snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%d", threads);
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", threads);
    const char *env[] = { blas, omp, NULL };
    return fs_bench_spawn_capture(argv, env, errfile, out, outlen);
}

int fs_bench_peer_ms(char **argv, int threads, const char *errfile,
                     const char *engine, double *ms, char *why,
                     size_t whylen)
{
    char out[4096];
    fs_json *j = NULL;
    const fs_json *v;
    if (fs_bench_spawn_threads(argv, threads, errfile, out, sizeof out) !=
        FS_OK) {
        char tail[200];
        fs_bench_last_line(errfile, tail, sizeof tail);
        snprintf(why, whylen, "%s failed%s%s", engine, tail[0] ? ": " : "",
                 tail);
        return FS_EIO;
    }
    if (fs_json_parse(out, strcspn(out, "\n"), &j, NULL) != FS_OK ||
        !(v = fs_json_get(j, "ms_per_face")) ||
        v->type != FS_JSON_NUMBER || !(v->number > 0)) {
        snprintf(why, whylen, "%s printed no result", engine);
        fs_json_free(j);
        return FS_EFORMAT;
    }
    *ms = v->number;
    fs_json_free(j);
    return FS_OK;
}

/* ---- inputs ------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Row `index` of the set `seed`: Gaussian components (Box-Muller),
 * normalised in double.  Each row has its own stream, so rows can be
 * made in any order on any number of threads. */
static void random_unit(uint64_t seed, uint64_t index, float *out)
{
    uint64_t s = seed * 0x2545F4914F6CDD1Dull ^ index;
    double v[FS_DESC_DIM], sum = 0;
    for (int d = 0; d < FS_DESC_DIM; d += 2) {
        double u1 = ((double)(splitmix(&s) >> 11) + 0.5) / 9007199254740992.0;
        double u2 = (double)(splitmix(&s) >> 11) / 9007199254740992.0;
        double r = sqrt(-2 * log(u1));
        v[d] = r * cos(6.283185307179586 * u2);
        v[d + 1] = r * sin(6.283185307179586 * u2);
        sum += v[d] * v[d] + v[d + 1] * v[d + 1];
    }
    double inv = 1 / sqrt(sum);
    for (int d = 0; d < FS_DESC_DIM; d++)
        out[d] = (float)(v[d] * inv);
}

typedef struct fill_job {
    float   *vec;
    size_t   n;
    uint64_t seed;
    size_t   first;           /* index of vec's first row in the set */
} fill_job;

static void fill_team(void *arg, int tid, int nt)
{
    fill_job *j = arg;
    long lo, hi;
    fs_pool_split((long)j->n, tid, nt, &lo, &hi);
    for (long i = lo; i < hi; i++)
        random_unit(j->seed, j->first + (size_t)i,
                    j->vec + (size_t)i * FS_DESC_DIM);
}

void fs_bench_random_units(fs_pool *pool, uint64_t seed, size_t first,
                           size_t n, float *out)
{
    fill_job j = { out, n, seed, first };
    if (pool)
        fs_pool_run(pool, fill_team, &j);
    else
        fill_team(&j, 0, 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir but . and .., sorted; *n of them (0 when dir cannot
 * be read).  The caller frees each and the array. */
static char **sorted_names(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    *n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL; ) {
        if (e->d_name[0] == '.')
            continue;
        char **m = realloc(names, sizeof *names * (size_t)(*n + 1));
        char *name = m ? strdup(e->d_name) : NULL;
        if (m)
            names = m;
        if (!name)
            break;
        names[(*n)++] = name;
    }
    if (d)
        closedir(d);
    if (names)
        qsort(names, (size_t)*n, sizeof *names, cmp_str);
    return names;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int fs_bench_load_set(const char *dir, int limit, fs_bench_set *s)
{
    int nid;
    char **ids = sorted_names(dir, &nid);
    for (int i = 0; i < nid && (limit <= 0 || s->n < limit); i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, ids[i]);
        int nn;
        char **names = sorted_names(sub, &nn);
        for (int k = 0; k < nn && (limit <= 0 || s->n < limit); k++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, names[k]);
            fs_bench_blob b = { NULL, 0, NULL };
            if (fs_read_file(path, FS_IMAGE_MAX_BYTES, &b.p, &b.n, NULL) !=
                FS_OK)
                continue;
            fs_bench_blob *m = realloc(s->files,
                                       sizeof *m * (size_t)(s->n + 1));
            if (m)
                s->files = m;
            b.name = m ? strdup(path + strlen(dir) + 1) : NULL;
            if (!b.name) {
                free(b.p);
                break;
            }
            s->files[s->n++] = b;
        }
        free_names(names, nn);
    }
    free_names(ids, nid);
    return s->n > 0 ? FS_OK : FS_ENOENT;
}

void fs_bench_free_set(fs_bench_set *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->files[i].p);
        free(s->files[i].name);
    }
    free(s->files);
    s->files = NULL;
    s->n = 0;
}

fs_bench_blob fs_bench_bmp(const uint8_t *rgb, int w, int h)
{
    size_t row = ((size_t)w * 3 + 3) & ~(size_t)3, n = 54 + row * h;
    fs_bench_blob b = { calloc(1, n), n, NULL };
    if (!b.p)
        return b;
    uint8_t *p = b.p;
    uint32_t hdr[] = { (uint32_t)n, 0, 54, 40, (uint32_t)w, (uint32_t)h };
    p[0] = 'B';
    p[1] = 'M';
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            p[2 + 4 * i + k] = (uint8_t)(hdr[i] >> (8 * k));
    p[26] = 1;
    p[28] = 24;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = rgb + 3 * ((size_t)(h - 1 - y) * w + x);
            uint8_t *d = p + 54 + (size_t)y * row + 3 * (size_t)x;
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
        }
    return b;
}

uint8_t *fs_bench_enlarge(const fs_image *img, int side)
{
    uint8_t *out = malloc((size_t)side * side * 3);
    if (!out)
        return NULL;
    for (int y = 0; y < side; y++) {
        double fy = (y + 0.5) * img->height / side - 0.5;
        int y0 = fy < 0 ? 0 : (int)fy;
        int y1 = y0 + 1 < img->height ? y0 + 1 : y0;
        double wy = fy - y0 < 0 ? 0 : fy - y0;
        for (int x = 0; x < side; x++) {
            double fx = (x + 0.5) * img->width / side - 0.5;
            int x0 = fx < 0 ? 0 : (int)fx;
            int x1 = x0 + 1 < img->width ? x0 + 1 : x0;
            double wx = fx - x0 < 0 ? 0 : fx - x0;
            for (int c = 0; c < 3; c++) {
#define PX(xx, yy) img->rgb[3 * ((size_t)(yy) * img->width + (xx)) + c]
                double v = (1 - wy) * ((1 - wx) * PX(x0, y0) + wx * PX(x1, y0)) +
                           wy * ((1 - wx) * PX(x0, y1) + wx * PX(x1, y1));
#undef PX
                out[3 * ((size_t)y * side + x) + c] = (uint8_t)(v + 0.5);
            }
        }
    }
    return out;
}

int fs_bench_engine_warm(fs_engine *e, fs_detail *d)
{
    uint8_t px[3 * 64 * 64] = { 0 };
    fs_image blank = { 64, 64, 3, 8, { FS_IMG_UNKNOWN, 0, 0, 1, 0, 0, 0 }, px };
    fs_face f;
    int n;
    return fs_engine_detect(e, &blank, &f, 1, &n, d);
}

int fs_bench_front(fs_engine *eng, const fs_bench_blob *b, fs_face *faces,
                   int *n, int *chosen, uint8_t *chip, fs_detail *d)
{
    /* decoding patches an orientation tag or a PNG's colour profile in
     * place (fs_image_decode): only such files are copied first, as a
     * command decodes the bytes it read (36 MB of a 12 MP BMP copied
     * would be a tenth of its time here) */
    fs_still st;
    uint8_t *copy = NULL;
    *n = 0;
    *chosen = -1;
    int rc = fs_intake_identify(b->p, b->n, "image", &st, d);
    if (rc == FS_OK && (st.orientation_at || st.png_iccp_at)) {
        if (!(copy = malloc(b->n)))
            return fs_fail(d, FS_ENOMEM, "no memory for an image");
        memcpy(copy, b->p, b->n);
    }
    fs_image img;
    if (rc == FS_OK)
        rc = fs_image_decode(copy ? copy : b->p, b->n,
                             b->name ? b->name : "image", &img, d);
    if (rc == FS_OK) {
        rc = fs_engine_detect(eng, &img, faces, FS_MAX_FACES, n, d);
        if (rc == FS_OK)
            *chosen = fs_default_face(faces, *n, img.width, img.height);
        if (rc == FS_OK && *n > 0 && chip)
            rc = fs_engine_face_chip(eng, &img, &faces[*chosen], chip, d);
        fs_image_release(&img);
    }
    free(copy);
    return rc;
}

typedef struct front_run {
    fs_engine         **eng;          /* one per thread */
    const fs_bench_set *s;
    uint8_t            *chips, *has;
    double             *width;
    atomic_int          next, with_face;
} front_run;

static void front_team(void *arg, int tid, int nt)
{
    (void)nt;
    front_run *r = arg;
    uint8_t own[FS_CHIP_BYTES];
    fs_face *faces = malloc(FS_MAX_FACES * sizeof *faces);
    for (int i; faces && (i = atomic_fetch_add(&r->next, 1)) < r->s->n; ) {
        uint8_t *chip = r->chips ? r->chips + (size_t)i * FS_CHIP_BYTES
                                 : own;
        int n = 0, k;
        int ok = fs_bench_front(r->eng[tid], &r->s->files[i], faces, &n, &k,
                                chip, NULL) == FS_OK && n > 0;
        if (r->has)
            r->has[i] = (uint8_t)ok;
        if (r->width)
            r->width[i] = ok ? faces[k].box[2] : 0;
        if (ok)
            atomic_fetch_add(&r->with_face, 1);
    }
    free(faces);
}

double fs_bench_front_pass(fs_pool *pool, fs_engine **eng,
                           const fs_bench_set *s, int *with_face,
                           uint8_t *chips, uint8_t *has, double *width)
{
    front_run r = { eng, s, chips, has, width, 0, 0 };
    double t = fs_bench_now();
    fs_pool_run(pool, front_team, &r);
    t = fs_bench_now() - t;
    *with_face = atomic_load(&r.with_face);
    return t;
}

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v ? strdup(v) : NULL;
}

int fs_bench_env_private(const char *dir, fs_bench_env *s, fs_detail *d)
{
    char run[4300], cfg[4300];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(cfg, sizeof cfg, "%s/config", dir);
    if ((mkdir(run, 0700) != 0 && errno != EEXIST) ||
        (mkdir(cfg, 0700) != 0 && errno != EEXIST))
        return fs_fail(d, FS_EIO, "cannot create '%s': %s", run,
                       strerror(errno));
    s->run = dup_env("XDG_RUNTIME_DIR");
    s->cfg = dup_env("XDG_CONFIG_HOME");
    s->set = 1;
    if (setenv("XDG_RUNTIME_DIR", run, 1) != 0 ||
        setenv("XDG_CONFIG_HOME", cfg, 1) != 0)
        return fs_fail(d, FS_ENOMEM, "cannot set the environment");
    return FS_OK;
}

void fs_bench_env_restore(fs_bench_env *s)
{
    if (!s->set)
        return;
    if (s->run)
        setenv("XDG_RUNTIME_DIR", s->run, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    if (s->cfg)
        setenv("XDG_CONFIG_HOME", s->cfg, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(s->run);
    free(s->cfg);
    s->set = 0;
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int fs_bench_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ||
           errno == ENOENT ? FS_OK : FS_EIO;
}

int fs_bench_password(char *out, size_t len, fs_detail *d)
{
    uint8_t r[24];
    char hex[2 * sizeof r + 1];
    if (fs_random(r, sizeof r) != 0)
        return fs_fail(d, FS_EINTERNAL, "the random generator failed");
    fs_hex(r, sizeof r, hex);
    fs_wipe(r, sizeof r);
    snprintf(out, len, "Bench-%s", hex);
    fs_wipe(hex, sizeof hex);
    return FS_OK;
}

int64_t fs_bench_wall_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int fs_bench_dir(const char *work_dir, const char *dir, fs_detail *d)
{
    if ((mkdir(work_dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0700) != 0 && errno != EEXIST))
        return fs_fail(d, FS_EIO, "cannot create '%s': %s", dir,
                       strerror(errno));
    return FS_OK;
}

double fs_bench_rounds_median(const double *v, int n)
{
    double copy[FS_BENCH_MAX_ROUNDS];
    if (n > FS_BENCH_MAX_ROUNDS)
        n = FS_BENCH_MAX_ROUNDS;
    memcpy(copy, v, (size_t)(n > 0 ? n : 0) * sizeof *copy);
    return fs_bench_median(copy, n);
}
