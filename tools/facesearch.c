/*
 * facesearch.c - the facesearch command's entry point: the process made
 * safe for secrets, then the dispatcher (commands.c).
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
