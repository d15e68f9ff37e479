/*
 * check_text.c - text that cannot forge, files that cannot leak, keys
 * that stay out of core dumps (issue 12, items 2 and 4): the one checker
 * (fs_text_check) and escaper (fs_text_escape) on their edge cases, the
 * gate refusing control characters in what it stores, the CLI never
 * putting a raw control character on an auditor's terminal, every output
 * file created new and 0600 without following a link, and
 * fs_secure_process.  The attacks are replayed as an insider would: a
 * crafted login name, a link planted at a report's path.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_file.h"
#include "../engine/base/fs_json.h"
#include "../engine/base/fs_text.h"
#include "fs_testutil.h"

static char gal[4096];

static void text_setup(void)
{
    tu_tmp_setup();
    snprintf(gal, sizeof gal, "%s/gallery", tu_tmp);
}

#define EXPECT(want, what, ...) \
    tu_expect_on(gal, want, what, NULL, (const char *const[]){ __VA_ARGS__, \
                                                                NULL })

/* 1 when s is valid UTF-8 with no C1 control and no C0 control but
 * newlines: what a terminal may safely be given. */
static int terminal_safe(const char *s)
{
    size_t n = strlen(s), len;
    for (size_t i = 0; i < n; i += len) {
        uint32_t cp;
        len = fs_utf8_next(s + i, n - i, &cp);
        if (!len || (fs_text_is_control(cp) && cp != '\n'))
            return 0;
    }
    return 1;
}

/* ---- the checker ------------------------------------------------------- */

START_TEST(test_text_check_edges)
{
    static const char *const good[] = {
        "", "Metro PD", "Détroit", "東京都警察", "\xF0\x9F\x98\x80 ok",
        "\xC2\xA0nbsp", "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF", "~!@#$%^&*()",
    };
    fs_detail d;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(fs_text_check("field", good[i], 64, &d) == FS_OK,
                      "good[%zu] refused: %s", i, d.msg);
    ck_assert_int_eq(fs_text_check("field", NULL, 0, &d), FS_OK);

    static const struct { const char *s, *why; size_t at; } bad[] = {
        { "a\nb", "control", 1 },         { "\tx", "control", 0 },
        { "x\r", "control", 1 },          { "ab\x1b[2J", "control", 2 },
        { "del\x7f", "control", 3 },      { "nel\xC2\x85", "control", 3 },
        { "csi\xC2\x9B" "31m", "control", 3 },  /* C1 as UTF-8 */
        { "\xC2\x80", "control", 0 },     { "\xC2\x9F", "control", 0 },
        { "x\xC0\xAF", "UTF-8", 1 },      /* overlong '/' */
        { "\xC1\xBF", "UTF-8", 0 },       /* overlong, 2 bytes */
        { "\xE0\x80\xAF", "UTF-8", 0 },   /* overlong, 3 bytes */
        { "\xF0\x80\x80\xAF", "UTF-8", 0 },  /* overlong, 4 bytes */
        { "\xED\xA0\x80", "UTF-8", 0 },   /* a surrogate */
        { "\xF4\x90\x80\x80", "UTF-8", 0 },  /* past U+10FFFF */
        { "ok\xE6\x9D", "UTF-8", 2 },     /* truncated at the end */
        { "\xE6\x9D" "x", "UTF-8", 0 },   /* truncated inside */
        { "ab\x80", "UTF-8", 2 },         /* a stray continuation */
        { "\xFF", "UTF-8", 0 },           { "\xF8\x88\x80\x80\x80", "UTF-8", 0 },
        { "\xC2\x85" "\x1b", "control", 0 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(fs_text_check("agency name", bad[i].s, 64, &d)
                      == FS_EINVAL, "bad[%zu] passed", i);
        char at[64];
        snprintf(at, sizeof at, "at byte %zu", bad[i].at);
        ck_assert_msg(strstr(d.msg, "the agency name") &&
                      strstr(d.msg, bad[i].why) && strstr(d.msg, at),
                      "bad[%zu]: %s", i, d.msg);
        ck_assert_msg(terminal_safe(d.msg), "the detail quotes the value");
    }
    ck_assert_int_eq(fs_text_check("reason", "abcd", 4, &d), FS_OK);
    ck_assert_int_eq(fs_text_check("reason", "abcde", 4, &d), FS_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "longer than 4 bytes"));
}
END_TEST

/* ---- the escaper --------------------------------------------------------- */

