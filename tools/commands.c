/*
 * commands.c - the facesearch command's table, sorted, and the
 * dispatcher that does the common work once (unknown command, --help,
 * --version, option parsing, in this process or through the service)
 * before a handler runs.  The same dispatcher runs in facesearchd for
 * each client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_cli.h"

/* Subcommands, each a sorted list; who may run them is each gate verb's
 * own check, not this table's. */
static const fs_sub agency_subs[] = {
    { "add" }, { "list" }, { "reinstate" }, { "suspend" }, { NULL }
};
static const fs_sub audit_subs[] = {
    { "log" }, { "purge" }, { "sample" }, { "verify" }, { NULL }
};
static const fs_sub gallery_subs[] = {
    { "config" }, { "remove" }, { "shard" }, { "show" }, { "stats" },
    { "verify" }, { NULL }
};
static const fs_sub key_subs[] = { { "rotate" }, { NULL } };
static const fs_sub profile_subs[] = { { "set" }, { "show" }, { NULL } };
static const fs_sub report_subs[] = {
    { "lead" }, { "no-match" }, { "rejection" }, { "show" }, { NULL }
};
static const fs_sub request_subs[] = {
    { "close" }, { "hold" }, { "list" }, { "new" }, { "show" }, { NULL }
};
static const fs_sub review_subs[] = {
    { "approve" }, { "corroborate" }, { "list" }, { "propose" },
    { "reject" }, { "show" }, { NULL }
};
static const fs_sub stats_subs[] = {
    { "annual" }, { "monthly" }, { "weekly" }, { NULL }
};
static const fs_sub user_subs[] = {
    { "add" }, { "disable" }, { "enable" }, { "list" }, { "passwd" },
    { "unlock" }, { NULL }
};

