/*
 * fs_vision.c - finds and loads facesearch-vision.so, the module holding
 * detect/'s OpenCV and dlib code, the first time anything needs it (see
 * fs_vision.h for why and where it is looked for).
 */
#include "fs_vision.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_file.h"

#ifdef __SANITIZE_ADDRESS__
/* Only under AddressSanitizer (make check SAN=1).  LeakSanitizer keeps
 * its own account of dynamic TLS (its __tls_get_addr interceptor), and
 * with glibc 2.36 it misreads the blocks of libraries that a dlopen
 * brings in (GDAL's, through OpenCV's codecs, once a BMP is decoded): its
 * scan at exit crashes ("Tracer caught signal 11") and the program exits
 * 1.  Without the interceptor the blocks are plain heap memory reached
 * from the thread's DTV: the same path exits cleanly, with no leak
 * reported.  Linked at start-up, as they were, those libraries used
 * static TLS and never met the bug. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "intercept_tls_get_addr=0";
}
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const fs_vision *table;
static int load_rc;
static int is_avx2;
static fs_detail load_detail;

/* A pointer to malloc taken here, in the program, so that the module's
 * buffers come from the allocator the program's own code calls (the
 * suite's counting wrapper, under -Wl,--wrap). */
static void *host_alloc(size_t n)
{
    return malloc(n);
}

static const fs_vision_host host = { host_alloc, fs_sha256 };

/* Loads the module at path; FS_OK with table set, or the failure. */
static int open_module(const char *path, fs_detail *d)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return fs_fail(d, FS_EMODULE, "cannot load the vision module '%s': "
                       "%s", path, dlerror());
    fs_vision_entry_fn *entry = (fs_vision_entry_fn *)dlsym(h,
                                                            FS_VISION_ENTRY);
    if (!entry) {
        dlclose(h);
        return fs_fail(d, FS_EMODULE, "'%s' is not a facesearch vision "
                       "module (it exports no %s)", path, FS_VISION_ENTRY);
    }
    const fs_vision *t = entry(FS_VISION_VERSION, &host);
    if (!t || t->version != FS_VISION_VERSION || t->size != sizeof *t) {
        dlclose(h);
        return fs_fail(d, FS_EMODULE, "the vision module '%s' was built "
                       "for another version of facesearch than this one "
                       "(%d): install both from one build", path,
                       FS_VISION_VERSION);
    }
    table = t;                       /* never closed: used to the end */
    const char *base = strrchr(path, '/');
    is_avx2 = strcmp(base ? base + 1 : path, FS_VISION_FILE_AVX2) == 0;
    return FS_OK;
}

static void load(void)
{
    fs_detail *d = &load_detail;
    const char *env = secure_getenv("FACESEARCH_VISION");
    if (env && *env) {
        load_rc = access(env, F_OK) == 0 ? open_module(env, d)
                  : fs_fail(d, FS_EMODULE, "the vision module (OpenCV and "
                            "dlib) is missing: FACESEARCH_VISION names "
                            "'%s', which does not exist", env);
        return;
    }
    char dir[PATH_MAX], path[PATH_MAX + 64];
    static const char *const where[2] = { "", "/../lib/facesearch" };
    const char *files[2] = { FS_VISION_FILE_AVX2, FS_VISION_FILE };
    fs_exe_dir(dir, sizeof dir);
    for (int w = 0; w < 2; w++)
        for (int f = __builtin_cpu_supports("avx2") ? 0 : 1; f < 2; f++) {
            snprintf(path, sizeof path, "%s%s/%s", dir, where[w], files[f]);
            if (access(path, F_OK) == 0) {
                load_rc = open_module(path, d);
                return;
            }
        }
    snprintf(path, sizeof path, "%s/" FS_VISION_FILE, dir);
    load_rc = fs_fail(d, FS_EMODULE, "the vision module (OpenCV and dlib) "
                      "is missing: looked for '%s' and '%s/../lib/facesearch/"
                      FS_VISION_FILE "' (is facesearch built or installed "
                      "whole?)", path, dir);
}

int fs_vision_get(const fs_vision **out, fs_detail *d)
{
    pthread_once(&once, load);
    if (load_rc != FS_OK)
        return fs_fail(d, load_rc, "%s", load_detail.msg);
    *out = table;
    return FS_OK;
}

int fs_vision_loaded(void)
{
    return table != NULL;
}

int fs_vision_avx2(void)
{
    return table != NULL && is_avx2;
}
