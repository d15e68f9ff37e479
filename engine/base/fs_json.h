/*
 * fs_json.h - a small, strict JSON reader (RFC 8259) for the few JSON
 * files facesearch reads: the weight manifest at conversion time and
 * reference vectors in tests.  It builds a tree; inputs are small.
 *
 * Depth is limited (FS_JSON_MAX_DEPTH) so hostile input cannot exhaust
 * the stack.  Numbers are parsed with strtod, correctly rounded, so a
 * double written by JavaScript reads back bit-identical.
 * Not thread-safe per tree; separate trees are independent.
 */
#ifndef FS_JSON_H
#define FS_JSON_H

#include <stddef.h>

#include "fs_error.h"

#define FS_JSON_MAX_DEPTH 64
#define FS_JSON_MAX_FILE  ((size_t)256 << 20)   /* fs_json_parse_file */

typedef enum {
    FS_JSON_NULL, FS_JSON_FALSE, FS_JSON_TRUE, FS_JSON_NUMBER,
    FS_JSON_STRING, FS_JSON_ARRAY, FS_JSON_OBJECT
} fs_json_type;

typedef struct fs_json fs_json;
struct fs_json {
    fs_json_type type;
    double       number;   /* FS_JSON_NUMBER */
    char        *string;   /* FS_JSON_STRING, NUL-terminated UTF-8 */
    size_t       n;        /* items of an array or object */
    fs_json    **items;    /* values */
    char       **keys;     /* FS_JSON_OBJECT: key of items[i] */
};

int  fs_json_parse(const char *text, size_t len, fs_json **out, fs_detail *d);
int  fs_json_parse_file(const char *path, fs_json **out, fs_detail *d);
void fs_json_free(fs_json *j);

/* Member of an object, or NULL (also when j is not an object). */
const fs_json *fs_json_get(const fs_json *j, const char *key);

#endif /* FS_JSON_H */
