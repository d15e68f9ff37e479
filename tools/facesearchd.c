/*
 * facesearchd.c - the gallery service: one process, under its own system
 * account, that alone can read the gallery and its key file; people reach
 * the gate through it with the facesearch command (fs_client.c).
 *
 * As PostgreSQL's postmaster does, the service forks one child per
 * connection.  The parent is warm and idle: it loaded the model, the
 * landmark model, the gallery's decrypted template matrix and the ranker
 * over it (on a large gallery, the int8 copy of its bounded pass) once,
 * opens no gallery while it waits, and its threads sleep, so each child
 * inherits all of it copy-on-write, opens the gallery for itself (LMDB:
 * many readers beside one writer, in separate processes) and starts its
 * own threads (fs_pool: a pool survives fork).  A child serves one command for one user and exits:
 * a slow or hostile client holds up only its own child, and a crash takes
 * only its own command (a batch not yet committed is not in the gallery).
 *
 * Who calls is what the kernel says of the socket's peer (SO_PEERCRED):
 * each session is bound to that uid, so a token copied to another OS user
 * opens nothing.  Every request is bounded: the first message in size
 * and time, each answer of the client in time, the whole command in time
 * (--max-seconds), the number of commands at once (--max-clients).
 *
 * The log (standard error: the journal under systemd) names each
 * command's user, command word and exit status; never its arguments,
 * images or keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs_cli.h"
#include "fs_env.h"
#include "fs_wire.h"

#define DEFAULT_GALLERY "/var/lib/facesearch/gallery"
#define ANSWER_SECONDS  30        /* a client's answer, and its first word */

typedef struct service {
    const char      *gallery, *socket, *key_file, *model;
    long             max_clients, max_seconds, answer_seconds;
    int              listen_fd;
    int              bound;       /* we made the socket file (not systemd) */
    char             id[80];      /* the gallery's id */
    fs_engine       *engine;
    fs_engine_options engine_options;   /* how it was opened */
    fs_gallery_warm *warm;
    int              log_fd;
} service;

static volatile sig_atomic_t stop_now, children_changed;

/* The first stop ends the listening; a second one stops waiting for the
 * commands still running. */
static void on_stop(int sig)
{
    (void)sig;
    stop_now++;
}

static void on_child(int sig)
{
    (void)sig;
    children_changed = 1;
}

static int log_fd = STDERR_FILENO;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(log_fd, "facesearchd: ", 13) < 0 || write(log_fd, line,
                                                          (size_t)n) < 0)
        return;
}

/* ---- the client's files and token, for one child ------------------------ */

/* One question to the client at a time: the engine's threads open images
 * in parallel. */
typedef struct peer {
    int             sock;
    uid_t           uid;
    pthread_mutex_t mu;
    int             has_token;
    int             token_refused;    /* FS_W_TOKEN_REFUSED */
    uint8_t         token[FS_TOKEN_BYTES];
} peer;

/* Asks the client (type and path) and takes its answer: FS_OK with
 * *fd (when fd is not NULL) or the listing, else the client's code and
 * message.  A client that answers out of turn or not at all is FS_EIO. */
static int ask(peer *p, int type, const char *path, const uint8_t *token,
               int *fd, fs_cli_entry **list, size_t *n, char *where,
               size_t cap, fs_detail *d)
{
    fs_wire_msg q = { .type = type, .text = path }, r;
    if (token)
        memcpy(q.token, token, FS_TOKEN_BYTES);
    pthread_mutex_lock(&p->mu);
    int rc = fs_wire_send(p->sock, &q, d);
    fs_wipe(q.token, sizeof q.token);
    if (rc == FS_OK)
        rc = fs_wire_recv(p->sock, FS_WIRE_FRAME_MAX, &r, d);
    pthread_mutex_unlock(&p->mu);
    if (rc != FS_OK) {
        char why[sizeof d->msg];
        snprintf(why, sizeof why, "%s", d ? d->msg : "");
        return fs_fail(d, FS_EIO, "the client stopped answering (%s)", why);
    }
    if (r.type != FS_W_REPLY) {
        fs_wire_clear(&r);
        return fs_fail(d, FS_EIO, "the client answered out of turn");
    }
    /* the client's code is taken only as one of ours; its message is the
     * user's own business and only ever shown to them */
    rc = r.code < 0 && r.code > -1000 ? r.code : r.code ? FS_EIO : FS_OK;
    if (rc != FS_OK)
        fs_fail(d, rc, "%s", r.text[0] ? r.text : "refused by the client");
    else if (fd && (r.nfds != 1 || r.fds[0] < 0))
        rc = fs_fail(d, FS_EIO, "the client sent no file for '%s'", path);
    else if (fd) {
        *fd = r.fds[0];
        r.fds[0] = -1;
    }
    if (rc == FS_OK && list && fs_cli_entries_copy(r.entries, r.nentries,
                                                   list) != FS_OK)
        rc = fs_fail(d, FS_ENOMEM, "no memory to list '%s'", path);
    else if (rc == FS_OK && list)
        *n = r.nentries;
    if (rc == FS_OK && where)
        snprintf(where, cap, "%s", r.text);
    fs_wire_clear(&r);
    return rc;
}

