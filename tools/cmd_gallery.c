/*
 * cmd_gallery.c - `facesearch gallery stats | show SUBJECT | remove SUBJECT
 * --reason TEXT | verify | config | shard --into S DIR | shard --sync |
 * shard --drop`:
 * what an admin needs to look after the gallery.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"

const fs_opt cmd_gallery_opts[] = {
    { "reason", "TEXT", "remove: why (sealed, expunged...); required" },
    { "rank", "MODE", "config: exact (default) or compressed (int8 first "
                      "pass, exact re-rank)" },
    { "into", "S", "shard: how many shard galleries (1 to 64), searched "
                   "as one with facesearch-mpi" },
    { "sync", NULL, "shard: bring the shards up to the gallery (what an "
                    "enrolment cut short did not route)" },
    { "drop", NULL, "shard: remove the shards and their record (before "
                    "key rotate, or to give them up)" },
    { NULL, NULL, NULL }
};

static int stats(fs_args *a)
{
    fs_gallery_stats s;
    fs_detail d = { "" };
    int rc = fs_gate_gallery_stat(a->gate, &s, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"gallery\":");
        fs_json_str(stdout, a->gallery);
        printf(",\"subjects\":%llu,\"images\":%llu,\"templates\":%llu,"
               "\"template_blocks\":%llu,\"image_bytes\":%llu,"
               "\"file_bytes\":%llu,\"schema\":%d,\"dim\":%d,\"metric\":",
               (unsigned long long)s.subjects, (unsigned long long)s.images,
               (unsigned long long)s.templates, (unsigned long long)s.blocks,
               (unsigned long long)s.image_bytes,
               (unsigned long long)s.file_bytes, s.schema, s.dim);
        fs_json_str(stdout, s.metric);
        printf(",\"model\":");
        fs_json_str(stdout, s.model_id);
        printf(",\"model_sha256\":\"%s\",\"rank\":\"%s\",\"recipe\":"
               "{\"mirror\":%s,\"subject_template\":\"%s\","
               "\"second_model\":", s.model_sha256,
               s.rank_mode ? "compressed" : "exact",
               s.recipe.mirror ? "true" : "false",
               fs_recipe_subject_template(&s.recipe));
        if (s.recipe.second_model_id[0]) {
            fs_json_str(stdout, s.recipe.second_model_id);
            printf(",\"second_model_sha256\":\"%s\"",
                   s.recipe.second_model_sha256);
        } else {
            printf("null");
        }
        printf("}}\n");
        return EXIT_OK;
    }
    printf("gallery %s\n  subjects   %llu\n  images     %llu (%.1f MB)\n"
           "  templates  %llu in %llu blocks of %d\n  file       %.1f MB\n"
           "  model      %s (sha256 %.16s...)\n  schema     %d, %d-D %s\n"
           "  ranking    %s\n",
           FS_SHOW(a->gallery), (unsigned long long)s.subjects,
           (unsigned long long)s.images, s.image_bytes / 1e6,
           (unsigned long long)s.templates, (unsigned long long)s.blocks,
           FS_TBLOCK_ROWS, s.file_bytes / 1e6, FS_SHOW(s.model_id),
           FS_SHOW(s.model_sha256), s.schema, s.dim, FS_SHOW(s.metric), s.rank_mode ? "compressed" : "exact");
    printf("  recipe     %s", s.recipe.mirror ? "each face and its mirror "
           "image, averaged" : "each face alone");
    if (s.recipe.second_model_id[0])
        printf("; second model %s (sha256 %.16s...) re-scores the top %zu",
               FS_SHOW(s.recipe.second_model_id),
               FS_SHOW(s.recipe.second_model_sha256),
               ((fs_eval_fusion)FS_FUSION_FROZEN).shortlist);
    printf("; a subject ranks by %s\n", s.recipe.subject_mean
           ? "the mean of its templates" : "its best template");
    return EXIT_OK;
}

static int show(fs_args *a, const char *subject)
{
    fs_subject_info si;
    size_t n = 0, cap = 16;
    fs_detail d = { "" };
    fs_image_info *im = NULL;
    int rc;
    do {                     /* once, or again with room for every image */
        free(im);
        cap = n > cap ? n : cap;
        im = calloc(cap, sizeof *im);
        rc = im ? fs_gate_subject_show(a->gate, subject, &si, im, cap, &n,
                                       &d)
                : fs_fail(&d, FS_ENOMEM, "out of memory");
    } while (rc == FS_OK && n > cap);
    if (rc != FS_OK) {
        free(im);
        return fs_cli_fail(rc, &d);
    }
    if (a->json) {
        printf("{\"subject\":");
        fs_json_str(stdout, si.id);
        printf(",\"name\":");
        fs_json_str(stdout, si.name);
        printf(",\"images\":[");
    } else {
        printf("subject %s%s%s%s: %u image%s\n", FS_SHOW(si.id),
               si.name[0] ? " (" : "", FS_SHOW(si.name),
               si.name[0] ? ")" : "", si.images,
               si.images == 1 ? "" : "s");
    }
    for (size_t i = 0; i < n; i++) {
        char sha[65], when[32];
        fs_hex(im[i].sha256, 32, sha);
        time_t t = (time_t)im[i].enrolled;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        if (a->json) {
            printf("%s{\"image_id\":%llu,\"booking_number\":", i ? "," : "",
                   (unsigned long long)im[i].id);
            fs_json_str(stdout, im[i].booking_number);
            printf(",\"capture_date\":");
            fs_json_str(stdout, im[i].capture_date);
            printf(",\"source_agency\":");
            fs_json_str(stdout, im[i].source_agency);
            printf(",\"lawful_source\":");
            fs_json_str(stdout, im[i].lawful_source);
            printf(",\"bytes\":%llu,\"sha256\":\"%s\",\"enrolled\":\"%s\"}",
                   (unsigned long long)im[i].image_len, sha, when);
        } else {
            printf("  image %llu: booking number %s, captured %s, %s photo"
                   "%s%s, %llu bytes, enrolled %s\n    sha256 %s\n",
                   (unsigned long long)im[i].id,
                   im[i].booking_number[0] ? FS_SHOW(im[i].booking_number)
                                           : "-",
                   im[i].capture_date[0] ? FS_SHOW(im[i].capture_date) : "-",
                   FS_SHOW(im[i].lawful_source),
                   im[i].source_agency[0] ? " from " : "",
                   FS_SHOW(im[i].source_agency),
                   (unsigned long long)im[i].image_len,
                   when, sha);
        }
    }
    if (a->json)
        printf("]}\n");
    free(im);
    return EXIT_OK;
}

