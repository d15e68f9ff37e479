/*
 * fs_client.c - the service's client: a gate command run in facesearchd
 * for the user at this terminal (see fs_wire.h for the conversation).
 *
 * The client is the user's hands: it hands over their standard streams
 * and terminal, so the command prints and prompts as it does in-process,
 * and it opens, creates and lists the files the command names with the
 * user's own rights, so the service never reads a file for someone who
 * could not.  It keeps the user's session token in their session file,
 * and sends it only to the service.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs_cli.h"
#include "fs_wire.h"

/* Files this run created, so that DISCARD removes only those. */
typedef struct made {
    char *path;
    int   fd;
} made;

typedef struct client {
    int    sock;
    char   gallery_id[80];
    made  *made;
    size_t nmade;
} client;

static int by_entry_name(const void *x, const void *y)
{
    return strcmp(((const fs_cli_entry *)x)->name,
                  ((const fs_cli_entry *)y)->name);
}

int fs_cli_list_local(const char *dir, fs_cli_entry **out, size_t *n,
                      fs_detail *d)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return fs_fail(d, fs_errno_code(errno), "cannot read '%s': %s", dir,
                       strerror(errno));
    /* names first, in a growing block: entries can point into it only
     * once it has stopped moving */
    char *names = NULL;
    size_t used = 0, cap = 0, count = 0;
    unsigned char *dirs = NULL;
    int rc = FS_OK;
    struct dirent *e;
    while (rc == FS_OK && (errno = 0, e = readdir(dp))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t k = strlen(e->d_name) + 1;
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat st;
            is_dir = fstatat(dirfd(dp), e->d_name, &st, 0) == 0 &&
                     S_ISDIR(st.st_mode);
        }
        if (used + k > cap) {
            size_t c = cap ? 2 * cap : 4096;
            while (c < used + k)
                c *= 2;
            char *p = realloc(names, c);
            if (!p) {
                rc = fs_fail(d, FS_ENOMEM, "no memory to list '%s'", dir);
                break;
            }
            names = p;
            cap = c;
        }
        unsigned char *nd = realloc(dirs, count + 1);
        if (!nd) {
            rc = fs_fail(d, FS_ENOMEM, "no memory to list '%s'", dir);
            break;
        }
        dirs = nd;
        dirs[count++] = (unsigned char)is_dir;
        memcpy(names + used, e->d_name, k);
        used += k;
    }
    if (rc == FS_OK && errno)
        rc = fs_fail(d, fs_errno_code(errno), "cannot read '%s': %s", dir,
                     strerror(errno));
    closedir(dp);
    /* the names have stopped moving: entries over them, then one block */
    fs_cli_entry *view = rc == FS_OK && count ? malloc(count * sizeof *view)
                                              : NULL;
    if (rc == FS_OK && count && !view)
        rc = fs_fail(d, FS_ENOMEM, "no memory to list '%s'", dir);
    for (size_t i = 0, off = 0; view && i < count; i++) {
        view[i] = (fs_cli_entry){ names + off, dirs[i] };
        off += strlen(names + off) + 1;
    }
    if (rc == FS_OK && fs_cli_entries_copy(view, count, out) != FS_OK)
        rc = fs_fail(d, FS_ENOMEM, "no memory to list '%s'", dir);
    if (rc == FS_OK) {
        qsort(*out, count, sizeof **out, by_entry_name);
        *n = count;
    }
    free(view);
    free(names);
    free(dirs);
    return rc;
}

static int connect_to(const char *path, int *sock, fs_detail *d)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return fs_fail(d, FS_EINVAL, "socket path '%s' is too long", path);
    strcpy(sa.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int err = errno;
        if (s >= 0)
            close(s);
        return fs_fail(d, FS_EIO, "cannot reach the service at '%s': %s%s",
                       path, strerror(err), err == ENOENT ||
                       err == ECONNREFUSED ? " (is facesearchd running?)"
                                           : "");
    }
    *sock = s;
    return FS_OK;
}

