/*
 * fs_testutil.c - helpers of the Check suites (see fs_testutil.h).
 */
#include "fs_testutil.h"
#include "../detect/fs_detect.h"
#include "../detect/fs_vision.h"
#include "../engine/fs_engine.h"

#include <lmdb.h>

#include "../gate/fs_gate.h"
#include "../index/fs_index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The suite is linked with -Wl,--wrap for the allocator: every call our
 * statically linked engine makes lands here and is counted. */
static atomic_long allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

/* The allocation, counted from the start, that fails; -1: none. */
static atomic_long fail_at = -1;

/* Counts one allocation: 1 when it is the one to fail. */
static int counted(void)
{
    long k = atomic_fetch_add(&allocs, 1);
    return k == atomic_load(&fail_at);
}

void *__wrap_malloc(size_t n)
{
    return counted() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return counted() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return counted() ? NULL : __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
    return counted() ? NULL : __real_aligned_alloc(a, n);
}

void tu_alloc_fail_at(long n)
{
    atomic_store(&fail_at, n < 0 ? -1 : atomic_load(&allocs) + n);
}

long tu_alloc_count(void)
{
    return atomic_load(&allocs);
}

/* What `make check` sets; the suite cannot run without it. */
static const char *made_by_check(const char *var)
{
    const char *p = getenv(var);
    ck_assert_msg(p && *p, "%s is not set: run 'make check'", var);
    return p;
}

const char *tu_model_path(void)
{
    return made_by_check("FACESEARCH_MODEL");
}

const char *tu_landmarks(void)
{
    static char path[4200];
    const char *model = tu_model_path(), *slash = strrchr(model, '/');
    snprintf(path, sizeof path, "%.*s" FS_LANDMARKS_FILE,
             slash ? (int)(slash - model + 1) : 0, model);
    return access(path, R_OK) == 0 ? path : NULL;
}

const char *tu_bin(void)
{
    return made_by_check("FACESEARCH_BIN");
}

/* The peer built as the vision module this process loaded was: for the
 * AVX2 module, FACESEARCH_PEER_CHIP's AVX2 build beside it (its name and
 * "-avx2"), so that confidences are held to the bit like with like. */
const char *tu_peer_chip(void)
{
    static char avx2[4200];
    const char *p = made_by_check("FACESEARCH_PEER_CHIP");
    const fs_vision *v;
    fs_detail d = { "" };
    ck_assert_msg(fs_vision_get(&v, &d) == FS_OK, "%s", d.msg);
    if (!fs_vision_avx2())
        return p;
    snprintf(avx2, sizeof avx2, "%s-avx2", p);
    ck_assert_msg(access(avx2, X_OK) == 0, "the AVX2 vision module is "
                  "loaded but its peer '%s' is missing: run 'make check'",
                  avx2);
    return avx2;
}

const char *tu_shared(void)
{
    static int told;
    const char *p = getenv("FACESEARCH_SHARED");
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/golden/golden.json", p ? p : "");
    if (p && *p && access(probe, R_OK) == 0)
        return p;
    if (!told++)
        fprintf(stderr, "note: ../shared is absent; tests on the golden "
                "chips and the data sets are skipped\n");
    return NULL;
}

char *tu_mkdtemp(void)
{
    const char *t = getenv("TMPDIR");
    char *dir = malloc(4096);
    ck_assert_ptr_nonnull(dir);
    snprintf(dir, 4096, "%s/fstest-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    chmod(p, 0700);
    return remove(p);
}

void tu_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_tmp;

static void services_stop_all(void);

void tu_tmp_setup(void)
{
    tu_tmp = tu_mkdtemp();
    /* Sessions and key files of the test's own, gone with its directory;
     * nothing of the person running the suite is touched. */
    setenv("XDG_RUNTIME_DIR", tu_path(tu_tmp, "run"), 1);
    setenv("XDG_CONFIG_HOME", tu_path(tu_tmp, "config"), 1);
    unsetenv("FACESEARCH_KEY_FILE");
    unsetenv("FACESEARCH_GALLERY");
}

char *tu_template_begin(char gal[4096])
{
    char *base = tu_mkdtemp();
    tu_tmp = base;
    setenv("XDG_RUNTIME_DIR", tu_path(base, "run"), 1);
    setenv("XDG_CONFIG_HOME", tu_path(base, "config"), 1);
    snprintf(gal, 4096, "%s/gallery", base);
    return base;
}

void tu_template_free(char **base)
{
    if (*base)
        tu_rmtree(*base);
    free(*base);
    *base = NULL;
}

void tu_template_done(const char *base)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp '%s'/config/facesearch/*.anchor "
             "'%s/anchor.kept'", base, base);
    ck_assert_int_eq(system(cmd), 0);
    tu_tmp = NULL;                  /* the base is no test's directory */
}

void tu_template_start(const char *base, char gal[4096])
{
    tu_tmp_setup();
    snprintf(gal, 4096, "%s/gallery", tu_tmp);
    if (base)
        tu_template_copy(base);
}

void tu_template_copy(const char *base)
{
    char cmd[12800];
    snprintf(cmd, sizeof cmd, "cp -a '%s/gallery' '%s/run' '%s/' && { [ ! "
             "-d '%s/run-as' ] || cp -a '%s/run-as' '%s/'; } && for f in "
             "'%s'/config/facesearch/*.anchor; do cp '%s/anchor.kept' "
             "\"$f\"; done", base, base, tu_tmp, base, base, tu_tmp, base,
             base);
    ck_assert_int_eq(system(cmd), 0);
}

void tu_tmp_teardown(void)
{
    services_stop_all();
    tu_rmtree(tu_tmp);
    free(tu_tmp);
    tu_tmp = NULL;
}

