/*
 * fs_html.c - the self-contained page writer (see fs_html.h).
 *
 * The page is made to be read on screen and on paper by people who
 * compare faces for a living: one column of system type, the disclaimer
 * as a banner no one can scroll past without seeing (top and bottom,
 * printed in colour), figures in a grid that does not break across
 * pages, numbers in tabular figures.  Nothing here reaches outside the
 * file: the style is inline, the images data: URIs, the charts SVG, and
 * the page's own Content-Security-Policy forbids anything else (a
 * browser that opens it will not fetch, run or send a thing).
 *
 * Every string a caller passes is text: escaped for HTML (and so for the
 * SVG within it), control characters dropped.  Not thread-safe per page.
 */
#include "fs_html.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../engine/base/fs_error.h"
#include "fs_svg.h"

static const char STYLE[] =
    ":root{--ink:#1b1f24;--muted:#57606a;--rule:#d0d7de;--panel:#f6f8fa;"
    "--warn-bg:#fff4ce;--warn-ink:#4d3800;--warn-rule:#bf8700;"
    "--bar:#2f5f8a}"
    "*{box-sizing:border-box}"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{margin:0;background:#fff;color:var(--ink);"
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1040px;margin:0 auto;padding:24px 32px 32px}"
    ".disclaimer{border:2px solid var(--warn-rule);border-left-width:10px;"
    "background:var(--warn-bg);color:var(--warn-ink);padding:12px 16px;"
    "margin:0 0 24px;font-weight:600;font-size:15px}"
    ".disclaimer.bottom{margin:32px 0 0}"
    ".disclaimer .label{display:block;font-size:12px;letter-spacing:.08em;"
    "text-transform:uppercase;margin-bottom:2px}"
    "header{border-bottom:2px solid var(--ink);padding-bottom:10px;"
    "margin-bottom:20px}"
    "h1{font-size:26px;line-height:1.2;margin:0}"
    ".subtitle{color:var(--muted);margin:4px 0 0;font-size:16px}"
    "h2{font-size:20px;margin:28px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid var(--rule)}"
    "h3{font-size:17px;margin:20px 0 8px}"
    "h4{font-size:15px;margin:16px 0 6px}"
    "p{margin:8px 0;max-width:75ch}"
    "table{border-collapse:collapse;margin:8px 0 16px;"
    "font-variant-numeric:tabular-nums}"
    "table.fields th{text-align:left;font-weight:600;color:var(--muted);"
    "padding:3px 24px 3px 0;vertical-align:top;white-space:nowrap}"
    "table.fields td{padding:3px 0;vertical-align:top}"
    "table.data{width:100%}"
    "table.data th{text-align:left;background:var(--panel);"
    "border-bottom:2px solid var(--rule);padding:6px 10px}"
    "table.data td{border-bottom:1px solid var(--rule);padding:6px 10px;"
    "vertical-align:top}"
    /* counts: as wide as the words, the numbers right-aligned to compare */
    "table.counts{width:auto;min-width:380px}"
    "table.counts td+td,table.counts th+th{text-align:right;"
    "padding-left:40px}"
    ".row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;"
    "margin:8px 0}"
    /* a table, so the caption wraps at the image's width */
    "figure{margin:0;display:table;break-inside:avoid}"
    "figure img{display:block;border:1px solid var(--rule);"
    "background:var(--panel);max-width:100%;height:auto}"
    "figcaption{display:table-caption;caption-side:bottom;font-size:13px;"
    "line-height:1.35;color:var(--muted);padding-top:4px}"
    ".missing{width:150px;height:150px;display:flex;align-items:center;"
    "justify-content:center;text-align:center;padding:8px;font-size:13px;"
    "border:1px dashed var(--warn-rule);color:var(--warn-ink);"
    "background:var(--warn-bg)}"
    ".card{border:1px solid var(--rule);border-radius:6px;padding:12px 16px;"
    "margin:16px 0;break-inside:avoid}"
    ".card-title{display:flex;flex-wrap:wrap;align-items:baseline;"
    "gap:4px 16px;margin:0 0 8px;font-size:18px}"
    ".card-title .note{font-size:16px;font-weight:600;color:var(--ink);"
    "font-variant-numeric:tabular-nums}"
    ".chart{margin:8px 0 16px;display:block;break-inside:avoid}"
    ".chart svg{max-width:100%;height:auto}"
    "footer{margin-top:12px;font-size:12px;color:var(--muted)}"
    "@media print{body{font-size:11pt}main{max-width:none;padding:0}"
    ".card,figure,.chart,tr{break-inside:avoid}h2,h3{break-after:avoid}"
    "@page{margin:14mm}}";

/* ---- writing --------------------------------------------------------------- */

/* The shared writer's calls (fs_svg.h), on this file's writer */
#define put(h, str)    fs_xml_put(&(h)->w, (str))
#define putf(h, ...)   fs_xml_printf(&(h)->w, __VA_ARGS__)
#define text(h, str)   fs_xml_text(&(h)->w, (str))