static int peer_open(void *ctx, const char *path, fs_detail *d)
{
    int fd = -1;
    int rc = ask(ctx, FS_W_OPEN, path, NULL, &fd, NULL, NULL, NULL, 0, d);
    return rc == FS_OK ? fd : rc;
}

static int peer_create(void *ctx, const char *path, int *fd, fs_detail *d)
{
    int rc = ask(ctx, FS_W_CREATE, path, NULL, fd, NULL, NULL, NULL, 0, d);
    struct stat st;
    if (rc == FS_OK && (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) ||
                        (fcntl(*fd, F_GETFL) & O_ACCMODE) == O_RDONLY)) {
        close(*fd);
        rc = fs_fail(d, FS_EIO, "the client sent no writable file for '%s'",
                     path);
    }
    return rc;
}

static void peer_discard(void *ctx, const char *path)
{
    ask(ctx, FS_W_DISCARD, path, NULL, NULL, NULL, NULL, NULL, 0, NULL);
}

static int peer_list(void *ctx, const char *dir, fs_cli_entry **out,
                     size_t *n, fs_detail *d)
{
    return ask(ctx, FS_W_LIST, dir, NULL, NULL, out, n, NULL, 0, d);
}

static int token_load(void *ctx, uint8_t token[FS_TOKEN_BYTES], fs_detail *d)
{
    peer *p = ctx;
    if (p->token_refused)
        return fs_fail(d, FS_ESESSION, "your session file for this gallery "
                       "is not a private file of yours, or is damaged: "
                       "refused; log in again");
    if (!p->has_token)
        return fs_fail(d, FS_ESESSION, "no session: log in first "
                       "('facesearch login --user NAME')");
    memcpy(token, p->token, FS_TOKEN_BYTES);
    return FS_OK;
}

static int token_save(void *ctx, const uint8_t token[FS_TOKEN_BYTES],
                      char *where, size_t cap, fs_detail *d)
{
    return ask(ctx, FS_W_SAVE, NULL, token, NULL, NULL, NULL, where, cap, d);
}

static int token_drop(void *ctx, char *where, size_t cap, fs_detail *d)
{
    return ask(ctx, FS_W_DROP, NULL, NULL, NULL, NULL, NULL, where, cap, d);
}

/* ---- one child, one command ---------------------------------------------- */

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "facesearch: the command ran past the "
                              "service's time limit and was stopped\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(EXIT_INTERNAL);
    _exit(EXIT_INTERNAL);
}

/* A user who stops their client (Ctrl-C, a closed terminal) stops the
 * command, as in their own process: what was not committed is not in
 * the gallery.  The watcher only polls; replies are read by the asker. */
static atomic_int answered;         /* EXIT is sent: a close is normal */

static void *watch_client(void *arg)
{
    struct pollfd pf = { *(int *)arg, POLLRDHUP, 0 };
    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
        ;
    if (atomic_load(&answered))
        _exit(0);
    say("the client of pid %ld went away: its command is stopped",
        (long)getpid());
    _exit(EXIT_INTERNAL);
    return NULL;
}