const char *tu_path(const char *dir, const char *name)
{
    static char ring[8][4096];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

int tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

char *tu_read_private(const char *path)
{
    struct stat st;
    size_t len;
    ck_assert_msg(stat(path, &st) == 0, "%s is not there", path);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    char *text = tu_read(path, &len);
    ck_assert_ptr_nonnull(text);
    return text;
}

void *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        *len = (size_t)n;
    }
    return p;
}

int tu_synthetic_chip(const char *name, uint8_t c[FS_CHIP_BYTES])
{
    const int s = FS_CHIP_SIZE;
    if (strcmp(name, "syn_lcg.png") == 0) {
        uint32_t state = 12345;
        for (int i = 0; i < FS_CHIP_BYTES; i++) {
            state = 1664525u * state + 1013904223u;
            c[i] = (uint8_t)(state >> 24);
        }
        return 0;
    }
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            uint8_t *p = c + 3 * (y * s + x);
            if (strcmp(name, "syn_gradient.png") == 0) {
                p[0] = (uint8_t)(255 * x / 149);
                p[1] = (uint8_t)(255 * y / 149);
                p[2] = (uint8_t)(255 * (x + y) / 298);
            } else if (strcmp(name, "syn_checker.png") == 0) {
                p[0] = p[1] = p[2] = ((x / 15 + y / 15) % 2) ? 255 : 0;
            } else if (strcmp(name, "syn_gray128.png") == 0) {
                p[0] = p[1] = p[2] = 128;
            } else {
                return -1;
            }
        }
    return 0;
}

static void le16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void le32(uint8_t *p, unsigned v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }

int tu_write_bmp(const char *path, const uint8_t *rgb, int w, int h)
{
    int row = (3 * w + 3) & ~3;
    size_t size = 54 + (size_t)row * h;
    uint8_t *b = calloc(1, size);
    if (!b)
        return -1;
    b[0] = 'B';
    b[1] = 'M';
    le32(b + 2, (unsigned)size);
    le32(b + 10, 54);
    le32(b + 14, 40);
    le32(b + 18, (unsigned)w);
    le32(b + 22, (unsigned)h);
    le16(b + 26, 1);
    le16(b + 28, 24);
    le32(b + 34, (unsigned)(row * h));
    for (int y = 0; y < h; y++)           /* bottom-up, B,G,R */
        for (int x = 0; x < w; x++) {
            const uint8_t *s = rgb + 3 * ((size_t)y * w + x);
            uint8_t *d = b + 54 + (size_t)(h - 1 - y) * row + 3 * x;
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
        }
    int rc = tu_write(path, b, size);
    free(b);
    return rc;
}

uint32_t tu_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

typedef struct out {
    uint8_t *p;
    size_t   n, cap;
    int      full;
} out;

static void emit(out *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

static void emit32(out *o, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
                     (uint8_t)(v >> 8), (uint8_t)v };
    emit(o, b, 4);
}

static void chunk(out *o, const char *type, const uint8_t *data, size_t n)
{
    emit32(o, (uint32_t)n);
    size_t start = o->n;
    emit(o, type, 4);
    emit(o, data, n);
    if (!o->full)
        emit32(o, tu_crc32(o->p + start, n + 4));
}

