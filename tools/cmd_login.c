/*
 * cmd_login.c - `facesearch login` and `facesearch logout`.
 */
#include <string.h>

#include "fs_cli.h"

const fs_opt cmd_login_opts[] = {
    { "user", "NAME", "who logs in" },
    { NULL, NULL, NULL }
};
const fs_opt cmd_logout_opts[] = { { NULL, NULL, NULL } };

int cmd_login(fs_args *a)
{
    const char *user = fs_arg(a, "user");
    if (a->npos)
        return fs_usage_error(a, "login takes no arguments");
    if (!user || !*user)
        return fs_usage_error(a, "login needs --user NAME");
    char pw[1100], path[4200];
    int st = fs_cli_password(a, "password", 0, pw, sizeof pw);
    if (st != EXIT_OK)
        return st;
    fs_detail d = { "" };
    int rc = fs_gate_login(a->gate, user, pw, path, sizeof path, &d);
    fs_wipe(pw, sizeof pw);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    int hours = fs_gate_profile(a->gate)->session_hours;
    if (a->json) {
        printf("{\"user\":");
        fs_json_str(stdout, user);
        printf(",\"expires_in_hours\":%d}\n", hours);
    } else {
        printf("logged in as %s; the session ends in %d hours or at "
               "'facesearch logout'\n", user, hours);
    }
    return EXIT_OK;
}

int cmd_logout(fs_args *a)
{
    if (a->npos)
        return fs_usage_error(a, "logout takes no arguments");
    fs_detail d = { "" };
    int rc = fs_gate_logout(a->gate, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("{\"logged_out\":true}\n");
    else
        printf("logged out %s\n", a->who.name);
    return EXIT_OK;
}
