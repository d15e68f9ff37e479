/*
 * fs_model.c - reads and writes the model file described in fs_embed.h.
 *
 * The reader loads the whole file into one 64-byte-aligned buffer and
 * checks it completely (magic, version, sizes, both sha256 sums, every
 * table entry's bounds) before returning; tensors then point into that
 * buffer.  No field read from disk is trusted before it is checked.
 */
#include "fs_embed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_file.h"

struct fs_model {
    uint8_t   *file;           /* whole file, aligned */
    size_t     file_bytes;
    size_t     n;
    fs_tensor *tensors;
    char       id[FS_MODEL_ID_MAX];
    char       sha_hex[65];
};

enum {
    H_MAGIC = 0, H_VERSION = 8, H_COUNT = 12, H_PAYLOAD_OFF = 16,
    H_PAYLOAD_BYTES = 24, H_ID = 32, H_SRC_SHA = 128, H_TABLE_SHA = 160,
    H_PAYLOAD_SHA = 192, H_HEADER_SHA = 224,
    E_NAME = 0, E_NDIM = 88, E_DIMS = 92, E_OFF = 112, E_COUNT = 120
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static size_t align64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

static int check_entry(fs_model *m, size_t i, const uint8_t *e,
                       size_t payload_off, size_t payload_bytes,
                       const char *path, fs_detail *d)
{
    /* names stay in the file buffer, once shown to be NUL-terminated */
    const char *name = (const char *)(e + E_NAME);
    if (memchr(name, 0, FS_MODEL_NAME_MAX) == NULL || name[0] == 0)
        return fs_fail(d, FS_EFORMAT, "model file '%s': tensor %zu has no "
                       "valid name", path, i);
    fs_tensor *t = &m->tensors[i];
    t->name = name;
    t->ndim = get32(e + E_NDIM);
    if (t->ndim < 1 || t->ndim > 4)
        return fs_fail(d, FS_EFORMAT, "model file '%s': tensor '%s' has %u "
                       "dimensions", path, name, t->ndim);
    uint64_t count = 1;
    for (unsigned k = 0; k < 4; k++) {
        t->dims[k] = get32(e + E_DIMS + 4 * k);
        if (k < t->ndim) {
            if (t->dims[k] == 0 || t->dims[k] > (1u << 24))
                return fs_fail(d, FS_EFORMAT, "model file '%s': tensor '%s' "
                               "has a bad dimension", path, name);
            count *= t->dims[k];
        }
    }
    uint64_t off = get64(e + E_OFF);
    if (get64(e + E_COUNT) != count || count > payload_bytes / 4 ||
        off % 64 != 0 || off > payload_bytes - count * 4)
        return fs_fail(d, FS_EFORMAT, "model file '%s': tensor '%s' lies "
                       "outside the payload", path, name);
    t->count = (size_t)count;
    t->data = (const float *)(m->file + payload_off + off);
    for (size_t j = 0; j < i; j++)
        if (strcmp(m->tensors[j].name, name) == 0)
            return fs_fail(d, FS_EFORMAT, "model file '%s': tensor '%s' "
                           "appears twice", path, name);
    return FS_OK;
}

static int parse(fs_model *m, const char *path, fs_detail *d)
{
    const uint8_t *h = m->file;
    size_t len = m->file_bytes;
    if (len < 8 || memcmp(h + H_MAGIC, FS_MODEL_MAGIC, 8) != 0)
        return fs_fail(d, FS_EFORMAT, "'%s' is not a facesearch model file "
                       "(bad magic); run 'make models'", path);
    if (len < FS_MODEL_HEADER_BYTES)
        return fs_fail(d, FS_ETRUNC, "model file '%s' is truncated "
                       "(%zu bytes, header needs %u)", path, len,
                       FS_MODEL_HEADER_BYTES);
    /* the version field stays at offset 8 in every version */
    uint32_t version = get32(h + H_VERSION);
    if (version != FS_MODEL_VERSION)
        return fs_fail(d, FS_EVERSION, "model file '%s' has format version "
                       "%u, this build reads version %u; run 'make models'",
                       path, version, FS_MODEL_VERSION);
    uint8_t sum[32];
    fs_sha256(h, H_HEADER_SHA, sum);
    if (memcmp(sum, h + H_HEADER_SHA, 32) != 0)
        return fs_fail(d, FS_ECHECKSUM, "model file '%s' is corrupt (header "
                       "checksum mismatch)", path);
    uint32_t n = get32(h + H_COUNT);
    uint64_t poff = get64(h + H_PAYLOAD_OFF);
    uint64_t pbytes = get64(h + H_PAYLOAD_BYTES);
    uint64_t table_end = FS_MODEL_HEADER_BYTES +
                         (uint64_t)n * FS_MODEL_ENTRY_BYTES;
    if (n == 0 || n > FS_MODEL_MAX_TENSORS || poff % 64 != 0 ||
        poff < table_end || pbytes > UINT64_MAX - poff)
        return fs_fail(d, FS_EFORMAT, "model file '%s' has a corrupt header",
                       path);
    if (poff + pbytes > len)
        return fs_fail(d, FS_ETRUNC, "model file '%s' is truncated (%zu "
                       "bytes, header declares %llu)", path, len,
                       (unsigned long long)(poff + pbytes));
    if (poff + pbytes < len)
        return fs_fail(d, FS_EFORMAT, "model file '%s' has %llu trailing "
                       "bytes", path,
                       (unsigned long long)(len - poff - pbytes));
    fs_sha256(h + FS_MODEL_HEADER_BYTES, table_end - FS_MODEL_HEADER_BYTES, sum);
    if (memcmp(sum, h + H_TABLE_SHA, 32) != 0)
        return fs_fail(d, FS_ECHECKSUM, "model file '%s' is corrupt (tensor "
                       "table checksum mismatch)", path);
    fs_sha256(h + poff, pbytes, sum);
    if (memcmp(sum, h + H_PAYLOAD_SHA, 32) != 0)
        return fs_fail(d, FS_ECHECKSUM, "model file '%s' is corrupt (weights "
                       "checksum mismatch)", path);
    fs_hex(sum, 32, m->sha_hex);
    memcpy(m->id, h + H_ID, FS_MODEL_ID_MAX);
    if (memchr(m->id, 0, FS_MODEL_ID_MAX) == NULL)
        return fs_fail(d, FS_EFORMAT, "model file '%s' has no valid model id",
                       path);
    m->tensors = calloc(n, sizeof *m->tensors);
    if (!m->tensors)
        return FS_ENOMEM;
    m->n = n;
    for (uint32_t i = 0; i < n; i++) {
        int rc = check_entry(m, i, h + FS_MODEL_HEADER_BYTES +
                             (size_t)i * FS_MODEL_ENTRY_BYTES, (size_t)poff,
                             (size_t)pbytes, path, d);
        if (rc != FS_OK)
            return rc;
    }
    return FS_OK;
}

int fs_model_open(const char *path, fs_model **out, fs_detail *d)
{
    fs_model *m = calloc(1, sizeof *m);
    if (!m)
        return fs_fail(d, FS_ENOMEM, "no memory for model");
    /* 4 GiB: far above any model, far below a mistake like a disk image */
    int rc = fs_read_file(path, (size_t)1 << 32, &m->file, &m->file_bytes,
                          d);
    if (rc == FS_OK)
        rc = parse(m, path, d);
    if (rc != FS_OK) {
        fs_model_close(m);
        return rc;
    }
    *out = m;
    return FS_OK;
}

void fs_model_close(fs_model *m)
{
    if (!m)
        return;
    free(m->tensors);
    free(m->file);
    free(m);
}

int fs_model_find(const fs_model *m, const char *name, fs_tensor *out)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->tensors[i].name, name) == 0) {
            *out = m->tensors[i];
            return FS_OK;
        }
    return FS_NOTFOUND;
}