size_t tu_png(uint8_t *dst, size_t cap, uint32_t w, uint32_t h,
              int channels, int bits, int frames)
{
    out o = { dst, 0, cap, 0 };
    emit(&o, "\x89PNG\r\n\x1A\n", 8);
    uint8_t ihdr[13] = { 0 };
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (uint8_t)(w >> (24 - 8 * i));
        ihdr[4 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    ihdr[8] = (uint8_t)bits;
    ihdr[9] = channels == 1 ? 0 : 2;          /* grey or RGB */
    chunk(&o, "IHDR", ihdr, 13);
    if (frames > 1) {
        uint8_t actl[8] = { 0, 0, 0, (uint8_t)frames, 0, 0, 0, 0 };
        chunk(&o, "acTL", actl, 8);
    }
    size_t row = 1 + (size_t)w * channels * (bits / 8);
    if ((uint64_t)row * h <= 1 << 20) {       /* pixels, unless a bomb */
        size_t rn = row * h, blocks = (rn + 65534) / 65535;
        uint8_t *raw = calloc(1, rn), *z = malloc(rn + 5 * blocks + 6);
        for (size_t y = 0; y < h; y++)        /* filter 0, then samples */
            memset(raw + y * row + 1, 200, row - 1);
        size_t zn = 0;
        z[zn++] = 0x78;
        z[zn++] = 0x01;
        for (size_t off = 0; off < rn; off += 65535) {
            size_t n = rn - off < 65535 ? rn - off : 65535;
            z[zn++] = off + n == rn;          /* final block? stored */
            z[zn++] = (uint8_t)n;
            z[zn++] = (uint8_t)(n >> 8);
            z[zn++] = (uint8_t)~n;
            z[zn++] = (uint8_t)(~n >> 8);
            memcpy(z + zn, raw + off, n);
            zn += n;
        }
        uint32_t a = 1, b = 0;
        for (size_t i = 0; i < rn; i++) {
            a = (a + raw[i]) % 65521;
            b = (b + a) % 65521;
        }
        for (int i = 0; i < 4; i++)
            z[zn++] = (uint8_t)((b << 16 | a) >> (24 - 8 * i));
        chunk(&o, "IDAT", z, zn);
        free(raw);
        free(z);
    }
    chunk(&o, "IEND", (const uint8_t *)"", 0);
    return o.full ? 0 : o.n;
}

int tu_write_png(const char *path, uint32_t w, uint32_t h, int channels,
                 int bits)
{
    size_t cap = 2 * (size_t)w * h * channels * (bits / 8) + 4096;
    uint8_t *b = malloc(cap);
    size_t n = b ? tu_png(b, cap, w, h, channels, bits, 1) : 0;
    int rc = n ? tu_write(path, b, n) : -1;
    free(b);
    return rc;
}

static char *slurp_fd(int fd)
{
    size_t len = 0, cap = 4096;
    char *b = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    b[len] = 0;
    return b;
}

struct tu_proc {
    pid_t pid;
    char *dir;                  /* its input and output files */
    char  prog[64];             /* for messages */
};

/* prefix..., prog, argv[1]... with stdin from input (or /dev/null) and
 * both outputs captured through files (a pipe could fill and stall it). */
static tu_proc *start_captured(char *const prefix[], const char *prog,
                               const char *input, char *const argv[],
                               int own_session)
{
    tu_proc *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    p->dir = tu_mkdtemp();
    const char *slash = strrchr(prog, '/');
    snprintf(p->prog, sizeof p->prog, "%s", slash ? slash + 1 : prog);
    char ofile[4200], efile[4200], ifile[4200];
    snprintf(ofile, sizeof ofile, "%s/out", p->dir);
    snprintf(efile, sizeof efile, "%s/err", p->dir);
    snprintf(ifile, sizeof ifile, "%s/in", p->dir);
    if (input)
        ck_assert_int_eq(tu_write(ifile, input, strlen(input)), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, input ? ifile : "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, ofile, O_WRONLY | O_CREAT, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, efile, O_WRONLY | O_CREAT, 0600);
    size_t n = 0, np = 0;
    while (argv[n])
        n++;
    while (prefix && prefix[np])
        np++;
    char **av = calloc(np + n + 1, sizeof *av);
    for (size_t i = 0; i < np; i++)
        av[i] = prefix[i];
    av[np] = (char *)prog;
    for (size_t i = 1; i < n; i++)
        av[np + i] = argv[i];
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    if (own_session)
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    int rc = posix_spawnp(&p->pid, av[0], &fa, &at, av, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    free(av);
    ck_assert_int_eq(rc, 0);
    return p;
}

int tu_finish(tu_proc *p, char **out, char **err)
{
    char prog[64];
    snprintf(prog, sizeof prog, "%s", p->prog);
    int st = tu_finish_status(p, out, err);
    ck_assert_msg(st >= 0, "%s died with signal %d: %s", prog, -st, *err);
    return st;
}

/* Every process of session sid (its leader's pid) killed: the ones
 * that have left the leader's process group too, as mpirun's ranks do. */
static void kill_session(pid_t sid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 0 && getsid(pid) == sid)
            kill(pid, SIGKILL);
    }
    if (d)
        closedir(d);
}

/* Waits for pid at most seconds (0: for ever), *status as waitpid sets
 * it: 0, or TU_TIMED_OUT once every process of pid's session (pid leads
 * one of its own) is killed and pid reaped. */
static int wait_within(pid_t pid, double seconds, int *status)
{
    struct timespec t0, t, nap = { 0, 20000000 };   /* 20 ms */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (seconds > 0) {
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR))
            return 0;
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) +
            (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 >= seconds) {
            kill_session(pid);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return TU_TIMED_OUT;
        }
    }
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

/* p's status as tu_finish_status gives it, once its output is read and
 * its files gone; waited for at most seconds (0: for ever). */
static int finish_within(tu_proc *p, double seconds, char **out, char **err)
{
    int status;
    int late = wait_within(p->pid, seconds, &status) == TU_TIMED_OUT;
    /* not tu_path: callers hold its buffers across runs */
    char file[4200];
    snprintf(file, sizeof file, "%s/out", p->dir);
    int fd = open(file, O_RDONLY);
    *out = slurp_fd(fd);
    close(fd);
    snprintf(file, sizeof file, "%s/err", p->dir);
    fd = open(file, O_RDONLY);
    *err = slurp_fd(fd);
    close(fd);
    tu_rmtree(p->dir);
    free(p->dir);
    free(p);
    if (late)
        return TU_TIMED_OUT;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
}

int tu_finish_status(tu_proc *p, char **out, char **err)
{
    return finish_within(p, 0, out, err);
}

static int run_captured(char *const prefix[], const char *prog,
                        const char *input, char *const argv[], char **out,
                        char **err)
{
    return tu_finish(start_captured(prefix, prog, input, argv, 0), out, err);
}

tu_proc *tu_start(char *const prefix[], const char *input,
                  char *const argv[])
{
    return start_captured(prefix, tu_bin(), input, argv, 0);
}

int tu_run_full(char *const prefix[], const char *input, char *const argv[],
                char **out, char **err)
{
    return run_captured(prefix, tu_bin(), input, argv, out, err);
}

int tu_run(char *const argv[], char **out, char **err)
{
    return run_captured(NULL, tu_bin(), NULL, argv, out, err);
}

int tu_run_input(const char *input, char *const argv[], char **out,
                 char **err)
{
    return run_captured(NULL, tu_bin(), input, argv, out, err);
}

int tu_run_prefixed(char *const prefix[], char *const argv[], char **out,
                    char **err)
{
    return run_captured(prefix, tu_bin(), NULL, argv, out, err);
}

int tu_run_program(const char *prog, char *const argv[], char **out,
                   char **err)
{
    return run_captured(NULL, prog, NULL, argv, out, err);
}

tu_proc *tu_start_session(const char *prog, char *const argv[])
{
    return start_captured(NULL, prog, NULL, argv, 1);
}

