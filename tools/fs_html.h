/*
 * fs_html.h - the self-contained pages examiners, supervisors and
 * auditors read in a browser: the comparison sheet of a search, the
 * reports, the oversight figures.
 *
 * A page is one file with nothing outside it: its style inline, its
 * images embedded as data: URIs (PNG, re-encoded from whatever the
 * gallery or the probe holds, so every browser shows them), its charts
 * our own SVG, and no script, so it opens the same on an air-gapped
 * workstation years later.  Every page that shows candidates or a report
 * carries the profile's disclaimer as a banner at its top and its bottom
 * (G11): fs_html_begin and fs_html_end write them, so no caller can
 * forget one.  Every text is escaped here; callers pass plain text.
 *
 * Writes go to a FILE the caller created (fs_cli_create); the first
 * failed write sticks in h->err and fs_html_end reports it.
 */
#ifndef FS_HTML_H
#define FS_HTML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../detect/fs_detect.h"
#include "fs_svg.h"

/* An embedded image's longer side at most (pixels): a page shows faces
 * for comparison, not the 4000-pixel original, which stays on file. */
#define FS_HTML_IMAGE_MAX_SIDE 800

typedef struct fs_html {
    fs_xml w;                       /* fs_svg.h's sticky-error writer */
    int    in_table;
} fs_html;

/* The page's head, style and top banner.  disclaimer NULL: no banner
 * (pages that show neither candidates nor a report, such as figures). */
void fs_html_begin(fs_html *h, FILE *f, const char *title,
                   const char *subtitle, const char *disclaimer);
/* The bottom banner and the end of the page: FS_OK or FS_EIO. */
int  fs_html_end(fs_html *h, const char *disclaimer);

void fs_html_heading(fs_html *h, int level, const char *text);
void fs_html_para(fs_html *h, const char *text);
/* A two-column table of labels and values (n rows). */
void fs_html_fields(fs_html *h, const char *const *labels,
                    const char *const *values, size_t n);
/* A table: the header row, then rows of the same width. */
void fs_html_table_begin(fs_html *h, const char *const *heads, size_t n);
/* The same for counts (figures): a label column, then numbers aligned
 * right, the table only as wide as it needs; rows and end as above. */
void fs_html_counts_begin(fs_html *h, const char *const *heads, size_t n);
void fs_html_table_row(fs_html *h, const char *const *cells, size_t n);
void fs_html_table_end(fs_html *h);
/* A figure: the image's bytes (any format the engine decodes) embedded
 * as PNG, with a caption; with width > 0 drawn that many CSS pixels
 * wide.  FS_EINVAL when the bytes do not decode (the page then shows a
 * placeholder saying so). */
int  fs_html_image(fs_html *h, const uint8_t *bytes, size_t len,
                   const char *alt, const char *caption, int width);
/* The same for pixels already decoded (an aligned chip, an image with
 * its landmarks drawn): FS_OK, or FS_ENOMEM / FS_EIO with the
 * placeholder. */
int  fs_html_pixels(fs_html *h, const fs_image *img, const char *alt,
                    const char *caption, int width);
/* In an image's place, a box saying why there is none. */
void fs_html_missing(fs_html *h, const char *alt, const char *caption,
                     const char *why);
/* A boxed section (a candidate, say): a title line and an optional note
 * in smaller type beside it, then whatever the caller adds, then _end. */
void fs_html_card_begin(fs_html *h, const char *title, const char *note);
void fs_html_card_end(fs_html *h);
/* Figures side by side: open a row, add images, close it. */
void fs_html_row_begin(fs_html *h);
void fs_html_row_end(fs_html *h);
/* A horizontal bar chart in SVG, one bar per label, with its value. */
void fs_html_bars(fs_html *h, const char *title, const char *const *labels,
                  const double *values, size_t n);

#endif /* FS_HTML_H */
