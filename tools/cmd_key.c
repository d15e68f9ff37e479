/*
 * cmd_key.c - `facesearch key rotate`: a new key-encryption key for the
 * gallery's data and audit keys (G21); the old key file opens nothing
 * afterwards.
 */
#include "fs_cli.h"

const fs_opt cmd_key_opts[] = { { NULL, NULL, NULL } };

int cmd_key(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "key rotate takes no arguments");
    fs_detail d = { "" };
    int rc = fs_gate_key_rotate(a->gate, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"key_file\":");
        fs_json_str(stdout, fs_gate_key_path(a->gate));
        printf("}\n");
    } else {
        printf("rotated: %s holds the new key; copies of the old one no "
               "longer open the gallery\n",
               FS_SHOW(fs_gate_key_path(a->gate)));
    }
    return EXIT_OK;
}
