/*
 * check_main.c - the one runner of every Check suite; its summary line
 * ("N%: Checks: ..., Failures: ..., Errors: ...") is what CI reads.
 *
 * Each suite runs in a process of its own, $FS_CHECK_JOBS of them at once
 * (default: one per core), the longest first: most of a suite's time is
 * one command after another, each waiting on the last, so one runner
 * leaves a core idle whenever it runs alone (the sanitized run's last
 * three minutes beside the plain one in `make test`).  A suite's output
 * (its tests' own prints and Check's line per failure) is held and shown
 * whole when it ends, after its name; the summary line adds up every
 * suite's.  A suite's process starts from this one, before anything is
 * loaded, as the one runner's first suite did.  CK_RUN_SUITE names the one
 * suite to run; Check's other variables hold inside each suite, and its
 * log files (CK_XML_LOG_FILE_NAME and the like) are written one per
 * suite, the suite's name after the given one's.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

Suite *suite_json(void);
Suite *suite_model(void);
Suite *suite_embed(void);
Suite *suite_faceres(void);
Suite *suite_cli(void);
Suite *suite_intake(void);
Suite *suite_detect(void);
Suite *suite_gallery(void);
Suite *suite_rank(void);
Suite *suite_enroll(void);
Suite *suite_gate(void);
Suite *suite_profile(void);
Suite *suite_search(void);
Suite *suite_review(void);
Suite *suite_tamper(void);
Suite *suite_accounts(void);
Suite *suite_text(void);
Suite *suite_service(void);
Suite *suite_report(void);
Suite *suite_stats(void);
Suite *suite_html(void);
Suite *suite_eval(void);
Suite *suite_shard(void);

/* Longest first (the sanitized run's order of time), so that the last
 * to end are short. */
static const struct {
    const char *name;
    Suite *(*make)(void);
} suites[] = {
    { "search", suite_search },   { "shard", suite_shard },
    { "gate", suite_gate },       { "detect", suite_detect },
    { "service", suite_service }, { "tamper", suite_tamper },
    { "enroll", suite_enroll },   { "rank", suite_rank },
    { "cli", suite_cli },         { "review", suite_review },
    { "report", suite_report },   { "html", suite_html },
    { "accounts", suite_accounts }, { "stats", suite_stats },
    { "gallery", suite_gallery }, { "eval", suite_eval },
    { "text", suite_text },       { "embed", suite_embed },
    { "model", suite_model },     { "faceres", suite_faceres },
    { "intake", suite_intake },   { "profile", suite_profile },
    { "json", suite_json },
};
enum { NSUITES = sizeof suites / sizeof *suites };

/* What a suite's process reports back (in memory shared with it). */
typedef struct tally {
    int done, run, failures, errors;
} tally;

/* Check's log files, one per suite: NAME.SUITE. */
static void log_per_suite(const char *suite)
{
    static const char *const var[] = { "CK_XML_LOG_FILE_NAME",
                                       "CK_LOG_FILE_NAME",
                                       "CK_TAP_LOG_FILE_NAME" };
    for (size_t i = 0; i < sizeof var / sizeof *var; i++) {
        const char *v = getenv(var[i]);
        char name[4096];
        if (!v || !*v || strcmp(v, "-") == 0)
            continue;
        snprintf(name, sizeof name, "%s.%s", v, suite);
        setenv(var[i], name, 1);
    }
}

/* In the suite's process: runs suite i with Check's output into out. */
static void run_suite(int i, FILE *out, tally *t)
{
    log_per_suite(suites[i].name);
    fflush(stdout);
    if (dup2(fileno(out), STDOUT_FILENO) < 0)
        _exit(EXIT_FAILURE);
    SRunner *sr = srunner_create(suites[i].make());
    srunner_run_all(sr, CK_NORMAL);
    fflush(stdout);
    t->run = srunner_ntests_run(sr);
    TestResult **f = srunner_failures(sr);
    for (int k = 0; k < srunner_ntests_failed(sr); k++)
        if (tr_rtype(f[k]) == CK_FAILURE)
            t->failures++;
        else
            t->errors++;
    free(f);
    srunner_free(sr);
    t->done = 1;
    _exit(EXIT_SUCCESS);
}

/* The suite's held output, but for Check's own header and summary (the
 * runner prints one of each for them all). */
static void show(const char *name, FILE *out)
{
    char line[8192];
    printf(" %s\n", name);
    rewind(out);
    while (fgets(line, sizeof line, out)) {
        int pct;
        if (strncmp(line, "Running suite(s): ", 18) == 0 ||
            sscanf(line, "%d%%: Checks: ", &pct) == 1)
            continue;
        fputs(line, stdout);
    }
    fflush(stdout);
    fclose(out);
}

int main(void)
{
    const char *only = getenv("CK_RUN_SUITE");
    const char *j = getenv("FS_CHECK_JOBS");
    long jobs = j && *j ? strtol(j, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    tally *t = mmap(NULL, NSUITES * sizeof *t, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) {
        perror("check_facesearch: mmap");
        return EXIT_FAILURE;
    }
    memset(t, 0, NSUITES * sizeof *t);
    pid_t pid[NSUITES] = { 0 };
    FILE *out[NSUITES] = { NULL };
    int next = 0, running = 0, run = 0, failures = 0, errors = 0;
    printf("Running suite(s):");
    fflush(stdout);
    for (;;) {
        while (running < jobs && next < NSUITES) {
            int i = next++;
            if (only && strcmp(only, suites[i].name) != 0)
                continue;
            if (!(out[i] = tmpfile())) {
                perror("check_facesearch: tmpfile");
                return EXIT_FAILURE;
            }
            fflush(stdout);
            pid[i] = fork();
            if (pid[i] < 0) {
                perror("check_facesearch: fork");
                return EXIT_FAILURE;
            }
            if (pid[i] == 0)
                run_suite(i, out[i], &t[i]);
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t done = wait(&status);
        if (done < 0 && errno == EINTR)
            continue;
        int i = 0;
        while (i < NSUITES && pid[i] != done)
            i++;
        if (i == NSUITES)
            continue;
        running--;
        show(suites[i].name, out[i]);
        if (!t[i].done) {                   /* the runner itself died */
            printf("check_facesearch: suite %s ended before its summary "
                   "(status %d)\n", suites[i].name, status);
            t[i].errors++;
            t[i].run++;
        }
        run += t[i].run;
        failures += t[i].failures;
        errors += t[i].errors;
    }
    /* as Check prints it */
    printf("%d%%: Checks: %d, Failures: %d, Errors: %d\n",
           run ? (int)(100.0 * (run - failures - errors) / run) : 100, run,
           failures, errors);
    return failures + errors == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
