/*
 * fs_cli.h - what the files of the facesearch command share: the command
 * table's types, the option parser, and the output helpers.  Private to
 * tools/.
 *
 * Each command is a row of the table in main.c: its name, one-line
 * summary, usage lines and option table.  That row is the single source
 * of `--help`, of usage errors and of the parser's knowledge, so they
 * cannot drift apart.  A handler returns the exit status of CLI.md:
 * 0 success, 1 refused by the gate or policy, 2 bad input or usage,
 * 3 internal or storage error.
 */
#ifndef FS_CLI_H
#define FS_CLI_H

#include <stdio.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_file.h"
#include "fs_wire.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

#define FS_CLI_MAX_OPTS 24

/* An option of a command with subcommands whose help begins with some of
 * their names and a colon ("log: one user's entries", "propose, approve:
 * ...") is theirs alone: the dispatcher refuses it with any other
 * (fs_opt_fits), so what --help says is the rule applied. */
typedef struct fs_opt {
    const char *name;      /* long name without "--" */
    const char *arg;       /* metavariable, or NULL for a flag */
    const char *help;
} fs_opt;

typedef struct fs_args fs_args;

/* An entry of a directory a person named (fs_cli_list): the one shape
 * the protocol carries too. */
typedef fs_wire_entry fs_cli_entry;
/* n entries copied into one block, names and all (free() it). */
int fs_cli_entries_copy(const fs_cli_entry *src, size_t n, fs_cli_entry **out);

/* How a command reaches the files its user named when it runs in the
 * service for them: each opened or made by the user's own client, with
 * their rights, never the service's (which alone may read the gallery
 * and its key).  Every call may fail with a code and the detail. */
typedef struct fs_cli_files {
    fs_opener open;                  /* a file to read */
    int  (*create)(void *ctx, const char *path, int *fd, fs_detail *d);
    void (*discard)(void *ctx, const char *path);
    /* a directory's entries but . and .., sorted by name, in one block
     * the caller frees */
    int  (*list)(void *ctx, const char *dir, fs_cli_entry **out, size_t *n,
                 fs_detail *d);
    void  *ctx;
} fs_cli_files;

/* What the service hands a command it runs for a client; NULL when the
 * command runs in the user's own process. */
typedef struct fs_served {
    const char           *gallery;   /* the one gallery it serves */
    const char           *key_file;  /* its key file (NULL: recorded) */
    fs_engine            *engine;    /* its warm engine */
    const fs_cli_files   *files;     /* the client's files */
    const fs_gate_caller *caller;    /* the client's uid and token */
    int                   tty;       /* the client's terminal, or -1 */
    fs_gallery_warm      *warm;      /* its decrypted matrix, kept */
} fs_served;

/* What a command needs before its handler runs; the dispatcher provides
 * it or refuses, once for all commands. */
enum {
    NEED_NOTHING = 0,          /* engine tools: no gallery, no session */
    NEED_GATE    = 1,          /* the gallery opened and unlocked (login) */
    NEED_SESSION = 2           /* and a session (the verb checks roles) */
};

/* A subcommand.  Who may run it is the gate's to say: each gate verb
 * checks the roles itself, whatever front end calls it. */
typedef struct fs_sub {
    const char *name;
} fs_sub;

typedef struct fs_cmd {
    const char   *name;
    const char   *summary;
    const char   *usage;       /* lines after "usage: facesearch " */
    const fs_opt *opts;        /* NULL-terminated; common ones are added */
    int         (*run)(fs_args *a);
    int           need;        /* NEED_* */
    const fs_sub *subs;        /* NULL-terminated, or NULL */
} fs_cmd;

struct fs_args {
    const fs_cmd *cmd;
    const char   *prog;
    int           json;
    const char   *gallery;
    const char   *model;
    const char   *value[FS_CLI_MAX_OPTS];   /* per option of cmd->opts */
    int           npos;
    char        **pos;                      /* positional arguments */
    const char   *key_file;                 /* --key-file */
    const char   *socket;                   /* --socket */
    int           gallery_named;            /* 2: --gallery, 1: its variable */
    int           socket_named;             /* 2: --socket, 1: its variable */
    int           password_stdin;           /* --password-stdin */
    const fs_served *served;                /* run by the service, or NULL */
    /* set by the dispatcher for NEED_GATE and NEED_SESSION */
    fs_gate      *gate;
    fs_user       who;                      /* NEED_SESSION: who acts */
    char          action[64];               /* "gallery stats": audited */
};

/* Value of a command option (NULL when absent; "" for a given flag). */
const char *fs_arg(const fs_args *a, const char *name);
/* Parses an integer option in [lo, hi]; prints the usage error itself. */
int fs_arg_int(const fs_args *a, const char *name, long lo, long hi,
               long dflt, long *out);
int fs_arg_double(const fs_args *a, const char *name, double lo, double hi,
                  double dflt, double *out);

/* Runs `facesearch COMMAND ...` (argv[1] the command) and returns its
 * exit status: in this process with served NULL, else in the service for
 * a client, which refuses the engine tools and the options that name a
 * gallery, key or model (the service's own are used). */
