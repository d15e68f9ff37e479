/*
 * fs_wire.c - framing, encoding and decoding of the service's messages
 * (see fs_wire.h), and sending them with descriptors attached.
 */
#include "fs_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- encoding ------------------------------------------------------------ */

typedef struct out {
    uint8_t *p;
    size_t   len, cap;
    int      bad;
} out;

static void put(out *o, const void *src, size_t n)
{
    if (o->bad || n == 0)         /* a NULL string is empty: no memcpy */
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n)
            cap *= 2;
        uint8_t *p = cap <= FS_WIRE_FRAME_MAX + 4 ? realloc(o->p, cap) : NULL;
        if (!p) {
            o->bad = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, src, n);
    o->len += n;
}

static void put_u32(out *o, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                     (uint8_t)(v >> 24) };
    put(o, b, 4);
}

static void put_str(out *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > UINT32_MAX)
        o->bad = 1;
    put_u32(o, (uint32_t)n);
    put(o, s, n);
}

int fs_wire_encode(const fs_wire_msg *m, uint8_t **res, size_t *len)
{
    out o = { 0 };
    uint8_t type = (uint8_t)m->type;
    put_u32(&o, 0);                       /* the length, filled in below */
    put(&o, &type, 1);
    switch (m->type) {
    case FS_W_HELLO:
        put_u32(&o, m->version);
        put_str(&o, m->text);
        break;
    case FS_W_RUN:
        if (m->argc < 1 || m->argc > FS_WIRE_ARGS_MAX)
            o.bad = 1;
        put_u32(&o, m->version);
        put_u32(&o, m->flags);
        if (m->flags & FS_W_HAS_TOKEN)
            put(&o, m->token, sizeof m->token);
        put_u32(&o, (uint32_t)m->argc);
        for (int i = 0; i < m->argc && i < FS_WIRE_ARGS_MAX; i++)
            put_str(&o, m->argv[i]);
        break;
    case FS_W_OPEN: case FS_W_CREATE: case FS_W_DISCARD: case FS_W_LIST:
        put_str(&o, m->text);
        break;
    case FS_W_SAVE:
        put(&o, m->token, sizeof m->token);
        break;
    case FS_W_DROP:
        break;
    case FS_W_REPLY:
        put_u32(&o, (uint32_t)m->code);
        put_str(&o, m->text);
        put_u32(&o, (uint32_t)m->nentries);
        for (size_t i = 0; i < m->nentries; i++) {
            uint8_t dir = m->entries[i].is_dir != 0;
            put(&o, &dir, 1);
            put_str(&o, m->entries[i].name);
        }
        break;
    case FS_W_EXIT:
        put_u32(&o, (uint32_t)m->code);
        break;
    default:
        o.bad = 1;
    }
    if (o.bad || o.len - 4 > FS_WIRE_FRAME_MAX) {
        free(o.p);
        return FS_EINVAL;
    }
    uint32_t n = (uint32_t)(o.len - 4);
    o.p[0] = (uint8_t)n;
    o.p[1] = (uint8_t)(n >> 8);
    o.p[2] = (uint8_t)(n >> 16);
    o.p[3] = (uint8_t)(n >> 24);
    *res = o.p;
    *len = o.len;
    return FS_OK;
}

/* ---- decoding ------------------------------------------------------------ */

/* A reader over the frame; strings are copied, NUL-terminated, into an
 * arena that the message keeps (m->frame). */
typedef struct in {
    const uint8_t *p;
    size_t         len, off;
    char          *arena;
    size_t         used;
    int            bad;
} in;

static void get(in *r, void *dst, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return;
    }
    memcpy(dst, r->p + r->off, n);
    r->off += n;
}

