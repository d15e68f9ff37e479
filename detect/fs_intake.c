/*
 * fs_intake.c - what a probe or gallery file is, from its bytes alone,
 * before anything decodes it (rule G8 of GATE.md: still images only).
 *
 * Every supported format's structure is walked far enough to know its
 * size in pixels, whether it holds more than one frame or page, whether
 * it is cut short, and its EXIF orientation.  Video containers, animated
 * images, multi-page TIFF and streams or devices are refused under G8
 * (FS_DENIED); malformed, truncated or oversized files as bad input.  No
 * decoder sees a file this code has not accepted, so a header declaring
 * 100000x100000 pixels never reaches one.
 *
 * Every read goes through the bounds-checked helpers below: a hostile
 * file can make a check fail, never read outside the buffer.
 */
#include "fs_detect.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- bounds-checked reading ------------------------------------------- */

typedef struct bytes {
    const uint8_t *p;
    size_t         n;
} bytes;

static int has(bytes b, size_t off, size_t len)
{
    return off <= b.n && len <= b.n - off;
}

static unsigned u16le(bytes b, size_t o) { return b.p[o] | b.p[o + 1] << 8; }
static unsigned u16be(bytes b, size_t o) { return b.p[o] << 8 | b.p[o + 1]; }

static uint32_t u32le(bytes b, size_t o)
{
    return (uint32_t)u16le(b, o) | (uint32_t)u16le(b, o + 2) << 16;
}

static uint32_t u32be(bytes b, size_t o)
{
    return (uint32_t)u16be(b, o) << 16 | (uint32_t)u16be(b, o + 2);
}

static int at(bytes b, size_t off, const char *magic, size_t len)
{
    return has(b, off, len) && memcmp(b.p + off, magic, len) == 0;
}

/* ---- TIFF structure (TIFF files and EXIF blocks) ---------------------- */

typedef struct tiff {
    bytes    b;
    int      be;                   /* "MM": big-endian */
} tiff;

static unsigned t16(const tiff *t, size_t o)
{
    return t->be ? u16be(t->b, o) : u16le(t->b, o);
}

static uint32_t t32(const tiff *t, size_t o)
{
    return t->be ? u32be(t->b, o) : u32le(t->b, o);
}

static int tiff_open(bytes b, tiff *t)
{
    t->b = b;
    if (!has(b, 0, 8))
        return 0;
    if (at(b, 0, "II*\0", 4))
        t->be = 0;
    else if (at(b, 0, "MM\0*", 4))
        t->be = 1;
    else
        return 0;
    return 1;
}

/* Value of an IFD entry of type SHORT or LONG with count 1, or of
 * element i of its array. */
static int tiff_value(const tiff *t, size_t entry, uint32_t i, uint32_t *v)
{
    unsigned type = t16(t, entry + 2);
    uint32_t count = t32(t, entry + 4);
    size_t size = type == 3 ? 2 : type == 4 ? 4 : 0;
    if (size == 0 || i >= count)
        return 0;
    size_t off = entry + 8;
    if ((uint64_t)count * size > 4) {
        off = t32(t, entry + 8);
        if ((uint64_t)count * size > t->b.n || !has(t->b, off, count * size))
            return 0;
    }
    off += (size_t)i * size;
    *v = size == 2 ? t16(t, off) : t32(t, off);
    return 1;
}

typedef struct ifd_info {
    uint32_t width, height, orientation;
    size_t   orientation_at;     /* offset of its value, 0: no tag */
    uint32_t orientation_other;  /* a second tag's other value, 0: none */
    uint64_t data_end;           /* end of the strips or tiles */
    uint32_t next;               /* offset of the next IFD, 0: none */
} ifd_info;

