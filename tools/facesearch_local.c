/*
 * facesearch_local.c - facesearch-local, the whole facesearch command in
 * one process: the engine tools, galleries used in-process, and a client
 * of the service too.  The small `facesearch` front (facesearch.c) runs
 * it for everything it does not send to the service itself.
 */
#include "fs_cli.h"

int main(int argc, char **argv)
{
    /* before a password is read or a key unwrapped: no core file and no
     * same-user debugger will ever see them (fs_secure_process) */
    fs_detail sd = { "" };
    if (fs_secure_process(&sd) != FS_OK) {
        fs_error_msg("%s", sd.msg);
        return EXIT_INTERNAL;
    }
    return fs_cli_main(argc, argv, NULL);
}
