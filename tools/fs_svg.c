/*
 * fs_svg.c - the SVG plot writer (see fs_svg.h).
 *
 * A plot is made to be read by somebody comparing two systems or two
 * settings: tick labels at round values on every axis, light grid lines
 * at them so a point can be read across, series in colours that stay
 * apart in grey print (with a dash pattern each), the legend inside the
 * plot's top corner on a white box so it never hides a curve's ends
 * unreadably.
 */
#include "fs_svg.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "../engine/base/fs_error.h"

static const char *const colour[] = { "#2f5f8a", "#c0392b", "#2e7d32",
                                      "#8e44ad" };
static const char *const dash[] = { "", "6 3", "2 2", "8 3 2 3" };
#define NSTYLE (sizeof colour / sizeof *colour)

void fs_xml_put(fs_xml *w, const char *s)
{
    if (!w->err && fputs(s, w->f) == EOF)
        w->err = FS_EIO;
}

void fs_xml_printf(fs_xml *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!w->err && vfprintf(w->f, fmt, ap) < 0)
        w->err = FS_EIO;
    va_end(ap);
}

void fs_xml_text(fs_xml *w, const char *s)
{
    if (!w->err)
        w->err = fs_svg_text(w->f, s);
}

int fs_xml_end(fs_xml *w)
{
    if (!w->err && (fflush(w->f) != 0 || ferror(w->f)))
        w->err = FS_EIO;
    return w->err ? FS_EIO : FS_OK;
}

/* The shared writer's calls (fs_svg.h), on this file's writer */
#define putf(s, ...)   fs_xml_printf(&(s)->w, __VA_ARGS__)
#define text(s, str)   fs_xml_text(&(s)->w, (str))

int fs_svg_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        const char *ent;
        switch (*p) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        case '\n': case '\t': case '\r': ent = " "; break;
        default: ent = NULL; break;
        }
        int rc = ent ? fputs(ent, f)
               : *p < 0x20 || *p == 0x7f ? 0 : putc(*p, f);
        if (rc == EOF)
            return FS_EIO;
    }
    return FS_OK;
}

void fs_svg_begin(fs_svg *s, FILE *f, int w, int h, const char *title)
{
    memset(s, 0, sizeof *s);
    s->w.f = f;
    putf(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
         "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
         "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,"
         "sans-serif\" font-size=\"13\" fill=\"#1b1f24\">\n<title>", w, h,
         w, h);
    text(s, title);
    putf(s, "</title>\n<rect width=\"100%%\" height=\"100%%\" "
         "fill=\"white\"/>\n");
}

int fs_svg_end(fs_svg *s)
{
    putf(s, "</svg>\n");
    return fs_xml_end(&s->w);
}

/* The colour and dash a series is drawn in. */
static size_t style(const fs_svg_series *series, size_t k)
{
    return series[k].like > 0 ? (size_t)series[k].like - 1 : k;
}

/* Where v falls along an axis of length len (0 at lo); NAN when it has
 * no place there (non-positive on a log axis). */
static double place(const fs_svg_axis *a, double v, double len)
{
    if (a->log) {
        if (!(v > 0))
            return NAN;
        return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) *
               len;
    }
    return (v - a->lo) / (a->hi - a->lo) * len;
}

