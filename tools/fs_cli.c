/*
 * fs_cli.c - option parsing, messages, JSON and progress output for the
 * facesearch command (see fs_cli.h).
 */
#include "fs_cli.h"

#include "../engine/base/fs_file.h"
#include "../engine/base/fs_text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Options every command takes; their values land in fs_args fields. */
static const fs_opt common_opts[] = {
    { "json", NULL, "print one JSON document on stdout" },
    { "gallery", "DIR", "the gallery (default $FACESEARCH_GALLERY or "
                        "./gallery)" },
    { "model", "FILE", "the model file (default $FACESEARCH_MODEL or the "
                       "one 'make models' wrote)" },
    { "key-file", "PATH", "the gallery's key file (default "
                          "$FACESEARCH_KEY_FILE, else where init put it)" },
    { "socket", "PATH", "reach the gallery through its service (default "
                        "$FACESEARCH_SOCKET, or " FS_SOCKET_DEFAULT
                        " when it exists and no gallery is named)" },
    { "password-stdin", NULL, "read the password from one line of "
                              "standard input" },
    { "help", NULL, "show this help" },
    { NULL, NULL, NULL }
};

static void print_opts(const fs_opt *o, FILE *f)
{
    for (; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-22s %s\n", left, o->help);
    }
}

void fs_print_help(const fs_cmd *cmd, FILE *f)
{
    const char *u = cmd->usage;
    fprintf(f, "%s\n\nusage: ", cmd->summary);
    /* usage holds one or more lines; each gets the program name, but a
     * line that starts with two spaces continues the one above */
    while (*u) {
        const char *nl = strchr(u, '\n');
        int len = nl ? (int)(nl - u) : (int)strlen(u);
        if (u != cmd->usage && u[0] == ' ' && u[1] == ' ')
            fprintf(f, "                 %.*s\n", len - 2, u + 2);
        else
            fprintf(f, "%sfacesearch %.*s\n", u == cmd->usage ? "" :
                    "       ", len, u);
        u += len + (nl ? 1 : 0);
    }
    if (cmd->opts && cmd->opts->name) {
        fprintf(f, "\noptions:\n");
        print_opts(cmd->opts, f);
    }
    fprintf(f, "\ncommon options:\n");
    print_opts(common_opts, f);
}

const char *fs_cli_show(const char *s, char *buf, size_t cap)
{
    fs_text_escape(s, buf, cap, 0);
    return buf;
}

void fs_cli_print_text(FILE *f, const char *s, int keep_newlines)
{
    size_t n = s ? strlen(s) : 0;
    char small[FS_SHOW_MAX], *buf = small;
    if (FS_TEXT_ESCAPED_MAX(n) > sizeof small &&
        !(buf = malloc(FS_TEXT_ESCAPED_MAX(n))))
        buf = small;                   /* then shown cut, with "..." */
    fs_text_escape(s, buf, buf == small ? sizeof small
                   : FS_TEXT_ESCAPED_MAX(n),
                   keep_newlines ? FS_TEXT_KEEP_NEWLINES : 0);
    fputs(buf, f);
    if (buf != small)
        free(buf);
}

/* "facesearch: " and the formatted message, shown safely, on stderr. */
static void vmessage(const char *fmt, va_list ap)
{
    char msg[8192];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fputs("facesearch: ", stderr);
    fs_cli_print_text(stderr, msg, 0);
}

void fs_error_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int fs_usage_error(const fs_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    fprintf(stderr, "\nTry 'facesearch %s --help'.\n", a->cmd->name);
    va_end(ap);
    return EXIT_USAGE;
}

int fs_exit_status(int rc)
{
    switch (rc) {
    case FS_OK:
        return EXIT_OK;
    case FS_DENIED: case FS_EAUTH: case FS_ESESSION: case FS_ELOCKED:
    case FS_EDISABLED:
        return EXIT_REFUSED;
    case FS_ENOENT: case FS_EINVAL: case FS_EFORMAT: case FS_ETRUNC:
    case FS_ESHAPE: case FS_EDECODE: case FS_ETOOBIG: case FS_EUNSUPPORTED:
    case FS_NOTFOUND: case FS_EXISTS: case FS_EACCESS: case FS_ENOTFILE:
    case FS_EMODEL: case FS_EKEY:
        return EXIT_USAGE;
    default:
        return EXIT_INTERNAL;
    }
}