static void set_timeouts(int sock, int seconds)
{
    struct timeval tv = { seconds, 0 };
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* The first word of a command, for the log: a word of the table, never
 * what the user typed otherwise. */
static const char *command_word(int argc, char **argv)
{
    const fs_cmd *c = argc > 1 ? fs_cli_find(argv[1]) : NULL;
    return c ? c->name : "(unknown)";
}

static int serve(service *s, int sock)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        say("cannot tell who connected: %s", strerror(errno));
        return 1;
    }
    set_timeouts(sock, (int)s->answer_seconds);
    fs_detail d = { "" };
    fs_wire_msg hello = { .type = FS_W_HELLO, .version = FS_WIRE_VERSION,
                          .text = s->id }, run = { .type = 0 };
    int rc = fs_wire_send(sock, &hello, &d);
    if (rc == FS_OK)
        rc = fs_wire_recv(sock, FS_WIRE_RUN_MAX, &run, &d);
    int want = 3 + ((run.flags & FS_W_HAS_TTY) != 0);
    if (rc == FS_OK && (run.type != FS_W_RUN ||
                        run.version != FS_WIRE_VERSION || run.nfds != want)) {
        fs_wire_clear(&run);
        rc = fs_fail(&d, FS_EFORMAT, "not a command of this protocol");
    }
    if (rc != FS_OK) {
        say("uid %u: connection refused: %s", (unsigned)cred.uid, d.msg);
        fs_wire_msg no = { .type = FS_W_EXIT, .code = EXIT_USAGE };
        fs_wire_send(sock, &no, NULL);  /* a bad message: no command ran */
        return 1;
    }
    peer p = { .sock = sock, .uid = cred.uid };
    pthread_mutex_init(&p.mu, NULL);
    p.has_token = (run.flags & FS_W_HAS_TOKEN) != 0;
    p.token_refused = (run.flags & FS_W_TOKEN_REFUSED) != 0;
    memcpy(p.token, run.token, sizeof p.token);
    fs_wipe(run.token, sizeof run.token);
    for (int i = 0; i < 3; i++)
        if (dup2(run.fds[i], i) < 0) {
            say("uid %u: cannot take the client's streams: %s",
                (unsigned)cred.uid, strerror(errno));
            fs_wire_clear(&run);
            return 1;
        }
    int tty = want == 4 ? run.fds[3] : -1;
    char *argv[FS_WIRE_ARGS_MAX + 1];
    for (int i = 0; i < run.argc; i++)
        argv[i] = (char *)run.argv[i];
    argv[run.argc] = NULL;

    fs_cli_files files = { { peer_open, &p }, peer_create, peer_discard,
                           peer_list, &p };
    fs_gate_caller caller = { (uint32_t)cred.uid, token_load, token_save,
                              token_drop, &p };
    fs_served sv = { s->gallery, s->key_file, s->engine, &files, &caller,
                     tty, s->warm };
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watch_client, &p.sock) != 0) {
        say("uid %u: cannot watch the client: %s", (unsigned)cred.uid,
            strerror(errno));
        fs_wire_clear(&run);
        return 1;
    }
    signal(SIGALRM, on_alarm);
    if (s->max_seconds > 0)
        alarm((unsigned)s->max_seconds);
    double t0 = fs_now();
    int st = fs_cli_main(run.argc, argv, &sv);
    alarm(0);
    fflush(stdout);
    fflush(stderr);
    say("uid %u: %s: exit %d (%.2f s)", (unsigned)cred.uid,
        command_word(run.argc, argv), st, fs_now() - t0);
    fs_wipe(p.token, sizeof p.token);
    fs_wire_msg bye = { .type = FS_W_EXIT, .code = st };
    atomic_store(&answered, 1);
    fs_wire_send(sock, &bye, NULL);
    fs_wire_clear(&run);
    return 0;
}

/* ---- the parent ------------------------------------------------------------ */

/* The second model (faceres, 12 MB and its own warm-up) only when the
 * gallery's recipe names it, as for a command (fs_cli_engine): the engine
 * is opened again with it, so a gallery that needs it on a machine
 * without it is refused at start, not at the first search.  The gate
 * was opened against the first model, which the new engine runs too. */
static int second_model_if_named(service *s, fs_gate *g, fs_detail *d)
{
    fs_recipe r;
    int rc = fs_gate_recipe(g, &r, d);
    if (rc != FS_OK || !r.second_model_id[0] ||
        fs_engine_second_model_id(s->engine)[0])
        return rc;
    fs_args resolved = { .model = s->model };
    fs_engine_close(s->engine);
    s->engine = NULL;
    return fs_cli_engine_open(&resolved, &r, &s->engine_options, &s->engine,
                              d);
}