size_t fs_model_tensor_count(const fs_model *m)
{
    return m->n;
}

void fs_model_tensor_at(const fs_model *m, size_t i, fs_tensor *out)
{
    *out = m->tensors[i];
}

const char *fs_model_id(const fs_model *m)
{
    return m->id;
}

const char *fs_model_sha256_hex(const fs_model *m)
{
    return m->sha_hex;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_model_write(const char *path, const char *model_id,
                   const uint8_t source_sha256[32],
                   const fs_tensor *t, size_t n, fs_detail *d)
{
    if (n == 0 || n > FS_MODEL_MAX_TENSORS ||
        strlen(model_id) >= FS_MODEL_ID_MAX)
        return fs_fail(d, FS_EINVAL, "bad model: %zu tensors, id '%s'", n,
                       model_id);
    size_t table_end = FS_MODEL_HEADER_BYTES + n * FS_MODEL_ENTRY_BYTES;
    size_t poff = align64(table_end), pbytes = 0;
    for (size_t i = 0; i < n; i++)
        pbytes = align64(pbytes) + t[i].count * 4;
    pbytes = align64(pbytes);
    uint8_t *buf = calloc(1, poff + pbytes);
    if (!buf)
        return fs_fail(d, FS_ENOMEM, "no memory to write '%s'", path);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = buf + FS_MODEL_HEADER_BYTES + i * FS_MODEL_ENTRY_BYTES;
        if (strlen(t[i].name) >= FS_MODEL_NAME_MAX || t[i].ndim < 1 ||
            t[i].ndim > 4) {
            free(buf);
            return fs_fail(d, FS_EINVAL, "bad tensor '%s'", t[i].name);
        }
        memcpy(e + E_NAME, t[i].name, strlen(t[i].name));
        put32(e + E_NDIM, t[i].ndim);
        for (unsigned k = 0; k < t[i].ndim; k++)
            put32(e + E_DIMS + 4 * k, t[i].dims[k]);
        off = align64(off);
        put64(e + E_OFF, off);
        put64(e + E_COUNT, t[i].count);
        /* float32 little-endian: the hosts we build for are little-endian */
        memcpy(buf + poff + off, t[i].data, t[i].count * 4);
        off += t[i].count * 4;
    }
    memcpy(buf + H_MAGIC, FS_MODEL_MAGIC, 8);
    put32(buf + H_VERSION, FS_MODEL_VERSION);
    put32(buf + H_COUNT, (uint32_t)n);
    put64(buf + H_PAYLOAD_OFF, poff);
    put64(buf + H_PAYLOAD_BYTES, pbytes);
    memcpy(buf + H_ID, model_id, strlen(model_id));
    memcpy(buf + H_SRC_SHA, source_sha256, 32);
    fs_sha256(buf + FS_MODEL_HEADER_BYTES, table_end - FS_MODEL_HEADER_BYTES,
           buf + H_TABLE_SHA);
    fs_sha256(buf + poff, pbytes, buf + H_PAYLOAD_SHA);
    fs_sha256(buf, H_HEADER_SHA, buf + H_HEADER_SHA);

    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
                         (long)getpid()) >= sizeof tmp) {
        free(buf);
        return fs_fail(d, FS_EINVAL, "path too long: '%s'", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = FS_OK;
    if (fd < 0)
        rc = fs_fail(d, FS_EIO, "cannot create '%s': %s", tmp,
                     strerror(errno));
    else if (write_all(fd, buf, poff + pbytes) != 0 || fsync(fd) != 0)
        rc = fs_fail(d, FS_EIO, "cannot write '%s': %s", tmp,
                     strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == FS_OK)
        rc = fs_fail(d, FS_EIO, "cannot write '%s'", tmp);
    if (rc == FS_OK && rename(tmp, path) != 0)
        rc = fs_fail(d, FS_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                     strerror(errno));
    if (rc != FS_OK && fd >= 0)
        unlink(tmp);
    free(buf);
    return rc;
}
