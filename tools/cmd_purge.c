/*
 * cmd_purge.c - `facesearch purge [--dry-run]`: the probes past the
 * profile's retention leave the case file (G12), except those of
 * requests held as evidence.
 */
#include "fs_cli.h"

const fs_opt cmd_purge_opts[] = {
    { "dry-run", NULL, "count what would go; remove nothing" },
    { NULL, NULL, NULL }
};

int cmd_purge(fs_args *a)
{
    if (a->npos)
        return fs_usage_error(a, "purge takes no arguments");
    int dry = fs_arg(a, "dry-run") != NULL;
    uint64_t n = 0;
    fs_detail d = { "" };
    int rc = fs_gate_purge(a->gate, dry, &n, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    int days = fs_gate_profile(a->gate)->retention_probe_days;
    if (a->json)
        printf("{\"probes\":%llu,\"dry_run\":%s,\"retention_days\":%d}\n",
               (unsigned long long)n, dry ? "true" : "false", days);
    else
        printf("%s%llu probe%s older than %d days (requests held as "
               "evidence keep theirs)\n", dry ? "would remove " : "removed ",
               (unsigned long long)n, n == 1 ? "" : "s", days);
    return EXIT_OK;
}
