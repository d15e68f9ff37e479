/*
 * fs_keys.c - the key file and the wrapped keys (G21).
 *
 * The key file holds the key-encryption key (KEK) and the id of the one
 * gallery it belongs to: one line, "facesearch-key 1 <gallery id> <KEK>",
 * hex.  It is created 0600 with O_EXCL (never overwriting a key) and
 * refused when anyone but its owner could read it.  The gallery keeps the
 * data and audit keys only sealed under the KEK, with the gallery's id
 * as associated data, so a key file opens exactly one gallery.
 */
#include "fs_gate_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"

#define KEYFILE_TAG "facesearch-key 1"

static int sync_dir_of(const char *path);

int gate_keyfile_default(const uint8_t id[GATE_ID_BYTES], char *path,
                         size_t cap, fs_detail *d)
{
    char hex[2 * GATE_ID_BYTES + 1];
    fs_hex(id, GATE_ID_BYTES, hex);
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg == '/')
        n = snprintf(path, cap, "%s/facesearch/%s.key", xdg, hex);
    else if (home && *home == '/')
        n = snprintf(path, cap, "%s/.config/facesearch/%s.key", home, hex);
    else
        return fs_fail(d, FS_EINVAL, "neither XDG_CONFIG_HOME nor HOME "
                       "is set: name the key file with --key-file");
    return n < (int)cap ? FS_OK : fs_fail(d, FS_EINVAL, "key file path too "
                                          "long");
}

int gate_keyfile_create(const char *path, const char *id_hex,
                        const uint8_t kek[FS_KEY_BYTES], fs_detail *d)
{
    int rc = fs_file_mkdirs(path, d);
    if (rc != FS_OK)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fs_fail(d, errno == EEXIST ? FS_EXISTS : fs_errno_code(errno),
                       "cannot create key file '%s': %s", path,
                       errno == EEXIST ? "a file is already there (a key is "
                       "never overwritten)" : strerror(errno));
    char line[128], hex[2 * FS_KEY_BYTES + 1];
    fs_hex(kek, FS_KEY_BYTES, hex);
    int n = snprintf(line, sizeof line, KEYFILE_TAG " %s %s\n", id_hex, hex);
    int ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    int err = errno;
    close(fd);
    if (ok && sync_dir_of(path) != 0)
        ok = 0, err = errno;
    fs_wipe(line, sizeof line);
    fs_wipe(hex, sizeof hex);
    if (!ok) {
        unlink(path);
        return fs_fail(d, FS_EIO, "cannot write key file '%s': %s", path,
                       strerror(err));
    }
    return FS_OK;
}

int gate_keyfile_read(const char *path, const char *id_hex,
                      uint8_t kek[FS_KEY_BYTES], fs_detail *d)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return fs_fail(d, FS_EKEY, "cannot read key file '%s': %s", path,
                       strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fs_fail(d, FS_EKEY, "key file '%s' is not a regular file",
                       path);
    if (st.st_uid != geteuid() || (st.st_mode & 077))
        return fs_fail(d, FS_EKEY, "key file '%s' is open to others than "
                       "its owner (mode %03o): it must be 0600 and yours",
                       path, (unsigned)(st.st_mode & 0777));
    uint8_t *buf;
    size_t len;
    fs_detail rd;
    int rc = fs_read_file(path, 4096, &buf, &len, &rd);
    if (rc != FS_OK)
        return fs_fail(d, FS_EKEY, "%s", rd.msg);
    char tag1[32], tag2[8], id[64], hex[80];
    int fields = sscanf((char *)buf, "%31s %7s %63s %79s", tag1, tag2, id,
                        hex);
    fs_wipe(buf, len);
    free(buf);
    if (fields != 4 || strcmp(tag1, "facesearch-key") != 0 ||
        strcmp(tag2, "1") != 0 || fs_unhex(hex, kek, FS_KEY_BYTES) != FS_OK)
        rc = fs_fail(d, FS_EKEY, "'%s' is not a facesearch key file", path);
    else if (strcmp(id, id_hex) != 0)
        rc = fs_fail(d, FS_EKEY, "key file '%s' belongs to gallery %s, not "
                     "to this one (%s)", path, id, id_hex);
    fs_wipe(hex, sizeof hex);
    return rc;
}

int gate_path_absolute(const char *path, char out[PATH_MAX], fs_detail *d)
{
    char cwd[PATH_MAX];
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        return fs_fail(d, FS_EIO, "cannot read the working directory");
    return snprintf(out, PATH_MAX, "%s%s%s", path[0] == '/' ? "" : cwd,
                    path[0] == '/' ? "" : "/", path) < PATH_MAX ? FS_OK
           : fs_fail(d, FS_EINVAL, "path too long: '%.64s...'", path);
}

