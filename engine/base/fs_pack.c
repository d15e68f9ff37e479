/*
 * fs_pack.c - record packing; see fs_pack.h.
 */
#include "fs_pack.h"

#include <stdlib.h>
#include <string.h>

#include "fs_crypt.h"

void fs_wbuf_put(fs_wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        if (w->fixed) {
            w->oom = 1;
            return;
        }
        size_t cap = w->cap ? w->cap * 2 : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *p = malloc(cap);
        if (!p) {
            w->oom = 1;
            return;
        }
        /* Not realloc: the old bytes may be secret and are wiped. */
        if (w->len)
            memcpy(p, w->p, w->len);
        if (w->p)
            fs_wipe(w->p, w->cap);
        free(w->p);
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

void fs_wbuf_u64(fs_wbuf *w, uint64_t v)
{
    fs_wbuf_put(w, &v, sizeof v);
}

void fs_wbuf_str(fs_wbuf *w, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len > UINT16_MAX) {
        w->oom = 1;               /* no field is that long: refuse it */
        return;
    }
    uint16_t n = (uint16_t)len;
    fs_wbuf_put(w, &n, sizeof n);
    fs_wbuf_put(w, s ? s : "", n);
}

void fs_wbuf_free(fs_wbuf *w)
{
    if (w->p)
        fs_wipe(w->p, w->cap);
    if (w->fixed) {
        w->len = 0;
        return;
    }
    free(w->p);
    *w = (fs_wbuf){ 0 };
}

void fs_rbuf_get(fs_rbuf *r, void *dst, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p + r->off, n);
    r->off += n;
}

uint64_t fs_rbuf_u64(fs_rbuf *r)
{
    uint64_t v;
    fs_rbuf_get(r, &v, sizeof v);
    return v;
}

void fs_rbuf_str(fs_rbuf *r, char *dst, size_t cap)
{
    uint16_t n;
    fs_rbuf_get(r, &n, sizeof n);
    if (r->bad || n >= cap || r->len - r->off < n) {
        r->bad = 1;
        dst[0] = 0;
        return;
    }
    memcpy(dst, r->p + r->off, n);
    dst[n] = 0;
    r->off += n;
}