static void reply(client *c, int code, const char *text, int fd,
                  const fs_cli_entry *e, size_t n)
{
    fs_wire_msg m = { .type = FS_W_REPLY, .code = code, .text = text,
                      .entries = (fs_wire_entry *)e, .nentries = n };
    if (fd >= 0) {
        m.fds[0] = fd;
        m.nfds = 1;
    }
    fs_wire_send(c->sock, &m, NULL);   /* a failure shows at the next recv */
    if (fd >= 0)
        close(fd);
}

/* A file to read, as the user: regular files only, opened without
 * blocking so a FIFO or device named as an image never hangs or acts. */
static void serve_open(client *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0) {
        fs_detail d = { "" };
        int rc = fs_fail(&d, fs_errno_code(errno), "cannot open '%s': %s",
                         path, strerror(errno));
        reply(c, rc, d.msg, -1, NULL, 0);
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        fs_detail d = { "" };
        int rc = fs_fail(&d, FS_ENOTFILE, "'%s' is not a regular file", path);
        reply(c, rc, d.msg, -1, NULL, 0);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    reply(c, FS_OK, "", fd, NULL, 0);
}

static void serve_create(client *c, const char *path)
{
    fs_detail d = { "" };
    int fd;
    int rc = fs_file_create(path, &fd, &d);
    made *m = rc == FS_OK ? realloc(c->made, (c->nmade + 1) * sizeof *m)
                          : NULL;
    char *p = m ? strdup(path) : NULL;
    if (rc == FS_OK && !p) {
        fs_file_discard(path, fd);
        close(fd);
        rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    }
    if (m)
        c->made = m;
    if (rc != FS_OK) {
        reply(c, rc, d.msg, -1, NULL, 0);
        return;
    }
    int keep = dup(fd);              /* ours, to know the file again */
    c->made[c->nmade++] = (made){ p, keep };
    reply(c, FS_OK, "", fd, NULL, 0);
}

static void serve_discard(client *c, const char *path)
{
    for (size_t i = 0; i < c->nmade; i++)
        if (c->made[i].fd >= 0 && strcmp(c->made[i].path, path) == 0) {
            fs_file_discard(path, c->made[i].fd);
            close(c->made[i].fd);
            c->made[i].fd = -1;
        }
    reply(c, FS_OK, "", -1, NULL, 0);
}

static void serve_list(client *c, const char *dir)
{
    fs_cli_entry *e = NULL;
    size_t n = 0;
    fs_detail d = { "" };
    int rc = fs_cli_list_local(dir, &e, &n, &d);
    reply(c, rc, rc == FS_OK ? "" : d.msg, -1, e, rc == FS_OK ? n : 0);
    free(e);
}

static void serve_token(client *c, const fs_wire_msg *m)
{
    char where[4300] = "";
    fs_detail d = { "" };
    int rc = m->type == FS_W_SAVE
             ? fs_session_save(c->gallery_id, m->token, where, sizeof where,
                               &d)
             : fs_session_drop(c->gallery_id, where, sizeof where, &d);
    reply(c, rc, rc == FS_OK ? where : d.msg, -1, NULL, 0);
}

/* /dev/null for a standard stream the user's process does not have. */
static int stream_fd(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 ? fd
                                   : open("/dev/null", O_RDWR | O_CLOEXEC);
}