int tu_finish_within(tu_proc *p, double seconds, char **out, char **err)
{
    return finish_within(p, seconds, out, err);
}

void tu_expect_refusal(int status, int want, const char *out,
                       const char *err, const char *what)
{
    ck_assert_int_eq(status, want);
    ck_assert_msg(out[0] == 0, "stdout not empty on error: %s", out);
    ck_assert_msg(strncmp(err, "facesearch: ", 12) == 0, "message: %s", err);
    ck_assert_msg(strstr(err, what) != NULL, "'%s' not in: %s", what, err);
}

void tu_init_gallery_as(const char *gal, const char *profile,
                        const char *admin)
{
    /* a service of a gallery made again would serve the old one */
    tu_service_stop(gal);
    char *out, *err, pw[128];
    snprintf(pw, sizeof pw, "%s\n", TU_PASSWORD);
    int st = tu_run_input(pw, (char *const[]){ "facesearch", "init",
        "--profile", (char *)profile, "--admin", (char *)admin, "--unit",
        "TEST", "--password-stdin", "--gallery", (char *)gal, NULL },
        &out, &err);
    ck_assert_msg(st == 0, "init: %s", err);
    free(out);
    free(err);
    ck_assert_int_eq(tu_login(gal, admin, TU_PASSWORD), 0);
}

char *tu_profile_with(const char *text, const char *start,
                      const char *instead)
{
    ck_assert_ptr_nonnull(text);
    const char *at = text;
    while (at && strncmp(at, start, strlen(start)) != 0)
        at = (at = strchr(at, '\n')) ? at + 1 : NULL;
    ck_assert_msg(at, "the profile has no line '%s'", start);
    const char *next = strchr(at, '\n');
    next = next ? next + 1 : at + strlen(at);
    size_t cap = strlen(text) + (instead ? strlen(instead) : 0) + 2;
    char *edited = malloc(cap);
    ck_assert_ptr_nonnull(edited);
    snprintf(edited, cap, "%.*s%s%s%s", (int)(at - text), text,
             instead ? instead : "", instead ? "\n" : "", next);
    return edited;
}

char *tu_profile_logins(const char *name, int max_failures, int delay_ms)
{
    char line[64];
    snprintf(line, sizeof line, "login.failure_delay_ms = %d", delay_ms);
    char *t = tu_profile_with(fs_profile_builtin(name),
                              "login.failure_delay_ms =", line);
    if (max_failures <= 0)
        return t;
    snprintf(line, sizeof line, "login.max_failures = %d", max_failures);
    char *both = tu_profile_with(t, "login.max_failures =", line);
    free(t);
    return both;
}

const char *tu_profile_file(const char *name, char *text)
{
    ck_assert_ptr_nonnull(text);
    const char *path = tu_path(tu_tmp, name);
    ck_assert_int_eq(tu_write(path, text, strlen(text)), 0);
    free(text);
    return path;
}

void tu_init_gallery(const char *gal)
{
    /* detroit as shipped but for a 0.1 s pause after a failed login (not
     * 1 s): the tests that fail logins on purpose stay quick; the pause
     * itself has its own test */
    tu_init_gallery_as(gal, tu_profile_file("quick-detroit.profile",
                       tu_profile_logins("detroit", 0, 100)), "admin");
}

int tu_login(const char *gal, const char *user, const char *password)
{
    char *out, *err, pw[1100];
    snprintf(pw, sizeof pw, "%s\n", password);
    int st = tu_run_on(gal, pw, &out, &err, (const char *const[]){ "login",
        "--user", user, "--password-stdin", NULL });
    free(out);
    free(err);
    return st;
}

/* The marker of user's session on gal: named by gal's path inside the
 * scratch directory, so that a template's copy finds its own. */
static void as_marker(const char *gal, const char *user, char *path,
                      size_t cap)
{
    size_t n = strlen(tu_tmp);
    const char *rel = strncmp(gal, tu_tmp, n) == 0 ? gal + n : gal;
    uint64_t h = 1469598103934665603ull;      /* FNV-1a */
    for (const char *c = rel; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    snprintf(path, cap, "%s/run-as/%s/as-%016llx", tu_tmp, user,
             (unsigned long long)h);
}

void tu_as(const char *gal, const char *user)
{
    char dir[4200], marker[4300];
    snprintf(dir, sizeof dir, "%s/run-as", tu_tmp);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/run-as/%s", tu_tmp, user);
    mkdir(dir, 0700);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    as_marker(gal, user, marker, sizeof marker);
    if (access(marker, F_OK) == 0)
        return;
    ck_assert_msg(tu_login(gal, user, TU_PASSWORD) == 0, "login %s", user);
    ck_assert_int_eq(tu_write(marker, "", 0), 0);
}

/* The main thread of pid asleep on a futex (a lock or a condition) for
 * a tenth of a second on end, within seconds; 0 when it never is. */
static int asleep_on_lock(pid_t pid, double seconds)
{
    char path[64], wchan[64];
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    int run = 0;
    for (double t = 0; t < seconds && run < 10; t += 0.01) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(wchan, 1, sizeof wchan - 1, f) : 0;
        if (f)
            fclose(f);
        wchan[n] = 0;
        run = strstr(wchan, "futex") ? run + 1 : 0;
        usleep(10000);
    }
    return run >= 10;
}