/* <tag class="cls">text</tag> */
static void element(fs_html *h, const char *tag, const char *cls,
                    const char *s)
{
    if (cls)
        putf(h, "<%s class=\"%s\">", tag, cls);
    else
        putf(h, "<%s>", tag);
    text(h, s);
    putf(h, "</%s>\n", tag);
}

static void banner(fs_html *h, const char *disclaimer, const char *where)
{
    putf(h, "<div class=\"disclaimer %s\" role=\"note\"><span "
         "class=\"label\">Read before use</span>", where);
    text(h, disclaimer);
    put(h, "</div>\n");
}

void fs_html_begin(fs_html *h, FILE *f, const char *title,
                   const char *subtitle, const char *disclaimer)
{
    memset(h, 0, sizeof *h);
    h->w.f = f;
    /* the policy is the page's promise: nothing but itself */
    put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\""
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
    text(h, title);
    put(h, "</title>\n<style>");
    put(h, STYLE);
    put(h, "</style>\n</head>\n<body>\n<main>\n");
    if (disclaimer)
        banner(h, disclaimer, "top");
    put(h, "<header>\n");
    element(h, "h1", NULL, title);
    if (subtitle)
        element(h, "p", "subtitle", subtitle);
    put(h, "</header>\n");
}

int fs_html_end(fs_html *h, const char *disclaimer)
{
    if (h->in_table)
        fs_html_table_end(h);
    if (disclaimer)
        banner(h, disclaimer, "bottom");
    put(h, "<footer>Made by facesearch. A self-contained page: it loads "
        "nothing from anywhere.</footer>\n</main>\n</body>\n</html>\n");
    return fs_xml_end(&h->w);
}

void fs_html_heading(fs_html *h, int level, const char *s)
{
    static const char *const tags[] = { "h2", "h3", "h4" };
    /* h1 is the page's title alone */
    int i = level <= 2 ? 0 : level == 3 ? 1 : 2;
    element(h, tags[i], NULL, s);
}

void fs_html_para(fs_html *h, const char *s)
{
    element(h, "p", NULL, s);
}

void fs_html_fields(fs_html *h, const char *const *labels,
                    const char *const *values, size_t n)
{
    put(h, "<table class=\"fields\">\n");
    for (size_t i = 0; i < n; i++) {
        put(h, "<tr><th scope=\"row\">");
        text(h, labels[i]);
        put(h, "</th><td>");
        text(h, values[i]);
        put(h, "</td></tr>\n");
    }
    put(h, "</table>\n");
}

static void table_open(fs_html *h, const char *cls,
                       const char *const *heads, size_t n)
{
    if (h->in_table)
        fs_html_table_end(h);
    putf(h, "<table class=\"%s\">\n<thead><tr>", cls);
    for (size_t i = 0; i < n; i++) {
        put(h, "<th scope=\"col\">");
        text(h, heads[i]);
        put(h, "</th>");
    }
    put(h, "</tr></thead>\n<tbody>\n");
    h->in_table = 1;
}

void fs_html_table_begin(fs_html *h, const char *const *heads, size_t n)
{
    table_open(h, "data", heads, n);
}

void fs_html_counts_begin(fs_html *h, const char *const *heads, size_t n)
{
    table_open(h, "data counts", heads, n);
}

void fs_html_table_row(fs_html *h, const char *const *cells, size_t n)
{
    put(h, "<tr>");
    for (size_t i = 0; i < n; i++) {
        put(h, "<td>");
        text(h, cells[i]);
        put(h, "</td>");
    }
    put(h, "</tr>\n");
}

void fs_html_table_end(fs_html *h)
{
    if (!h->in_table)
        return;
    put(h, "</tbody>\n</table>\n");
    h->in_table = 0;
}

/* ---- images ---------------------------------------------------------------- */

/* The bytes as base64, in pieces, so a megabyte image needs no second
 * megabyte of text in memory. */
static void base64(fs_html *h, const uint8_t *p, size_t len)
{
    enum { IN = 3 * 1024 };
    unsigned char out[4 * IN / 3 + 1];
    for (size_t at = 0; at < len; at += IN) {
        size_t n = len - at < IN ? len - at : IN;
        EVP_EncodeBlock(out, p + at, (int)n);
        put(h, (const char *)out);
    }
}

static void figure_open(fs_html *h)
{
    put(h, "<figure>");
}

static void figure_close(fs_html *h, const char *caption)
{
    if (caption)
        element(h, "figcaption", NULL, caption);
    put(h, "</figure>\n");
}

void fs_html_missing(fs_html *h, const char *alt, const char *caption,
                        const char *why)
{
    figure_open(h);
    put(h, "<div class=\"missing\" role=\"img\" aria-label=\"");
    text(h, alt);
    put(h, "\">");
    text(h, why);
    put(h, "</div>");
    figure_close(h, caption);
}