/* The gallery opened once as it will be for each client: the key file
 * readable, the model's templates, and the warm matrix read or refreshed
 * (another process may have enrolled or removed since).  Between clients
 * it does not wait for a gallery held alone: the refresh is tried again
 * at the next connection, and a child finds a stale matrix itself. */
static int warm_gallery(service *s, int wait, fs_detail *d)
{
    fs_gate_options o = { .key_file = s->key_file,
                          .model_id = fs_engine_model_id(s->engine),
                          .model_sha256 = fs_engine_model_sha256(s->engine),
                          .warm = s->warm, .nowait = !wait };
    fs_gate *g;
    int rc = fs_gate_open(s->gallery, &o, &g, d);
    if (rc == FS_OK) {
        snprintf(s->id, sizeof s->id, "%s", fs_gate_id(g));
        rc = second_model_if_named(s, g, d);
        if (rc == FS_OK)
            rc = fs_gate_warm(g, s->engine, d);
        fs_gate_close(g);
    }
    return rc;
}

/* The first image a process decodes registers OpenCV's codecs, GDAL's
 * drivers among them with a scan of their plugin directory: 3-4 ms that
 * every child paid again.  One pixel, decoded here, pays it once; it is
 * too small for OpenCV to start a thread, so the parent forks with no
 * thread of OpenCV's. */
static int warm_decoder(fs_detail *d)
{
    uint8_t bmp[58] = { 'B', 'M', sizeof bmp, [10] = 54, [14] = 40,
                        [18] = 1, [22] = 1, [26] = 1, [28] = 24 };
    fs_image img;
    int rc = fs_image_decode(bmp, sizeof bmp, "a blank pixel", &img, d);
    if (rc == FS_OK)
        fs_image_release(&img);
    return rc;
}

/* An existing socket file is taken over only when nothing listens on
 * it: a second service on one socket is refused. */
static int listen_on(service *s, fs_detail *d)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    if (fds && pid && atol(pid) == (long)getpid() && atoi(fds) >= 1) {
        /* systemd's socket activation: only a Unix socket tells who
         * connects (SO_PEERCRED) */
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getsockname(3, (struct sockaddr *)&ss, &len) != 0 ||
            ss.ss_family != AF_UNIX)
            return fs_fail(d, FS_EINVAL, "the socket passed by the service "
                           "manager is not a Unix socket (the socket unit's "
                           "ListenStream= must be a path)");
        s->listen_fd = 3;
        fcntl(3, F_SETFD, FD_CLOEXEC);
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDNAMES");
        return FS_OK;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(s->socket) >= sizeof sa.sun_path)
        return fs_fail(d, FS_EINVAL, "socket path '%s' is too long",
                       s->socket);
    strcpy(sa.sun_path, s->socket);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fs_fail(d, FS_EIO, "socket: %s", strerror(errno));
    struct stat st;
    if (lstat(s->socket, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            close(fd);
            return fs_fail(d, FS_EXISTS, "'%s' exists and is not a socket",
                           s->socket);
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(fd);
            return fs_fail(d, FS_EXISTS, "another service listens at '%s'",
                           s->socket);
        }
        unlink(s->socket);            /* a dead service's */
    }
    /* any local user may connect: who they are is the kernel's to say and
     * what they may do the gate's; a deployment narrows it with the
     * socket directory's group (make install) */
    mode_t old = umask(0111);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    umask(old);
    if (!ok || listen(fd, 128) != 0) {
        int err = errno;
        close(fd);
        return fs_fail(d, fs_errno_code(err), "cannot listen at '%s': %s",
                       s->socket, strerror(err));
    }
    s->listen_fd = fd;
    s->bound = 1;
    return FS_OK;
}

static long reap(void)
{
    long n = 0;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        n++;
        if (WIFSIGNALED(status))
            say("child %ld ended by signal %d", (long)pid, WTERMSIG(status));
    }
    return n;
}

static void refuse_busy(int sock)
{
    fs_wire_msg m = { .type = FS_W_EXIT, .code = EXIT_INTERNAL };
    set_timeouts(sock, 1);
    fs_wire_send(sock, &m, NULL);
}