int fs_cli_main(int argc, char **argv, const fs_served *served);
/* The ranker of every gate this process's commands open (NULL: the
 * gallery's own templates): facesearch-mpi's shards, set before
 * fs_cli_main (tools/facesearch_mpi.c); never in the service. */
extern const fs_gate_ranker *fs_cli_ranker;
/* Whether option o of command c may be given with its subcommand sub
 * (see fs_opt); always for a command without subcommands. */
int fs_opt_fits(const fs_cmd *c, const fs_opt *o, const char *sub);
/* The command table's row for a name, or NULL. */
const fs_cmd *fs_cli_find(const char *name);

/* The service's client: runs the command of argv in the service at
 * path, the user's descriptors handed over, and serves its requests for
 * files and the session token until its exit status comes back
 * (EXIT_INTERNAL, with a message, when the service cannot be reached or
 * fails).  fs_client.c links nothing of the engine (see facesearch.c). */
int fs_client_run(const char *path, int argc, char **argv);
/* Where the service is for this command, NULL for this process: --socket,
 * else --gallery (this process), else $FACESEARCH_SOCKET, else
 * $FACESEARCH_GALLERY (this process), else FS_SOCKET_DEFAULT when it
 * exists. */
#define FS_SOCKET_DEFAULT "/run/facesearch/facesearch.sock"
const char *fs_cli_socket(const fs_args *a);
/* The same from a first look at a command line (argv[0] the command),
 * before its own options are known: NULL for the commands that never
 * reach a gallery, and for anything the full parse must decide.  What
 * the small front (facesearch.c) goes by. */
const char *fs_cli_service_for(int argc, char **argv);

/* The files a person named, reached as the command's user: in-process
 * directly, in the service through the client.  fs_cli_read as
 * fs_read_file; fs_cli_list lists dir (see fs_cli_files.list). */
int  fs_cli_read(const fs_args *a, const char *path, size_t max,
                 uint8_t **buf, size_t *len, fs_detail *d);
int  fs_cli_list(const fs_args *a, const char *dir, fs_cli_entry **out,
                 size_t *n, fs_detail *d);
/* The list of this process (what the client serves LIST with). */
int  fs_cli_list_local(const char *dir, fs_cli_entry **out, size_t *n,
                       fs_detail *d);
/* The engine a gate command uses: the service's warm one (its quality
 * limits and file opener set for this run), or one opened from o, with
 * the second model (fs_second_model_path) when the gallery's recipe
 * names one; fs_cli_engine_done closes only what fs_cli_engine opened. */
int  fs_cli_engine(const fs_args *a, const fs_engine_options *o,
                   fs_engine **e, fs_detail *d);
/* fs_engine_open of o, with the second model (fs_second_model_path)
 * when recipe r (may be NULL) names one and o does not: FS_EMODEL, naming
 * the recipe's model, when it cannot be loaded.  For a command's engine
 * and the service's. */
int  fs_cli_engine_open(const fs_args *a, const fs_recipe *r,
                        const fs_engine_options *o, fs_engine **e,
                        fs_detail *d);
void fs_cli_engine_done(const fs_args *a, fs_engine *e);

/* Parses argv of one command into a (returns -1 when it has printed
 * --help, else an exit status: EXIT_OK to go on, or EXIT_USAGE). */
int fs_parse_args(const fs_cmd *cmd, int argc, char **argv, fs_args *a);
void fs_print_help(const fs_cmd *cmd, FILE *f);

/* Stored or typed text as it may reach a terminal (fs_text_escape): a
 * control character or a byte of invalid UTF-8 as \xNN, a backslash as
 * \\, so no field can move the cursor, clear a line or forge one.  Every
 * string the CLI prints that a person typed (now or when it was stored)
 * goes through one of these.  FS_SHOW(s) is the shown copy of s for one
 * printf, in a buffer of the enclosing block, big enough for any stored
 * field whole (longer text ends with "..."). */
#define FS_SHOW_MAX 4200
#define FS_SHOW(s) fs_cli_show((s), (char[FS_SHOW_MAX]){ 0 }, FS_SHOW_MAX)
const char *fs_cli_show(const char *s, char *buf, size_t cap);
/* Prints the whole of s to f as shown above; with keep_newlines its line
 * breaks stay (a document such as the profile). */
void fs_cli_print_text(FILE *f, const char *s, int keep_newlines);

/* "facesearch: <message>" on stderr, lowercase, no full stop; the
 * message is shown as above, as it often quotes what was typed. */