START_TEST(test_text_escape_edges)
{
    static const struct { const char *in, *out; unsigned flags; } t[] = {
        { "plain", "plain", 0 },
        { "Détroit 東京 \xF0\x9F\x98\x80", "Détroit 東京 \xF0\x9F\x98\x80", 0 },
        { "a\nb", "a\\x0ab", 0 },
        { "a\nb\tc", "a\nb\\x09c", FS_TEXT_KEEP_NEWLINES },
        { "\x1b[2J\r", "\\x1b[2J\\x0d", 0 },
        { "del\x7f", "del\\x7f", 0 },
        { "csi\xC2\x9B" "1m", "csi\\xc2\\x9b1m", 0 },
        { "back\\slash", "back\\\\slash", 0 },
        { "\\x0a", "\\\\x0a", 0 },       /* an escape typed is not one */
        { "bad\xFF\xC0\xAF", "bad\\xff\\xc0\\xaf", 0 },
        { "cut\xE6\x9D", "cut\\xe6\\x9d", 0 },
        { "\xED\xA0\x80", "\\xed\\xa0\\x80", 0 },
        { "", "", 0 },
    };
    char buf[128];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        size_t need = fs_text_escape(t[i].in, buf, sizeof buf, t[i].flags);
        ck_assert_str_eq(buf, t[i].out);
        ck_assert_uint_eq(need, strlen(t[i].out));
        if (!(t[i].flags & FS_TEXT_KEEP_NEWLINES))
            ck_assert_msg(fs_text_check("shown", buf, sizeof buf, NULL)
                          == FS_OK, "t[%zu] shows a control", i);
    }
    ck_assert_uint_eq(fs_text_escape(NULL, buf, sizeof buf, 0), 0);
    ck_assert_str_eq(buf, "");

    /* too long: cut at a character, never inside an escape or a
     * multi-byte character, and said with "..." */
    char small[12];
    ck_assert_uint_eq(fs_text_escape("abcdef\n\nxyz", small, sizeof small, 0),
                      17);
    ck_assert_str_eq(small, "abcdef...");
    ck_assert_uint_eq(fs_text_escape("東京都警察", small, sizeof small, 0),
                      15);
    ck_assert_str_eq(small, "東京...");
    ck_assert_uint_eq(fs_text_escape("exactly 11!", small, sizeof small, 0),
                      11);
    ck_assert_str_eq(small, "exactly 11!");
    char tiny[3];
    fs_text_escape("abcdef", tiny, sizeof tiny, 0);
    ck_assert_str_eq(tiny, "..");
}
END_TEST

/* ---- keys out of core dumps -------------------------------------------- */

START_TEST(test_G21_secure_process_no_core_no_ptrace)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* a process that could dump a core, as a shell with `ulimit -c
         * unlimited` would start it */
        struct rlimit lim;
        getrlimit(RLIMIT_CORE, &lim);
        struct rlimit some = { lim.rlim_max < (1 << 20) ? lim.rlim_max
                               : 1 << 20, lim.rlim_max };
        setrlimit(RLIMIT_CORE, &some);
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        if (fs_secure_process(NULL) != FS_OK)
            _exit(10);
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
            _exit(11);
        if (getrlimit(RLIMIT_CORE, &lim) != 0 || lim.rlim_cur != 0 ||
            lim.rlim_max != 0)
            _exit(12);
        /* and the limit cannot be raised again, but by a privileged
         * process (the suite may run as root) */
        struct rlimit up = { 1 << 20, 1 << 20 };
        if (geteuid() != 0 && setrlimit(RLIMIT_CORE, &up) == 0)
            _exit(13);
        if (fs_secure_process(NULL) != FS_OK)     /* idempotent */
            _exit(14);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child: status %d", status);
}
END_TEST

/* ---- files made new, 0600, never through a link ------------------------- */