static const fs_cmd commands[] = {
    { "agency", "Outside agencies and their agreements (admin, G7).",
      "agency add NAME --mou REF\n"
      "agency suspend NAME --reason TEXT\n"
      "agency reinstate NAME\n"
      "agency list [--json]",
      cmd_agency_opts, cmd_agency, NEED_SESSION, agency_subs },
    { "audit", "Check and read the tamper-evident audit trail (auditor).",
      "audit verify [--json]\n"
      "audit log [--since DATE] [--until DATE] [--user NAME] [--case NUMBER]\n"
      "  [--json]\n"
      "audit purge --before DATE [--dry-run]   (admin; G18 retention)\n"
      "audit sample --n N [--month YYYY-MM] [--seed S] [--html OUT.html]\n"
      "  [--json]\n"
      "  the monthly compliance audit (G19): N searches of the month drawn\n"
      "  at random, each with its trail; the seed used is printed, and the\n"
      "  same seed draws the same sample again; --html also writes it as a\n"
      "  page (a new file)",
      cmd_audit_opts, cmd_audit, NEED_SESSION, audit_subs },
    { "bench", "Measure the engine beside its peers, in one run.",
      "bench embed [--threads T] [--batch B] [--seconds S] [--rounds R]\n"
      "  [--peers LIST] [--json]\n"
      "bench rank [--gallery N] [--queries Q] [--k K] [--threads T]\n"
      "  [--seconds S] [--rounds R] [--peers LIST] [--seed S] [--dir DIR]\n"
      "  [--json]\n"
      "bench rank --mpi S [--gallery N] [--queries Q] [--k K] [--rounds R]\n"
      "  [--seed S] [--json]   (S shard ranks under mpirun --oversubscribe)\n"
      "bench detect [--threads T] [--limit N] [--large N] [--json]\n"
      "bench search [--gallery N] [--rounds R] [--k K] [--dir DIR]\n"
      "  [--json]\n"
      "bench enroll [--limit N] [--rounds R] [--dir DIR] [--json]",
      cmd_bench_opts, cmd_bench, NEED_NOTHING, NULL },
    { "detect", "Find the faces of a still image and judge each for search.",
      "detect IMAGE [--json] [--annotate OUT.png] [--crop OUT.png] [--face N]\n"
      "  [--profile NAME|FILE]\n"
      "  --crop cuts the chosen face out of a group photo, with its head\n"
      "  around it (a probe of one person, or a mugshot file)",
      cmd_detect_opts, cmd_detect, NEED_NOTHING, NULL },
    { "disseminate", "Record a release of a report: to whom and how (G16).",
      "disseminate REPORT --to NAME\n"
      "  --manner email:ADDRESS|phone:NUMBER|in-person:WITNESS [--json]\n"
      "  examiners and supervisors; every release is kept on the report",
      cmd_disseminate_opts, cmd_disseminate, NEED_SESSION, NULL },
    { "embed", "Compute the 128-D face descriptor of aligned 150x150 chips.",
      "embed [--json] CHIP.png...",
      cmd_embed_opts, cmd_embed, NEED_NOTHING, NULL },
    { "enroll", "Enrol mugshots into the gallery (admin).",
      "enroll DIR [--source booking|arrest|parole] [--agency NAME]\n"
      "  [--report OUT.csv] [--batch N] [--threads T] [--json]\n"
      "enroll --manifest FILE.csv [--report OUT.csv] [--json]\n"
      "  DIR holds DIR/<subject-id>/<image>; a manifest has the columns\n"
      "  image,subject_id,name,booking_number,capture_date,source[,agency]",
      cmd_enroll_opts, cmd_enroll, NEED_SESSION, NULL },
    { "eval", "Measure accuracy on a labelled data set (CMC, FNIR at FPIR, "
      "DET, 1:1, groups).",
      "eval DATASET_DIR [--face centre|largest] [--svg OUT.svg] "
      "[--distractors DIR] [--json]\n"
      "  DATASET_DIR/<identity>/<image>; the first image of each identity\n"
      "  with two or more is enrolled, the others search (mated), and\n"
      "  identities with one image search as non-mated probes;\n"
      "  DATASET_DIR/demographics.csv (identity, sex, age band, skin tone,\n"
      "  ethnicity) gives the figures per group",
      cmd_eval_opts, cmd_eval, NEED_NOTHING, NULL },
    { "gallery", "Look after the gallery: counts, records, removal (admin).",
      "gallery stats [--json]\n"
      "gallery show SUBJECT [--json]\n"
      "gallery remove SUBJECT --reason TEXT\n"
      "gallery verify [--json]\n"
      "gallery config --rank exact|compressed\n"
      "gallery shard --into S DIR [--json]\n"
      "  S shard galleries of its subjects in DIR (new), searched as one\n"
      "  with `mpirun -n S+1 facesearch-mpi --shards DIR search ...`\n"
      "gallery shard --sync [--json]\n"
      "  the shards brought up to the gallery: what an enrolment cut short\n"
      "  did not route (enroll routes its templates itself)\n"
      "gallery shard --drop [--json]\n"
      "  the shards removed and forgotten (key rotate needs it first)",
      cmd_gallery_opts, cmd_gallery, NEED_SESSION, gallery_subs },
    { "init", "Create a gallery under a profile with its first admin.",
      "init --profile detroit|miami|nypd|nys-model|lacris|FILE\n"
      "  --admin NAME --unit UNIT [--password-stdin] [--key-file PATH]\n"
      "  The key file (0600) defaults to a per-gallery file under\n"
      "  $XDG_CONFIG_HOME/facesearch/; init prints where.  There is no\n"
      "  default password: the first admin sets one.",
      cmd_init_opts, cmd_init, NEED_NOTHING, NULL },
    { "key", "Re-wrap the gallery's keys under a new key file (admin).",
      "key rotate",
      cmd_key_opts, cmd_key, NEED_SESSION, key_subs },
    { "login", "Open a session (the token is kept 0600 and expires).",
      "login --user NAME [--password-stdin]",
      cmd_login_opts, cmd_login, NEED_GATE, NULL },
    { "logout", "End this session.",
      "logout",
      cmd_logout_opts, cmd_logout, NEED_SESSION, NULL },
    { "outcome", "Record whether a lead led to a positive identification "
      "(G17).",
      "outcome REQUEST --positive-id yes|no [--json]\n"
      "  the requester who filed the request, or a supervisor; once",
      cmd_outcome_opts, cmd_outcome, NEED_SESSION, NULL },
    { "profile", "Show or replace the policy profile the gallery runs under.",
      "profile show [--json]\n"
      "profile set NAME|FILE   (admin; an edited or another profile)",
      cmd_profile_opts, cmd_profile, NEED_SESSION, profile_subs },
    { "purge", "Remove probes past the profile's retention (admin, G12).",
      "purge [--dry-run] [--json]\n"
      "  probes of requests held as evidence are kept",
      cmd_purge_opts, cmd_purge, NEED_SESSION, NULL },
    { "report", "Issue and show the reports of a request (G15).",
      "report lead LEAD [--html OUT.html] [--json]\n"
      "  possible-match report (G14: every sign-off of the profile first)\n"
      "report no-match REQUEST [--html OUT.html] [--json]\n"
      "  no candidate was found\n"
      "report rejection REQUEST [--html OUT.html] [--json]\n"
      "  the probe was unfit (G13)\n"
      "report show ID [--html OUT.html] [--json]\n"
      "  examiners and supervisors issue (again: the same report); the\n"
      "  requester reads the reports of their own requests; --html also\n"
      "  writes the report as a page (a new file) with its images",
      cmd_report_opts, cmd_report, NEED_SESSION, report_subs },
    { "request", "File and follow search requests (G4-G8).",
      "request new --case NUMBER --crime TYPE --requester NAME --agency AGENCY\n"
      "  --contact TEXT --justification TEXT --source TEXT [--from-video]\n"
      "  [--ack-disclaimer] [--json]\n"
      "request show ID [--json]\n"
      "request list [--open] [--json]\n"
      "request close ID --outcome lead|no-candidate|rejected\n"
      "request hold ID --reason TEXT   (keep its probes as evidence, G12)",
      cmd_request_opts, cmd_request, NEED_SESSION, request_subs },
    { "review", "Propose a candidate as a lead and corroborate it (G14).",
      "review propose --search ID --subject SUBJECT --note TEXT [--json]\n"
      "  (examiner) prints the lead's id\n"
      "review corroborate LEAD --note TEXT   (another examiner)\n"
      "review approve LEAD --note TEXT | review reject LEAD --note TEXT\n"
      "  (supervisor) nobody signs a lead twice; approval needs the\n"
      "  profile's corroborating examiners first\n"
      "review show LEAD [--json]\n"
      "review list [--request ID] [--json]",
      cmd_review_opts, cmd_review, NEED_SESSION, review_subs },
    { "search", "Search the gallery for a probe, through the gate (G9-G13).",
      "search --request ID PROBE_IMAGE [--face N] [--k K] [--human-review]\n"
      "  [--json] [--html OUT.html [--landmarks]]\n"
      "  examiners only; the list is released only for an open request\n"
      "  with an authorized crime type and --human-review (G10); --html\n"
      "  also writes the comparison sheet, a page of the probe and each\n"
      "  candidate side by side (nothing is written when refused)",
      cmd_search_opts, cmd_search, NEED_SESSION, NULL },
    { "stats", "Oversight figures for a week, month or year (G19).",
      "stats weekly [--week YYYY-Www] [--html OUT.html] [--json]\n"
      "stats monthly [--month YYYY-MM] [--html OUT.html] [--json]\n"
      "stats annual [--year YYYY] [--html OUT.html] [--json]\n"
      "  (admin, auditor, supervisor) requests filed, fulfilled and open,\n"
      "  crime types, searches, leads, reports, disseminations, positive\n"
      "  identifications, policy violations by rule; counted from the\n"
      "  records and the trail; the period defaults to the current one (UTC);\n"
      "  --html also writes them as a page of tables and charts (a new file)",
      cmd_stats_opts, cmd_stats, NEED_SESSION, stats_subs },
    { "user", "Manage accounts and roles (admin).",
      "user add NAME --roles ROLE[,ROLE...] --unit UNIT\n"
      "  [--trained YYYY-MM-DD] [--password-stdin]\n"
      "  roles: admin, examiner, supervisor, requester, auditor; examiner\n"
      "  and supervisor need a training date (G3)\n"
      "user disable NAME | user enable NAME   (nobody disables themselves)\n"
      "user unlock NAME   (clears a lockout after failed logins)\n"
      "user passwd [NAME] [--password-stdin]\n"
      "  your own: the current password, then the new one (with\n"
      "  --password-stdin: first line current, second line new); another\n"
      "  user's (admin): the new one only\n"
      "user list [--json]",
      cmd_user_opts, cmd_user, NEED_SESSION, user_subs },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_main_help(FILE *f)
{
    fprintf(f, "facesearch %s - one-to-many face search for examiners, "
            "behind a policy gate\n\nusage: facesearch COMMAND [options] "
            "[arguments]\n\ncommands:\n", FS_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'facesearch COMMAND --help' describes a command.\n"
            "'facesearch --version' prints the version and the model id.\n");
}

static int print_version(void)
{
    static const fs_cmd version_cmd = { "--version", "", "", NULL, NULL,
                                        NEED_NOTHING, NULL };
    fs_args a;
    memset(&a, 0, sizeof a);
    a.cmd = &version_cmd;
    char buf[4096];
    const char *path = fs_model_path(&a, buf, sizeof buf);
    printf("facesearch %s\n", FS_VERSION);
    fs_engine_options o = { .model_path = path, .threads = 1,
                            .max_batch = 1 };
    fs_engine *e;
    fs_detail d = { "" };
    if (fs_engine_open(&o, &e, &d) != FS_OK) {
        printf("model: not available (%s)\n", d.msg);
        return EXIT_OK;
    }
    printf("model: %s\nmodel sha256: %s\n", fs_engine_model_id(e),
           fs_engine_model_sha256(e));
    fs_engine_close(e);
    return EXIT_OK;
}

int fs_cli_engine_open(const fs_args *a, const fs_recipe *r,
                       const fs_engine_options *o, fs_engine **e,
                       fs_detail *d)
{
    fs_engine_options with = *o;
    char sbuf[4200];
    if (r && r->second_model_id[0] && !with.second_model_path)
        with.second_model_path = fs_second_model_path(a, sbuf, sizeof sbuf);
    fs_detail why = { "" };
    int rc = fs_engine_open(&with, e, &why);
    if (rc != FS_OK && r && r->second_model_id[0])
        return fs_fail(d, FS_EMODEL, "the gallery's recipe re-scores with a "
                       "second model, %s, which this engine cannot load: %s",
                       r->second_model_id, why.msg);
    return rc == FS_OK ? FS_OK : fs_fail(d, rc, "%s", why.msg);
}

int fs_cli_engine(const fs_args *a, const fs_engine_options *o,
                  fs_engine **e, fs_detail *d)
{
    if (!a->served) {
        fs_recipe r;
        int rc = a->gate ? fs_gate_recipe(a->gate, &r, d) : FS_OK;
        return rc == FS_OK ? fs_cli_engine_open(a, a->gate ? &r : NULL, o, e,
                                                d)
                           : rc;
    }
    /* as fs_engine_open would set it: each run is a fresh child of the
     * warm engine, so nothing of another run's settings is left */
    fs_quality_limits q;
    if (o->quality)
        q = *o->quality;
    else
        fs_quality_defaults(&q);
    *e = a->served->engine;
    fs_engine_set_quality(*e, &q);
    fs_engine_set_opener(*e, &a->served->files->open);
    return FS_OK;
}

void fs_cli_engine_done(const fs_args *a, fs_engine *e)
{
    if (!a->served)
        fs_engine_close(e);
}

/* In this process, a gallery is one OS user's: a gallery another user
 * owns is reached through the service, which alone holds its key (root
 * aside, who can read everything anyway). */
static int own_gallery(const fs_args *a)
{
    struct stat st;
    uid_t me = geteuid();
    int seen = stat(a->gallery, &st) == 0;
    if (me == 0 || (seen && st.st_uid == me) || (!seen && errno != EACCES))
        return EXIT_OK;
    fs_error_msg("the gallery '%s' belongs to another OS user%s: people "
                 "share a gallery through its service (facesearchd; "
                 "--socket, or $FACESEARCH_SOCKET)", a->gallery,
                 seen ? "" : " (permission denied)");
    return EXIT_USAGE;
}

static int is_sub(const fs_cmd *c, const char *name, size_t len)
{
    for (const fs_sub *s = c->subs; s && s->name; s++)
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
            return 1;
    return 0;
}

int fs_opt_fits(const fs_cmd *c, const fs_opt *o, const char *sub)
{
    const char *p = o->help;
    int named = 0;
    for (;;) {
        size_t len = strcspn(p, ",: ");
        if (len == 0 || !is_sub(c, p, len))
            return 1;           /* no list of subcommands: any of them */
        named |= strlen(sub) == len && strncmp(sub, p, len) == 0;
        p += len;
        if (*p == ':')
            return named;
        if (p[0] != ',' || p[1] != ' ')
            return 1;
        p += 2;
    }
}

/* The options given that belong to another subcommand than s. */
static int options_fit(const fs_cmd *c, const fs_args *a, const char *s)
{
    for (int i = 0; c->opts && c->opts[i].name; i++) {
        if (!a->value[i] || fs_opt_fits(c, &c->opts[i], s))
            continue;
        size_t len = strcspn(c->opts[i].help, ":");
        return fs_usage_error(a, "option '--%s' is for '%s %.*s', not for "
                              "'%s %s'", c->opts[i].name, c->name, (int)len,
                              c->opts[i].help, c->name, s);
    }
    return EXIT_OK;
}

/* The checks every command shares, once: the subcommand, the gallery
 * opened and unlocked, a session (refusals audited by the gate), then the
 * handler, whose gate verbs check the roles.  In the service the gallery,
 * key and model are its own, and the caller the client's user. */
static int run(const fs_cmd *c, fs_args *a)
{
    const fs_served *sv = a->served;
    if (c->need == NEED_NOTHING)
        return sv ? fs_usage_error(a, "'%s' runs on your side, not in the "
                                   "service", c->name) : c->run(a);
    snprintf(a->action, sizeof a->action, "%s", c->name);
    if (c->subs) {
        const fs_sub *s = c->subs;
        while (s->name && (a->npos < 1 || strcmp(s->name, a->pos[0]) != 0))
            s++;
        if (!s->name)
            return a->npos < 1
                   ? fs_usage_error(a, "which %s command?", c->name)
                   : fs_usage_error(a, "unknown %s command '%s'", c->name,
                                    a->pos[0]);
        snprintf(a->action, sizeof a->action, "%s %s", c->name, s->name);
        int st = options_fit(c, a, s->name);
        if (st != EXIT_OK)
            return st;
    }
    if (sv && (a->gallery_named || a->key_file || a->model))
        return fs_usage_error(a, "--%s: the service keeps its own gallery, "
                              "key file and model", a->gallery_named
                              ? "gallery" : a->key_file ? "key-file"
                              : "model");
    if (sv) {
        a->gallery = sv->gallery;
        a->key_file = sv->key_file;
    } else {
        int st = own_gallery(a);
        if (st != EXIT_OK)
            return st;
    }
    fs_gate_options o = { .key_file = a->key_file,
                          .warm = sv ? sv->warm : NULL };
    fs_detail d = { "" };
    int rc = fs_gate_open(a->gallery, &o, &a->gate, &d);
    if (rc == FS_OK && fs_cli_ranker && !sv)
        fs_gate_set_ranker(a->gate, fs_cli_ranker);
    if (rc == FS_OK && sv) {
        fs_gate_set_caller(a->gate, sv->caller);
        fs_gate_set_opener(a->gate, &sv->files->open);
    }
    if (rc == FS_OK && c->need == NEED_SESSION)
        rc = fs_gate_session(a->gate, 0, a->action, &a->who, &d);
    int st = rc == FS_OK ? c->run(a) : fs_cli_fail(rc, &d);
    fs_gate_close(a->gate);
    a->gate = NULL;
    return st;
}

const fs_gate_ranker *fs_cli_ranker;

const fs_cmd *fs_cli_find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int fs_cli_main(int argc, char **argv, const fs_served *sv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    const fs_cmd *c = fs_cli_find(name);
    if (!c && !sv && (strcmp(name, "--help") == 0 ||
                      strcmp(name, "-h") == 0 || strcmp(name, "help") == 0)) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    if (!c && !sv && strcmp(name, "--version") == 0)
        return print_version();
    if (!c) {
        fs_error_msg("unknown command '%s'", name);
        fprintf(stderr, "Try 'facesearch --help'.\n");
        return EXIT_USAGE;
    }
    fs_args a;
    int rc = fs_parse_args(c, argc - 2, argv + 2, &a);
    a.served = sv;
    const char *sock = rc == EXIT_OK && !sv && c->need != NEED_NOTHING
                       ? fs_cli_socket(&a) : NULL;
    if (sock && a.gallery_named == 2)
        rc = fs_usage_error(&a, "name the gallery (--gallery, used in this "
                            "process) or its service (--socket), not both");
    else if (sock)
        rc = fs_client_run(sock, argc, argv);
    else if (rc == EXIT_OK)
        rc = run(c, &a);
    else if (rc < 0)
        rc = EXIT_OK;           /* --help was printed */
    free(a.pos);
    fflush(stdout);
    if (ferror(stdout)) {
        fs_error_msg("cannot write the output");
        return EXIT_INTERNAL;
    }
    return rc;
}