void fs_svg_plot(fs_svg *s, int x, int y, int w, int h, const char *title,
                 const fs_svg_axis *xa, const fs_svg_axis *ya,
                 const fs_svg_series *series, size_t nseries, int legend)
{
    /* margins for tick labels, axis titles and the plot's title */
    enum { LEFT = 64, RIGHT = 16, TOP = 34, BOTTOM = 50 };
    const double px = x + LEFT, py = y + TOP, pw = w - LEFT - RIGHT,
                 ph = h - TOP - BOTTOM;
    int clip = s->clips++;
    putf(s, "<g>\n<text x=\"%.1f\" y=\"%d\" font-size=\"15\" "
         "font-weight=\"600\">", px, y + 20);
    text(s, title);
    putf(s, "</text>\n<clipPath id=\"plot%d\"><rect x=\"%.1f\" y=\"%.1f\" "
         "width=\"%.1f\" height=\"%.1f\"/></clipPath>\n", clip, px, py, pw,
         ph);
    /* grid and tick labels */
    for (size_t i = 0; i < xa->nticks; i++) {
        double gx = px + place(xa, xa->ticks[i], pw);
        char lab[32];
        snprintf(lab, sizeof lab, xa->format, xa->ticks[i]);
        putf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
             "stroke=\"#d0d7de\"/><text x=\"%.1f\" y=\"%.1f\" "
             "text-anchor=\"middle\">", gx, py, gx, py + ph, gx,
             py + ph + 17);
        text(s, lab);
        putf(s, "</text>\n");
    }
    for (size_t i = 0; i < ya->nticks; i++) {
        double gy = py + ph - place(ya, ya->ticks[i], ph);
        char lab[32];
        snprintf(lab, sizeof lab, ya->format, ya->ticks[i]);
        putf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
             "stroke=\"#d0d7de\"/><text x=\"%.1f\" y=\"%.1f\" "
             "text-anchor=\"end\">", px, gy, px + pw, gy, px - 6, gy + 4);
        text(s, lab);
        putf(s, "</text>\n");
    }
    putf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
         "fill=\"none\" stroke=\"#57606a\"/>\n", px, py, pw, ph);
    putf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
         px + pw / 2, py + ph + 40);
    text(s, xa->title);
    putf(s, "</text>\n<text transform=\"translate(%d %.1f) rotate(-90)\" "
         "text-anchor=\"middle\">", x + 16, py + ph / 2);
    text(s, ya->title);
    putf(s, "</text>\n");
    /* the series */
    for (size_t k = 0; k < nseries; k++) {
        const fs_svg_series *se = &series[k];
        const char *c = colour[style(series, k) % NSTYLE];
        if (se->markers)
            putf(s, "<g fill=\"%s\" clip-path=\"url(#plot%d)\">", c, clip);
        else
            putf(s, "<polyline fill=\"none\" stroke=\"%s\" "
                 "stroke-width=\"2\" stroke-dasharray=\"%s\" "
                 "stroke-linejoin=\"round\" clip-path=\"url(#plot%d)\" "
                 "points=\"", c, dash[style(series, k) % NSTYLE], clip);
        for (size_t i = 0; i < se->n; i++) {
            double sx = place(xa, se->x[i], pw), sy = place(ya, se->y[i], ph);
            if (isnan(sx) || isnan(sy))
                continue;
            if (se->markers)
                putf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>",
                     px + sx, py + ph - sy);
            else
                putf(s, "%.1f,%.1f ", px + sx, py + ph - sy);
        }
        putf(s, se->markers ? "</g>\n" : "\"/>\n");
    }
    /* the legend, in a corner inside the plot */
    size_t longest = 0;
    for (size_t k = 0; k < nseries; k++)
        if (series[k].label && strlen(series[k].label) > longest)
            longest = strlen(series[k].label);
    const double lw = 48 + 7.2 * (double)longest,
                 lh = 8 + 18.0 * (double)nseries,
                 lx = legend == FS_SVG_LEGEND_BOTTOM_LEFT ? px + 8
                                                          : px + pw - lw - 8,
                 ly = legend == FS_SVG_LEGEND_TOP_RIGHT ? py + 8
                                                        : py + ph - lh - 8;
    putf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
         "fill=\"white\" fill-opacity=\"0.9\" stroke=\"#d0d7de\"/>\n", lx, ly,
         lw, lh);
    for (size_t k = 0; k < nseries; k++) {
        double ry = ly + 15 + 18.0 * (double)k;
        const char *c = colour[style(series, k) % NSTYLE];
        if (series[k].markers)
            putf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>",
                 lx + 20, ry - 4, c);
        else
            putf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                 "stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\"/>",
                 lx + 8, ry - 4, lx + 32, ry - 4, c,
                 dash[style(series, k) % NSTYLE]);
        putf(s, "<text x=\"%.1f\" y=\"%.1f\">", lx + 40, ry);
        text(s, series[k].label);
        putf(s, "</text>\n");
    }
    putf(s, "</g>\n");
}