/* Reads the IFD at off; 0 when it does not fit in the buffer. */
static int tiff_ifd(const tiff *t, size_t off, ifd_info *out)
{
    memset(out, 0, sizeof *out);
    out->orientation = 1;
    if (off < 8 || !has(t->b, off, 2))
        return 0;
    unsigned n = t16(t, off);
    if (!has(t->b, off + 2, (size_t)n * 12 + 4))
        return 0;
    size_t offsets = 0, counts = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t e = off + 2 + (size_t)i * 12;
        uint32_t v = 0;
        switch (t16(t, e)) {
        case 256: if (tiff_value(t, e, 0, &v)) out->width = v; break;
        case 257: if (tiff_value(t, e, 0, &v)) out->height = v; break;
        case 274:
            if (t16(t, e + 2) == 3 && tiff_value(t, e, 0, &v)) {
                if (out->orientation_at && v != out->orientation &&
                    !out->orientation_other)
                    out->orientation_other = out->orientation;
                out->orientation = v;
                out->orientation_at = e + 8;
            }
            break;
        case 273: case 324: offsets = e; break;     /* strips or tiles */
        case 279: case 325: counts = e; break;
        }
    }
    if (offsets && counts) {
        uint32_t k = t32(t, offsets + 4);
        for (uint32_t i = 0; i < k && i < 1000000; i++) {
            uint32_t o, c;
            if (!tiff_value(t, offsets, i, &o) ||
                !tiff_value(t, counts, i, &c))
                return 0;
            if ((uint64_t)o + c > out->data_end)
                out->data_end = (uint64_t)o + c;
        }
    }
    out->next = t32(t, off + 2 + (size_t)n * 12);
    return 1;
}

typedef struct probe {
    const char *path;              /* for messages only */
    fs_still   *out;
    fs_detail  *d;
    int        *clash;             /* another orientation given, 0: none */
} probe;

/* Records an orientation tag (value 1..8) found `base` bytes into the
 * file: decoders are handed a copy with it set to 1 (some apply it, some
 * do not), and the loader applies it once, itself.  A file that gives two
 * (twice in one IFD, or in two EXIF blocks) is ambiguous: a viewer may
 * show it the first way while we search it the last, so it is refused. */
static void set_orientation(const probe *pr, const ifd_info *ifd,
                            size_t base, int be)
{
    fs_still *s = pr->out;
    if (ifd->orientation_other && !*pr->clash)
        *pr->clash = (int)ifd->orientation_other;
    if (ifd->orientation_at == 0 || ifd->orientation < 1 ||
        ifd->orientation > 8)
        return;
    if (s->orientation_at && s->orientation != (int)ifd->orientation &&
        !*pr->clash)
        *pr->clash = s->orientation;
    s->orientation = (int)ifd->orientation;
    s->orientation_at = base + ifd->orientation_at;
    s->orientation_be = be;
}

/* The orientation of an EXIF block ("Exif\0\0" + TIFF) that starts
 * `base` bytes into the file. */
static void exif_orientation(bytes b, size_t base, const probe *pr)
{
    tiff t;
    if (at(b, 0, "Exif\0\0", 6)) {
        b.p += 6;
        b.n -= 6;
        base += 6;
    }
    ifd_info ifd;
    if (tiff_open(b, &t) && tiff_ifd(&t, t32(&t, 4), &ifd))
        set_orientation(pr, &ifd, base, t.be);
}

/* ---- the formats -------------------------------------------------------- */

static int corrupt(const probe *pr, const char *kind, const char *what)
{
    return fs_fail(pr->d, FS_EDECODE, "'%s' is a corrupt %s (%s)", pr->path,
                   kind, what);
}

static int truncated(const probe *pr, const char *kind)
{
    return fs_fail(pr->d, FS_EDECODE, "'%s' is a truncated %s: it ends "
                   "before the image does", pr->path, kind);
}

static int still_only(const probe *pr, const char *what)
{
    return fs_fail(pr->d, FS_DENIED, "G8: '%s' is %s; facial recognition "
                   "runs on one still image only", pr->path, what);
}

