/*
 * cmd_user.c - `facesearch user add | disable | enable | unlock | passwd
 * | list`: accounts and roles (G1-G3), each change committed with its
 * audit entry.  Passwords come from the terminal without echo or from
 * --password-stdin, never from arguments.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"

const fs_opt cmd_user_opts[] = {
    { "roles", "LIST", "add: admin,examiner,supervisor,requester,auditor" },
    { "unit", "UNIT", "add: the user's unit" },
    { "trained", "DATE", "add: training date YYYY-MM-DD (needed for "
                         "examiner and supervisor, G3)" },
    { NULL, NULL, NULL }
};

static int add(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "user add needs one NAME");
    const char *roles = fs_arg(a, "roles"), *unit = fs_arg(a, "unit");
    const char *trained = fs_arg(a, "trained");
    fs_user u;
    memset(&u, 0, sizeof u);
    fs_detail d = { "" };
    if (fs_user_check_name(a->pos[1], &d) != FS_OK)
        return fs_usage_error(a, "%s", d.msg);
    if (!roles || fs_roles_parse(roles, &u.roles, &d) != FS_OK)
        return fs_usage_error(a, "--roles: %s", roles ? d.msg
                              : "user add needs --roles");
    if (!unit || !*unit || strlen(unit) >= sizeof u.unit)
        return fs_usage_error(a, "user add needs --unit UNIT (at most %zu "
                              "characters)", sizeof u.unit - 1);
    if (trained && strlen(trained) >= sizeof u.trained)
        return fs_usage_error(a, "--trained must be YYYY-MM-DD");
    snprintf(u.name, sizeof u.name, "%s", a->pos[1]);
    snprintf(u.unit, sizeof u.unit, "%s", unit);
    snprintf(u.trained, sizeof u.trained, "%s", trained ? trained : "");

    char pw[1100];
    int st = fs_cli_password(a, "password for the new user", 1, pw,
                             sizeof pw);
    if (st != EXIT_OK)
        return st;
    int rc = fs_user_add(a->gate, &u, pw, &d);
    fs_wipe(pw, sizeof pw);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"id\":");
        fs_json_str(stdout, u.name);
        printf("}\n");
    } else {
        printf("added user %s (%s, unit %s)\n", u.name, roles,
               FS_SHOW(u.unit));
    }
    return EXIT_OK;
}

/* disable, enable, unlock: NAME, one gate verb, one line of output. */
static int account_state(fs_args *a, const char *word,
                         int (*verb)(fs_gate *, const char *, fs_detail *))
{
    if (a->npos != 2)
        return fs_usage_error(a, "user %s needs one NAME", a->pos[0]);
    fs_detail d = { "" };
    int rc = verb(a->gate, a->pos[1], &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"%s\":", word);
        fs_json_str(stdout, a->pos[1]);
        printf("}\n");
    } else {
        printf("%s user %s\n", word, a->pos[1]);
    }
    return EXIT_OK;
}

/* One's own password: the current one, then the new one (on stdin, two
 * lines); another's (admin): the new one only. */
static int passwd(fs_args *a)
{
    if (a->npos > 2)
        return fs_usage_error(a, "user passwd takes at most one NAME");
    const char *name = a->npos == 2 ? a->pos[1] : a->who.name;
    int own = strcmp(name, a->who.name) == 0;
    char cur[1100] = "", pw[1100] = "", prompt[FS_USER_MAX + 32];
    snprintf(prompt, sizeof prompt, "new password for %s", name);
    int st = own ? fs_cli_password(a, "current password", 0, cur,
                                   sizeof cur) : EXIT_OK;
    if (st == EXIT_OK)
        st = fs_cli_password(a, prompt, 1, pw, sizeof pw);
    fs_detail d = { "" };
    int rc = st == EXIT_OK ? fs_user_passwd(a->gate, own ? NULL : name,
                                            own ? cur : NULL, pw, &d)
                           : FS_OK;
    fs_wipe(cur, sizeof cur);
    fs_wipe(pw, sizeof pw);
    if (st != EXIT_OK)
        return st;
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"password_set\":");
        fs_json_str(stdout, name);
        printf("}\n");
    } else {
        printf("password of %s set\n", name);
    }
    return EXIT_OK;
}

static int list(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "user list takes no arguments");
    fs_detail d = { "" };
    fs_user *u = NULL;
    size_t n = 0;
    int rc = fs_user_list(a->gate, &u, &n, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("[");
    else
        printf("%-20s %-36s %-12s %-10s %s\n", "user", "roles", "unit",
               "trained", "state");
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        char roles[96];
        fs_roles_format(u[i].roles, roles, sizeof roles);
        const char *state = u[i].disabled ? "disabled"
                            : u[i].locked_until > now ? "locked" : "active";
        if (a->json) {
            printf("%s{\"user\":", i ? "," : "");
            fs_json_str(stdout, u[i].name);
            printf(",\"roles\":\"%s\",\"unit\":", roles);
            fs_json_str(stdout, u[i].unit);
            printf(",\"trained\":");
            fs_json_str(stdout, u[i].trained);
            printf(",\"state\":\"%s\"}", state);
        } else {
            printf("%-20s %-36s %-12s %-10s %s\n", FS_SHOW(u[i].name), roles,
                   FS_SHOW(u[i].unit), u[i].trained[0] ? FS_SHOW(u[i].trained)
                   : "-", state);
        }
    }
    if (a->json)
        printf("]\n");
    free(u);
    return EXIT_OK;
}

int cmd_user(fs_args *a)
{
    if (strcmp(a->pos[0], "add") == 0)
        return add(a);
    if (strcmp(a->pos[0], "disable") == 0)
        return account_state(a, "disabled", fs_user_disable);
    if (strcmp(a->pos[0], "enable") == 0)
        return account_state(a, "enabled", fs_user_enable);
    if (strcmp(a->pos[0], "unlock") == 0)
        return account_state(a, "unlocked", fs_user_unlock);
    if (strcmp(a->pos[0], "passwd") == 0)
        return passwd(a);
    return list(a);
}