static int remove_subject(fs_args *a, const char *subject)
{
    const char *reason = fs_arg(a, "reason");
    fs_detail d = { "" };
    /* the shards cannot follow a removal: marked stale first, so that a
     * crash after the removal leaves nothing searched as current */
    int rc = fs_gate_shard_removing(a->gate, subject, &d);
    int sharded = rc == FS_OK;
    if (rc == FS_OK || rc == FS_NOTFOUND)
        rc = fs_gate_subject_remove(a->gate, subject, reason, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"removed\":");
        fs_json_str(stdout, subject);
        printf(",\"reason\":");
        fs_json_str(stdout, reason);
        printf("}\n");
    } else {
        printf("removed subject %s with its images and templates (%s)\n",
               FS_SHOW(subject), FS_SHOW(reason));
    }
    if (sharded)
        fs_error_msg("note: the gallery's shards no longer follow it: "
                     "make them again with 'facesearch gallery shard --into "
                     "S NEWDIR' and remove the old ones, which still hold "
                     "this subject's images");
    return EXIT_OK;
}

static int verify(fs_args *a)
{
    fs_detail d = { "" };
    int rc = fs_gate_gallery_verify(a->gate, &d);
    if (a->json) {
        printf("{\"consistent\":%s", rc == FS_OK ? "true" : "false");
        if (rc != FS_OK) {
            printf(",\"problem\":");
            fs_json_str(stdout, d.msg);
        }
        printf("}\n");
    }
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        return fs_exit_status(rc);
    }
    if (!a->json)
        printf("gallery %s is consistent\n", FS_SHOW(a->gallery));
    return EXIT_OK;
}