static int find_opt(const fs_opt *opts, const char *name, size_t len)
{
    for (int i = 0; opts && opts[i].name; i++)
        if (strlen(opts[i].name) == len &&
            strncmp(opts[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Where a command runs before its options say: the variables. */
static void where_by_default(fs_args *a)
{
    a->gallery = getenv("FACESEARCH_GALLERY");
    a->gallery_named = a->gallery && *a->gallery;
    if (!a->gallery_named)
        a->gallery = "./gallery";
    a->socket = getenv("FACESEARCH_SOCKET");
    if (a->socket && !*a->socket)
        a->socket = NULL;
    a->socket_named = a->socket != NULL;
}

int fs_parse_args(const fs_cmd *cmd, int argc, char **argv, fs_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    where_by_default(a);
    a->key_file = getenv("FACESEARCH_KEY_FILE");
    if (a->key_file && !*a->key_file)
        a->key_file = NULL;
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    if (!a->pos) {
        fs_error_msg("out of memory");
        return EXIT_INTERNAL;
    }
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] != '-' ) {
            if (!only_pos && s[0] == '-' && s[1] != 0)
                return fs_usage_error(a, "unknown option '%s'", s);
            a->pos[a->npos++] = s;
            continue;
        }
        if (s[2] == 0) {                /* "--" ends the options */
            only_pos = 1;
            continue;
        }
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_opt(cmd->opts, name, len);
        const fs_opt *o = k >= 0 ? &cmd->opts[k] : NULL;
        int c = -1;
        if (!o) {
            c = find_opt(common_opts, name, len);
            if (c < 0)
                return fs_usage_error(a, "unknown option '--%.*s'",
                                      (int)len, name);
            o = &common_opts[c];
        }
        const char *val = "";
        if (o->arg) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return fs_usage_error(a, "option '--%s' needs a value (%s)",
                                      o->name, o->arg);
        } else if (eq) {
            return fs_usage_error(a, "option '--%s' takes no value",
                                  o->name);
        }
        if (k >= 0)
            a->value[k] = val;
        else if (strcmp(o->name, "json") == 0)
            a->json = 1;
        else if (strcmp(o->name, "gallery") == 0) {
            a->gallery = val;
            a->gallery_named = 2;
        } else if (strcmp(o->name, "socket") == 0) {
            a->socket = val;
            a->socket_named = 2;
        }
        else if (strcmp(o->name, "model") == 0)
            a->model = val;
        else if (strcmp(o->name, "key-file") == 0)
            a->key_file = val;
        else if (strcmp(o->name, "password-stdin") == 0)
            a->password_stdin = 1;
        else {                          /* --help */
            fs_print_help(cmd, stdout);
            return -1;
        }
    }
    return EXIT_OK;
}

const char *fs_arg(const fs_args *a, const char *name)
{
    int k = find_opt(a->cmd->opts, name, strlen(name));
    return k >= 0 ? a->value[k] : NULL;
}

/* One parser for both: a whole number is a number whose text strtol
 * reads to the end. */
static int arg_number(const fs_args *a, const char *name, int whole,
                      double lo, double hi, double dflt, double *out)
{
    const char *s = fs_arg(a, name);
    if (!s) {
        *out = dflt;
        return EXIT_OK;
    }
    char *end;
    errno = 0;
    double v = whole ? (double)strtol(s, &end, 10) : strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return whole ? fs_usage_error(a, "--%s must be a whole number from "
                                      "%.0f to %.0f, not '%s'", name, lo, hi,
                                      s)
                     : fs_usage_error(a, "--%s must be a number from %g to "
                                      "%g, not '%s'", name, lo, hi, s);
    *out = v;
    return EXIT_OK;
}