pid_t tu_racer(const char *gal, const char *user, const tu_verb *v,
               int ready, int go, int back)
{
    tu_as(gal, user);
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid > 0)
        return kid;
    fs_gate *g = NULL;
    fs_detail d = { "" };
    int rc = fs_gate_open(gal, NULL, &g, &d);
    void *state = v->prepare ? v->prepare(v->ctx) : v->ctx;
    char c, out[TU_RACER_OUT];
    if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
        _exit(3);
    if (rc == FS_OK)
        rc = v->run(g, state, &d);
    snprintf(out, sizeof out, "%d %s", rc, d.msg);
    fs_gate_close(g);
    _exit(write(back, out, sizeof out) == sizeof out ? 0 : 3);
}

void tu_during(const char *gal, const char *user, const tu_verb *v,
               void (*meanwhile)(void), char res[TU_RACER_OUT])
{
    int ready[2], go[2], back[2];
    ck_assert(pipe(ready) == 0 && pipe(go) == 0 && pipe(back) == 0);
    pid_t kid = tu_racer(gal, user, v, ready[1], go[0], back[1]);
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    fs_gallery *raw;
    fs_gallery_batch *b;
    fs_detail d = { "" };
    ck_assert_msg(fs_gallery_open(gal, NULL, &raw, &d) == FS_OK, "%s", d.msg);
    ck_assert_int_eq(fs_gallery_begin(raw, &b, &d), FS_OK);
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    int waiting = asleep_on_lock(kid, 60);
    if (waiting)
        ck_assert_int_eq(kill(kid, SIGSTOP), 0);
    int st;
    ck_assert_int_eq(waitpid(kid, &st, waiting ? WUNTRACED : WNOHANG),
                     waiting ? kid : 0);
    fs_gallery_abort(b);
    fs_gallery_close(raw);
    ck_assert_msg(waiting, "%s's verb never waited for the write lock", user);
    meanwhile();
    ck_assert_int_eq(kill(kid, SIGCONT), 0);
    ck_assert_int_eq(waitpid(kid, &st, 0), kid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(read(back[0], res, TU_RACER_OUT), TU_RACER_OUT);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
        close(back[i]);
    }
}

void tu_add_user(const char *gal, const char *user, const char *roles,
                 const char *trained)
{
    char *out, *err, pw[128];
    snprintf(pw, sizeof pw, "%s\n", TU_PASSWORD);
    const char *args[12] = { "user", "add", user, "--roles", roles, "--unit",
                             "TEST", "--password-stdin" };
    if (trained) {
        args[8] = "--trained";
        args[9] = trained;
    }
    int st = tu_run_on(gal, pw, &out, &err, args);
    ck_assert_msg(st == 0, "user add %s: %s", user, err);
    free(out);
    free(err);
}

const char *tu_face_photo(void)
{
    static int told;
    const char *p = getenv("FACESEARCH_FACE");
    if (p && *p && access(p, R_OK) == 0)
        return p;
    if (!told++)
        fprintf(stderr, "note: no face photo ($FACESEARCH_FACE, made by "
                "`make check`); tests that release a candidate list without "
                "../shared are skipped\n");
    return NULL;
}

/* The work of tu_face_variant. */
static int face_variant(const char *path, double scale, int mirror)
{
    const char *photo = tu_face_photo();
    fs_image img;
    if (!photo || fs_image_load(photo, &img, NULL) != FS_OK)
        return -1;
    /* her head and shoulders, not the badge below that HOG takes for a
     * second face */
    const int x0 = 100, y0 = 10, cw = 260, ch = 280;
    int w = (int)(cw * scale), h = (int)(ch * scale);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    int rc = rgb && img.width >= x0 + cw && img.height >= y0 + ch ? 0 : -1;
    for (int y = 0; rc == 0 && y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = x0 + (int)(x / scale), sy = y0 + (int)(y / scale);
            if (mirror)
                sx = x0 + cw - 1 - (int)(x / scale);
            memcpy(rgb + 3 * ((size_t)y * w + x),
                   img.rgb + 3 * ((size_t)sy * img.width + sx), 3);
        }
    if (rc == 0)
        rc = tu_write_bmp(path, rgb, w, h);
    free(rgb);
    fs_image_release(&img);
    return rc;
}

/* In a child process: decoding starts OpenCV's TBB worker threads, and
 * a process that forks after that (Check's runner forks every test, and
 * the search suite's template is made in the runner) hands its children
 * a TBB without its threads, which aborts at their exit. */
int tu_face_variant(const char *path, double scale, int mirror)
{
    if (!tu_face_photo())
        return -1;
    pid_t pid = fork();
    if (pid == 0)
        _exit(face_variant(path, scale, mirror) == 0 ? 0 : 1);
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
           WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ---- the service ------------------------------------------------------- */

/* The services this process started, one per gallery; a slot keeps its
 * socket and log across a restart. */
typedef struct service {
    char  gal[4096];
    char  sock[4200], log[4200];
    pid_t pid;                  /* also its process group; 0: stopped */
    pid_t owner;                /* who started it, the only one to stop it */
} service;

#define SERVICES_MAX 8
static service services[SERVICES_MAX];
static int     service_mode;

void tu_service_mode(int on)
{
    service_mode = on;
}

static service *service_of(const char *gal)
{
    for (int i = 0; i < SERVICES_MAX; i++)
        if (services[i].gal[0] && strcmp(services[i].gal, gal) == 0)
            return &services[i];
    return NULL;
}

static int accepts(const char *sock)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Ends the service's whole process group: SIGTERM first (it stops
 * listening and removes its socket), SIGKILL after `grace` seconds, and
 * SIGKILL for any command still running in it.  Stopped with grace, it
 * must have ended as it should, status 0, with nothing from the
 * sanitizers in its log (a leak shows at its exit). */
