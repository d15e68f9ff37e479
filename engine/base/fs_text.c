/*
 * fs_text.c - the text checker and escaper (see fs_text.h).  The decoder
 * follows RFC 3629's table of well-formed sequences, so overlong forms,
 * surrogates and code points past U+10FFFF are refused by their first
 * two bytes, without a separate range check.
 */
#include "fs_text.h"

#include <stdio.h>
#include <string.h>

size_t fs_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;          /* the second byte's range */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;                      /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F;                      /* surrogates U+D800.. */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;                      /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F;                      /* past U+10FFFF */
    } else {
        return 0;           /* a continuation byte, C0/C1 lead, F5..FF */
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    uint32_t v = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3Fu);
    }
    *cp = v;
    return len;
}

int fs_text_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

int fs_text_check(const char *what, const char *s, size_t max, fs_detail *d)
{
    size_t n = s ? strlen(s) : 0;
    if (n > max)
        return fs_fail(d, FS_EINVAL, "the %s is longer than %zu bytes", what,
                       max);
    for (size_t i = 0; i < n; ) {
        uint32_t cp;
        size_t len = fs_utf8_next(s + i, n - i, &cp);
        if (len == 0)
            return fs_fail(d, FS_EINVAL, "the %s is not valid UTF-8 at byte "
                           "%zu", what, i);
        if (fs_text_is_control(cp))
            return fs_fail(d, FS_EINVAL, "the %s holds a control character "
                           "at byte %zu", what, i);
        i += len;
    }
    return FS_OK;
}

/* The shown form of the character (or stray byte) at s into out (room
 * for 16): its length; *used receives the bytes of s it stands for. */
static size_t escape_one(const char *s, size_t n, unsigned flags, char *out,
                         size_t *used)
{
    uint32_t cp;
    size_t len = fs_utf8_next(s, n, &cp);
    if (len == 0) {
        *used = 1;
        snprintf(out, 16, "\\x%02x", (unsigned char)s[0]);
        return 4;
    }
    *used = len;
    if (cp == '\\') {
        memcpy(out, "\\\\", 2);
        return 2;
    }
    if (fs_text_is_control(cp) &&
        !(cp == '\n' && (flags & FS_TEXT_KEEP_NEWLINES))) {
        for (size_t i = 0; i < len; i++)
            snprintf(out + 4 * i, 5, "\\x%02x", (unsigned char)s[i]);
        return 4 * len;
    }
    memcpy(out, s, len);
    return len;
}

size_t fs_text_escape(const char *s, char *buf, size_t cap, unsigned flags)
{
    size_t n = s ? strlen(s) : 0, need = 0, used;
    char one[16];
    for (size_t i = 0; i < n; i += used)
        need += escape_one(s + i, n - i, flags, one, &used);
    /* when the whole does not fit, keep room for "..." and the NUL */
    size_t room = need < cap ? cap - 1 : (cap > 4 ? cap - 4 : 0), o = 0;
    for (size_t i = 0; i < n; i += used) {
        size_t k = escape_one(s + i, n - i, flags, one, &used);
        if (o + k > room)
            break;
        memcpy(buf + o, one, k);
        o += k;
    }
    if (need >= cap)
        for (size_t i = 0; i < 3 && o + 1 < cap; i++)
            buf[o++] = '.';
    buf[o] = 0;
    return need;
}
