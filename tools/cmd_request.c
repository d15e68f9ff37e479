/*
 * cmd_request.c - `facesearch request new | show | list | close | hold`:
 * the requests that make searches lawful (G4-G8, G12).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"

const fs_opt cmd_request_opts[] = {
    { "case", "NUMBER", "new: the case or incident number" },
    { "crime", "TYPE", "new: the crime type or authorized use (profile show "
                       "lists them)" },
    { "requester", "NAME", "new: the requesting officer" },
    { "agency", "AGENCY", "new: the requester's unit or agency" },
    { "contact", "TEXT", "new: an e-mail address or phone number" },
    { "justification", "TEXT", "new: the facts amounting to reasonable "
                               "suspicion" },
    { "source", "TEXT", "new: the lawful source of the probe image" },
    { "from-video", NULL, "new: the probe is a still taken from video (G8)" },
    { "ack-disclaimer", NULL, "new: the requester acknowledged the "
                              "disclaimer (outside agencies, G7)" },
    { "open", NULL, "list: open requests only" },
    { "outcome", "OUTCOME", "close: lead, no-candidate or rejected" },
    { "reason", "TEXT", "hold: why the probes are evidence" },
    { NULL, NULL, NULL }
};

static void print_json(const fs_request *r)
{
    char filed[32], closed[32];
    fs_cli_utc(r->filed, filed, sizeof filed);
    fs_cli_utc(r->closed, closed, sizeof closed);
    const char *k[] = { "id", "case", "crime", "requester", "agency",
                        "contact", "justification", "source", "filed_by",
                        "filed", "state", "outcome", "closed_by", "closed",
                        "last_rejection" };
    const char *v[] = { r->id, r->case_no, r->crime, r->requester, r->agency,
                        r->contact, r->justification, r->source, r->filed_by,
                        filed, r->state ? "closed" : "open",
                        fs_outcome_name(r->outcome), r->closed_by, closed,
                        r->last_rejection };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        printf("%s\"%s\":", i ? "," : "{", k[i]);
        fs_json_str(stdout, v[i]);
    }
    printf(",\"from_video\":%s,\"outside_agency\":%s,\"disclaimer_ack\":%s,"
           "\"evidence\":%s,\"searches\":%u,\"rejections\":%u}",
           r->from_video ? "true" : "false", r->outside ? "true" : "false",
           r->ack_disclaimer ? "true" : "false",
           r->evidence ? "true" : "false", r->searches, r->rejections);
}

static void print_text(const fs_request *r)
{
    char filed[32], closed[32];
    fs_cli_utc(r->filed, filed, sizeof filed);
    fs_cli_utc(r->closed, closed, sizeof closed);
    printf("request %s: %s%s%s\n", FS_SHOW(r->id), r->state ? "closed, " : "open",
           r->state ? fs_outcome_name(r->outcome) : "",
           r->evidence ? " (probes held as evidence)" : "");
    printf("  case           %s\n  crime          %s\n"
           "  requester      %s, %s%s (%s)\n  justification  %s\n"
           "  probe source   %s%s\n  filed          %s by %s\n",
           FS_SHOW(r->case_no), FS_SHOW(r->crime), FS_SHOW(r->requester),
           FS_SHOW(r->agency), r->outside ? " (outside agency)" : "",
           FS_SHOW(r->contact), FS_SHOW(r->justification),
           FS_SHOW(r->source),
           r->from_video ? " (a still taken from video)" : "", filed,
           FS_SHOW(r->filed_by));
    if (r->state)
        printf("  closed         %s by %s\n", closed,
               FS_SHOW(r->closed_by));
    printf("  searches       %u released, %u image rejection%s%s%s\n",
           r->searches, r->rejections, r->rejections == 1 ? "" : "s",
           r->rejections ? ": " : "", FS_SHOW(r->last_rejection));
}

static int file_new(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "request new takes options only");
    fs_request_form f = {
        fs_arg(a, "case"), fs_arg(a, "crime"), fs_arg(a, "requester"),
        fs_arg(a, "agency"), fs_arg(a, "contact"), fs_arg(a, "justification"),
        fs_arg(a, "source"), fs_arg(a, "from-video") != NULL,
        fs_arg(a, "ack-disclaimer") != NULL
    };
    char id[FS_ID_MAX];
    fs_detail d = { "" };
    int rc = fs_request_file(a->gate, &f, id, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"id\":");
        fs_json_str(stdout, id);
        printf("}\n");
    } else {
        printf("%s\n", FS_SHOW(id));
    }
    return EXIT_OK;
}

static int show(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "request show needs one ID");
    fs_request r;
    fs_detail d = { "" };
    int rc = fs_request_get(a->gate, a->pos[1], &r, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        print_json(&r);
        printf("\n");
    } else {
        print_text(&r);
    }
    return EXIT_OK;
}

static int list(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "request list takes no arguments");
    fs_request *v = NULL;
    size_t n = 0;
    fs_detail d = { "" };
    int rc = fs_request_list(a->gate, fs_arg(a, "open") != NULL, &v, &n, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("[");
    else if (n)
        printf("%-8s %-14s %-20s %-18s %s\n", "request", "state", "case",
               "crime", "agency");
    for (size_t i = 0; i < n; i++) {
        if (a->json) {
            if (i)
                printf(",");
            print_json(&v[i]);
        } else {
            char state[32];
            snprintf(state, sizeof state, "%s", v[i].state
                     ? fs_outcome_name(v[i].outcome) : "open");
            printf("%-8s %-14s %-20s %-18s %s\n", FS_SHOW(v[i].id), state,
                   FS_SHOW(v[i].case_no), FS_SHOW(v[i].crime),
                   FS_SHOW(v[i].agency));
        }
    }
    if (a->json)
        printf("]\n");
    else if (!n)
        printf("no requests\n");
    free(v);
    return EXIT_OK;
}

static int close_request(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "request close needs one ID");
    int outcome;
    const char *o = fs_arg(a, "outcome");
    if (fs_outcome_parse(o, &outcome) != FS_OK)
        return fs_usage_error(a, "request close needs --outcome lead, "
                              "no-candidate or rejected");
    uint64_t purged = 0;
    fs_detail d = { "" };
    int rc = fs_request_close(a->gate, a->pos[1], outcome, &purged, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"id\":");
        fs_json_str(stdout, a->pos[1]);
        printf(",\"outcome\":\"%s\",\"probes_purged\":%llu}\n",
               fs_outcome_name(outcome), (unsigned long long)purged);
    } else {
        printf("request %s closed: %s%s\n", FS_SHOW(a->pos[1]),
               fs_outcome_name(outcome),
               purged ? "; its probes were purged (G12)" : "");
    }
    return EXIT_OK;
}

static int hold(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "request hold needs one ID");
    fs_detail d = { "" };
    int rc = fs_request_hold(a->gate, a->pos[1], fs_arg(a, "reason"), &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json) {
        printf("{\"id\":");
        fs_json_str(stdout, a->pos[1]);
        printf(",\"evidence\":true}\n");
    } else {
        printf("request %s: probes held as evidence\n", FS_SHOW(a->pos[1]));
    }
    return EXIT_OK;
}

int cmd_request(fs_args *a)
{
    static const struct { const char *name; int (*run)(fs_args *); } sub[] = {
        { "close", close_request }, { "hold", hold }, { "list", list },
        { "new", file_new }, { "show", show },
    };
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++)
        if (strcmp(sub[i].name, a->pos[0]) == 0)
            return sub[i].run(a);
    return EXIT_INTERNAL;        /* the dispatcher checked the name */
}