static uint32_t get_u32(in *r)
{
    uint8_t b[4] = { 0 };
    get(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static const char *get_str(in *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || n > r->len - r->off || memchr(r->p + r->off, 0, n)) {
        r->bad = 1;
        return "";
    }
    char *s = r->arena + r->used;        /* room: see fs_wire_decode */
    memcpy(s, r->p + r->off, n);
    s[n] = 0;
    r->off += n;
    r->used += n + 1;
    return s;
}

int fs_wire_decode(const uint8_t *p, size_t len, fs_wire_msg *m,
                   fs_detail *d)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < FS_WIRE_FDS_MAX; i++)
        m->fds[i] = -1;
    if (len < 1 || len > FS_WIRE_FRAME_MAX)
        return fs_fail(d, FS_EFORMAT, "a message of %zu bytes", len);
    /* every string costs at least its 4-byte length, so the strings and
     * their NULs fit in len + len / 4 + 1 bytes */
    in r = { p, len, 1, malloc(len + len / 4 + 1), 0, 0 };
    if (!r.arena)
        return fs_fail(d, FS_ENOMEM, "no memory for a message");
    m->frame = (uint8_t *)r.arena;
    m->type = p[0];
    switch (m->type) {
    case FS_W_HELLO:
        m->version = get_u32(&r);
        m->text = get_str(&r);
        break;
    case FS_W_RUN:
        m->version = get_u32(&r);
        m->flags = get_u32(&r);
        if ((m->flags & ~(uint32_t)(FS_W_HAS_TOKEN | FS_W_HAS_TTY |
                                    FS_W_TOKEN_REFUSED)) ||
            ((m->flags & FS_W_HAS_TOKEN) && (m->flags & FS_W_TOKEN_REFUSED)))
            r.bad = 1;
        if (m->flags & FS_W_HAS_TOKEN)
            get(&r, m->token, sizeof m->token);
        uint32_t argc = get_u32(&r);
        if (argc < 1 || argc > FS_WIRE_ARGS_MAX)
            r.bad = 1;
        for (uint32_t i = 0; !r.bad && i < argc; i++)
            m->argv[i] = get_str(&r);
        m->argc = r.bad ? 0 : (int)argc;
        break;
    case FS_W_OPEN: case FS_W_CREATE: case FS_W_DISCARD: case FS_W_LIST:
        m->text = get_str(&r);
        if (!r.bad && !m->text[0])
            r.bad = 1;
        break;
    case FS_W_SAVE:
        get(&r, m->token, sizeof m->token);
        break;
    case FS_W_DROP:
        break;
    case FS_W_REPLY: {
        m->code = (int32_t)get_u32(&r);
        m->text = get_str(&r);
        uint32_t n = get_u32(&r);
        /* each entry takes at least 5 bytes: refuse a count the frame
         * cannot hold before allocating for it */
        if (r.bad || n > (r.len - r.off) / 5) {
            r.bad = 1;
            break;
        }
        if (n && !(m->entries = calloc(n, sizeof *m->entries))) {
            fs_wire_clear(m);
            return fs_fail(d, FS_ENOMEM, "no memory for a listing");
        }
        for (uint32_t i = 0; !r.bad && i < n; i++) {
            uint8_t dir = 0;
            get(&r, &dir, 1);
            m->entries[i].is_dir = dir == 1;
            m->entries[i].name = get_str(&r);
            if (dir > 1 || !m->entries[i].name[0] ||
                strchr(m->entries[i].name, '/'))
                r.bad = 1;
        }
        m->nentries = r.bad ? 0 : n;
        break;
    }
    case FS_W_EXIT:
        m->code = (int32_t)get_u32(&r);
        break;
    default:
        r.bad = 1;
    }
    if (r.bad || r.off != r.len) {
        int type = m->type;
        fs_wire_clear(m);
        return fs_fail(d, FS_EFORMAT, "a malformed message (type %d, %zu "
                       "bytes)", type, len);
    }
    return FS_OK;
}

void fs_wire_clear(fs_wire_msg *m)
{
    for (int i = 0; i < m->nfds; i++)
        if (m->fds[i] >= 0)
            close(m->fds[i]);
    free(m->entries);
    free(m->frame);
    memset(m, 0, sizeof *m);
}