static int check_jpeg(bytes b, const probe *pr)
{
    size_t pos = 2;
    int sof = 0;
    for (;;) {
        if (!has(b, pos, 4))
            return truncated(pr, "JPEG");
        if (b.p[pos] != 0xFF)
            return corrupt(pr, "JPEG", "no marker where one belongs");
        while (has(b, pos, 2) && b.p[pos + 1] == 0xFF)
            pos++;                            /* fill bytes */
        if (!has(b, pos, 2))
            return truncated(pr, "JPEG");
        unsigned m = b.p[pos + 1];
        pos += 2;
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;                         /* no length */
        if (m == 0xD9)
            return corrupt(pr, "JPEG", "it ends before any scan");
        if (!has(b, pos, 2))
            return truncated(pr, "JPEG");
        size_t len = u16be(b, pos);
        if (len < 2 || !has(b, pos, len))
            return truncated(pr, "JPEG");
        bytes seg = { b.p + pos + 2, len - 2 };
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (seg.n < 6)
                return corrupt(pr, "JPEG", "short frame header");
            pr->out->height = (int)u16be(seg, 1);
            pr->out->width = (int)u16be(seg, 3);
            sof = 1;
        } else if (m == 0xE1 && at(seg, 0, "Exif\0\0", 6)) {
            exif_orientation(seg, pos + 2, pr);
        } else if (m == 0xDA) {
            if (!sof)
                return corrupt(pr, "JPEG", "a scan before the frame header");
            /* entropy-coded data: a literal 0xFF is stuffed as FF 00, so
             * the first FF D9 after the scans is the end of the image */
            for (size_t i = pos + len; i + 1 < b.n; i++)
                if (b.p[i] == 0xFF && b.p[i + 1] == 0xD9)
                    return FS_OK;
            return truncated(pr, "JPEG");
        }
        pos += len;
    }
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    if (!table[1])                         /* idempotent, so thread-safe */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void fs_intake_png_mute(uint8_t *buf, size_t len, size_t at)
{
    bytes b = { buf, len };
    if (!has(b, at, 12))
        return;
    uint32_t n = u32be(b, at);
    if (n > 0x7FFFFFFFu || !has(b, at + 8, (size_t)n + 4))
        return;
    memcpy(buf + at + 4, "prVx", 4);       /* ancillary, private */
    uint32_t c = crc32_png(buf + at + 4, (size_t)n + 4);
    uint8_t *crc = buf + at + 8 + n;
    crc[0] = (uint8_t)(c >> 24);
    crc[1] = (uint8_t)(c >> 16);
    crc[2] = (uint8_t)(c >> 8);
    crc[3] = (uint8_t)c;
}

static int check_png(bytes b, const probe *pr)
{
    size_t pos = 8;
    int first = 1;
    for (;;) {
        if (!has(b, pos, 12))
            return truncated(pr, "PNG");
        uint32_t len = u32be(b, pos);
        if (len > 0x7FFFFFFFu || !has(b, pos + 8, (size_t)len + 4))
            return truncated(pr, "PNG");
        const uint8_t *type = b.p + pos + 4;
        if (crc32_png(type, (size_t)len + 4) != u32be(b, pos + 8 + len))
            return corrupt(pr, "PNG", "a chunk fails its CRC");
        bytes data = { b.p + pos + 8, len };
        if (first) {
            if (memcmp(type, "IHDR", 4) != 0 || len != 13)
                return corrupt(pr, "PNG", "no header chunk");
            pr->out->width = (int)(u32be(data, 0) & 0x7FFFFFFF);
            pr->out->height = (int)(u32be(data, 4) & 0x7FFFFFFF);
            first = 0;
        } else if (memcmp(type, "acTL", 4) == 0 && len >= 4 &&
                   u32be(data, 0) > 1) {
            return still_only(pr, "an animated PNG (APNG)");
        } else if (memcmp(type, "eXIf", 4) == 0) {
            exif_orientation(data, pos + 8, pr);
        } else if (memcmp(type, "iCCP", 4) == 0) {
            pr->out->png_iccp_at = pos;
        } else if (memcmp(type, "IEND", 4) == 0) {
            return FS_OK;
        }
        pos += 12 + (size_t)len;
    }
}

