/*
 * cmd_review.c - `facesearch review propose | corroborate | approve |
 * reject | show | list`: a candidate proposed as a lead and its
 * corroboration by distinct examiners and supervisors (G14).  Every
 * check is the gate's; this file reads the command line and shows leads.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_cli.h"

const fs_opt cmd_review_opts[] = {
    { "search", "ID", "propose: the released search (S7)" },
    { "subject", "SUBJECT", "propose: the candidate's subject id on its "
                            "list" },
    { "note", "TEXT", "propose, corroborate, approve, reject: how you "
                      "concluded (at least 10 characters)" },
    { "request", "ID", "list: the leads of one request" },
    { NULL, NULL, NULL }
};

void fs_cli_lead_json(const fs_lead *l)
{
    char needs[96];
    fs_lead_needs(l, needs, sizeof needs);
    printf("{");
    fs_json_member("id", l->id, 1);
    fs_json_member("request", l->request, 0);
    fs_json_member("search", l->search, 0);
    fs_json_member("subject", l->subject, 0);
    printf(",\"rank\":%d,\"score\":", l->rank);
    fs_json_float(stdout, l->score);
    fs_json_member("state", fs_lead_state_name(l->state), 0);
    printf(",\"complete\":%s,\"examiners_needed\":%d,"
           "\"supervisors_needed\":%d", fs_lead_complete(l) ? "true"
           : "false", l->examiners_needed, l->supervisors_needed);
    fs_json_member("needs", needs, 0);
    printf(",\"signoffs\":[");
    for (size_t i = 0; i < l->n_signoffs; i++) {
        const fs_signoff *s = &l->signoffs[i];
        char t[32];
        fs_cli_utc(s->time, t, sizeof t);
        printf("%s{", i ? "," : "");
        fs_json_member("kind", fs_signoff_kind_name(s->kind), 1);
        fs_json_member("user", s->user, 0);
        fs_json_member("unit", s->unit, 0);
        fs_json_member("time", t, 0);
        fs_json_member("note", s->note, 0);
        printf("}");
    }
    printf("]}");
}

/* What a lead in review still needs, as " (...)"; an ended lead needs
 * nothing, and its state says so. */
#define OPEN_NEEDS(l, needs) \
    (l)->state == FS_LEAD_PROPOSED ? " (" : "", \
    (l)->state == FS_LEAD_PROPOSED ? (needs) : "", \
    (l)->state == FS_LEAD_PROPOSED ? ")" : ""

static void print_text(const fs_lead *l)
{
    char needs[96];
    fs_lead_needs(l, needs, sizeof needs);
    printf("lead %s: %s%s%s%s\n", FS_SHOW(l->id),
           fs_lead_state_name(l->state), OPEN_NEEDS(l, needs));
    printf("  candidate  %s, rank %d, score %.4f\n", FS_SHOW(l->subject),
           l->rank, (double)l->score);
    printf("  search     %s, request %s\n", FS_SHOW(l->search),
           FS_SHOW(l->request));
    printf("  profile    %d corroborating examiner%s, %d supervisor%s\n",
           l->examiners_needed, l->examiners_needed == 1 ? "" : "s",
           l->supervisors_needed, l->supervisors_needed == 1 ? "" : "s");
    for (size_t i = 0; i < l->n_signoffs; i++) {
        const fs_signoff *s = &l->signoffs[i];
        char t[32];
        fs_cli_utc(s->time, t, sizeof t);
        printf("  %-12s %s by %s (%s): %s\n", fs_signoff_kind_name(s->kind),
               t, FS_SHOW(s->user), FS_SHOW(s->unit), FS_SHOW(s->note));
    }
}

