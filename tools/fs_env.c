/*
 * fs_env.c - the engine process's environment (fs_env.h).
 */
#include "fs_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS starts a worker per core as it is loaded, and they spin for a
 * tenth of a second or more beside a command; the engine calls BLAS from
 * its own team, one thread each.  glibc maps each buffer past its mmap
 * threshold (32 MB at most: a 12 MP photo's) anew and the smaller ones
 * come and go with the heap's trim, so a photo's decode and detection
 * touched 240 MB of fresh pages a 4 KB fault at a time; whether they were
 * fresh hung on what the heap had held before.  Measured, `bench detect
 * --threads 1`: 12 MP photos 113 to 318 ms from one run to the next,
 * 1.2M page faults in the slow runs; with huge pages 27k faults, 119 and
 * 122 ms, 1920 px photos 66 -> 45 ms.  A setting the user already made
 * is theirs. */
int fs_engine_env(void)
{
    int set = 0;
    const char *v = getenv("OPENBLAS_NUM_THREADS");
    if (!v || strcmp(v, "1") != 0) {
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        set = 1;
    }
    static const char huge[] = "glibc.malloc.hugetlb=1";
    const char *t = getenv("GLIBC_TUNABLES");
    if (!t || !*t) {
        setenv("GLIBC_TUNABLES", huge, 1);
        set = 1;
    } else if (!strstr(t, "glibc.malloc.hugetlb=")) {
        size_t n = strlen(t) + sizeof huge + 1;
        char *both = malloc(n);
        if (both) {
            snprintf(both, n, "%s:%s", t, huge);
            setenv("GLIBC_TUNABLES", both, 1);
            free(both);
            set = 1;
        }
    }
    return set;
}
