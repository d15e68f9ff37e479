/*
 * cmd_init.c - `facesearch init`: a new gallery under a profile, with its
 * key file and its first administrator.  There is no default password
 * (G1): the administrator sets one here, checked against the profile's
 * strength rule.  The template recipe (--mirror, --second-model,
 * --mean-template) is
 * fixed here for the gallery's life: changing it would mean making every
 * template again, so no command changes it.
 */
#include <stdlib.h>
#include <string.h>

#include "fs_cli.h"

const fs_opt cmd_init_opts[] = {
    { "profile", "NAME|FILE", "detroit, miami, nypd, nys-model, lacris, or "
                              "a profile file" },
    { "admin", "NAME", "the first administrator's user name" },
    { "unit", "UNIT", "the administrator's unit" },
    { "anchor", "FILE", "where each new head of the audit trail is also "
                        "written (default: beside the key file); keep it "
                        "outside the gallery" },
    { "mirror", NULL, "templates from each face and its mirror image, "
                      "averaged (twice the network's work; eval --mirror "
                      "measures it); fixed for the gallery's life" },
    { "second-model", NULL, "also keep the second model's template (faceres, "
                            "faceres_v1.fsm beside the model) of every "
                            "image, and re-score each search's top 200 "
                            "with it (eval --second-model measures it); "
                            "fixed for the gallery's life" },
    { "mean-template", NULL, "rank a subject with several images by the "
                             "mean of their templates, not the best of "
                             "them (eval --enrol-images measures it); "
                             "fixed for the gallery's life" },
    { NULL, NULL, NULL }
};

int cmd_init(fs_args *a)
{
    const char *profile = fs_arg(a, "profile"), *admin = fs_arg(a, "admin");
    const char *unit = fs_arg(a, "unit");
    if (a->npos)
        return fs_usage_error(a, "init takes no arguments");
    if (!profile || !*profile)
        return fs_usage_error(a, "init needs --profile (detroit, miami, "
                              "nypd, nys-model, lacris, or a file)");
    if (!admin || !*admin || !unit || !*unit)
        return fs_usage_error(a, "init needs --admin NAME and --unit UNIT");
    fs_detail d = { "" };
    int rc = fs_user_check_name(admin, &d);
    if (rc != FS_OK)
        return fs_usage_error(a, "--admin: %s", d.msg);

    fs_profile prof;
    char *text = NULL;
    rc = fs_profile_load(profile, &prof, &text, &d);
    if (rc == FS_NOTFOUND)
        return fs_usage_error(a, "--profile: %s", d.msg);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    char pw[1100], key_path[4096], anchor[4096];
    fs_recipe recipe = { fs_arg(a, "mirror") != NULL, "", "",
                         fs_arg(a, "mean-template") != NULL };
    int st = fs_cli_password(a, "password for the new administrator", 1, pw,
                             sizeof pw);
    if (st == EXIT_OK) {
        fs_gate_init in = { .profile_text = text,
                            .profile_len = strlen(text), .admin = admin,
                            .unit = unit, .password = pw,
                            .key_file = a->key_file,
                            .anchor_file = fs_arg(a, "anchor") };
        /* The gallery is tied to the model its templates will come from. */
        char mbuf[4096], sbuf[4200];
        fs_engine_options eo = { .model_path = fs_model_path(a, mbuf,
                                                             sizeof mbuf),
                                 .threads = 1, .max_batch = 1 };
        if (fs_arg(a, "second-model"))
            eo.second_model_path = fs_second_model_path(a, sbuf,
                                                        sizeof sbuf);
        fs_engine *e = NULL;
        rc = fs_engine_open(&eo, &e, &d);
        if (rc == FS_OK) {
            in.model_id = fs_engine_model_id(e);
            in.model_sha256 = fs_engine_model_sha256(e);
            snprintf(recipe.second_model_id, sizeof recipe.second_model_id,
                     "%s", fs_engine_second_model_id(e));
            snprintf(recipe.second_model_sha256,
                     sizeof recipe.second_model_sha256, "%s",
                     fs_engine_second_model_sha256(e));
            in.recipe = &recipe;
            rc = fs_gate_create(a->gallery, &in, key_path, sizeof key_path,
                                &d);
        }
        fs_engine_close(e);
        st = rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
    }
    fs_wipe(pw, sizeof pw);
    free(text);
    if (st != EXIT_OK)
        return st;
    if (fs_arg(a, "anchor"))
        snprintf(anchor, sizeof anchor, "%s", fs_arg(a, "anchor"));
    else
        fs_gate_anchor_default(key_path, anchor, sizeof anchor);
    if (a->json) {
        printf("{\"gallery\":");
        fs_json_str(stdout, a->gallery);
        printf(",\"profile\":");
        fs_json_str(stdout, profile);
        printf(",\"admin\":");
        fs_json_str(stdout, admin);
        printf(",\"key_file\":");
        fs_json_str(stdout, key_path);
        printf(",\"anchor\":");
        fs_json_str(stdout, anchor);
        printf(",\"mirror\":%s,\"subject_template\":\"%s\","
               "\"second_model\":", recipe.mirror ? "true" : "false",
               fs_recipe_subject_template(&recipe));
        if (recipe.second_model_id[0])
            fs_json_str(stdout, recipe.second_model_id);
        else
            printf("null");
        printf("}\n");
    } else {
        printf("created gallery %s under profile %s with administrator %s\n"
               "key file: %s\n  (0600; keep it outside the gallery and back "
               "it up: without it the gallery cannot be read)\n"
               "audit anchor: %s\n  (each new head of the audit trail; "
               "'audit verify --anchor' checks the trail against a copy)\n"
               "used in one's own process, the gallery protects nothing "
               "between people:\n  whoever holds its key file can read and "
               "change everything; for several people,\n  serve it with "
               "facesearchd (README, 'The service')\n",
               FS_SHOW(a->gallery), FS_SHOW(profile), FS_SHOW(admin),
               FS_SHOW(key_path), FS_SHOW(anchor));
    }
    return EXIT_OK;
}
