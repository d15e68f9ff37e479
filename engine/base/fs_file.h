/*
 * fs_file.h - reading a whole file, the one way every module does it.
 * Base layer: any module may include it.
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

#endif /* FS_FILE_H */