static int check_bmp(bytes b, const probe *pr)
{
    if (!has(b, 0, 26))
        return truncated(pr, "BMP");
    uint32_t off = u32le(b, 10), dib = u32le(b, 14);
    int64_t w, h;
    unsigned bpp;
    uint32_t compression = 0;
    if (dib == 12) {
        w = u16le(b, 18);
        h = u16le(b, 20);
        bpp = u16le(b, 24);
    } else if (dib >= 40 && has(b, 14, 40)) {
        w = (int32_t)u32le(b, 18);
        h = (int32_t)u32le(b, 22);
        bpp = u16le(b, 28);
        compression = u32le(b, 30);
    } else {
        return corrupt(pr, "BMP", "unknown header");
    }
    if (h < 0)
        h = -h;                             /* top-down */
    if (w <= 0 || h <= 0 || bpp == 0 || bpp > 32)
        return corrupt(pr, "BMP", "bad size or depth");
    pr->out->width = w > INT32_MAX ? INT32_MAX : (int)w;
    pr->out->height = h > INT32_MAX ? INT32_MAX : (int)h;
    if (compression == 0 || compression == 3) {       /* uncompressed */
        uint64_t row = ((uint64_t)w * bpp + 31) / 32 * 4;
        if (off + row * (uint64_t)h > b.n)
            return truncated(pr, "BMP");
    } else if (off >= b.n) {
        return truncated(pr, "BMP");
    }
    return FS_OK;
}

static int check_tiff(bytes b, const probe *pr)
{
    tiff t;
    ifd_info ifd;
    if (!tiff_open(b, &t) || !tiff_ifd(&t, t32(&t, 4), &ifd))
        return truncated(pr, "TIFF");
    if (ifd.width == 0 || ifd.height == 0)
        return corrupt(pr, "TIFF", "no image size");
    pr->out->width = ifd.width > INT32_MAX ? INT32_MAX : (int)ifd.width;
    pr->out->height = ifd.height > INT32_MAX ? INT32_MAX : (int)ifd.height;
    set_orientation(pr, &ifd, 0, t.be);
    if (ifd.data_end > b.n)
        return truncated(pr, "TIFF");
    if (ifd.next != 0) {
        int pages = 1;
        ifd_info more;
        for (uint32_t off = ifd.next; off && pages < 1000 &&
             tiff_ifd(&t, off, &more); off = more.next)
            pages++;
        char what[64];
        snprintf(what, sizeof what, "a multi-page TIFF (%s%d pages)",
                 pages >= 1000 ? "at least " : "", pages);
        return still_only(pr, what);
    }
    return FS_OK;
}

static int check_webp(bytes b, const probe *pr)
{
    uint64_t end = (uint64_t)u32le(b, 4) + 8;
    if (end > b.n)
        return truncated(pr, "WebP");
    int size_known = 0;
    for (size_t pos = 12; pos + 8 <= end; ) {
        uint32_t len = u32le(b, pos + 4);
        if ((uint64_t)pos + 8 + len > end)
            return truncated(pr, "WebP");
        bytes data = { b.p + pos + 8, len };
        const uint8_t *fourcc = b.p + pos;
        if (memcmp(fourcc, "VP8X", 4) == 0 && len >= 10) {
            if (data.p[0] & 0x02)
                return still_only(pr, "an animated WebP");
            pr->out->width = (int)(1 + (u32le(data, 4) & 0xFFFFFF));
            pr->out->height = (int)(1 + (u32le(data, 6) >> 8));
            size_known = 1;
        } else if (memcmp(fourcc, "ANIM", 4) == 0 ||
                   memcmp(fourcc, "ANMF", 4) == 0) {
            return still_only(pr, "an animated WebP");
        } else if (memcmp(fourcc, "VP8 ", 4) == 0 && len >= 10 &&
                   !size_known) {
            if (data.p[3] != 0x9D || data.p[4] != 0x01 || data.p[5] != 0x2A)
                return corrupt(pr, "WebP", "bad VP8 frame header");
            pr->out->width = (int)(u16le(data, 6) & 0x3FFF);
            pr->out->height = (int)(u16le(data, 8) & 0x3FFF);
            size_known = 1;
        } else if (memcmp(fourcc, "VP8L", 4) == 0 && len >= 5 &&
                   !size_known) {
            if (data.p[0] != 0x2F)
                return corrupt(pr, "WebP", "bad VP8L header");
            uint32_t v = u32le(data, 1);
            pr->out->width = (int)(1 + (v & 0x3FFF));
            pr->out->height = (int)(1 + ((v >> 14) & 0x3FFF));
            size_known = 1;
        } else if (memcmp(fourcc, "EXIF", 4) == 0) {
            exif_orientation(data, pos + 8, pr);
        }
        pos += 8 + (size_t)len + (len & 1);
    }
    return size_known ? FS_OK : corrupt(pr, "WebP", "no image in it");
}

