/*
 * fs_token.c - a person's session token file, the one place it is kept
 * on their side: by the gate in their own process, and by the service's
 * client (tools/fs_client.c), which links this file and nothing else of
 * the gate, so that reaching the service costs no engine.
 *
 * The token is 32 random bytes, hex in a 0600 file of the person's own,
 * one per gallery (named by the gallery's id), under
 * $XDG_RUNTIME_DIR/facesearch/ (tmpfs, gone at logout of the machine) or
 * else $XDG_CONFIG_HOME/facesearch/sessions/.  A file readable by others,
 * or not theirs, is refused.
 */
#include "fs_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/base/fs_crypt.h"
#include "../engine/base/fs_file.h"

static int session_file(const char *id, char *path, size_t cap,
                        fs_detail *d)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    const char *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (run && *run == '/')
        n = snprintf(path, cap, "%s/facesearch/%s.session", run, id);
    else if (cfg && *cfg == '/')
        n = snprintf(path, cap, "%s/facesearch/sessions/%s.session", cfg,
                     id);
    else if (home && *home == '/')
        n = snprintf(path, cap, "%s/.config/facesearch/sessions/%s.session",
                     home, id);
    else
        return fs_fail(d, FS_ESESSION, "no XDG_RUNTIME_DIR, XDG_CONFIG_HOME "
                       "or HOME to keep a session in");
    return n < (int)cap ? FS_OK : fs_fail(d, FS_EINVAL, "session path too "
                                          "long");
}

int fs_session_load(const char *id, uint8_t token[FS_TOKEN_BYTES],
                    fs_detail *d)
{
    char path[4200];
    int rc = session_file(id, path, sizeof path, d);
    if (rc != FS_OK)
        return rc;
    struct stat st;
    if (lstat(path, &st) != 0)
        return fs_fail(d, FS_ESESSION, "no session: log in first "
                       "('facesearch login --user NAME')");
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
        return fs_fail(d, FS_ESESSION, "session file '%s' is not a private "
                       "file of yours (mode %03o): refused; log in again",
                       path, (unsigned)(st.st_mode & 0777));
    uint8_t *buf;
    size_t len;
    rc = fs_read_file(path, 256, &buf, &len, NULL);
    if (rc != FS_OK)
        return fs_fail(d, FS_ESESSION, "cannot read session file '%s'", path);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = 0;
    rc = fs_unhex((const char *)buf, token, FS_TOKEN_BYTES);
    fs_wipe(buf, len);
    free(buf);
    return rc == FS_OK ? FS_OK : fs_fail(d, FS_ESESSION, "session file '%s' "
                                         "is damaged; log in again", path);
}

int fs_session_save(const char *id, const uint8_t token[FS_TOKEN_BYTES],
                    char *out, size_t cap, fs_detail *d)
{
    char path[4200], tmp[4300], hex[2 * FS_TOKEN_BYTES + 2];
    int rc = session_file(id, path, sizeof path, d);
    if (rc == FS_OK)
        rc = fs_file_mkdirs(path, d);
    if (rc != FS_OK)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    fs_hex(token, FS_TOKEN_BYTES, hex);
    hex[2 * FS_TOKEN_BYTES] = '\n';
    hex[2 * FS_TOKEN_BYTES + 1] = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    int ok = fd >= 0 && fchmod(fd, 0600) == 0 &&
             write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex) &&
             fsync(fd) == 0;
    int err = errno;
    if (fd >= 0)
        close(fd);
    fs_wipe(hex, sizeof hex);
    if (!ok || rename(tmp, path) != 0) {
        err = ok ? errno : err;
        unlink(tmp);
        return fs_fail(d, fs_errno_code(err), "cannot write session file "
                       "'%s': %s", path, strerror(err));
    }
    snprintf(out, cap, "%s", path);
    return FS_OK;
}

int fs_session_drop(const char *id, char *path, size_t cap, fs_detail *d)
{
    int rc = session_file(id, path, cap, d);
    if (rc == FS_OK && unlink(path) != 0 && errno != ENOENT)
        rc = fs_fail(d, fs_errno_code(errno), "the session is ended but its "
                     "file '%s' stays: %s", path, strerror(errno));
    return rc;
}

int fs_session_exists(const char *id)
{
    char path[4200];
    struct stat st;
    return session_file(id, path, sizeof path, NULL) == FS_OK &&
           lstat(path, &st) == 0;
}
