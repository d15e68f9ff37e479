/*
 * cmd_search.c - `facesearch search --request ID PROBE`: the gated search
 * (G8-G13).  The command reads the probe and prints what the gate
 * releases; every condition is the gate's (fs_gate_search), so nothing of
 * a candidate list can reach this file unless the gate let it out.  The
 * list carries the profile's disclaimer above and below (G11), and our
 * own words never call a candidate more than a lead.
 */
#include <stdlib.h>
#include <string.h>

#include "fs_cli.h"
#include "../engine/base/fs_file.h"

const fs_opt cmd_search_opts[] = {
    { "request", "ID", "the open request the search is for (G4, G10)" },
    { "face", "N", "which face of the probe, strongest first (default: "
                   "the one nearest the centre)" },
    { "k", "K", "how many candidates (default 20)" },
    { "human-review", NULL, "affirm that the list goes to a trained "
                            "examiner's visual comparison, as investigative "
                            "leads only (G10: required)" },
    { "threads", "T", "threads for detection and ranking (default: all)" },
    { NULL, NULL, NULL }
};

static void print_list(const fs_args *a, const fs_candidates *c)
{
    size_t n = fs_candidates_count(c);
    const char *disc = fs_candidates_disclaimer(c);
    fs_candidate x;
    if (a->json) {
        printf("{\"search_id\":\"%s\",\"request\":\"%s\",\"disclaimer\":",
               fs_candidates_search_id(c), fs_candidates_request_id(c));
        fs_json_str(stdout, disc);
        printf(",\"candidates\":[");
        for (size_t i = 0; fs_candidates_get(c, i, &x) == FS_OK; i++) {
            printf("%s{\"rank\":%d,\"subject\":", i ? "," : "", x.rank);
            fs_json_str(stdout, x.subject);
            printf(",\"score\":");
            fs_json_float(stdout, x.score);
            printf("}");
        }
        printf("]}\n");
        return;
    }
    printf("%s\n\nsearch %s for request %s: %zu candidate%s for human "
           "comparison, most similar first\n  rank  subject%*s  score\n",
           FS_SHOW(disc), fs_candidates_search_id(c),
           fs_candidates_request_id(c), n,
           n == 1 ? "" : "s", FS_SUBJECT_MAX - 40, "");
    for (size_t i = 0; fs_candidates_get(c, i, &x) == FS_OK; i++)
        printf("  %4d  %-31s  %.4f\n", x.rank, FS_SHOW(x.subject), x.score);
    printf("\nscores are cosine similarities computed by the system; a "
           "candidate is an investigative lead for a trained examiner's "
           "visual comparison\n\n%s\n", FS_SHOW(disc));
}

int cmd_search(fs_args *a)
{
    const char *request = fs_arg(a, "request");
    if (!request || !*request)
        return fs_usage_error(a, "search needs --request ID (G4)");
    if (a->npos != 1)
        return fs_usage_error(a, "search needs one PROBE_IMAGE");
    long k, face, threads;
    if (fs_arg_int(a, "k", 1, FS_RANK_MAX_K, 20, &k) != EXIT_OK ||
        fs_arg_int(a, "face", 0, FS_MAX_FACES - 1, -1, &face) != EXIT_OK ||
        fs_arg_int(a, "threads", 0, 1024, 0, &threads) != EXIT_OK)
        return EXIT_USAGE;
    const char *path = a->pos[0];
    fs_detail d = { "" };
    uint8_t *probe = NULL;
    size_t len = 0;
    /* A stream or device address is not opened: the gate refuses it by
     * name (G8), on the trail. */
    int rc = fs_intake_check_arg(path, NULL) == FS_OK
             ? fs_cli_read(a, path, FS_IMAGE_MAX_BYTES, &probe, &len, &d)
             : FS_OK;
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    char buf[4096];
    fs_engine_options o = { .model_path = fs_model_path(a, buf, sizeof buf),
                            .threads = (int)threads };
    fs_engine *e = NULL;
    rc = fs_cli_engine(a, &o, &e, &d);
    fs_candidates *c = NULL;
    if (rc == FS_OK) {
        fs_search_in in = { request, probe, len, path, (int)face, (int)k,
                            fs_arg(a, "human-review") != NULL, NULL };
        rc = fs_gate_search(a->gate, e, &in, &c, &d);
    }
    fs_cli_engine_done(a, e);
    if (probe) {
        fs_wipe(probe, len);
        free(probe);
    }
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    print_list(a, c);
    fs_candidates_free(c);
    return EXIT_OK;
}
