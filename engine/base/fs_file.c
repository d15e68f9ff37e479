/*
 * fs_file.c - reading whole files and creating new ones (see fs_file.h).
 */
#include "fs_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_read_file(const char *path, size_t max_bytes, uint8_t **buf,
                 size_t *len, fs_detail *d)
{
    return fs_read_file_as(NULL, path, max_bytes, buf, len, d);
}

int fs_read_file_as(const fs_opener *o, const char *path, size_t max_bytes,
                    uint8_t **buf, size_t *len, fs_detail *d)
{
    int fd = o ? o->open(o->ctx, path, d) : open(path, O_RDONLY | O_CLOEXEC);
    if (o && fd < 0)
        return fd;
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

int fs_file_create(const char *path, int *fd, fs_detail *d)
{
    /* O_EXCL refuses any existing name, a symbolic link included, where
     * it would have been followed; O_NOFOLLOW says the same for readers */
    int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600);
    if (f < 0) {
        int err = errno;
        struct stat st;
        if (err == EEXIST || err == ELOOP)
            return fs_fail(d, FS_EXISTS, "'%s' %s: will not overwrite it",
                           path, lstat(path, &st) == 0 && S_ISLNK(st.st_mode)
                           ? "is a symbolic link" : "exists");
        return fs_fail(d, fs_errno_code(err), "cannot create '%s': %s", path,
                       strerror(err));
    }
    /* the umask may have narrowed 0600 (to 0400, say): the contract is
     * exactly 0600, readable and writable by its owner only */
    if (fchmod(f, 0600) != 0) {
        int rc = fs_fail(d, FS_EIO, "cannot set the mode of '%s': %s", path,
                         strerror(errno));
        fs_file_discard(path, f);
        close(f);
        return rc;
    }
    *fd = f;
    return FS_OK;
}

/* Unlinks path when it names the file ours describes. */
static void remove_if_ours(const char *path, const struct stat *ours)
{
    struct stat there;
    if (lstat(path, &there) == 0 && ours->st_dev == there.st_dev &&
        ours->st_ino == there.st_ino)
        unlink(path);
}

void fs_file_discard(const char *path, int fd)
{
    if (fd < 0)
        return;
    struct stat ours;
    if (fstat(fd, &ours) == 0)
        remove_if_ours(path, &ours);
}

int fs_file_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int err = errno;
    close(fd);
    errno = err;
    return r;
}

int fs_file_mkdirs(const char *path, fs_detail *d)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fs_fail(d, FS_EINVAL, "path too long: '%.64s...'", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return fs_fail(d, fs_errno_code(errno), "cannot create '%s': %s",
                           buf, strerror(errno));
        *s = '/';
    }
    return FS_OK;
}

const char *fs_exe_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0) {
        snprintf(buf, len, ".");
        return buf;
    }
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    return buf;
}
