/*
 * cmd_agency.c - `facesearch agency add | suspend | reinstate | list`:
 * outside agencies and their agreements (G7).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"

const fs_opt cmd_agency_opts[] = {
    { "mou", "REF", "add: the agreement (MOU) on file, by its reference" },
    { "reason", "TEXT", "suspend: why" },
    { NULL, NULL, NULL }
};

static int list(fs_args *a)
{
    fs_agency *v = NULL;
    size_t n = 0;
    fs_detail d = { "" };
    int rc = fs_agency_list(a->gate, &v, &n, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (a->json) {
            printf("%s{\"agency\":", i ? "," : "");
            fs_json_str(stdout, v[i].name);
            printf(",\"mou\":");
            fs_json_str(stdout, v[i].mou);
            printf(",\"suspended\":%s,\"reason\":",
                   v[i].suspended ? "true" : "false");
            fs_json_str(stdout, v[i].reason);
            printf("}");
        } else {
            printf("%-32s MOU %-20s %s%s\n", FS_SHOW(v[i].name),
                   FS_SHOW(v[i].mou), v[i].suspended ? "suspended: "
                   : "active", FS_SHOW(v[i].reason));
        }
    }
    if (a->json)
        printf("]\n");
    else if (!n)
        printf("no outside agency on file\n");
    free(v);
    return EXIT_OK;
}

int cmd_agency(fs_args *a)
{
    const char *sub = a->pos[0];
    if (strcmp(sub, "list") == 0)
        return a->npos == 1 ? list(a)
               : fs_usage_error(a, "agency list takes no arguments");
    if (a->npos != 2)
        return fs_usage_error(a, "agency %s needs one NAME", sub);
    const char *name = a->pos[1], *mou = fs_arg(a, "mou");
    const char *reason = fs_arg(a, "reason");
    fs_detail d = { "" };
    int rc;
    const char *done;
    if (strcmp(sub, "add") == 0) {
        if (!mou || !*mou)
            return fs_usage_error(a, "G7: agency add needs --mou REF (the "
                                  "agreement on file)");
        rc = fs_agency_add(a->gate, name, mou, &d);
        done = "added";
    } else if (strcmp(sub, "suspend") == 0) {
        if (!reason || !*reason)
            return fs_usage_error(a, "agency suspend needs --reason TEXT");
        rc = fs_agency_suspend(a->gate, name, reason, &d);
        done = "suspended";
    } else {
        rc = fs_agency_reinstate(a->gate, name, &d);
        done = "reinstated";
    }
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"id\":");
        fs_json_str(stdout, name);
        printf(",\"state\":\"%s\"}\n", done);
    } else {
        printf("agency %s %s\n", FS_SHOW(name), done);
    }
    return EXIT_OK;
}