int fs_arg_int(const fs_args *a, const char *name, long lo, long hi,
               long dflt, long *out)
{
    double v = 0;
    int st = arg_number(a, name, 1, (double)lo, (double)hi, (double)dflt, &v);
    if (st == EXIT_OK)
        *out = (long)v;
    return st;
}

int fs_arg_double(const fs_args *a, const char *name, double lo, double hi,
                  double dflt, double *out)
{
    return arg_number(a, name, 0, lo, hi, dflt, out);
}

const char *fs_model_path(const fs_args *a, char *buf, size_t len)
{
    if (a->model && *a->model)
        return a->model;
    const char *env = getenv("FACESEARCH_MODEL");
    if (env && *env)
        return env;
    char dir[4096];
    fs_exe_dir(dir, sizeof dir);
    /* Walk up from the binary: the tree's models/ (bin/facesearch-local,
     * build/san/bin/...), or what make install put in PREFIX/share
     * (PREFIX/bin/facesearchd, PREFIX/lib/facesearch/facesearch-local) */
    static const char *const where[] = { "models", "share/facesearch" };
    for (int up = 1; up <= 3; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            break;
        *slash = 0;
        for (int w = 0; w < 2; w++) {
            snprintf(buf, len, "%s/%s/face_resnet_v1.fsm", dir, where[w]);
            if (access(buf, F_OK) == 0)
                return buf;
        }
    }
    fs_exe_dir(dir, sizeof dir);
    snprintf(buf, len, "%s/../models/face_resnet_v1.fsm", dir);
    return buf;
}

/* The file called name in the model's directory. */
static const char *beside_model(const fs_args *a, const char *name,
                                char *buf, size_t len)
{
    char model[4096];
    const char *m = fs_model_path(a, model, sizeof model);
    const char *slash = strrchr(m, '/');
    snprintf(buf, len, "%.*s%s", slash ? (int)(slash - m + 1) : 0, m, name);
    return buf;
}

const char *fs_landmarks_path(const fs_args *a, char *buf, size_t len)
{
    beside_model(a, FS_LANDMARKS_FILE, buf, len);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

const char *fs_second_model_path(const fs_args *a, char *buf, size_t len)
{
    return beside_model(a, FS_FR_MODEL_FILE, buf, len);
}

void fs_json_member(const char *key, const char *value, int first)
{
    printf("%s\"%s\":", first ? "" : ",", key);
    fs_json_str(stdout, value);
}

void fs_cli_time(int64_t t, const char *format, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t)
        snprintf(buf, cap, "-");
    else
        strftime(buf, cap, format, gmtime_r(&tt, &tm));
}

void fs_cli_utc(int64_t t, char *buf, size_t cap)
{
    fs_cli_time(t, "%Y-%m-%dT%H:%M:%SZ", buf, cap);
}

void fs_json_str(FILE *f, const char *s)
{
    size_t n = s ? strlen(s) : 0, len;
    fputc('"', f);
    for (size_t i = 0; i < n; i += len) {
        uint32_t cp;
        len = fs_utf8_next(s + i, n - i, &cp);
        if (len == 0) {
            len = 1;
            fputs("\\ufffd", f);
        } else if (cp == '"' || cp == '\\') {
            fprintf(f, "\\%c", (char)cp);
        } else if (cp == '\n') {
            fputs("\\n", f);
        } else if (cp == '\t') {
            fputs("\\t", f);
        } else if (fs_text_is_control(cp)) {
            fprintf(f, "\\u%04x", (unsigned)cp);
        } else {
            fwrite(s + i, 1, len, f);
        }
    }
    fputc('"', f);
}

void fs_json_float(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.9g", v);    /* enough digits to round-trip a float */
}

double fs_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void fs_progress_begin(fs_progress *p, const char *what, long total)
{
    p->what = what;
    p->total = total;
    p->done = 0;
    p->start = p->last = fs_now();
    p->tty = isatty(STDERR_FILENO);
}