static void service_end(service *s, double grace)
{
    if (!s->pid || s->owner != getpid())
        return;
    kill(-s->pid, grace > 0 ? SIGTERM : SIGKILL);
    int status = 0;
    pid_t r = 0;
    for (int i = 0; grace > 0 && i < grace * 100 &&
                    (r = waitpid(s->pid, &status, WNOHANG)) == 0; i++)
        usleep(10000);
    kill(-s->pid, SIGKILL);
    if (r != s->pid)
        while ((r = waitpid(s->pid, &status, 0)) < 0 && errno == EINTR)
            ;
    s->pid = 0;
    if (grace <= 0)
        return;
    size_t len;
    char *log = tu_read(s->log, &len);
    int clean = r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                log && !strstr(log, "Sanitizer") &&
                !strstr(log, "runtime error");
    if (!clean)
        ck_abort_msg("facesearchd for %s did not stop cleanly (status "
                     "%#x): %.3000s", s->gal, (unsigned)status,
                     log ? log : "");
    free(log);
}

/* A test that fails exits at once, without its teardown: its services
 * go with it. */
static void services_at_exit(void)
{
    for (int i = 0; i < SERVICES_MAX; i++)
        service_end(&services[i], 0);
}

/* At each test's end: service mode off, no service left behind. */
static void services_stop_all(void)
{
    for (int i = 0; i < SERVICES_MAX; i++)
        service_end(&services[i], 5);
    memset(services, 0, sizeof services);
    service_mode = 0;
}

const char *tu_daemon(void)
{
    static char prog[4200];
    const char *bin = tu_bin(), *slash = strrchr(bin, '/');
    snprintf(prog, sizeof prog, "%.*sfacesearchd",
             slash ? (int)(slash + 1 - bin) : 0, bin);
    return prog;
}

const char *tu_service_start(const char *gal, const char *const extra[])
{
    service *s = service_of(gal);
    if (s && s->pid)
        return s->sock;
    for (int i = 0; !s && i < SERVICES_MAX; i++)
        if (!services[i].gal[0]) {
            s = &services[i];
            snprintf(s->gal, sizeof s->gal, "%s", gal);
            snprintf(s->sock, sizeof s->sock, "%s/svc-%d.sock", tu_tmp, i);
            snprintf(s->log, sizeof s->log, "%s/svc-%d.log", tu_tmp, i);
        }
    ck_assert_msg(s != NULL, "more than %d services in one test",
                  SERVICES_MAX);
    char *prog = (char *)tu_daemon();
    char *argv[24] = { prog, "--gallery", s->gal, "--socket", s->sock };
    int n = 5;
    for (int i = 0; extra && extra[i] && n < 23; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    static int hooked;
    if (!hooked++)
        atexit(services_at_exit);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* its own group, to be stopped whole; gone with the test if the
         * test dies before its teardown */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int log = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                       0600);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (getppid() != parent || log < 0 || nul < 0 || dup2(nul, 0) < 0 ||
            dup2(log, 1) < 0 || dup2(log, 2) < 0)
            _exit(127);
        execv(prog, argv);
        _exit(127);
    }
    setpgid(pid, pid);
    s->pid = pid;
    s->owner = parent;
    /* the model and the matrix load first: seconds, more under ASan */
    int status;
    for (int i = 0; i < 120 * 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            char *log = tu_service_log(gal);
            ck_abort_msg("facesearchd for %s did not start: %s", gal, log);
        }
        if (accepts(s->sock))
            return s->sock;
        usleep(10000);
    }
    service_end(s, 0);
    ck_abort_msg("facesearchd for %s did not listen within 120 s", gal);
    return NULL;
}

void tu_service_stop(const char *gal)
{
    service *s = service_of(gal);
    if (s)
        service_end(s, 5);
}

void tu_service_kill(const char *gal)
{
    service *s = service_of(gal);
    ck_assert_msg(s && s->pid, "no service for %s", gal);
    service_end(s, 0);
}

char *tu_service_log(const char *gal)
{
    service *s = service_of(gal);
    size_t len;
    char *log = s ? tu_read(s->log, &len) : NULL;
    return log ? log : strdup("");
}

/* Commands that run on the user's side, never in the service: init
 * makes the gallery that a service then serves. */
static int runs_locally(const char *cmd)
{
    static const char *const local[] = { "init", "detect", "embed", "eval",
                                         "bench", NULL };
    for (int i = 0; local[i]; i++)
        if (strcmp(cmd, local[i]) == 0)
            return 1;
    return 0;
}

int tu_run_on(const char *gal, const char *input, char **out, char **err,
              const char *const args[])
{
    char *argv[40] = { "facesearch" };
    int n = 1;
    for (; args[n - 1] && n < 36; n++)
        argv[n] = (char *)args[n - 1];
    if (service_mode && !runs_locally(args[0])) {
        argv[n++] = "--socket";
        argv[n++] = (char *)tu_service_start(gal, NULL);
    } else {
        argv[n++] = "--gallery";
        argv[n++] = (char *)gal;
    }
    argv[n] = NULL;
    return run_captured(NULL, tu_bin(), input, argv, out, err);
}

void tu_expect_on(const char *gal, int want, const char *what,
                  const char *input, const char *const args[])
{
    char *out, *err;
    int st = tu_run_on(gal, input, &out, &err, args);
    ck_assert_msg(st == want, "%s %s: status %d, not %d: %s%s", args[0],
                  args[1] ? args[1] : "", st, want, out, err);
    const char *where = want ? err : out;
    ck_assert_msg(!what || strstr(where, what), "%s %s: '%s' not in: %s",
                  args[0], args[1] ? args[1] : "", what, where);
    if (want)
        ck_assert_msg(strncmp(err, "facesearch: ", 12) == 0, "%s", err);
    free(out);
    free(err);
}