/* Frames of a GIF (0 if its block structure is broken). */
static int gif_frames(bytes b)
{
    if (!has(b, 0, 13))
        return 0;
    size_t pos = 13;
    if (b.p[10] & 0x80)
        pos += 3u << ((b.p[10] & 7) + 1);            /* global colours */
    int frames = 0;
    while (has(b, pos, 1)) {
        uint8_t tag = b.p[pos];
        if (tag == 0x3B)
            return frames;
        if (tag == 0x2C) {                           /* image descriptor */
            if (!has(b, pos, 11))
                return 0;
            uint8_t flags = b.p[pos + 9];
            pos += 10;
            if (flags & 0x80)
                pos += 3u << ((flags & 7) + 1);
            pos++;                                   /* LZW code size */
            frames++;
        } else if (tag == 0x21) {
            pos += 2;
        } else {
            return 0;
        }
        for (;;) {                                   /* data sub-blocks */
            if (!has(b, pos, 1))
                return 0;
            uint8_t n = b.p[pos++];
            if (n == 0)
                break;
            pos += n;
        }
    }
    return frames;
}

/* Video and other containers, by signature: never a still image. */
static const char *video_container(bytes b)
{
    static const uint8_t asf[16] = { 0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66,
                                     0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA,
                                     0x00, 0x62, 0xCE, 0x6C };
    static const char *qt_atoms[] = { "moov", "mdat", "wide", "free",
                                      "skip", "pnot" };
    if (at(b, 4, "ftyp", 4))
        return "a video container (ISO-BMFF: MP4, MOV, 3GP)";
    for (size_t i = 0; i < sizeof qt_atoms / sizeof qt_atoms[0]; i++)
        if (at(b, 4, qt_atoms[i], 4))
            return "a video container (QuickTime MOV)";
    if (at(b, 0, "RIFF", 4) && at(b, 8, "AVI ", 4))
        return "a video container (AVI)";
    if (at(b, 0, "\x1A\x45\xDF\xA3", 4))
        return "a video container (Matroska/WebM)";
    if (at(b, 0, "\0\0\x01\xBA", 4))
        return "a video container (MPEG program stream)";
    if (at(b, 0, "\0\0\x01\xB3", 4))
        return "an MPEG video stream";
    if ((has(b, 0, 377) && b.p[0] == 0x47 && b.p[188] == 0x47 &&
         b.p[376] == 0x47) ||
        (has(b, 0, 389) && b.p[4] == 0x47 && b.p[196] == 0x47 &&
         b.p[388] == 0x47))
        return "a video container (MPEG transport stream)";
    if (at(b, 0, "FLV\x01", 4))
        return "a video container (FLV)";
    if (has(b, 0, 16) && memcmp(b.p, asf, 16) == 0)
        return "a video container (ASF/WMV)";
    if (at(b, 0, "OggS", 4))
        return "a media container (Ogg)";
    if (at(b, 0, ".RMF", 4))
        return "a video container (RealMedia)";
    if (at(b, 0, "\0\0\0\x01\x67", 5) || at(b, 0, "\0\0\0\x01\x40\x01", 6))
        return "a raw H.264/H.265 video stream";
    return NULL;
}