void fs_progress_step(fs_progress *p, long done)
{
    double t = fs_now();
    p->done = done;
    if (t - p->last < (p->tty ? 0.1 : 5.0) && done < p->total)
        return;
    p->last = t;
    double el = t - p->start, rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
    if (p->tty) {
        int width = 30, fill = p->total ? (int)(width * done / p->total) : 0;
        fprintf(stderr, "\r%s [%.*s%*s] %ld/%ld  %.1f/s  ETA %.0fs ",
                p->what, fill, "##############################",
                width - fill, "", done, p->total, rate, eta);
    } else {
        fprintf(stderr, "%s: %ld/%ld (%.1f/s, ETA %.0fs)\n", p->what, done,
                p->total, rate, eta);
    }
}

void fs_progress_end(fs_progress *p)
{
    if (p->tty)
        fputc('\n', stderr);
}

int fs_cli_fail(int rc, const fs_detail *d)
{
    fs_error_msg("%s", d && d->msg[0] ? d->msg : fs_strerror(rc));
    return fs_exit_status(rc);
}

int fs_cli_finish(const fs_args *a, const char *path, FILE *f, int st)
{
    const fs_cli_files *fl = a->served ? a->served->files : NULL;
    if (!f)
        return st;
    if (st != EXIT_OK && fl)      /* a failed run leaves no file behind */
        fl->discard(fl->ctx, path);
    else if (st != EXIT_OK)
        fs_file_discard(path, fileno(f));
    if (fclose(f) != 0 && st == EXIT_OK) {
        fs_error_msg("cannot write '%s'", path);
        st = EXIT_INTERNAL;
    }
    return st;
}

int fs_cli_html(const fs_args *a, const char *what, const char **path,
                FILE **out)
{
    *path = fs_arg(a, "html");
    *out = NULL;
    if (*path && !**path)
        return fs_usage_error(a, "--html needs the path of a new file");
    return *path ? fs_cli_create(a, *path, what, out) : EXIT_OK;
}

int fs_cli_create(const fs_args *a, const char *path, const char *what,
                  FILE **out)
{
    const fs_cli_files *fl = a->served ? a->served->files : NULL;
    fs_detail d = { "" };
    int fd;
    int rc = fl ? fl->create(fl->ctx, path, &fd, &d)
                : fs_file_create(path, &fd, &d);
    FILE *f = rc == FS_OK ? fdopen(fd, "w") : NULL;
    if (rc == FS_OK && !f) {
        rc = fs_fail(&d, FS_ENOMEM, "out of memory");
        if (fl)
            fl->discard(fl->ctx, path);
        else
            fs_file_discard(path, fd);
        close(fd);
    }
    if (rc != FS_OK) {
        fs_error_msg("cannot write %s: %s", what, d.msg);
        return fs_exit_status(rc);
    }
    *out = f;
    return EXIT_OK;
}

/* One line from f into buf, without its newline: 0, or -1 at EOF or
 * when the line does not fit. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f))
        return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    else if (!feof(f))
        return -1;
    if (n && buf[n - 1] == '\r')
        buf[--n] = 0;
    return 0;
}

static int ask_tty(FILE *tty, const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    int fd = fileno(tty);
    if (tcgetattr(fd, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fprintf(tty, "%s: ", prompt);
    fflush(tty);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    int rc = read_line(tty, buf, cap);
    tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(tty, "\n");
    return rc;
}

int fs_cli_password(const fs_args *a, const char *prompt, int confirm,
                    char *buf, size_t cap)
{
    if (a->password_stdin) {
        if (read_line(stdin, buf, cap) != 0 || !buf[0])
            return fs_usage_error(a, "--password-stdin: no password line "
                                  "on standard input");
        return EXIT_OK;
    }
    /* in the service: the client's terminal, handed over with the run */
    int sfd = a->served && a->served->tty >= 0 ? dup(a->served->tty) : -1;
    FILE *tty = a->served ? (sfd >= 0 ? fdopen(sfd, "r+") : NULL)
                          : fopen("/dev/tty", "r+");
    if (!tty && sfd >= 0)
        close(sfd);
    if (!tty)
        return fs_usage_error(a, "no terminal to ask the password on: "
                              "use --password-stdin");
    char again[1100];
    int st = EXIT_OK;
    if (ask_tty(tty, prompt, buf, cap) != 0 || !buf[0])
        st = fs_usage_error(a, "no password given");
    else if (confirm && (ask_tty(tty, "again", again, sizeof again) != 0 ||
                         strcmp(again, buf) != 0))
        st = fs_usage_error(a, "the two passwords differ");
    fs_wipe(again, sizeof again);
    fclose(tty);
    return st;
}