START_TEST(test_file_create_0600_refuses_links_and_files)
{
    /* (tu_path's buffers are a ring: the paths kept are copied) */
    char victim[4200], link1[4200], link2[4200], leak[4200], mine[4200];
    snprintf(victim, sizeof victim, "%s", tu_path(tu_tmp, "victim.txt"));
    snprintf(link1, sizeof link1, "%s", tu_path(tu_tmp, "report.csv"));
    snprintf(link2, sizeof link2, "%s", tu_path(tu_tmp, "dangling.csv"));
    snprintf(leak, sizeof leak, "%s", tu_path(tu_tmp, "leak.csv"));
    snprintf(mine, sizeof mine, "%s", tu_path(tu_tmp, "mine"));
    ck_assert_int_eq(tu_write(victim, "orig", 4), 0);
    fs_detail d;
    int fd;

    /* 0600 whatever the umask: wide open or narrow */
    static const mode_t masks[] = { 0, 022, 0277 };
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "out%zu.csv", i);
        const char *p = tu_path(tu_tmp, name);
        mode_t old = umask(masks[i]);
        int rc = fs_file_create(p, &fd, &d);
        umask(old);
        ck_assert_msg(rc == FS_OK, "%s", d.msg);
        ck_assert_int_eq(write(fd, "x", 1), 1);
        close(fd);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
    }

    /* an existing file is not overwritten, nor truncated */
    ck_assert_int_eq(fs_file_create(victim, &fd, &d), FS_EXISTS);
    ck_assert_ptr_nonnull(strstr(d.msg, "will not overwrite"));
    /* a link to it, or to where a file would appear, is not followed */
    ck_assert_int_eq(symlink(victim, link1), 0);
    ck_assert_int_eq(fs_file_create(link1, &fd, &d), FS_EXISTS);
    ck_assert_ptr_nonnull(strstr(d.msg, "symbolic link"));
    ck_assert_int_eq(symlink(leak, link2), 0);
    ck_assert_int_eq(fs_file_create(link2, &fd, &d), FS_EXISTS);
    ck_assert_int_ne(access(leak, F_OK), 0);
    size_t len;
    char *text = tu_read(victim, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(text, "orig", 4), 0);
    free(text);
    ck_assert_int_eq(fs_file_create(tu_path(tu_tmp, "no/dir/x"), &fd, &d),
                     FS_ENOENT);

    /* the discard of a failed export removes only its own file */
    ck_assert_int_eq(fs_file_create(mine, &fd, &d), FS_OK);
    ck_assert_int_eq(unlink(victim), 0);
    ck_assert_int_eq(rename(mine, victim), 0);     /* moved away ... */
    ck_assert_int_eq(tu_write(mine, "theirs", 6), 0);  /* ... replaced */
    fs_file_discard(mine, fd);
    ck_assert_int_eq(access(mine, F_OK), 0);        /* not ours: kept */
    fs_file_discard(victim, fd);
    ck_assert_int_ne(access(victim, F_OK), 0);      /* ours: gone */
    close(fd);
}
END_TEST

/* ---- the attacks, through the gate and the CLI ---------------------------- */

/* The forged line an insider types as a login name, hoping an auditor
 * reading `audit log` takes it for the admin's successful login; with a
 * terminal escape (clear the screen) and a C1 CSI for good measure.  The
 * same for the profile's text, which keeps only its line breaks. */
#define FORGED "x\n     9  2026-12-03T09:00:00.000000Z  admin (TEST)  " \
               "login  -> ok\x1b[2J\xC2\x9B" "31m\xFF"