int fs_html_pixels(fs_html *h, const fs_image *img, const char *alt,
                   const char *caption, int width)
{
    fs_image small = { 0 };
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = fs_image_scale(img, FS_HTML_IMAGE_MAX_SIDE, &small, NULL, NULL);
    if (rc == FS_OK)
        rc = fs_image_encode_png(&small, &png, &len, NULL);
    if (rc != FS_OK) {
        fs_image_release(&small);
        fs_html_missing(h, alt, caption, "image not available (could not be "
                    "encoded)");
        return rc;
    }
    /* width and height given, so the page does not move as it loads */
    int w = width > 0 ? width : small.width;
    int ht = (int)lround((double)small.height * w / small.width);
    figure_open(h);
    putf(h, "<img width=\"%d\" height=\"%d\" alt=\"", w, ht);
    text(h, alt);
    put(h, "\" src=\"data:image/png;base64,");
    base64(h, png, len);
    put(h, "\">");
    figure_close(h, caption);
    free(png);
    fs_image_release(&small);
    return FS_OK;
}

int fs_html_image(fs_html *h, const uint8_t *bytes, size_t len,
                  const char *alt, const char *caption, int width)
{
    /* decoding neutralises the orientation tag in place: a copy */
    uint8_t *copy = len ? malloc(len) : NULL;
    fs_image img = { 0 };
    int rc = copy ? FS_OK : len ? FS_ENOMEM : FS_EINVAL;
    if (copy) {
        memcpy(copy, bytes, len);
        rc = fs_image_decode(copy, len, alt ? alt : "image", &img, NULL);
        free(copy);
    }
    if (rc != FS_OK) {
        fs_html_missing(h, alt, caption, "image not available (it does not "
                    "decode)");
        return FS_EINVAL;
    }
    rc = fs_html_pixels(h, &img, alt, caption, width);
    fs_image_release(&img);
    return rc;
}

void fs_html_card_begin(fs_html *h, const char *title, const char *note)
{
    put(h, "<section class=\"card\">\n<h3 class=\"card-title\"><span>");
    text(h, title);
    put(h, "</span>");
    if (note) {
        put(h, "<span class=\"note\">");
        text(h, note);
        put(h, "</span>");
    }
    put(h, "</h3>\n");
}

void fs_html_card_end(fs_html *h)
{
    put(h, "</section>\n");
}

void fs_html_row_begin(fs_html *h)
{
    put(h, "<div class=\"row\">\n");
}

void fs_html_row_end(fs_html *h)
{
    put(h, "</div>\n");
}

/* ---- charts ---------------------------------------------------------------- */

/* A value as a person reads it: counts whole, fractions to four places. */
static void value_text(double v, char *buf, size_t cap)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) < 10)
        snprintf(buf, cap, "%.4f", v);
    else
        snprintf(buf, cap, "%.1f", v);
}

/* A label that fits its column: at most LABEL_CHARS characters, cut on
 * a character's first byte, with an ellipsis when cut. */
#define LABEL_CHARS 28
static void label_text(const char *s, char *buf, size_t cap)
{
    size_t chars = 0, i = 0;
    for (; s && s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == LABEL_CHARS)
            break;
        if (i + 4 >= cap)
            break;
        buf[i] = s[i];
    }
    buf[i] = 0;
    if (s && s[i])
        snprintf(buf + i, cap - i, "\u2026");
}

void fs_html_bars(fs_html *h, const char *title, const char *const *labels,
                  const double *values, size_t n)
{
    /* geometry in SVG units; the chart scales with the page */
    enum { W = 720, LABEL_W = 220, VALUE_W = 80, ROW = 26, BAR = 16,
           TOP = 8, BOTTOM = 8 };
    const int bar_w = W - LABEL_W - VALUE_W;
    double max = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i]) && values[i] > max)
            max = values[i];
    if (max <= 0)
        max = 1;
    int height = TOP + (int)n * ROW + BOTTOM;
    put(h, "<figure class=\"chart\">\n");
    if (title)
        element(h, "h4", NULL, title);
    putf(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
         "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
         "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,"
         "sans-serif\" font-size=\"13\">\n", W, height, W, height);
    put(h, "<title>");
    text(h, title ? title : "chart");
    put(h, "</title>\n");
    /* the axis the bars start from */
    putf(h, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#8c959f\" "
         "stroke-width=\"1\"/>\n", LABEL_W, TOP - 2, LABEL_W,
         height - BOTTOM + 2);
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(values[i]) && values[i] > 0 ? values[i] : 0;
        int y = TOP + (int)i * ROW;
        double len = bar_w * v / max;
        char vt[48];
        value_text(values[i], vt, sizeof vt);
        put(h, "<g>");
        putf(h, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
             "fill=\"#1b1f24\">", LABEL_W - 8, y + BAR - 3);
        char lt[4 * LABEL_CHARS + 8];
        label_text(labels[i], lt, sizeof lt);
        text(h, lt);
        put(h, "</text>");
        putf(h, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
             "fill=\"#2f5f8a\"/>", LABEL_W + 1, y, len, BAR);
        putf(h, "<text x=\"%.1f\" y=\"%d\" fill=\"#1b1f24\" "
             "font-variant-numeric=\"tabular-nums\">", LABEL_W + len + 6,
             y + BAR - 3);
        text(h, vt);
        put(h, "</text></g>\n");
    }
    put(h, "</svg>\n</figure>\n");
}