/* ---- the files a person named, and the engine ----------------------------- */

/* The commands that never reach a gallery: run by whoever types them,
 * service or not (the table's NEED_NOTHING rows, and help). */
static const char *const runs_here[] = {
    "bench", "detect", "embed", "eval", "help", "init", NULL
};

const char *fs_cli_service_for(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return NULL;
    for (const char *const *r = runs_here; *r; r++)
        if (strcmp(argv[0], *r) == 0)
            return NULL;
    fs_args a;
    memset(&a, 0, sizeof a);
    where_by_default(&a);
    static const char *const names[] = { "socket", "gallery" };
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        for (int k = 0; k < 2; k++) {
            size_t n = strlen(names[k]);
            const char *s = argv[i], *val = NULL;
            if (strncmp(s, "--", 2) != 0 || strncmp(s + 2, names[k], n) != 0)
                continue;
            if (s[2 + n] == '=')
                val = s + 3 + n;
            else if (s[2 + n] == 0 && i + 1 < argc)
                val = argv[++i];
            if (!val)
                continue;
            if (k == 0) {
                a.socket = val;
                a.socket_named = 2;
            } else {
                a.gallery_named = 2;
            }
        }
    /* both named: the full parse says which may not be */
    return a.socket_named == 2 && a.gallery_named == 2 ? NULL
                                                         : fs_cli_socket(&a);
}

/* An option beats a variable, and a socket beats a gallery named the
 * same way. */
const char *fs_cli_socket(const fs_args *a)
{
    if (a->socket_named >= a->gallery_named && a->socket)
        return a->socket;
    struct stat st;
    return !a->gallery_named && stat(FS_SOCKET_DEFAULT, &st) == 0 &&
           S_ISSOCK(st.st_mode) ? FS_SOCKET_DEFAULT : NULL;
}

int fs_cli_read(const fs_args *a, const char *path, size_t max,
                uint8_t **buf, size_t *len, fs_detail *d)
{
    const fs_cli_files *fl = a->served ? a->served->files : NULL;
    return fs_read_file_as(fl ? &fl->open : NULL, path, max, buf, len, d);
}

int fs_cli_entries_copy(const fs_cli_entry *src, size_t n, fs_cli_entry **out)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(src[i].name) + 1;
    fs_cli_entry *e = malloc(n * sizeof *e + bytes + 1);
    if (!e)
        return FS_ENOMEM;
    char *blob = (char *)(e + n);
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(src[i].name) + 1;
        memcpy(blob, src[i].name, k);
        e[i] = (fs_cli_entry){ blob, src[i].is_dir };
        blob += k;
    }
    *out = e;
    return FS_OK;
}

int fs_cli_list(const fs_args *a, const char *dir, fs_cli_entry **out,
                size_t *n, fs_detail *d)
{
    const fs_cli_files *fl = a->served ? a->served->files : NULL;
    return fl ? fl->list(fl->ctx, dir, out, n, d)
              : fs_cli_list_local(dir, out, n, d);
}

/* ---- CSV (RFC 4180) --------------------------------------------------- */

/* Splits the next record at *s into at most max fields, in place;
 * returns the field count, or -1 on an unterminated quote. */
int fs_cli_csv_record(char **s, char **field, int max)
{
    char *p = *s, *w;
    int n = 0;
    for (;;) {
        char *start = w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == 0)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                p++;                       /* junk after the quote */
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                w = ++p;
        }
        char end = *p;
        *w = 0;
        if (n < max)
            field[n] = start;
        n++;
        if (end == ',') {
            p++;
            continue;
        }
        if (end == '\r' && p[1] == '\n')
            p += 2;
        else if (end == '\r' || end == '\n')
            p++;
        *s = p;
        return n;
    }
}