START_TEST(test_G18_crafted_text_cannot_forge_lines_on_a_terminal)
{
    tu_init_gallery(gal);
    char *out, *err;
    int st = tu_run_on(gal, TU_PASSWORD "\n", &out, &err, (const char *[]){
        "login", "--user", FORGED, "--password-stdin", NULL });
    ck_assert_int_eq(st, 1);
    ck_assert_msg(terminal_safe(err) && strchr(err, '\n') == strrchr(err,
                  '\n'), "the refusal echoes raw text: %s", err);
    free(out);
    free(err);
    ck_assert_int_eq(tu_login(gal, "admin", TU_PASSWORD), 0);

    st = tu_run_on(gal, NULL, &out, &err, (const char *[]){ "audit", "log",
                                                            NULL });
    ck_assert_msg(st == 0, "%s", err);
    ck_assert_msg(terminal_safe(out), "raw control characters: %s", out);
    /* each line is one entry: it starts with the entry's number, and the
     * forged text stays inside the line of the failed login */
    int lines = 0, forged_in = 0;
    for (char *l = out, *nl; *l; l = nl + 1, lines++) {
        nl = strchr(l, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = 0;
        size_t sp = strspn(l, " ");
        ck_assert_msg(l[sp] >= '1' && l[sp] <= '9', "a line that is not an "
                      "entry: %s", l);
        ck_assert_msg(strncmp(l + sp, "9  2026-12-03", 13) != 0, "forged: %s",
                      l);
        forged_in += strstr(l, "\\x0a     9  2026-12-03") != NULL;
    }
    ck_assert_int_ge(lines, 4);
    ck_assert_int_eq(forged_in, 1);
    free(out);
    free(err);

    /* --json: valid JSON and valid UTF-8 whatever the name held */
    st = tu_run_on(gal, NULL, &out, &err, (const char *[]){ "audit", "log",
                                                            "--json", NULL });
    ck_assert_msg(st == 0, "%s", err);
    ck_assert_msg(terminal_safe(out), "raw bytes in the JSON: %s", out);
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
    fs_json *j = NULL;
    fs_detail d;
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, &d) == FS_OK, "%s: %s",
                  d.msg, out);
    int found = 0;
    for (size_t i = 0; i < j->n; i++) {
        const fs_json *u = fs_json_get(j->items[i], "user");
        found += u && u->type == FS_JSON_STRING &&
                 strstr(u->string, "2026-12-03T09:00") != NULL;
    }
    ck_assert_int_eq(found, 1);
    fs_json_free(j);
    free(out);
    free(err);

    /* the profile an auditor reads: its lines kept, nothing else raw */
    const char *builtin = fs_profile_builtin("detroit");
    size_t blen = strlen(builtin);
    char *text = malloc(blen + 64);
    ck_assert_ptr_nonnull(text);
    int hlen = snprintf(text, blen + 64, "# note\x1b[2J\xC2\x9B" "1A\r\n");
    memcpy(text + hlen, builtin, blen + 1);
    const char *pf = tu_profile_file("edited.profile", text);
    EXPECT(0, "detroit", "profile", "set", pf);
    st = tu_run_on(gal, NULL, &out, &err, (const char *[]){ "profile", "show",
                                                            NULL });
    ck_assert_msg(st == 0, "%s", err);
    ck_assert_msg(terminal_safe(out), "raw control characters: %.200s", out);
    ck_assert_ptr_nonnull(strstr(out, "# note\\x1b[2J\\xc2\\x9b1A\\x0d\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n# facesearch profile: Detroit"));
    free(out);
    free(err);
}
END_TEST

START_TEST(test_G4_G7_G20_control_characters_refused_naming_the_field)
{
    /* the request form, field by field (fs_request_file asks the same
     * check first), with a clean form beside it in non-ASCII UTF-8 */
    fs_profile p;
    ck_assert_int_eq(fs_profile_load("detroit", &p, NULL, NULL), FS_OK);
    fs_request_form ok = {
        "2026-0042", "robbery", "Det. Raúl Jiménez", "Préfecture TEST",
        "ray.jones@example.org", "Armed robbery of a gas station on Grand "
        "River; the clerk saw the suspect's face at the counter",
        "photo taken by the victim's phone", 0, 0
    };
    fs_detail d;
    ck_assert_msg(fs_request_check(&p, &ok, &d) == FS_OK, "%s", d.msg);
    static const struct { size_t field; const char *value, *what; } bad[] = {
        { 2, "Det. Ray\xC2\x9B" "31m Jones",
          "the requester name (--requester) holds a control character "
          "at byte 8" },
        { 3, "TEST\xC2\x85", "the unit or agency (--agency) holds a control" },
        { 4, "ray@example.org\x7f", "the contact (--contact) holds a control" },
        { 5, "Armed robbery of a gas station; the clerk saw\xE2\x80 the "
          "suspect", "the justification (--justification) is not valid "
          "UTF-8 at byte 45" },
        { 6, "photo taken\xFF by the victim", "the lawful source of the probe "
          "image (--source) is not valid UTF-8" },
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        fs_request_form f = ok;
        const char **field[] = { &f.case_no, &f.crime, &f.requester,
                                 &f.agency, &f.contact, &f.justification,
                                 &f.source };
        *field[bad[b].field] = bad[b].value;
        ck_assert_int_eq(fs_request_check(&p, &f, &d), FS_EINVAL);
        ck_assert_msg(strstr(d.msg, bad[b].what), "%s", d.msg);
    }

    /* through the CLI: exit 2 naming the field, for agencies, a removal
     * and a hold (each checked before anything is looked up) */
    tu_init_gallery(gal);
    EXPECT(2, "the agency name holds a control character at byte 5",
           "agency", "add", "Metro\x1b[2JPD", "--mou", "MOU-1");
    EXPECT(2, "the MOU reference (--mou) is not valid UTF-8 at byte 3",
           "agency", "add", "Metro PD", "--mou", "MOU\xC0\xAF" "12");
    EXPECT(2, "the suspension reason (--reason) holds a control character",
           "agency", "suspend", "Préfecture", "--reason", "late\xC2\x85");
    EXPECT(2, "the removal reason (--reason) holds a control character",
           "gallery", "remove", "S1", "--reason", "expunged\x1b[1A");
    EXPECT(2, "the reason for holding (--reason) holds a control character",
           "request", "hold", "R1", "--reason", "evidence\r\n");
}
END_TEST

