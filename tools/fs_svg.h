/*
 * fs_svg.h - a small SVG writer: panels of line plots with labelled
 * axes (linear or log), grid lines, a legend, for the curves `eval`
 * draws (the CMC, the DET curve); and the XML escaping that the HTML
 * pages (fs_html.c) share with it.
 *
 * The file is self-contained and scales: a viewBox, system fonts, no
 * script, nothing fetched.  Every string a caller passes is text,
 * escaped here.  The first failed write sticks in s->err and
 * fs_svg_end reports it.
 */
#ifndef FS_SVG_H
#define FS_SVG_H

#include <stddef.h>
#include <stdio.h>

/* A writer of XML whose first failed write sticks: later writes do
 * nothing, and fs_xml_end reports it.  The SVG plots and the HTML pages
 * (fs_html.h) both write through it. */
typedef struct fs_xml {
    FILE *f;
    int   err;          /* a write failed: FS_EIO */
} fs_xml;

void fs_xml_put(fs_xml *w, const char *s);          /* markup, as it is */
void fs_xml_printf(fs_xml *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fs_xml_text(fs_xml *w, const char *s);         /* text, escaped */
/* Flushes: FS_OK, or FS_EIO when any write failed. */
int  fs_xml_end(fs_xml *w);

typedef struct fs_svg {
    fs_xml w;
    int    clips;       /* clip paths made so far (their ids) */
} fs_svg;

typedef struct fs_svg_axis {
    const char   *title;
    double        lo, hi;       /* the range shown */
    int           log;          /* log10 scale (lo > 0) */
    const double *ticks;        /* labelled ticks, within the range */
    size_t        nticks;
    const char   *format;       /* a tick's label, printf of one double */
} fs_svg_axis;

typedef struct fs_svg_series {
    const char   *label;        /* in the legend */
    const double *x, *y;
    size_t        n;
    int           markers;      /* 1: dots, no line (operating points) */
    int           like;         /* k > 0: drawn in series k - 1's colour
                                   (points on its curve); 0: its own */
} fs_svg_series;

/* The document's head: w x h units, a white background. */
void fs_svg_begin(fs_svg *s, FILE *f, int w, int h, const char *title);
/* Where a plot's legend goes: the corner its curves leave empty. */
enum { FS_SVG_LEGEND_TOP_RIGHT, FS_SVG_LEGEND_BOTTOM_RIGHT,
       FS_SVG_LEGEND_BOTTOM_LEFT };

/* One plot in the box at (x, y), w x h units, axes and legend included;
 * points outside the axes are clipped, and non-positive ones on a log
 * axis left out. */
void fs_svg_plot(fs_svg *s, int x, int y, int w, int h, const char *title,
                 const fs_svg_axis *xa, const fs_svg_axis *ya,
                 const fs_svg_series *series, size_t nseries, int legend);
/* The document's end: FS_OK or FS_EIO. */
int  fs_svg_end(fs_svg *s);

/* Writes s as XML text: the five characters that mean markup as
 * entities, control characters dropped, line breaks as spaces.  FS_OK or
 * FS_EIO. */
int  fs_svg_text(FILE *f, const char *s);

#endif /* FS_SVG_H */
