/*
 * fs_file.c - fs_read_file (see fs_file.h).
 */
#include "fs_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_read_file(const char *path, size_t max_bytes, uint8_t **buf,
                 size_t *len, fs_detail *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fs_fail(d, fs_errno_code(errno), "cannot open '%s': %s",
                       path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = fs_fail(d, FS_EIO, "cannot stat '%s': %s", path,
                         strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fs_fail(d, FS_ENOTFILE, "'%s' is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        close(fd);
        return fs_fail(d, FS_ETOOBIG, "'%s' is %lld bytes, over the limit "
                       "of %zu", path, (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *p = aligned_alloc(64, (n + 1 + 63) & ~(size_t)63);
    if (!p) {
        close(fd);
        return fs_fail(d, FS_ENOMEM, "no memory to read '%s' (%zu bytes)",
                       path, n);
    }
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(p);
        return fs_fail(d, FS_EIO, "cannot read '%s' (it changed or the "
                       "device failed)", path);
    }
    p[n] = 0;
    *buf = p;
    *len = n;
    return FS_OK;
}
