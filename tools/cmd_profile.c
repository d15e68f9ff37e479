/*
 * cmd_profile.c - `facesearch profile show | set FILE`: the policy
 * profile the gallery runs under, as its text (what an administrator
 * edits) or as the values the gate applies (--json); and its replacement
 * by an edited file (admin, audited).
 */
#include <stdlib.h>
#include <string.h>

#include "fs_cli.h"

const fs_opt cmd_profile_opts[] = { { NULL, NULL, NULL } };

static void json_list(const char *key, char (*items)[64], int n)
{
    printf(",\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        printf(i ? "," : "");
        fs_json_str(stdout, items[i]);
    }
    printf("]");
}

static int set(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "profile set needs one FILE");
    fs_profile p;
    char *text = NULL;
    fs_detail d = { "" };
    int rc = fs_profile_load_as(a->served ? &a->served->files->open : NULL,
                                a->pos[1], &p, &text, &d);
    if (rc == FS_OK)
        rc = fs_gate_set_profile(a->gate, text, strlen(text), &d);
    free(text);
    if (rc == FS_NOTFOUND)
        return fs_usage_error(a, "%s", d.msg);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("{\"profile\":\"%s\"}\n", p.name);
    else
        printf("the gallery now runs under profile %s (%s)\n", p.name,
               p.title);
    return EXIT_OK;
}

int cmd_profile(fs_args *a)
{
    if (strcmp(a->pos[0], "set") == 0)
        return set(a);
    if (a->npos != 1)
        return fs_usage_error(a, "profile show takes no arguments");
    const char *text;
    fs_detail d = { "" };
    int rc = fs_gate_profile_show(a->gate, &text, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    const fs_profile *p = fs_gate_profile(a->gate);
    if (!a->json) {
        fs_cli_print_text(stdout, text, 1);
        return EXIT_OK;
    }
    printf("{\"name\":");
    fs_json_str(stdout, p->name);
    printf(",\"title\":");
    fs_json_str(stdout, p->title);
    printf(",\"disclaimer\":");
    fs_json_str(stdout, p->disclaimer);
    json_list("authorized_use", (char (*)[64])p->authorized_use,
              p->n_authorized_use);
    json_list("prohibited", (char (*)[64])p->prohibited, p->n_prohibited);
    printf(",\"review\":{\"examiners\":%d,\"supervisors\":%d},"
           "\"retention\":{\"audit_days\":%d,\"probe_days\":%d},"
           "\"session_hours\":%d", p->review_examiners,
           p->review_supervisors, p->retention_audit_days,
           p->retention_probe_days, p->session_hours);
    /* null: no floor, the top k listed */
    printf(",\"search\":{\"standing_floor\":");
    fs_json_float(stdout, p->standing_floor);
    printf("}}\n");
    return EXIT_OK;
}