/* Serves until told to stop; returns how many commands still run. */
static long loop(service *s)
{
    long running = 0;
    int stale = 0;
    while (!stop_now) {
        if (children_changed) {
            children_changed = 0;
            long n = reap();
            running -= n;
            stale |= n > 0;
        }
        /* a child that ended may have enrolled or removed: the matrix is
         * brought up to date once, here, rather than by every child, and
         * now, while no one is likely to wait, rather than on the next
         * client's time (its check is a gate open: a few ms) */
        fs_detail d = { "" };
        int rc = stale ? warm_gallery(s, 0, &d) : FS_OK;
        if (rc != FS_OK && rc != FS_EBUSY)
            say("the warm matrix is not refreshed: %s", d.msg);
        stale = rc == FS_EBUSY;       /* held alone: tried again in 1 s */
        struct pollfd pf = { s->listen_fd, POLLIN, 0 };
        int r = poll(&pf, 1, 1000);
        if (r <= 0)
            continue;
        int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        if (running >= s->max_clients) {
            refuse_busy(c);
            close(c);
            say("busy: %ld commands running, a connection turned away",
                running);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(s->listen_fd);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            signal(SIGCHLD, SIG_DFL);
            _exit(serve(s, c));
        }
        if (pid < 0)
            say("cannot fork: %s", strerror(errno));
        else
            running++;
        close(c);
    }
    return running - reap();
}

/* As PostgreSQL's smart shutdown: no new command, and the ones running
 * finish (their clients are waiting on them), unless stopped again or
 * the service manager's stop timeout kills them; what a killed one had
 * not committed is not in the gallery. */
static void finish(long running)
{
    if (running > 0)
        say("stopping: %ld command%s still running, waited for (stop "
            "again not to wait)", running, running == 1 ? "" : "s");
    while (running > 0 && stop_now < 2) {
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid > 0)
            running--;
        else if (errno == ECHILD)
            break;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
        "facesearchd - the gallery service: holds the gallery and its key "
        "file, and runs\nthe facesearch commands of many people at once\n\n"
        "usage: facesearchd [--gallery DIR] [--socket PATH] [--key-file PATH]"
        "\n                   [--model FILE] [--max-clients N] "
        "[--max-seconds S]\n                   [--answer-seconds S]\n\n"
        "options:\n"
        "  --gallery DIR     the gallery (default $FACESEARCH_GALLERY, else "
        DEFAULT_GALLERY ")\n"
        "  --socket PATH     where clients connect (default "
        "$FACESEARCH_SOCKET, else\n"
        "                    " FS_SOCKET_DEFAULT "); under systemd, "
        "the one the\n                    socket unit passes\n"
        "  --key-file PATH   the gallery's key file (default: where init "
        "put it)\n"
        "  --model FILE      the model file (default $FACESEARCH_MODEL or "
        "the installed one)\n"
        "  --max-clients N   commands at once (default 64); more wait or "
        "are turned away\n"
        "  --max-seconds S   a command's time limit (default 86400; 0: "
        "none)\n"
        "  --answer-seconds S  how long a client may take to send its "
        "command or\n"
        "                    answer a question (default 30)\n"
        "  --help            show this help\n\n"
        "Run it under its own system account, the only one that can read "
        "the gallery\nand its key file (make install sets this up).  Users "
        "run facesearch as usual;\nit finds the service at --socket, "
        "$FACESEARCH_SOCKET or " FS_SOCKET_DEFAULT ".\n");
}

