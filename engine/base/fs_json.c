/*
 * fs_json.c - recursive-descent JSON reader; see fs_json.h.
 */
#include "fs_json.h"

#include "fs_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end, *start;
    fs_detail  *d;
} reader;

static int bad(reader *r, const char *what)
{
    return fs_fail(r->d, FS_EFORMAT, "JSON: %s at byte %zu", what,
                   (size_t)(r->p - r->start));
}

static void skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
                             *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int parse_value(reader *r, fs_json **out, int depth);

static int push(fs_json *j, fs_json *item, char *key)
{
    if ((j->n & (j->n - 1)) == 0) {           /* grow at powers of two */
        size_t cap = j->n ? 2 * j->n : 1;
        fs_json **it = realloc(j->items, cap * sizeof *it);
        if (!it)
            return FS_ENOMEM;
        j->items = it;
        if (j->type == FS_JSON_OBJECT) {
            char **k = realloc(j->keys, cap * sizeof *k);
            if (!k)
                return FS_ENOMEM;
            j->keys = k;
        }
    }
    j->items[j->n] = item;
    if (j->type == FS_JSON_OBJECT)
        j->keys[j->n] = key;
    j->n++;
    return FS_OK;
}

static int hex4(reader *r, unsigned *v)
{
    if (r->end - r->p < 4)
        return bad(r, "short \\u escape");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
        else return bad(r, "bad \\u escape");
    }
    return FS_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63));
    o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* r->p is just past the opening quote. */
static int parse_string(reader *r, char **out)
{
    const char *q = r->p;
    while (q < r->end && *q != '"')
        q += (*q == '\\') ? 2 : 1;
    if (q >= r->end)
        return bad(r, "unterminated string");
    char *s = malloc((size_t)(q - r->p) + 1), *o = s;  /* escapes shrink */
    if (!s)
        return FS_ENOMEM;
    while (*r->p != '"') {
        unsigned char c = (unsigned char)*r->p++;
        if (c < 0x20) {
            free(s);
            return bad(r, "control character in string");
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        c = (unsigned char)*r->p++;
        unsigned cp;
        switch (c) {
        case '"': case '\\': case '/': *o++ = (char)c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (hex4(r, &cp) != FS_OK) {
                free(s);
                return FS_EFORMAT;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && r->end - r->p >= 6 &&
                r->p[0] == '\\' && r->p[1] == 'u') {
                unsigned lo;
                r->p += 2;
                if (hex4(r, &lo) != FS_OK) {
                    free(s);
                    return FS_EFORMAT;
                }
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            /* a \uXXXX escape is 6 bytes and yields at most 4 */
            o += put_utf8(o, cp);
            break;
        default:
            free(s);
            return bad(r, "bad escape");
        }
    }
    r->p++;
    *o = 0;
    *out = s;
    return FS_OK;
}

static int parse_number(reader *r, double *v)
{
    const char *q = r->p;
    if (q < r->end && *q == '-') q++;
    if (q >= r->end || *q < '0' || *q > '9')
        return bad(r, "bad number");
    if (*q == '0') q++;
    else while (q < r->end && *q >= '0' && *q <= '9') q++;
    if (q < r->end && *q == '.') {
        q++;
        if (q >= r->end || *q < '0' || *q > '9')
            return bad(r, "bad number");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < r->end && (*q == '+' || *q == '-')) q++;
        if (q >= r->end || *q < '0' || *q > '9')
            return bad(r, "bad number");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    char buf[128];
    size_t len = (size_t)(q - r->p);
    if (len >= sizeof buf)
        return bad(r, "number too long");
    memcpy(buf, r->p, len);
    buf[len] = 0;
    *v = strtod(buf, NULL);
    r->p = q;
    return FS_OK;
}

static int literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return bad(r, "unexpected character");
    r->p += n;
    return FS_OK;
}

static int parse_container(reader *r, fs_json *j, int depth)
{
    char close = j->type == FS_JSON_ARRAY ? ']' : '}';
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return FS_OK;
    }
    for (;;) {
        char *key = NULL;
        int rc;
        skip_ws(r);
        if (j->type == FS_JSON_OBJECT) {
            if (r->p >= r->end || *r->p != '"')
                return bad(r, "expected a key");
            r->p++;
            if ((rc = parse_string(r, &key)) != FS_OK)
                return rc;
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                free(key);
                return bad(r, "expected ':'");
            }
            r->p++;
        }
        fs_json *item = NULL;
        if ((rc = parse_value(r, &item, depth + 1)) != FS_OK ||
            (rc = push(j, item, key)) != FS_OK) {
            free(key);
            fs_json_free(item);
            return rc;
        }
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return FS_OK;
        }
        return bad(r, "expected ',' or a closing bracket");
    }
}

static int parse_value(reader *r, fs_json **out, int depth)
{
    if (depth > FS_JSON_MAX_DEPTH)
        return bad(r, "nesting too deep");
    skip_ws(r);
    if (r->p >= r->end)
        return bad(r, "unexpected end");
    fs_json *j = calloc(1, sizeof *j);
    if (!j)
        return FS_ENOMEM;
    int rc;
    switch (*r->p) {
    case '{': j->type = FS_JSON_OBJECT; rc = parse_container(r, j, depth); break;
    case '[': j->type = FS_JSON_ARRAY;  rc = parse_container(r, j, depth); break;
    case '"':
        j->type = FS_JSON_STRING;
        r->p++;
        rc = parse_string(r, &j->string);
        break;
    case 't': j->type = FS_JSON_TRUE;  rc = literal(r, "true"); break;
    case 'f': j->type = FS_JSON_FALSE; rc = literal(r, "false"); break;
    case 'n': j->type = FS_JSON_NULL;  rc = literal(r, "null"); break;
    default:  j->type = FS_JSON_NUMBER; rc = parse_number(r, &j->number);
    }
    if (rc != FS_OK) {
        fs_json_free(j);
        return rc;
    }
    *out = j;
    return FS_OK;
}

int fs_json_parse(const char *text, size_t len, fs_json **out, fs_detail *d)
{
    reader r = { text, text + len, text, d };
    fs_json *j = NULL;
    int rc = parse_value(&r, &j, 0);
    if (rc != FS_OK)
        return rc;
    skip_ws(&r);
    if (r.p != r.end) {
        fs_json_free(j);
        return bad(&r, "trailing characters");
    }
    *out = j;
    return FS_OK;
}

int fs_json_parse_file(const char *path, fs_json **out, fs_detail *d)
{
    uint8_t *buf;
    size_t len;
    int rc = fs_read_file(path, FS_JSON_MAX_FILE, &buf, &len, d);
    if (rc != FS_OK)
        return rc;
    rc = fs_json_parse((const char *)buf, len, out, d);
    free(buf);
    if (rc == FS_EFORMAT && d) {
        char inner[sizeof d->msg];
        memcpy(inner, d->msg, sizeof inner);
        fs_fail(d, rc, "'%s': %.400s", path, inner);
    }
    return rc;
}

void fs_json_free(fs_json *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        fs_json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->string);
    free(j);
}

const fs_json *fs_json_get(const fs_json *j, const char *key)
{
    if (!j || j->type != FS_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->keys[i], key) == 0)
            return j->items[i];
    return NULL;
}
