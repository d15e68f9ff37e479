/*
 * fs_text.h - what text a person typed may hold, and how stored text is
 * shown safely: the one checker every gate verb applies to names, units,
 * reasons and free text before they are stored, and the one escaper every
 * front end applies before a stored or typed string reaches a terminal.
 * Base layer: any module may include it.
 *
 * Text is UTF-8 without control characters: no C0 control (newline and
 * tab included), no DEL, no C1 control (U+0080..U+009F, which some
 * terminals obey as escape sequences), and no invalid sequence (stray or
 * missing continuation bytes, overlong forms, surrogates, code points
 * past U+10FFFF), so a field can neither forge a line on an auditor's
 * terminal nor hide bytes that display differently from what is stored.
 *
 * Thread-safe: no state.
 */
#ifndef FS_TEXT_H
#define FS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "fs_error.h"

/* The length (1-4) of the valid UTF-8 sequence at the start of the n
 * bytes at s, its code point in *cp; 0 when the bytes there are not one
 * (n == 0 included).  Overlong forms and surrogates are not valid. */
size_t fs_utf8_next(const char *s, size_t n, uint32_t *cp);

/* 1 when the code point is a control character: C0, DEL or C1. */
int fs_text_is_control(uint32_t cp);

/* FS_OK when s (NULL counts as "") is at most max bytes of text in the
 * sense above; else FS_EINVAL with the detail naming the field and where
 * ("the agency name holds a control character at byte 7", bytes counted
 * from 0), never quoting the value.  what is the field's name as a person
 * knows it, without an article. */
int fs_text_check(const char *what, const char *s, size_t max, fs_detail *d);

enum {
    FS_TEXT_KEEP_NEWLINES = 1      /* '\n' passes (a multi-line document) */
};

/* Bytes fs_text_escape may need for a string of n bytes, with its NUL. */
#define FS_TEXT_ESCAPED_MAX(n) (4 * (size_t)(n) + 1)

/* Copies s into buf as it may be shown: every byte of a control
 * character (see above; '\n' kept under FS_TEXT_KEEP_NEWLINES) and every
 * byte of invalid UTF-8 as \xNN (lower-case hex), a backslash as \\, the
 * rest as it is.  The result always fits in cap bytes (cap > 0) with its
 * NUL; when the whole does not, it stops at a character boundary and ends
 * with "...".  Returns the length the whole needs (without the NUL), as
 * snprintf does; NULL is shown as "". */
size_t fs_text_escape(const char *s, char *buf, size_t cap, unsigned flags);

#endif /* FS_TEXT_H */