/* ---- the socket ------------------------------------------------------------ */

int fs_wire_send(int sock, const fs_wire_msg *m, fs_detail *d)
{
    uint8_t *buf;
    size_t len;
    if (fs_wire_encode(m, &buf, &len) != FS_OK)
        return fs_fail(d, FS_EINVAL, "a message over the protocol's limits");
    union {
        struct cmsghdr h;
        char           b[CMSG_SPACE(FS_WIRE_FDS_MAX * sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    size_t off = 0;
    int rc = FS_OK;
    while (off < len) {
        struct iovec iov = { buf + off, len - off };
        struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (off == 0 && m->nfds > 0) {   /* the descriptors ride the first
                                            byte of the frame */
            size_t n = (size_t)m->nfds * sizeof(int);
            h.msg_control = ctl.b;
            h.msg_controllen = CMSG_SPACE(n);
            struct cmsghdr *c = CMSG_FIRSTHDR(&h);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(n);
            memcpy(CMSG_DATA(c), m->fds, n);
        }
        ssize_t w = sendmsg(sock, &h, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = fs_fail(d, FS_EIO, "the other side is gone (%s)",
                         w < 0 ? strerror(errno) : "no progress");
            break;
        }
        off += (size_t)w;
    }
    free(buf);
    return rc;
}

/* Reads n bytes, collecting any descriptors that arrive on the way. */
static int read_full(int sock, uint8_t *p, size_t n, fs_wire_msg *m,
                     fs_detail *d)
{
    size_t got = 0;
    while (got < n) {
        union {
            struct cmsghdr h;
            char           b[CMSG_SPACE(FS_WIRE_FDS_MAX * sizeof(int))];
        } ctl;
        struct iovec iov = { p + got, n - got };
        struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl.b,
                            .msg_controllen = sizeof ctl.b };
        ssize_t r = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        for (struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&h) : NULL; c;
             c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *fd = (int *)CMSG_DATA(c);
            for (size_t i = 0; i < k; i++) {
                if (m->nfds < FS_WIRE_FDS_MAX)
                    m->fds[m->nfds++] = fd[i];
                else
                    close(fd[i]);       /* more than any message carries */
            }
        }
        if (r > 0 && (h.msg_flags & MSG_CTRUNC))
            return fs_fail(d, FS_EFORMAT, "a message with too many "
                           "descriptors");
        if (r <= 0)
            return fs_fail(d, FS_EIO, r == 0 ? "the other side closed the "
                           "connection" : errno == EAGAIN ||
                           errno == EWOULDBLOCK ? "the other side did not "
                           "answer in time" : "the connection failed: %s",
                           strerror(errno));
        got += (size_t)r;
    }
    return FS_OK;
}

int fs_wire_recv(int sock, size_t max, fs_wire_msg *m, fs_detail *d)
{
    fs_wire_msg got = { .nfds = 0 };
    for (int i = 0; i < FS_WIRE_FDS_MAX; i++)
        got.fds[i] = -1;
    uint8_t hdr[4];
    int rc = read_full(sock, hdr, 4, &got, d);
    uint32_t n = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
                 (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    if (rc == FS_OK && (n == 0 || n > max))
        rc = fs_fail(d, n ? FS_ETOOBIG : FS_EFORMAT, "a message of %u "
                     "bytes (the limit is %zu)", n, max);
    uint8_t *body = rc == FS_OK ? malloc(n) : NULL;
    if (rc == FS_OK && !body)
        rc = fs_fail(d, FS_ENOMEM, "no memory for a message");
    if (rc == FS_OK)
        rc = read_full(sock, body, n, &got, d);
    if (rc == FS_OK)
        rc = fs_wire_decode(body, n, m, d);
    free(body);
    if (rc != FS_OK) {
        fs_wire_clear(&got);
        return rc;
    }
    memcpy(m->fds, got.fds, sizeof m->fds);
    m->nfds = got.nfds;
    return FS_OK;
}