static int set_rank(fs_args *a, int mode)
{
    const char *name = mode == FS_RANK_EXACT ? "exact" : "compressed";
    fs_detail d = { "" };
    int rc = fs_gate_set_rank_mode(a->gate, mode, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("{\"rank\":\"%s\"}\n", name);
    else
        printf("gallery %s ranks %s\n", FS_SHOW(a->gallery), mode == FS_RANK_EXACT ?
               "exactly (float, every row)" : "compressed (int8 first "
               "pass, exact float re-rank of a shortlist)");
    return EXIT_OK;
}

static void print_set(const fs_args *a, const fs_shard_set *set,
                      const char *json_extra)
{
    printf("{\"shards\":%u,\"dir\":", set->count);
    fs_json_str(stdout, set->dir);
    printf(",\"set\":\"%s\",\"subjects\":%llu,\"templates\":%llu%s}\n",
           set->id, (unsigned long long)set->subjects,
           (unsigned long long)set->templates, json_extra);
    (void)a;
}

/* gallery shard --sync: what an enrolment did not route, routed. */
static int sync_shards(fs_args *a)
{
    fs_detail d = { "" };
    fs_shard_set set;
    size_t routed = 0;
    int rc = fs_gate_shard_sync(a->gate, &set, &routed, &d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(&d, FS_EINVAL, "gallery '%s' has no shards (make them "
                     "with 'facesearch gallery shard --into S DIR')",
                     a->gallery);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        char extra[48];
        snprintf(extra, sizeof extra, ",\"routed\":%zu", routed);
        print_set(a, &set, extra);
    } else {
        printf("shards in %s in step with gallery %s: %llu subjects, %llu "
               "templates (%zu routed now)\n", FS_SHOW(set.dir),
               FS_SHOW(a->gallery), (unsigned long long)set.subjects,
               (unsigned long long)set.templates, routed);
    }
    return EXIT_OK;
}

/* gallery shard --drop: the set given up, its files removed. */
static int drop_shards(fs_args *a)
{
    fs_detail d = { "" };
    fs_shard_set set;
    int rc = fs_gate_shard_drop(a->gate, &set, &d);
    if (rc == FS_NOTFOUND)
        rc = fs_fail(&d, FS_EINVAL, "gallery '%s' has no shards",
                     a->gallery);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        print_set(a, &set, ",\"dropped\":true");
    else
        printf("dropped the %u shards of gallery %s in %s (set %s)\n",
               set.count, FS_SHOW(a->gallery), FS_SHOW(set.dir), set.id);
    return EXIT_OK;
}

static int shard(fs_args *a, const char *dir)
{
    long count;
    /* the shards are the gallery's own files, made beside it by its
     * owner: a client of the service names no directory the service
     * would write */
    if (a->served)
        return fs_usage_error(a, "gallery shard runs in the gallery "
                              "owner's process (--gallery), not through "
                              "the service");
    int sync = fs_arg(a, "sync") != NULL, drop = fs_arg(a, "drop") != NULL;
    if (sync || drop) {
        if (dir || fs_arg(a, "into") || (sync && drop))
            return fs_usage_error(a, "shard --sync or --drop takes no DIR "
                                  "or --into: the shards are the ones "
                                  "recorded");
        return sync ? sync_shards(a) : drop_shards(a);
    }
    if (!dir)
        return fs_usage_error(a, "shard needs one DIR, new, for the shards");
    if (!fs_arg(a, "into"))
        return fs_usage_error(a, "shard needs --into S, the number of "
                              "shards");
    if (fs_arg_int(a, "into", 1, FS_SHARDS_MAX, 1, &count) != EXIT_OK)
        return EXIT_USAGE;
    fs_detail d = { "" };
    fs_shard_set set;
    int rc = fs_gate_shard(a->gate, (unsigned)count, dir, &set, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        print_set(a, &set, "");
    } else {
        printf("gallery %s: %llu subjects, %llu templates into %u shards "
               "in %s (set %s)\nsearch them with: mpirun -n %u "
               "facesearch-mpi --shards %s search ...\n",
               FS_SHOW(a->gallery), (unsigned long long)set.subjects,
               (unsigned long long)set.templates, set.count,
               FS_SHOW(set.dir), set.id, set.count + 1, FS_SHOW(set.dir));
    }
    return EXIT_OK;
}

int cmd_gallery(fs_args *a)
{
    /* the dispatcher has checked the name against main.c's table */
    static const struct { const char *name; int args; } sub[] = {
        { "config", 0 }, { "remove", 1 }, { "shard", 1 }, { "show", 1 },
        { "stats", 0 }, { "verify", 0 },
    };
    size_t k = 0;
    while (strcmp(sub[k].name, a->pos[0]))
        k++;
    if (k == 2 && a->npos <= 2)     /* DIR, or --sync and none */
        return shard(a, a->npos == 2 ? a->pos[1] : NULL);
    if (a->npos - 1 != sub[k].args)
        return fs_usage_error(a, k == 2 ? "%s needs one DIR, new, for "
                              "the shards" : sub[k].args ? "%s needs one "
                              "SUBJECT" : "%s takes no arguments",
                              sub[k].name);
    const char *reason = fs_arg(a, "reason"), *rank = fs_arg(a, "rank");
    int mode = -1;
    for (int i = 0; rank && i < 2; i++)
        if (strcmp(rank, (const char *[]){ "exact", "compressed" }[i]) == 0)
            mode = i;
    if (k == 0 && mode < 0)
        return fs_usage_error(a, rank ? "--rank must be exact or "
                              "compressed, not '%s'" : "config needs "
                              "--rank exact|compressed", rank);
    if (k == 1 && (!reason || !*reason))
        return fs_usage_error(a, "remove needs --reason TEXT (G20: every "
                              "gallery change says why)");
    switch (k) {
    case 0:  return set_rank(a, mode);
    case 1:  return remove_subject(a, a->pos[1]);
    case 2:  return EXIT_USAGE;     /* handled above */
    case 3:  return show(a, a->pos[1]);
    case 4:  return stats(a);
    default: return verify(a);
    }
}
