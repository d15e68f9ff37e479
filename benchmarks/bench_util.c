/*
 * bench_util.c - the helpers of fs_bench_int.h.
 */
#include "fs_bench_int.h"
#include "fs_bench.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../engine/base/fs_error.h"

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