void tu_request_robbery(const char *gal, const char *id)
{
    tu_expect_on(gal, 0, id, NULL, (const char *const[]){ "request", "new",
        "--case", "2026-0042", "--crime", "robbery", "--requester",
        "Det. Ray Jones", "--agency", "TEST", "--contact",
        "ray.jones@example.org", "--justification", "Armed robbery of a "
        "gas station on Grand River; the clerk saw the suspect's face at "
        "the counter", "--source", "photo taken by the victim's phone",
        NULL });
}

void tu_raw_open(tu_raw *r, const char *gal)
{
    ck_assert_int_eq(mdb_env_create(&r->env), 0);
    mdb_env_set_maxdbs(r->env, 32);
    mdb_env_set_mapsize(r->env, (size_t)1 << 40);
    ck_assert_int_eq(mdb_env_open(r->env, gal, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
    ck_assert_int_eq(mdb_dbi_open(r->txn, "records", 0, &r->dbi), 0);
}

void tu_raw_close(tu_raw *r)
{
    ck_assert_int_eq(mdb_txn_commit(r->txn), 0);
    mdb_env_close(r->env);
}

void tu_raw_each(const char *gal,
                 void (*fn)(void *ctx, const char *table, const MDB_val *k,
                            const MDB_val *v),
                 void *ctx)
{
    tu_raw r;
    tu_raw_open(&r, gal);
    MDB_dbi top;
    MDB_cursor *c, *t;
    MDB_val k, v, tk, tv;
    ck_assert_int_eq(mdb_dbi_open(r.txn, NULL, 0, &top), 0);
    ck_assert_int_eq(mdb_cursor_open(r.txn, top, &c), 0);
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        char name[64];
        MDB_dbi db;
        snprintf(name, sizeof name, "%.*s", (int)k.mv_size,
                 (char *)k.mv_data);
        ck_assert_int_eq(mdb_dbi_open(r.txn, name, 0, &db), 0);
        ck_assert_int_eq(mdb_cursor_open(r.txn, db, &t), 0);
        for (int r2 = mdb_cursor_get(t, &tk, &tv, MDB_FIRST); r2 == 0;
             r2 = mdb_cursor_get(t, &tk, &tv, MDB_NEXT))
            fn(ctx, name, &tk, &tv);
        mdb_cursor_close(t);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(r.txn);
    mdb_env_close(r.env);
}

int tu_edit_records(const char *gal, unsigned table,
                    void *(*edit)(void *ctx, const void *val, size_t len,
                                  size_t *new_len),
                    void *ctx)
{
    tu_raw r;
    MDB_cursor *c;
    MDB_val k, v;
    tu_raw_open(&r, gal);
    ck_assert_int_eq(mdb_cursor_open(r.txn, r.dbi, &c), 0);
    int n = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (((uint8_t *)k.mv_data)[0] != table)
            continue;
        size_t len;
        void *nv = edit(ctx, v.mv_data, v.mv_size, &len);
        if (!nv)
            continue;
        MDB_val val = { len, nv };
        ck_assert_int_eq(mdb_cursor_put(c, &k, &val, MDB_CURRENT), 0);
        free(nv);
        n++;
    }
    mdb_cursor_close(c);
    tu_raw_close(&r);
    return n;
}

int tu_write_gif(const char *path, int frames)
{
    /* header, 2x2 screen, a 2-colour table; per frame a delay, an image
     * descriptor and one LZW sub-block; the trailer */
    static const uint8_t head[] = { 'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0,
                                    0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff };
    static const uint8_t frame[] = { 0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00,
                                     0x00, 0x00, 0x2C, 0, 0, 0, 0, 2, 0, 2,
                                     0, 0, 2, 0x02, 0x44, 0x01, 0x00 };
    uint8_t b[sizeof head + 16 * sizeof frame + 1];
    size_t n = 0;
    if (frames < 1 || frames > 16)
        return -1;
    memcpy(b, head, sizeof head);
    n += sizeof head;
    for (int f = 0; f < frames; f++, n += sizeof frame)
        memcpy(b + n, frame, sizeof frame);
    b[n++] = 0x3B;
    return tu_write(path, b, n);
}

int tu_file_holds(const char *path, const void *needle, size_t n)
{
    size_t len;
    uint8_t *b = tu_read(path, &len);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    int found = 0;
    for (size_t i = 0; !found && i + n <= len; i++)
        found = memcmp(b + i, needle, n) == 0;
    free(b);
    return found;
}

/* ---- pages in a real browser ------------------------------------------ */

/* Exactly these, so a render neither reaches the network nor depends on
 * a GPU, a sandbox a container may lack, or state from another run. */
static const char *const CHROMIUM_FLAGS[] = {
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", NULL
};
#define CHROMIUM_TIMEOUT "60"

/* The browser to run, or NULL (the caller skips, or fails under CI). */
static const char *chromium(void)
{
    static char found[4200];
    const char *env = getenv("FACESEARCH_CHROMIUM");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(found, sizeof found, "%.*s/chromium", (int)n, p);
        if (n && access(found, X_OK) == 0)
            return found;
        p += n + (p[n] == ':');
    }
    return NULL;
}

static const char *chromium_or_skip(void)
{
    static int noted;
    const char *env = getenv("FACESEARCH_CHROMIUM");
    if (env && strcmp(env, "none") == 0) {     /* the sanitized run's */
        if (!noted++)
            fprintf(stderr, "note: FACESEARCH_CHROMIUM=none: the pages are "
                    "written and checked, not rendered\n");
        return NULL;
    }
    const char *c = chromium();
    const char *ci = getenv("CI");
    ck_assert_msg(c || !ci || strcmp(ci, "true") != 0, "chromium is not "
                  "installed: `make deps` installs it (Debian's chromium)");
    if (!c && !noted++)
        fprintf(stderr, "note: chromium not found: the page tests that "
                "render in a browser skip (make deps installs it)\n");
    return c;
}