static int number(const char *name, const char *v, long lo, long hi,
                  long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "facesearchd: --%s must be a whole number from %ld "
                "to %ld, not '%s'\n", name, lo, hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse(service *s, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (strncmp(o, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "facesearchd: %s '%s'\nTry 'facesearchd "
                    "--help'.\n", strncmp(o, "--", 2) ? "unexpected argument"
                    : "no value for option", o);
            return EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (strcmp(o, "--gallery") == 0)
            s->gallery = v;
        else if (strcmp(o, "--socket") == 0)
            s->socket = v;
        else if (strcmp(o, "--key-file") == 0)
            s->key_file = v;
        else if (strcmp(o, "--model") == 0)
            s->model = v;
        else if (strcmp(o, "--max-clients") == 0) {
            if (number("max-clients", v, 1, 4096, &s->max_clients))
                return EXIT_USAGE;
        } else if (strcmp(o, "--max-seconds") == 0) {
            if (number("max-seconds", v, 0, 30L * 86400, &s->max_seconds))
                return EXIT_USAGE;
        } else if (strcmp(o, "--answer-seconds") == 0) {
            if (number("answer-seconds", v, 1, 3600, &s->answer_seconds))
                return EXIT_USAGE;
        } else {
            fprintf(stderr, "facesearchd: unknown option '%s'\nTry "
                    "'facesearchd --help'.\n", o);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* OpenBLAS starts its own worker threads when it is loaded, before main,
 * and again around each fork; the engine calls BLAS from its own team
 * with one thread each, so OpenBLAS's workers only spin beside a child's
 * ranking for a tenth of a second after each fork.  That and malloc on
 * huge pages (fs_engine_env) are read at load only: set once, then
 * the service runs itself again (the unit sets them, which skips this). */
static void engine_env(char **argv)
{
    if (fs_engine_env())
        execv("/proc/self/exe", argv);
    /* cannot run itself again: it serves, a little slower */
}

int main(int argc, char **argv)
{
    engine_env(argv);
    fs_detail d = { "" };
    if (fs_secure_process(&d) != FS_OK) {
        fprintf(stderr, "facesearchd: %s\n", d.msg);
        return EXIT_INTERNAL;
    }
    service s = { .max_clients = 64, .max_seconds = 86400,
                  .answer_seconds = ANSWER_SECONDS, .listen_fd = -1 };
    s.gallery = env_or("FACESEARCH_GALLERY", DEFAULT_GALLERY);
    s.socket = env_or("FACESEARCH_SOCKET", FS_SOCKET_DEFAULT);
    s.key_file = env_or("FACESEARCH_KEY_FILE", NULL);
    int st = parse(&s, argc, argv);
    if (st != EXIT_OK)
        return st < 0 ? EXIT_OK : st;
    /* the commands it runs must not take the service's settings for a
     * client's: they come from here, not from the environment */
    char mbuf[4096], lbuf[4096];
    fs_args ma = { .model = s.model };
    s.model = fs_model_path(&ma, mbuf, sizeof mbuf);
    const char *landmarks = fs_landmarks_path(&ma, lbuf, sizeof lbuf);
    unsetenv("FACESEARCH_GALLERY");
    unsetenv("FACESEARCH_KEY_FILE");
    unsetenv("FACESEARCH_SOCKET");
    unsetenv("FACESEARCH_MODEL");
    log_fd = dup(STDERR_FILENO);
    fcntl(log_fd, F_SETFD, FD_CLOEXEC);

    double t0 = fs_now();
    s.engine_options = (fs_engine_options){ .model_path = s.model,
                                            .landmarks_path = landmarks };
    int rc = fs_engine_open(&s.engine_options, &s.engine, &d);
    if (rc == FS_OK)
        rc = warm_decoder(&d);
    if (rc == FS_OK)
        rc = fs_gallery_warm_new(&s.warm) == FS_OK ? FS_OK
             : fs_fail(&d, FS_ENOMEM, "no memory");
    /* the gallery first: its recipe may open the engine again */
    if (rc == FS_OK)
        rc = warm_gallery(&s, 1, &d);
    if (rc == FS_OK)
        rc = fs_engine_warm(s.engine, &d);
    if (rc == FS_OK)
        rc = listen_on(&s, &d);
    if (rc != FS_OK) {
        say("cannot start: %s", d.msg);
        fs_engine_close(s.engine);
        fs_gallery_warm_free(s.warm);
        return fs_exit_status(rc);
    }
    struct sigaction sa = { .sa_handler = on_stop };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    say("serving gallery %s (id %s) at %s, warm in %.1f s, pid %ld",
        s.gallery, s.id, s.bound ? s.socket : "the socket systemd passed",
        fs_now() - t0, (long)getpid());
    long running = loop(&s);
    if (s.bound)
        unlink(s.socket);
    close(s.listen_fd);
    finish(running);
    say("stopped");
    fs_engine_close(s.engine);
    fs_gallery_warm_free(s.warm);
    return EXIT_OK;
}
