/*
 * fs_pack.h - packing records into bytes and back, the one way stored
 * records are laid out: fixed-width integers in host order (a gallery
 * never leaves its machine's architecture: LMDB's own pages are
 * host-order), strings as a 16-bit length and the bytes.
 *
 * Writers grow a buffer and remember running out of memory; readers
 * remember running off the end or meeting a string too long for its
 * field.  Either is checked once, after the last field, so record code
 * reads as a list of fields.  Base layer: any module may include it.
 */
#ifndef FS_PACK_H
#define FS_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct fs_wbuf {
    uint8_t *p;
    size_t   len, cap;
    int      oom;             /* a grow failed (or a fixed buffer is full):
                                 the record is unusable */
    int      fixed;           /* p is the caller's cap bytes, never grown
                                 or freed: no heap copy of a secret */
} fs_wbuf;

/* A writer over the caller's buffer. */
#define FS_WBUF_FIXED(buf) { (buf), 0, sizeof(buf), 0, 1 }

void fs_wbuf_put(fs_wbuf *w, const void *src, size_t n);
void fs_wbuf_u64(fs_wbuf *w, uint64_t v);
void fs_wbuf_str(fs_wbuf *w, const char *s);     /* NULL packs as "" */
/* Frees the bytes (a fixed buffer: only wipes it), wiping them first:
 * records may hold secrets. */
void fs_wbuf_free(fs_wbuf *w);

typedef struct fs_rbuf {
    const uint8_t *p;
    size_t         len, off;
    int            bad;       /* ran off the end or a string overflowed */
} fs_rbuf;

void     fs_rbuf_get(fs_rbuf *r, void *dst, size_t n);
uint64_t fs_rbuf_u64(fs_rbuf *r);
/* Into dst of cap bytes, NUL-terminated; longer strings set bad. */
void     fs_rbuf_str(fs_rbuf *r, char *dst, size_t cap);

/* A float as records hold it: its bits in a u64 field, and back. */
static inline uint64_t fs_f32_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static inline float fs_bits_f32(uint64_t v)
{
    uint32_t bits = (uint32_t)v;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif /* FS_PACK_H */