void fs_error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int  fs_usage_error(const fs_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Exit status for a library code: bad input 2, refusals 1, the rest 3. */
int  fs_exit_status(int rc);

/* The model file: --model, else $FACESEARCH_MODEL, else the file
 * `make models` writes next to the binary's tree, else the one `make
 * install` put in PREFIX/share/facesearch beside PREFIX/bin. */
const char *fs_model_path(const fs_args *a, char *buf, size_t len);
/* Our copy of the landmark model beside that model, or NULL (dlib's
 * own, FS_LANDMARKS_PATH, serves). */
const char *fs_landmarks_path(const fs_args *a, char *buf, size_t len);
/* The second model (faceres, FS_FR_MODEL_FILE) beside that model, where
 * `make models` puts it; whether it is there, opening it tells. */
const char *fs_second_model_path(const fs_args *a, char *buf, size_t len);

/* Minimal JSON writer: strings escaped (every control character, C1
 * included, as \u00XX; a byte of invalid UTF-8 as \ufffd, so the output
 * is always valid JSON), floats round-tripping. */
/* Splits the next record of an RFC 4180 CSV text at *s into at most max
 * fields, in place (unquoted, NUL-ended), and moves *s past it; returns
 * the field count, or -1 on an unterminated quote.  The enrolment
 * manifest and eval's demographics.csv read through it. */
int fs_cli_csv_record(char **s, char **field, int max);

void fs_json_str(FILE *f, const char *s);
void fs_json_float(FILE *f, double v);
/* "key":"value" on stdout, after a comma unless first: an object written
 * member by member. */
void fs_json_member(const char *key, const char *value, int first);
/* t (unix seconds) in UTC by strftime's format; "-" for 0. */
void fs_cli_time(int64_t t, const char *format, char *buf, size_t cap);
/* The same in ISO 8601 ("2026-12-03T22:56:28Z"). */
void fs_cli_utc(int64_t t, char *buf, size_t cap);
/* A lead as one JSON object on stdout: review show, a report's lead
 * (cmd_review.c). */
void fs_cli_lead_json(const fs_lead *l);

/* Progress for long work: a bar with rate and ETA on a TTY, plain lines
 * otherwise (at most one every few seconds).  Goes to stderr. */
typedef struct fs_progress {
    const char *what;
    long        total, done;
    double      start, last;
    int         tty;
} fs_progress;
void fs_progress_begin(fs_progress *p, const char *what, long total);
void fs_progress_step(fs_progress *p, long done);
void fs_progress_end(fs_progress *p);
double fs_now(void);

/* The password for user: one line of stdin with --password-stdin, else
 * asked on the terminal without echo (twice when confirm is set).  Never
 * from arguments or the environment.  An exit status; buf is wiped by
 * the caller. */
int  fs_cli_password(const fs_args *a, const char *prompt, int confirm,
                     char *buf, size_t cap);

/* The message and exit status for a failed library call. */
int  fs_cli_fail(int rc, const fs_detail *d);

/* Creates the output file a command was asked to write (--report,
 * --svg...) with fs_file_create: new, 0600, never through a symbolic link
 * nor over an existing file.  *out is open for writing; else the message
 * ("cannot write <what>: '<path>' exists: will not overwrite it") is
 * printed and the exit status returned. */
int  fs_cli_create(const fs_args *a, const char *path, const char *what,
                   FILE **out);
/* The page a command was asked for with --html PATH, made as
 * fs_cli_create makes it before the command does anything: *path and
 * *out NULL when not asked; an empty path is a usage error. */
int  fs_cli_html(const fs_args *a, const char *what, const char **path,
                 FILE **out);
/* Closes what fs_cli_create made (f may be NULL) at the end of a run
 * whose status is st: on failure the file goes; a failed close is
 * reported.  The run's status, or EXIT_INTERNAL. */
int  fs_cli_finish(const fs_args *a, const char *path, FILE *f, int st);

/* Commands */
int cmd_bench(fs_args *a);
int cmd_detect(fs_args *a);
int cmd_embed(fs_args *a);
int cmd_enroll(fs_args *a);
int cmd_eval(fs_args *a);
int cmd_gallery(fs_args *a);
int cmd_init(fs_args *a);
int cmd_login(fs_args *a);
int cmd_logout(fs_args *a);
int cmd_user(fs_args *a);
int cmd_key(fs_args *a);
int cmd_audit(fs_args *a);
int cmd_profile(fs_args *a);
int cmd_agency(fs_args *a);
int cmd_purge(fs_args *a);
int cmd_request(fs_args *a);
int cmd_search(fs_args *a);
int cmd_review(fs_args *a);
int cmd_stats(fs_args *a);
int cmd_report(fs_args *a);
int cmd_disseminate(fs_args *a);
int cmd_outcome(fs_args *a);
extern const fs_opt cmd_report_opts[], cmd_disseminate_opts[],
    cmd_outcome_opts[];
extern const fs_opt cmd_bench_opts[], cmd_detect_opts[], cmd_embed_opts[],
    cmd_enroll_opts[], cmd_eval_opts[], cmd_gallery_opts[], cmd_init_opts[],
    cmd_login_opts[], cmd_logout_opts[], cmd_user_opts[], cmd_key_opts[],
    cmd_audit_opts[], cmd_profile_opts[], cmd_agency_opts[],
    cmd_purge_opts[], cmd_request_opts[], cmd_search_opts[],
    cmd_review_opts[], cmd_stats_opts[];

#endif /* FS_CLI_H */
