/*
 * fs_file.h - reading a whole file, and creating the files a person asks
 * for (reports, exports), the one way every module does each.
 * Base layer: any module may include it.
 *
 * A file made for a person is created new, 0600, never through a
 * symbolic link and never over an existing file: a report of who was
 * enrolled or a picture of a probe must not land where a link planted at
 * its path points, nor in a file someone else created there (and can
 * read), nor replace a report made before.  So an existing target, a
 * link included, is refused (FS_EXISTS: "will not overwrite"), the same
 * way for every command.
 */
#ifndef FS_FILE_H
#define FS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "fs_error.h"

/* Reads the regular file at path into a new buffer, 64-byte aligned and
 * followed by one NUL byte (not counted in *len), so text parsers and
 * SIMD readers can use it directly; free() it.  Refuses, with the path in
 * the detail: FS_ENOENT, FS_EACCESS, FS_ENOTFILE (a directory, a device,
 * a pipe), FS_ETOOBIG (over max_bytes, checked before reading), FS_EIO,
 * FS_ENOMEM. */
int fs_read_file(const char *path, size_t max_bytes, uint8_t **buf,
                 size_t *len, fs_detail *d);

/* How a program acting for another OS user (the service) opens the files
 * that person names: with their rights, not its own, so it can never
 * read for someone a file that only it may read.  open returns a
 * descriptor open for reading, or a negative FS_E* code with the detail
 * saying why; it may be called from several threads at once. */
typedef struct fs_opener {
    int  (*open)(void *ctx, const char *path, fs_detail *d);
    void  *ctx;
} fs_opener;

/* fs_read_file with path opened by o (NULL: by this process). */
int fs_read_file_as(const fs_opener *o, const char *path, size_t max_bytes,
                    uint8_t **buf, size_t *len, fs_detail *d);

/* Creates the file at path, new, for writing, mode 0600 whatever the
 * umask; its descriptor (close-on-exec) in *fd.  FS_EXISTS when anything
 * is at path, a symbolic link (even a dangling one) included: nothing is
 * opened through it.  Else the open's error (FS_ENOENT for a missing
 * directory, FS_EACCESS...), the path in the detail. */
int fs_file_create(const char *path, int *fd, fs_detail *d);

/* Removes path when it is still the file open as fd (fd < 0: nothing to
 * do); fd stays open for its owner to close.  What a failed export
 * leaves behind goes, and never a file someone put at path since. */
void fs_file_discard(const char *path, int fd);

/* Makes the missing directories above the file at path (mode 0700). */
int fs_file_mkdirs(const char *path, fs_detail *d);

/* Makes a create, rename or unlink in the directory dir durable:
 * 0, or -1 with errno. */
int fs_file_sync_dir(const char *dir);

/* The directory holding the running binary (what /proc/self/exe names),
 * or "." when it cannot be read: where the build tree and make install
 * put what a binary needs beside it. */
const char *fs_exe_dir(char *buf, size_t len);

#endif /* FS_FILE_H */