int fs_intake_identify(const uint8_t *buf, size_t len, const char *path,
                       fs_still *out, fs_detail *d)
{
    bytes b = { buf, len };
    fs_still s = { FS_IMG_UNKNOWN, 0, 0, 1, 0, 0, 0 };
    int clash = 0;
    probe pr = { path, &s, d, &clash };
    int rc;
    const char *video;
    if (len == 0)
        return fs_fail(d, FS_EDECODE, "'%s' is empty", path);
    if (at(b, 0, "\xFF\xD8\xFF", 3)) {
        s.type = FS_IMG_JPEG;
        rc = check_jpeg(b, &pr);
    } else if (at(b, 0, "\x89PNG\r\n\x1A\n", 8)) {
        s.type = FS_IMG_PNG;
        rc = check_png(b, &pr);
    } else if (at(b, 0, "BM", 2)) {
        s.type = FS_IMG_BMP;
        rc = check_bmp(b, &pr);
    } else if (at(b, 0, "II*\0", 4) || at(b, 0, "MM\0*", 4)) {
        s.type = FS_IMG_TIFF;
        rc = check_tiff(b, &pr);
    } else if (at(b, 0, "RIFF", 4) && at(b, 8, "WEBP", 4)) {
        s.type = FS_IMG_WEBP;
        rc = check_webp(b, &pr);
    } else if (at(b, 0, "GIF87a", 6) || at(b, 0, "GIF89a", 6)) {
        int frames = gif_frames(b);
        if (frames > 1) {
            char what[64];
            snprintf(what, sizeof what, "an animated GIF (%d frames)",
                     frames);
            return still_only(&pr, what);
        }
        return fs_fail(d, FS_EUNSUPPORTED, "'%s' is a GIF, which this "
                       "build does not decode; convert it to PNG", path);
    } else if ((video = video_container(b)) != NULL) {
        return still_only(&pr, video);
    } else {
        return fs_fail(d, FS_EFORMAT, "'%s' is not an image of a supported "
                       "type (JPEG, PNG, BMP, TIFF, WebP), whatever its "
                       "name", path);
    }
    if (rc != FS_OK)
        return rc;
    if (clash)
        return fs_fail(d, FS_EDECODE, "'%s' gives its EXIF orientation "
                       "twice, as %d and as %d: which way up it is cannot be "
                       "told (save it again with one)", path, clash,
                       s.orientation);
    if (s.width <= 0 || s.height <= 0)
        return corrupt(&pr, "image", "zero width or height");
    if (s.width > FS_IMAGE_MAX_SIDE || s.height > FS_IMAGE_MAX_SIDE ||
        (int64_t)s.width * s.height > FS_IMAGE_MAX_PIXELS)
        return fs_fail(d, FS_ETOOBIG, "'%s' declares %dx%d pixels, over "
                       "the limit of %ld pixels and %d per side: refused "
                       "before decoding", path, s.width, s.height,
                       (long)FS_IMAGE_MAX_PIXELS, FS_IMAGE_MAX_SIDE);
    *out = s;
    return FS_OK;
}

int fs_intake_check_arg(const char *arg, fs_detail *d)
{
    /* scheme://..., or a known streaming scheme with a single colon */
    static const char *schemes[] = { "rtsp:", "rtsps:", "rtmp:", "rtmps:",
                                     "http:", "https:", "udp:", "tcp:",
                                     "rtp:", "srt:", "mms:", "ftp:" };
    size_t i = 0;
    while ((arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' &&
           arg[i] <= 'Z') || (i > 0 && ((arg[i] >= '0' && arg[i] <= '9') ||
           arg[i] == '+' || arg[i] == '-' || arg[i] == '.')))
        i++;
    int url = i > 1 && arg[i] == ':' && arg[i + 1] == '/' && arg[i + 2] == '/';
    for (size_t k = 0; !url && k < sizeof schemes / sizeof schemes[0]; k++)
        url = strncasecmp(arg, schemes[k], strlen(schemes[k])) == 0;
    if (url)
        return fs_fail(d, FS_DENIED, "G8: '%s' is a stream or URL address; "
                       "facial recognition runs on one still image file "
                       "only", arg);
    if (strncmp(arg, "/dev/", 5) == 0)
        return fs_fail(d, FS_DENIED, "G8: '%s' is a device; facial "
                       "recognition runs on one still image file only", arg);
    return FS_OK;
}