/* A lead as it stands after a step: its id and state (JSON), or one line. */
static int after(fs_args *a, const char *id, const char *done)
{
    fs_lead *l = malloc(sizeof *l);
    fs_detail d = { "" };
    int rc = l ? fs_lead_get(a->gate, id, l, &d) : FS_ENOMEM;
    if (rc != FS_OK) {
        free(l);
        return fs_cli_fail(rc, &d);
    }
    char needs[96];
    fs_lead_needs(l, needs, sizeof needs);
    if (a->json) {
        fs_cli_lead_json(l);
        printf("\n");
    } else {
        printf("lead %s %s: %s%s%s%s\n", FS_SHOW(l->id), done,
               fs_lead_state_name(l->state), OPEN_NEEDS(l, needs));
    }
    free(l);
    return EXIT_OK;
}

static int propose(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "review propose takes options only");
    if (!fs_arg(a, "search") || !fs_arg(a, "subject"))
        return fs_usage_error(a, "review propose needs --search ID and "
                              "--subject SUBJECT");
    char id[FS_ID_MAX];
    fs_detail d = { "" };
    int rc = fs_review_propose(a->gate, fs_arg(a, "search"),
                               fs_arg(a, "subject"), fs_arg(a, "note"), id,
                               &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        return after(a, id, "proposed");
    printf("%s\n", FS_SHOW(id));
    return EXIT_OK;
}

static int step(fs_args *a, const char *name,
                int (*verb)(fs_gate *, const char *, const char *,
                            fs_detail *), const char *done)
{
    if (a->npos != 2)
        return fs_usage_error(a, "review %s needs one LEAD", name);
    fs_detail d = { "" };
    int rc = verb(a->gate, a->pos[1], fs_arg(a, "note"), &d);
    return rc == FS_OK ? after(a, a->pos[1], done) : fs_cli_fail(rc, &d);
}

static int corroborate(fs_args *a)
{
    return step(a, "corroborate", fs_review_corroborate, "corroborated");
}

static int approve(fs_args *a)
{
    return step(a, "approve", fs_review_approve, "approved");
}

static int reject(fs_args *a)
{
    return step(a, "reject", fs_review_reject, "rejected");
}

static int show(fs_args *a)
{
    if (a->npos != 2)
        return fs_usage_error(a, "review show needs one LEAD");
    fs_lead *l = malloc(sizeof *l);
    fs_detail d = { "" };
    int rc = l ? fs_lead_get(a->gate, a->pos[1], l, &d) : FS_ENOMEM;
    if (rc == FS_OK && a->json) {
        fs_cli_lead_json(l);
        printf("\n");
    } else if (rc == FS_OK) {
        print_text(l);
    }
    free(l);
    return rc == FS_OK ? EXIT_OK : fs_cli_fail(rc, &d);
}

static int list(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "review list takes no arguments");
    fs_lead *v = NULL;
    size_t n = 0;
    fs_detail d = { "" };
    int rc = fs_lead_list(a->gate, fs_arg(a, "request"), &v, &n, &d);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    if (a->json)
        printf("[");
    else if (n)
        printf("%-6s %-8s %-8s %-10s %-20s %s\n", "lead", "request", "search",
               "state", "subject", "needs");
    for (size_t i = 0; i < n; i++) {
        if (a->json) {
            if (i)
                printf(",");
            fs_cli_lead_json(&v[i]);
            continue;
        }
        char needs[96];
        fs_lead_needs(&v[i], needs, sizeof needs);
        printf("%-6s %-8s %-8s %-10s %-20s %s\n", FS_SHOW(v[i].id),
               FS_SHOW(v[i].request), FS_SHOW(v[i].search),
               fs_lead_state_name(v[i].state), FS_SHOW(v[i].subject), needs);
    }
    if (a->json)
        printf("]\n");
    else if (!n)
        printf("no leads\n");
    free(v);
    return EXIT_OK;
}

int cmd_review(fs_args *a)
{
    static const struct { const char *name; int (*run)(fs_args *); } sub[] = {
        { "approve", approve }, { "corroborate", corroborate },
        { "list", list }, { "propose", propose }, { "reject", reject },
        { "show", show },
    };
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++)
        if (strcmp(sub[i].name, a->pos[0]) == 0)
            return sub[i].run(a);
    return EXIT_INTERNAL;        /* the dispatcher checked the name */
}