/* Enrolment's metadata, through the gate's one write of mugshots. */
START_TEST(test_G20_enrolment_metadata_refused_with_control_characters)
{
    tu_init_gallery(gal);
    fs_gate *g;
    fs_detail d = { "" };
    ck_assert_msg(fs_gate_open(gal, NULL, &g, &d) == FS_OK, "%s", d.msg);
    fs_user who;
    ck_assert_msg(fs_gate_session(g, 0, "enroll", &who, &d) == FS_OK, "%s",
                  d.msg);
    fs_mugshot m = { "S1", "José Núñez", "B-1", "2026-01-02", "Metro PD",
                     "booking", (const uint8_t *)"img", 3, { 1 }, { 1.0f }, NULL };
    const char **field[] = { &m.name, &m.booking_number, &m.capture_date,
                             &m.source_agency };
    const char *what[] = { "subject's name", "booking number",
                           "capture date", "source agency" };
    for (size_t i = 0; i < 4; i++) {
        const char *keep = *field[i];
        *field[i] = "Jo\xC2\x9B" "2Jhn";
        ck_assert_int_eq(fs_gate_enroll_templates(g, &m, 1, NULL, &d),
                         FS_EINVAL);
        ck_assert_msg(strstr(d.msg, what[i]) && strstr(d.msg, "control"),
                      "%s", d.msg);
        *field[i] = keep;
    }
    fs_gallery_stats st;
    ck_assert_int_eq(fs_gate_gallery_stat(g, &st, &d), FS_OK);
    ck_assert_uint_eq(st.images, 0);
    /* the same in clean UTF-8 goes in */
    ck_assert_msg(fs_gate_enroll_templates(g, &m, 1, NULL, &d) == FS_OK,
                  "%s", d.msg);
    fs_gate_close(g);
}
END_TEST

/* The enrolment report: 0600, and a link planted at its path refused with
 * nothing written through it, before any image is read. */