/* One run of the browser on the file at path: its DOM after load on
 * stdout (malloc'd), and with png a screenshot there. */
static char *chromium_run(const char *browser, const char *path,
                          int width, int height, const char *png)
{
    char *profile = tu_mkdtemp();
    char dir_arg[4200], size_arg[64], shot_arg[4300], url[4200];
    snprintf(dir_arg, sizeof dir_arg, "--user-data-dir=%s", profile);
    snprintf(size_arg, sizeof size_arg, "--window-size=%d,%d", width,
             height);
    snprintf(shot_arg, sizeof shot_arg, "--screenshot=%s", png ? png : "");
    snprintf(url, sizeof url, "file://%s", path);
    char *argv[20];
    int n = 0;
    argv[n++] = "chromium";
    for (int i = 0; CHROMIUM_FLAGS[i]; i++)
        argv[n++] = (char *)CHROMIUM_FLAGS[i];
    argv[n++] = dir_arg;
    argv[n++] = size_arg;
    if (png)
        argv[n++] = shot_arg;
    argv[n++] = "--dump-dom";
    argv[n++] = url;
    argv[n] = NULL;
    char *prefix[] = { "timeout", "-k", "5", CHROMIUM_TIMEOUT, NULL };
    char *out, *err;
    int st = run_captured(prefix, browser, NULL, argv, &out, &err);
    tu_rmtree(profile);
    free(profile);
    ck_assert_msg(st == 0, "chromium on %s: exit %d%s: %.2000s", path, st,
                  st == 124 ? " (timed out)" : "", err);
    free(err);
    return out;
}

char *tu_browser_dom(const char *path)
{
    const char *browser = chromium_or_skip();
    char abs[4096];
    if (!browser)
        return NULL;
    ck_assert_ptr_nonnull(realpath(path, abs));
    return chromium_run(browser, abs, 800, 600, NULL);
}

/* The integer value of attribute name on the element with id tu-render
 * in dom, or -1. */
static int render_attr(const char *dom, const char *name)
{
    const char *el = strstr(dom, "id=\"tu-render\"");
    if (!el)
        return -1;
    char key[64];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *v = strstr(el, key);
    return v ? atoi(v + strlen(key)) : -1;
}

int tu_browser_render(const char *html_path, int width, int height,
                      tu_page *out)
{
    memset(out, 0, sizeof *out);
    const char *browser = chromium_or_skip();
    if (!browser)
        return 0;
    char abs[4096];
    ck_assert_ptr_nonnull(realpath(html_path, abs));
    size_t len;
    char *page = tu_read(abs, &len);
    ck_assert_ptr_nonnull(page);
    /* before the page's own Content-Security-Policy, which forbids
     * scripts from where it stands on */
    static const char probe[] =
        "<script>addEventListener('load',function(){"
        "var n=0,t=document.images.length;"
        "for(var i=0;i<t;i++){var m=document.images[i];"
        "if(m.complete&&m.naturalWidth>0)n++;}"
        "var e=document.createElement('div');e.id='tu-render';"
        "e.setAttribute('data-images',t);e.setAttribute('data-loaded',n);"
        "e.setAttribute('data-svgs',document.querySelectorAll('svg').length);"
        "document.body.appendChild(e);});</script>";
    const char *head = strstr(page, "<head>");
    size_t at = head ? (size_t)(head - page) + 6 : 0;
    char copy[4200];
    snprintf(copy, sizeof copy, "%s.render.html", abs);
    FILE *f = fopen(copy, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(page, 1, at, f);
    fputs(probe, f);
    fwrite(page + at, 1, len - at, f);
    ck_assert_int_eq(fclose(f), 0);
    free(page);
    const char *keep = getenv("FACESEARCH_SCREENSHOTS");
    if (keep && *keep) {
        const char *base = strrchr(abs, '/');
        snprintf(out->png, sizeof out->png, "%s/%s.png", keep, base + 1);
    } else {
        snprintf(out->png, sizeof out->png, "%s.png", abs);
    }
    unlink(out->png);
    out->dom = chromium_run(browser, copy, width, height, out->png);
    unlink(copy);
    out->images = render_attr(out->dom, "data-images");
    out->loaded = render_attr(out->dom, "data-loaded");
    out->svgs = render_attr(out->dom, "data-svgs");
    ck_assert_msg(out->images >= 0, "the page did not finish loading in "
                  "chromium: %.2000s", out->dom);
    struct stat st;
    ck_assert_msg(stat(out->png, &st) == 0 && st.st_size > 0,
                  "no screenshot at %s", out->png);
    return 1;
}

void tu_page_free(tu_page *p)
{
    free(p->dom);
    p->dom = NULL;
}

fs_json *tu_run_json(int want_status, char *const argv[])
{
    char *out, *err;
    int st = tu_run(argv, &out, &err);
    ck_assert_msg(st == want_status, "status %d: %s", st, err);
    fs_json *j = NULL;
    fs_detail d = { "" };
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, &d) == FS_OK,
                  "not JSON (%s): %s", d.msg, out);
    free(out);
    free(err);
    return j;
}

double tu_num(const fs_json *j, const char *key)
{
    const fs_json *v = fs_json_get(j, key);
    ck_assert_msg(v && v->type == FS_JSON_NUMBER, "no number '%s'", key);
    return v->number;
}
