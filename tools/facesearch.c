/*
 * facesearch.c - the facesearch command as people type it: a small front
 * that links no engine.
 *
 * A gate command for a gallery that a service holds goes straight to the
 * service from here (fs_client.c): this binary needs the C library and
 * libcrypto only, where the whole command (facesearch-local) loads some
 * 150 shared libraries before main (OpenCV's image codecs pull in GDAL,
 * poppler, HDF5...), about 150 ms that an examiner would otherwise pay on
 * every command.  Everything else - the engine tools, init, help, a
 * gallery named for this process - runs facesearch-local with the same
 * arguments, which parses them fully and has the last word (it is a
 * client of the service too).  So the first look here needs to know only
 * which commands never reach a gallery and where a service is named.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs_cli.h"
#include "fs_env.h"

/* facesearch-local beside this binary (the build tree), else where make
 * install puts it: PREFIX/lib/facesearch/ for PREFIX/bin/facesearch. */
static const char *local_binary(char *buf, size_t cap)
{
    char dir[PATH_MAX];
    fs_exe_dir(dir, sizeof dir);
    snprintf(buf, cap, "%s/facesearch-local", dir);
    if (access(buf, X_OK) != 0)
        snprintf(buf, cap, "%s/../lib/facesearch/facesearch-local", dir);
    return buf;
}

int main(int argc, char **argv)
{
    fs_detail sd = { "" };
    if (fs_secure_process(&sd) != FS_OK) {
        fs_error_msg("%s", sd.msg);
        return EXIT_INTERNAL;
    }
    const char *sock = argc > 1 ? fs_cli_service_for(argc - 1, argv + 1)
                                : NULL;
    if (sock)
        return fs_client_run(sock, argc, argv);
    /* read by the loader of facesearch-local: OpenBLAS single-threaded
     * (`detect`: 0.43 -> 0.27 s of CPU) and malloc on huge pages */
    fs_engine_env();
    char path[PATH_MAX + 64];
    execv(local_binary(path, sizeof path), argv);
    fs_error_msg("cannot run '%s': %s (is facesearch installed whole?)",
                 path, strerror(errno));
    return EXIT_INTERNAL;
}