START_TEST(test_enroll_report_0600_and_never_through_a_link)
{
    tu_init_gallery(gal);
    const char *dir = tu_path(tu_tmp, "mugshots");
    mkdir(dir, 0700);
    /* a subject folder refused by its name: the report gets its row
     * without an image being decoded (the test stays fast) */
    mkdir(tu_path(dir, "bad name"), 0700);
    ck_assert_int_eq(tu_write(tu_path(dir, "bad name/x.jpg"), "x", 1), 0);
    const char *victim = tu_path(tu_tmp, "victim.csv");
    ck_assert_int_eq(tu_write(victim, "orig", 4), 0);
    const char *leak = tu_path(tu_tmp, "leak.csv");
    char link1[4200], link2[4200], rep[4200];
    snprintf(link1, sizeof link1, "%s", tu_path(tu_tmp, "r1.csv"));
    snprintf(link2, sizeof link2, "%s", tu_path(tu_tmp, "r2.csv"));
    snprintf(rep, sizeof rep, "%s", tu_path(tu_tmp, "report.csv"));
    ck_assert_int_eq(symlink(victim, link1), 0);
    ck_assert_int_eq(symlink(leak, link2), 0);
    EXPECT(2, "symbolic link: will not overwrite it", "enroll", dir,
           "--report", link1);
    EXPECT(2, "symbolic link", "enroll", dir, "--report", link2);
    EXPECT(2, "exists: will not overwrite it", "enroll", dir, "--report",
           victim);
    ck_assert_int_ne(access(leak, F_OK), 0);
    size_t len;
    char *text = tu_read(victim, &len);
    ck_assert(len == 4 && memcmp(text, "orig", 4) == 0);
    free(text);

    mode_t old = umask(022);
    EXPECT(0, "1 rejected", "enroll", dir, "--report", rep);
    umask(old);
    struct stat st;
    ck_assert_int_eq(lstat(rep, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert(tu_file_holds(rep, "bad name/x.jpg", 14));
}
END_TEST

/* eval --svg and detect --annotate: the same rule, checked before the
 * work where the file is written as it goes. */
START_TEST(test_exports_never_through_a_link)
{
    const char *victim = tu_path(tu_tmp, "victim.svg");
    ck_assert_int_eq(tu_write(victim, "orig", 4), 0);
    char link[4200];
    snprintf(link, sizeof link, "%s", tu_path(tu_tmp, "cmc.svg"));
    ck_assert_int_eq(symlink(victim, link), 0);
    const char *set = tu_path(tu_tmp, "set");
    mkdir(set, 0700);
    TU_REFUSED(2, "symbolic link", "eval", (char *)set, "--svg", link);
    TU_REFUSED(2, "will not overwrite", "eval", (char *)set, "--svg",
               (char *)victim);

    const char *photo = tu_face_photo();
    if (!photo)
        return;
    char png[4200], plink[4200];
    snprintf(png, sizeof png, "%s", tu_path(tu_tmp, "annotated.png"));
    snprintf(plink, sizeof plink, "%s", tu_path(tu_tmp, "planted.png"));
    ck_assert_int_eq(symlink(victim, plink), 0);
    /* (the photo's decoder may warn on stderr first) */
    char *out, *err;
    int rc = TU_RUN(&out, &err, "detect", (char *)photo, "--annotate", plink);
    ck_assert_msg(rc == 2 && strstr(err, "facesearch: ") &&
                  strstr(err, "symbolic link"), "status %d: %s", rc, err);
    free(out);
    free(err);
    size_t len;
    char *text = tu_read(victim, &len);
    ck_assert(len == 4 && memcmp(text, "orig", 4) == 0);
    free(text);
    mode_t old = umask(0);
    rc = TU_RUN(&out, &err, "detect", (char *)photo, "--annotate", png);
    umask(old);
    ck_assert_msg(rc == 0, "%s", err);
    free(out);
    free(err);
    struct stat st;
    ck_assert_int_eq(lstat(png, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert(tu_file_holds(png, "\x89PNG", 4));
}
END_TEST

/* detect --crop: one face out of a photo, a file of its own in which the
 * detector finds that face again; a face that is not there, or the same
 * file named twice, leaves nothing behind. */
START_TEST(test_crop_cuts_out_a_face_found_again)
{
    const char *photo = tu_face_photo();
    if (!photo)
        return;
    char crop[4200], none[4200];
    snprintf(crop, sizeof crop, "%s", tu_path(tu_tmp, "face.png"));
    snprintf(none, sizeof none, "%s", tu_path(tu_tmp, "none.png"));
    char *out, *err;
    int rc = TU_RUN(&out, &err, "detect", (char *)photo, "--crop", crop);
    ck_assert_msg(rc == 0, "%s", err);
    free(out);
    free(err);
    struct stat st;
    ck_assert_int_eq(lstat(crop, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    rc = TU_RUN(&out, &err, "detect", crop, "--json");
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(strstr(out, "\"verdict\":\"ok\""), "%s", out);
    /* smaller than the photo: a part of it */
    ck_assert_msg(!strstr(out, "\"width\":512,"), "%s", out);
    free(out);
    free(err);
    /* (the photo's decoder may warn on stderr first) */
    rc = TU_RUN(&out, &err, "detect", (char *)photo, "--face", "9",
                "--crop", none);
    ck_assert_msg(rc == 2 && strstr(err, "--face 9"), "%d: %s", rc, err);
    free(out);
    free(err);
    ck_assert_int_ne(lstat(none, &st), 0);
    TU_REFUSED(2, "same file", "detect", (char *)photo, "--crop", none,
               "--annotate", none);
    ck_assert_int_ne(lstat(none, &st), 0);
    TU_REFUSED(2, "will not overwrite", "detect", (char *)photo, "--crop",
               crop);
}
END_TEST

Suite *suite_text(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("text");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, text_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_text_check_edges);
    tcase_add_test(tc, test_text_escape_edges);
    tcase_add_test(tc, test_G21_secure_process_no_core_no_ptrace);
    tcase_add_test(tc, test_file_create_0600_refuses_links_and_files);
    tcase_add_test(tc, test_G18_crafted_text_cannot_forge_lines_on_a_terminal);
    tcase_add_test(tc, test_G4_G7_G20_control_characters_refused_naming_the_field);
    tcase_add_test(tc, test_G20_enrolment_metadata_refused_with_control_characters);
    tcase_add_test(tc, test_enroll_report_0600_and_never_through_a_link);
    tcase_add_test(tc, test_exports_never_through_a_link);
    tcase_add_test(tc, test_crop_cuts_out_a_face_found_again);
    suite_add_tcase(s, tc);
    return s;
}