/* Where path would be, absolute: the real path of its longest existing
 * ancestor, the rest appended as written. */
static int absolute(const char *path, char out[PATH_MAX], fs_detail *d)
{
    char buf[PATH_MAX];
    int rc = gate_path_absolute(path, buf, d);
    if (rc != FS_OK)
        return rc;
    size_t cut = strlen(buf);
    for (;;) {
        char save = buf[cut];
        buf[cut] = 0;
        char *real = cut ? realpath(buf, NULL) : strdup("/");
        buf[cut] = save;
        if (real) {
            int n = snprintf(out, PATH_MAX, "%s%s", strcmp(real, "/") ? real
                             : "", buf + cut);
            free(real);
            return n < PATH_MAX ? FS_OK
                   : fs_fail(d, FS_EINVAL, "path too long: '%.64s...'", path);
        }
        while (cut > 0 && buf[--cut] != '/')
            ;
    }
}

int gate_keyfile_outside(const char *key_path, const char *dir,
                         fs_detail *d)
{
    char k[PATH_MAX], g[PATH_MAX];
    int rc = absolute(key_path, k, d);
    if (rc == FS_OK)
        rc = absolute(dir, g, d);
    if (rc != FS_OK)
        return rc;
    size_t n = strlen(g);
    if (strncmp(k, g, n) == 0 && (k[n] == '/' || k[n] == 0))
        return fs_fail(d, FS_EKEY, "G21: key file '%s' is inside the gallery "
                       "'%s': whoever copies the gallery would hold its key; "
                       "keep the key file elsewhere", key_path, dir);
    return FS_OK;
}

/* The directory holding path made durable (a rename or create in it). */
static int sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    return fs_file_sync_dir(dir);
}

int gate_file_replace(const char *from, const char *to, fs_detail *d)
{
    if (rename(from, to) != 0 || sync_dir_of(to) != 0)
        return fs_fail(d, fs_errno_code(errno), "cannot move '%s' to '%s': "
                       "%s", from, to, strerror(errno));
    return FS_OK;
}

/* The wrapped keys name their gallery and where its key file is kept, so
 * a key file opens one gallery and an edited path record shows. */
static size_t keys_aad(const fs_gate *g, const char *key_path,
                       uint8_t aad[GATE_KEYS_AAD_MAX])
{
    size_t n = strnlen(key_path, GATE_KEYS_AAD_MAX - 32);
    memcpy(aad, "facesearch keys2", 16);
    memcpy(aad + 16, g->id, GATE_ID_BYTES);
    memcpy(aad + 16 + GATE_ID_BYTES, key_path, n);
    return 16 + GATE_ID_BYTES + n;
}

int gate_keys_wrap(const fs_gate *g, const uint8_t kek[FS_KEY_BYTES],
                   const char *key_path, uint8_t out[GATE_WRAPPED_BYTES])
{
    uint8_t plain[2 * FS_KEY_BYTES], aad[GATE_KEYS_AAD_MAX];
    memcpy(plain, g->data_key, FS_KEY_BYTES);
    memcpy(plain + FS_KEY_BYTES, g->audit_key, FS_KEY_BYTES);
    size_t alen = keys_aad(g, key_path, aad);
    int rc = fs_seal_buf(kek, aad, alen, plain, sizeof plain, out);
    fs_wipe(plain, sizeof plain);
    return rc;
}

int gate_keys_unwrap(fs_gate *g, const uint8_t kek[FS_KEY_BYTES],
                     const char *key_path,
                     const uint8_t in[GATE_WRAPPED_BYTES])
{
    uint8_t plain[2 * FS_KEY_BYTES], aad[GATE_KEYS_AAD_MAX];
    size_t alen = keys_aad(g, key_path, aad);
    int rc = fs_unseal_buf(kek, aad, alen, in, GATE_WRAPPED_BYTES, plain);
    if (rc == FS_OK) {
        memcpy(g->data_key, plain, FS_KEY_BYTES);
        memcpy(g->audit_key, plain + FS_KEY_BYTES, FS_KEY_BYTES);
    }
    fs_wipe(plain, sizeof plain);
    return rc;
}

int fs_gate_anchor_default(const char *key_path, char *out, size_t cap)
{
    size_t n = strlen(key_path);
    int stem = n > 4 && strcmp(key_path + n - 4, ".key") == 0;
    return snprintf(out, cap, "%.*s.anchor", (int)(stem ? n - 4 : n),
                    key_path) < (int)cap ? FS_OK : FS_EINVAL;
}