static int converse(client *c, int argc, char **argv, int *status,
                    fs_detail *d)
{
    fs_wire_msg m;
    int rc = fs_wire_recv(c->sock, FS_WIRE_RUN_MAX, &m, d);
    if (rc != FS_OK)
        return rc;
    if (m.type == FS_W_EXIT) {        /* turned away before starting */
        fs_wire_clear(&m);
        return fs_fail(d, FS_EBUSY, "the service is at its limit of "
                       "commands at once: try again shortly");
    }
    if (m.type != FS_W_HELLO || m.version != FS_WIRE_VERSION ||
        strlen(m.text) >= sizeof c->gallery_id) {
        fs_wire_clear(&m);
        return fs_fail(d, FS_EFORMAT, "the service speaks another "
                       "protocol (this client speaks version %d)",
                       FS_WIRE_VERSION);
    }
    snprintf(c->gallery_id, sizeof c->gallery_id, "%s", m.text);
    fs_wire_clear(&m);

    fs_wire_msg run = { .type = FS_W_RUN, .version = FS_WIRE_VERSION,
                        .argc = argc };
    if (argc > FS_WIRE_ARGS_MAX)
        return fs_fail(d, FS_EINVAL, "more than %d arguments",
                       FS_WIRE_ARGS_MAX);
    for (int i = 0; i < argc; i++)
        run.argv[i] = argv[i];
    if (fs_session_load(c->gallery_id, run.token, NULL) == FS_OK)
        run.flags |= FS_W_HAS_TOKEN;
    else if (fs_session_exists(c->gallery_id))
        run.flags |= FS_W_TOKEN_REFUSED;
    for (int i = 0; i < 3; i++)
        run.fds[i] = stream_fd(i);
    run.nfds = 3;
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty >= 0) {
        run.fds[run.nfds++] = tty;
        run.flags |= FS_W_HAS_TTY;
    }
    rc = run.fds[0] < 0 || run.fds[1] < 0 || run.fds[2] < 0
         ? fs_fail(d, FS_EIO, "cannot open /dev/null")
         : fs_wire_send(c->sock, &run, d);
    fs_wipe(run.token, sizeof run.token);
    for (int i = 0; i < run.nfds; i++)
        if (run.fds[i] > 2 || (run.fds[i] >= 0 && run.fds[i] != i))
            close(run.fds[i]);
    if (rc != FS_OK)
        return rc;

    for (;;) {
        rc = fs_wire_recv(c->sock, FS_WIRE_RUN_MAX, &m, d);
        if (rc != FS_OK)
            return fs_fail(d, FS_EIO, "the service ended the command "
                           "without its result (%s); its log says why",
                           d->msg);
        switch (m.type) {
        case FS_W_OPEN:    serve_open(c, m.text);    break;
        case FS_W_CREATE:  serve_create(c, m.text);  break;
        case FS_W_DISCARD: serve_discard(c, m.text); break;
        case FS_W_LIST:    serve_list(c, m.text);    break;
        case FS_W_SAVE:
        case FS_W_DROP:    serve_token(c, &m);       break;
        case FS_W_EXIT: {
            *status = m.code;
            fs_wire_clear(&m);
            return *status >= EXIT_OK && *status <= EXIT_INTERNAL
                   ? FS_OK : fs_fail(d, FS_EFORMAT, "the service sent exit "
                                     "status %d", *status);
        }
        default:
            fs_wire_clear(&m);
            return fs_fail(d, FS_EFORMAT, "the service sent a message of "
                           "type %d mid-command", m.type);
        }
        fs_wipe(m.token, sizeof m.token);
        fs_wire_clear(&m);
    }
}

int fs_client_run(const char *path, int argc, char **argv)
{
    client c = { .sock = -1 };
    fs_detail d = { "" };
    int st = EXIT_INTERNAL;
    int rc = connect_to(path, &c.sock, &d);
    if (rc == FS_OK)
        rc = converse(&c, argc, argv, &st, &d);
    for (size_t i = 0; i < c.nmade; i++) {
        if (c.made[i].fd >= 0)
            close(c.made[i].fd);
        free(c.made[i].path);
    }
    free(c.made);
    if (c.sock >= 0)
        close(c.sock);
    if (rc == FS_OK)
        return st;                     /* the command's own */
    fs_error_msg("%s", d.msg);
    return EXIT_INTERNAL;
}
