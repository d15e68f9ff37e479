/*
 * check_cli.c - the facesearch binary as a user runs it: `embed` on real
 * and synthetic chips, every refusal with its exit status and message and
 * nothing on stdout, and `--help` on every command.
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/base/fs_json.h"
#include "../engine/facesearch.h"
#include "../tools/fs_env.h"
#include "fs_testutil.h"


START_TEST(test_cli_embed_json_matches_reference)
{
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_lcg.png", chip), 0);
    const char *p = tu_path(tu_tmp, "lcg.bmp");
    ck_assert_int_eq(tu_write_bmp(p, chip, 150, 150), 0);
    char *out, *err;
    int st = TU_RUN(&out, &err, "embed", "--json", (char *)p);
    ck_assert_msg(st == 0, "%s", err);
    fs_json *j, *ref;
    fs_detail d = { "" };
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, &d) == FS_OK, "%s",
                  d.msg);
    const char *dir = getenv("FACESEARCH_TESTS");
    ck_assert_int_eq(fs_json_parse_file(tu_path(dir && *dir ? dir : "tests",
                                                 "golden_synthetic.json"),
                                        &ref, &d), FS_OK);
    ck_assert_int_eq(j->type, FS_JSON_ARRAY);
    ck_assert_uint_eq(j->n, 1);
    ck_assert_str_eq(fs_json_get(j->items[0], "file")->string, p);
    const fs_json *desc = fs_json_get(j->items[0], "descriptor");
    const fs_json *want = fs_json_get(ref->items[3], "embedding");
    ck_assert_str_eq(fs_json_get(ref->items[3], "file")->string,
                     "syn_lcg.png");
    ck_assert_uint_eq(desc->n, FS_DESC_DIM);
    for (int k = 0; k < FS_DESC_DIM; k++)
        ck_assert_double_eq_tol(desc->items[k]->number,
                                want->items[k]->number, 1e-5);
    fs_json_free(j);
    fs_json_free(ref);
    free(out);
    free(err);
}
END_TEST

START_TEST(test_cli_embed_golden_pngs)
{
    const char *sh = tu_shared();
    if (!sh)
        return;
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/golden/face1.png", sh);
    snprintf(b, sizeof b, "%s/golden/face2_flip.png", sh);
    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "embed", a, b), 0);
    /* human layout: each file, its norm, then 16 rows of 8 values */
    ck_assert_ptr_nonnull(strstr(out, "face1.png  (L2 norm "));
    ck_assert_ptr_nonnull(strstr(out, "face2_flip.png  (L2 norm "));
    int lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 2 * 17);
    free(out);
    free(err);
}
END_TEST

START_TEST(test_cli_embed_refuses_wrong_chips)
{
    uint8_t small[100 * 100 * 3] = { 0 };
    ck_assert_int_eq(tu_write_bmp(tu_path(tu_tmp, "small.bmp"), small, 100,
                                  100), 0);
    ck_assert_int_eq(tu_write_png(tu_path(tu_tmp, "grey.png"), 150, 150, 1, 8),
                     0);
    ck_assert_int_eq(tu_write_png(tu_path(tu_tmp, "deep.png"), 150, 150, 3, 16),
                     0);
    ck_assert_int_eq(tu_write(tu_path(tu_tmp, "text.png"), "hello\n", 6), 0);
    ck_assert_int_eq(tu_write(tu_path(tu_tmp, "empty.png"), "", 0), 0);
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_gradient.png", chip), 0);
    ck_assert_int_eq(tu_write_bmp(tu_path(tu_tmp, "ok.bmp"), chip, 150, 150),
                     0);
    size_t len;
    char *okbytes = tu_read(tu_path(tu_tmp, "ok.bmp"), &len);
    ck_assert_int_eq(tu_write(tu_path(tu_tmp, "cut.bmp"), okbytes, len / 3), 0);
    free(okbytes);
    mkdir(tu_path(tu_tmp, "adir.png"), 0700);
    /* over the size limit: refused from its size, before any read (the
     * sparse file would read as zeros) */
    FILE *big = fopen(tu_path(tu_tmp, "big.png"), "wb");
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(ftruncate(fileno(big), (off_t)65 << 20), 0);
    fclose(big);

    static const struct { const char *file, *what; } cases[] = {
        { "small.bmp", "is 100x100" },
        { "grey.png", "1 channel of 8 bits" },
        { "deep.png", "3 channels of 16 bits" },
        { "text.png", "not an image of a supported type" },
        { "empty.png", "is empty" },
        { "cut.bmp", "truncated BMP" },
        { "adir.png", "not a regular file" },
        { "missing.png", "No such file" },
        { "big.png", "over the limit" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out, *err;
        /* a good chip first: one bad file refuses the whole call */
        int st = TU_RUN(&out, &err, "embed", "--json",
                     (char *)tu_path(tu_tmp, "ok.bmp"),
                     (char *)tu_path(tu_tmp, cases[i].file));
        tu_expect_refusal(st, 2, out, err, cases[i].what);
        ck_assert_ptr_nonnull(strstr(err, cases[i].file));
        free(out);
        free(err);
    }
}
END_TEST

START_TEST(test_cli_embed_refuses_unreadable_chip)
{
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_gradient.png", chip), 0);
    const char *p = tu_path(tu_tmp, "locked.bmp");
    ck_assert_int_eq(tu_write_bmp(p, chip, 150, 150), 0);
    ck_assert_int_eq(chmod(p, 0), 0);
    ck_assert_int_eq(chmod(tu_tmp, 0755), 0);
    /* root reads anything: then run the binary as nobody */
    char *nobody[] = { "setpriv", "--reuid=65534", "--regid=65534",
                       "--clear-groups", NULL };
    char *out, *err;
    int st = tu_run_prefixed(geteuid() == 0 ? nobody : NULL,
                             (char *const[]){ "facesearch", "embed",
                                              (char *)p, NULL },
                             &out, &err);
    tu_expect_refusal(st, 2, out, err, "Permission denied");
    ck_assert_ptr_nonnull(strstr(err, "locked.bmp"));
    free(out);
    free(err);
}
END_TEST

/* G8 through the command: a stream address or a video is refused with
 * exit status 1 and the rule named. */
START_TEST(test_G8_cli_refuses_stream_and_video)
{
    TU_REFUSED(1, "G8", "embed", "rtsp://10.1.1.1/cam");
    TU_REFUSED(1, "a device", "embed", "/dev/video0");
    const char *mp4 = tu_path(tu_tmp, "clip.png");
    ck_assert_int_eq(tu_write(mp4, "\0\0\0\x18" "ftypmp42\0\0\0\0mp42isom",
                              24), 0);
    TU_REFUSED(1, "ISO-BMFF", "embed", (char *)mp4);
}
END_TEST

START_TEST(test_cli_usage_errors)
{
    TU_REFUSED(2, "no chip given", "embed");
    TU_REFUSED(2, "unknown option '--frobnicate'", "embed", "--frobnicate",
            "x.png");
    TU_REFUSED(2, "--threads must be a whole number", "embed", "--threads",
            "many", "x.png");
    TU_REFUSED(2, "takes no value", "embed", "--json=1", "x.png");
    TU_REFUSED(2, "needs a value", "embed", "x.png", "--threads");
    TU_REFUSED(2, "unknown command 'frobnicate'", "frobnicate");
    TU_REFUSED(2, "unknown benchmark 'nosuch'", "bench", "nosuch");
    TU_REFUSED(2, "unknown peer 'faiss'", "bench", "embed", "--peers", "faiss");
    /* an option --help gives to other subcommands is not taken silently */
    TU_REFUSED(2, "option '--n' is for 'audit sample', not for 'audit log'",
               "audit", "log", "--n", "3");
    TU_REFUSED(2, "'--note' is for 'review propose, corroborate, approve, "
               "reject', not for 'review list'", "review", "list", "--note",
               "x");
    TU_REFUSED(2, "'--mou' is for 'agency add'", "agency", "suspend", "X",
               "--reason", "r", "--mou", "M");
    char *out, *err;                /* ... and is taken by its own */
    TU_RUN(&out, &err, "audit", "sample", "--n", "3", "--gallery", "nosuch");
    ck_assert_msg(!strstr(err, "is for"), "%s", err);
    free(out);
    free(err);
}
END_TEST

/* bench rank on a small gallery without peers: the JSON contract of
 * CLI.md, our two engines measured, the peers said to be left out. */
/* bench embed --json: both 1024^3 products' rates (OpenBLAS's and ours,
 * the faster one the yardstick), and our four configurations measured */
START_TEST(test_cli_bench_embed_json)
{
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "bench",
        "embed", "--peers", "none", "--rounds", "1", "--seconds", "0.02",
        "--json", NULL });
    ck_assert_str_eq(fs_json_get(j, "bench")->string, "embed");
    int ncpu = (int)fs_json_get(j, "ncpu")->number;
    char all[16];
    snprintf(all, sizeof all, "%d", ncpu);
    static const char *const products[] = { "sgemm_gflops", "gemm_gflops" };
    for (int p = 0; p < 2; p++) {
        const fs_json *g = fs_json_get(j, products[p]);
        ck_assert_msg(g && fs_json_get(g, "1")->number > 0 &&
                      fs_json_get(g, all)->number > 0, "%s", products[p]);
    }
    const fs_json *res = fs_json_get(j, "results");
    ck_assert_int_eq(res->type, FS_JSON_ARRAY);
    ck_assert_int_eq(res->n, ncpu > 1 ? 4 : 2);
    for (size_t i = 0; i < res->n; i++) {
        const fs_json *r = res->items[i];
        ck_assert_str_eq(fs_json_get(r, "engine")->string, "facesearch");
        ck_assert_int_eq(fs_json_get(r, "ok")->type, FS_JSON_TRUE);
        ck_assert(fs_json_get(r, "ms_per_face")->number > 0);
        ck_assert(fs_json_get(r, "gflops_executed")->number > 0);
    }
    fs_json_free(j);
}
END_TEST

START_TEST(test_cli_bench_rank_json)
{
    fs_json *j = tu_run_json(0, (char *const[]){ "facesearch", "bench",
        "rank", "--gallery", "3000", "--queries", "20", "--k", "10",
        "--peers", "none", "--rounds", "1", "--seconds", "0.02",
        "--threads", "2", "--dir", tu_tmp, "--json", NULL });
    ck_assert_str_eq(fs_json_get(j, "bench")->string, "rank");
    ck_assert(fs_json_get(j, "n")->number == 3000);
    ck_assert(fs_json_get(j, "dim")->number == FS_DESC_DIM);
    ck_assert(fs_json_get(j, "k")->number == 10);
    ck_assert(fs_json_get(j, "threads")->number == 2);
    ck_assert(fs_json_get(j, "memory_gb_per_s")->number > 0);
    const fs_json *res = fs_json_get(j, "results");
    ck_assert_int_eq(res->type, FS_JSON_ARRAY);
    int ours = 0, peers = 0;
    for (size_t i = 0; i < res->n; i++) {
        const fs_json *r = res->items[i];
        const char *e = fs_json_get(r, "engine")->string;
        double batch = fs_json_get(r, "batch")->number;
        ck_assert(batch == 1 || batch == 64);
        ck_assert(fs_json_get(r, "threads")->number == 2);
        if (strncmp(e, "facesearch-", 11) == 0) {
            ours++;
            static const char *keys[] = { "probes_per_s", "ms_p50",
                                          "ms_p99", "gb_per_s",
                                          "recall_at_k" };
            for (int k = 0; k < 5; k++) {
                const fs_json *v = fs_json_get(r, keys[k]);
                ck_assert_msg(v && v->type == FS_JSON_NUMBER &&
                              v->number > 0, "%s of %s", keys[k], e);
            }
            ck_assert(fs_json_get(r, "ms_p99")->number >=
                      fs_json_get(r, "ms_p50")->number);
            ck_assert(fs_json_get(r, "recall_at_k")->number <= 1);
        } else {
            peers++;
            ck_assert_int_eq(fs_json_get(r, "ok")->type, FS_JSON_FALSE);
            ck_assert_ptr_nonnull(fs_json_get(r, "note"));
        }
    }
    ck_assert_int_eq(ours, 5);      /* exact, exact-f32 (batch 1), compr. */
    ck_assert_int_eq(peers, 4);
    ck_assert(fs_json_get(fs_json_get(j, "exact"), "identical_lists")->number
              == 20);
    struct stat sb;            /* the gallery went where it was told */
    char name[64];
    snprintf(name, sizeof name, "gallery-v1-g%d-n3000-s1", FS_GALLERY_SCHEMA);
    ck_assert_int_eq(stat(tu_path(tu_tmp, name), &sb), 0);
    fs_json_free(j);
    TU_REFUSED(2, "--gallery", "bench", "rank", "--gallery", "0");
    TU_REFUSED(2, "--k", "bench", "rank", "--k", "1001");
    TU_REFUSED(2, "unknown peer 'dlib'", "bench", "rank", "--peers", "dlib");
}
END_TEST

/* bench search on a small gallery: the JSON contract of CLI.md, both
 * engines measured, every stage timed, the command timed through the
 * service and in-process, and each released search (the commands' too)
 * on the gallery's audit trail. */
START_TEST(test_cli_bench_search_json)
{
    if (!tu_shared())
        return;                       /* the probe is a real face */
    char *out, *err;
    int st = TU_RUN(&out, &err, "bench", "search", "--gallery", "2000",
                    "--rounds", "1", "--dir", tu_tmp, "--json");
    ck_assert_msg(st == 0, "%s", err);
    fs_json *j;
    fs_detail d = { "" };
    ck_assert_msg(fs_json_parse(out, strlen(out), &j, &d) == FS_OK, "%s",
                  d.msg);
    ck_assert_str_eq(fs_json_get(j, "bench")->string, "search");
    ck_assert(fs_json_get(j, "n")->number == 2000);
    const fs_json *res = fs_json_get(j, "results");
    ck_assert_int_eq(res->type, FS_JSON_ARRAY);
    int ours = 0, ref = 0, ref_run = 0, commands = 0, svc_run = 0;
    for (size_t i = 0; i < res->n; i++) {
        const fs_json *r = res->items[i];
        const char *e = fs_json_get(r, "engine")->string;
        const fs_json *ms = fs_json_get(r, "ms_p50");
        const fs_json *ok = fs_json_get(r, "ok");
        int command = strncmp(e, "facesearch-", 11) == 0;
        commands += command;
        if (ok && ok->type == FS_JSON_FALSE) {
            /* a peer or the service `make check` does not build (make
             * all does): said so, and nothing made up in its place */
            ck_assert_msg(strcmp(e, "reference-detect-embed") == 0 ||
                          strcmp(e, "facesearch-service") == 0, "%s", e);
            ck_assert_ptr_nonnull(strstr(out, "is not built"));
            ref += !command;
            continue;
        }
        if (command) {
            /* every run timed, none faster than its median's round */
            ck_assert(fs_json_get(r, "runs")->number >= 1);
            ck_assert(fs_json_get(r, "ms_p99")->number >= ms->number);
        }
        if (strcmp(e, "facesearch-service") == 0) {
            svc_run = 1;
            ck_assert(fs_json_get(r, "round_trip_ms")->number > 0);
            ck_assert(fs_json_get(r, "floor_ms")->number > 0);
        }
        ck_assert_msg(ms && ms->number > 0, "ms_p50 of %s", e);
        if (strcmp(e, "facesearch") == 0) {
            ours++;
            const fs_json *stages = fs_json_get(r, "stages");
            static const char *keys[] = { "gate", "intake", "detect",
                                          "align", "embed", "rank", "store" };
            /* each stage is part of every search, so its median is at
             * most the whole's (a sum of medians is not bounded so) */
            double sum = 0;
            for (int k = 0; k < 7; k++) {
                const fs_json *v = fs_json_get(stages, keys[k]);
                ck_assert_msg(v && v->type == FS_JSON_NUMBER &&
                              v->number > 0 &&
                              v->number <= ms->number * 1.001,
                              "stage %s", keys[k]);
                sum += v->number;
            }
            ck_assert_msg(sum > 0.5 * ms->number && sum < 1.5 * ms->number,
                          "stages %.1f ms of %.1f", sum, ms->number);
            ck_assert(fs_json_get(r, "candidates")->number == 50);
        } else if (strcmp(e, "reference-detect-embed") == 0) {
            ref++;
            ref_run++;
            ck_assert(fs_json_get(r, "detect_ms")->number > 0);
            ck_assert(fs_json_get(r, "embed_ms")->number > 0);
        }
    }
    ck_assert_int_eq(ours, 1);
    ck_assert_int_eq(ref, 1);
    ck_assert_int_eq(commands, 2);
    ck_assert(!ref_run || fs_json_get(j, "ratio")->number > 0);
    /* the target is judged on the command through the service */
    ck_assert(!ref_run || !svc_run ||
              fs_json_get(fs_json_get(j, "target"), "value")->number ==
              fs_json_get(j, "ratio_service")->number);
    ck_assert(fs_json_get(j, "cold_open_ms")->number > 0);
    /* the warm-up and the round's searches, each with its audit entry */
    double searches = fs_json_get(j, "searches")->number;
    ck_assert(searches >= 2 + 1 + 3 * svc_run);
    ck_assert(fs_json_get(j, "audited")->number == searches);
    /* the second model's cost, in the same run, when make models made
     * it: its probe pass and the re-scoring, beside the plain search */
    const fs_json *sm = fs_json_get(j, "second_model");
    char fr[4200];
    const char *mp = tu_model_path(), *slash = strrchr(mp, '/');
    snprintf(fr, sizeof fr, "%.*sfaceres_v1.fsm",
             slash ? (int)(slash - mp + 1) : 0, mp);
    if (access(fr, R_OK) == 0) {
        ck_assert_msg(fs_json_get(sm, "ok")->type == FS_JSON_TRUE, "%s", out);
        ck_assert(fs_json_get(sm, "n")->number == 2000);
        double pass = fs_json_get(sm, "probe_pass_ms")->number;
        double rescore = fs_json_get(sm, "rescore_ms")->number;
        ck_assert(pass > 0 && rescore > 0);
        ck_assert_double_eq_tol(fs_json_get(sm, "extra_ms")->number,
                                pass + rescore, 1e-6);
        ck_assert(fs_json_get(sm, "ms_p50")->number > pass + rescore);
    } else {
        ck_assert(fs_json_get(sm, "ok")->type == FS_JSON_FALSE);
    }
    struct stat sb;            /* the gallery and its secrets, kept private */
    ck_assert_int_eq(stat(tu_path(tu_tmp, "search-2000/password"), &sb), 0);
    ck_assert_int_eq(sb.st_mode & 077, 0);
    ck_assert_int_eq(stat(tu_path(tu_tmp, "search-2000/key"), &sb), 0);
    ck_assert_int_eq(sb.st_mode & 077, 0);
    fs_json_free(j);
    free(out);
    free(err);
    TU_REFUSED(2, "--gallery", "bench", "search", "--gallery", "0");
}
END_TEST

/* bench enroll on a few images: the JSON contract of CLI.md, both
 * engines measured in every round, the gallery of the last round held to
 * what was enrolled (a template and an audit entry naming it per image),
 * the targets judged; bad input refused with exit 2, nothing made. */
START_TEST(test_cli_bench_enroll_json)
{
    TU_REFUSED(2, "--limit", "bench", "enroll", "--limit", "0");
    TU_REFUSED(2, "--limit", "bench", "enroll", "--limit", "-3");
    TU_REFUSED(2, "--rounds", "bench", "enroll", "--rounds", "0");
    if (tu_shared()) {
        fs_json *j = tu_run_json(0, (char *const[]){ "facesearch",
            "bench", "enroll", "--limit", "6", "--rounds", "2", "--dir",
            tu_tmp, "--json", NULL });
        ck_assert_str_eq(fs_json_get(j, "bench")->string, "enroll");
        ck_assert(fs_json_get(j, "images")->number == 6);
        ck_assert(fs_json_get(j, "rounds")->number == 2);
        const fs_json *res = fs_json_get(j, "results");
        ck_assert_int_eq(res->type, FS_JSON_ARRAY);
        ck_assert_int_eq(res->n, 2);
        int ref_run = 0;
        for (size_t i = 0; i < res->n; i++) {
            const fs_json *r = res->items[i];
            const char *e = fs_json_get(r, "engine")->string;
            int ours = strcmp(e, "facesearch") == 0;
            ck_assert_msg(ours || strcmp(e, "reference-detect-embed") == 0,
                          "%s", e);
            if (fs_json_get(r, "ok")->type == FS_JSON_FALSE) {
                /* the peer `make check` does not build (make all does) */
                ck_assert(!ours);
                ck_assert_ptr_nonnull(strstr(fs_json_get(r, "note")->string,
                                             "is not built"));
                continue;
            }
            ref_run += !ours;
            double ips = fs_json_get(r, "images_per_s")->number;
            ck_assert(ips > 0);
            ck_assert_double_eq_tol(fs_json_get(r, "ms_per_image")->number,
                                    1e3 / ips, 1e-6 * (1e3 / ips));
            ck_assert_int_eq(fs_json_get(r, "rounds_ms")->n, 2);
            ck_assert(fs_json_get(r, "with_face")->number >= 1);
            if (ours)
                ck_assert(fs_json_get(r, "cpu_ms_per_image")->number > 0);
            else
                ck_assert(fs_json_get(r, "detect_ms")->number > 0 &&
                          fs_json_get(r, "embed_ms")->number > 0);
        }
        double enrolled = fs_json_get(j, "enrolled")->number;
        ck_assert(enrolled >= 1);
        ck_assert(enrolled + fs_json_get(j, "rejected")->number <= 6);
        ck_assert(fs_json_get(j, "templates")->number == enrolled);
        ck_assert(fs_json_get(j, "audited")->number == enrolled);
        const fs_json *t = fs_json_get(j, "targets");
        ck_assert_int_eq(t->n, ref_run ? 2u : 1u);
        for (size_t i = 0; i < t->n; i++) {
            const fs_json *ti = t->items[i];
            int met = fs_json_get(ti, "met")->type == FS_JSON_TRUE;
            ck_assert_int_eq(met, fs_json_get(ti, "value")->number >=
                                  fs_json_get(ti, "at_least")->number);
        }
        ck_assert(!ref_run || fs_json_get(j, "ratio")->number > 0);
        /* each round's gallery is gone: nothing of it left to read */
        struct stat sb;
        ck_assert_int_ne(stat(tu_path(tu_tmp, "enroll-6/gallery"), &sb), 0);
        ck_assert_int_ne(stat(tu_path(tu_tmp, "enroll-6/key"), &sb), 0);
        fs_json_free(j);
    }
    /* a data set named but missing is the caller's mistake */
    const char *shared = getenv("FACESEARCH_SHARED");
    char *keep = shared ? strdup(shared) : NULL;
    setenv("FACESEARCH_SHARED", "/nonexistent", 1);
    TU_REFUSED(2, "datasets/lfw-dev", "bench", "enroll", "--limit", "3");
    if (keep)
        setenv("FACESEARCH_SHARED", keep, 1);
    else
        unsetenv("FACESEARCH_SHARED");
    free(keep);
}
END_TEST

START_TEST(test_cli_missing_model_is_internal_error)
{
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_gradient.png", chip), 0);
    const char *p = tu_path(tu_tmp, "ok.bmp");
    ck_assert_int_eq(tu_write_bmp(p, chip, 150, 150), 0);
    char *out, *err;
    int st = TU_RUN(&out, &err, "embed", "--model",
                 (char *)tu_path(tu_tmp, "none.fsm"), (char *)p);
    tu_expect_refusal(st, 3, out, err, "none.fsm");
    free(out);
    free(err);
}
END_TEST

/* A gallery is one OS user's in their own process; someone else's is
 * reached through its service, and the message says so (issue 13).  The
 * socket and the gallery are not both named, and a service that is not
 * there is a clear storage-side error. */
START_TEST(test_cli_gallery_of_another_user_points_to_the_service)
{
    if (geteuid() != 0) {
        printf("skipped: needs root to act as two OS users\n");
        return;
    }
    ck_assert_int_eq(chmod(tu_tmp, 0755), 0);
    const char *theirs = tu_path(tu_tmp, "theirs");
    const char *hidden = tu_path(tu_tmp, "hidden");
    ck_assert_int_eq(mkdir(theirs, 0755), 0);
    ck_assert_int_eq(mkdir(hidden, 0700), 0);
    ck_assert_int_eq(chown(theirs, 65534, 65534), 0);
    ck_assert_int_eq(chown(hidden, 65534, 65534), 0);
    char inner[4200];
    snprintf(inner, sizeof inner, "%s/gallery", hidden);
    char *other[] = { "setpriv", "--reuid=65533", "--regid=65533",
                      "--clear-groups", NULL };
    const char *dirs[] = { theirs, inner };
    for (int i = 0; i < 2; i++) {
        char *out, *err;
        int st = tu_run_prefixed(other, (char *const[]){
                     "facesearch", "gallery", "stats", "--gallery",
                     (char *)dirs[i], NULL }, &out, &err);
        tu_expect_refusal(st, 2, out, err, "belongs to another OS user");
        ck_assert_ptr_nonnull(strstr(err, "facesearchd"));
        free(out);
        free(err);
    }
    char *sock = (char *)tu_path(tu_tmp, "sock");
    TU_REFUSED(2, "not both", "gallery", "stats", "--gallery",
               (char *)theirs, "--socket", sock);
    TU_REFUSED(3, "cannot reach the service", "gallery", "stats",
               "--socket", sock);
    /* the engine tools never need it */
    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "embed", "--help", "--socket",
                            sock), 0);
    free(out);
    free(err);
}
END_TEST

/* The front people type (facesearch) sends a command to the service, or
 * hands it whole to facesearch-local: for every command, with a service
 * named that is not there, both answer alike, so the front's first look
 * never sends an engine tool to a service nor keeps a gate command from
 * it (issue 13). */
START_TEST(test_cli_front_routes_as_the_whole_command)
{
    char local[4200];
    snprintf(local, sizeof local, "%s", tu_bin());
    char *slash = strrchr(local, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(slash + 1, sizeof local - (size_t)(slash + 1 - local),
             "facesearch-local");
    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "--help"), 0);
    const char *list = strstr(out, "commands:\n");
    ck_assert_ptr_nonnull(list);
    char names[40][32];
    int n = 0;
    for (const char *l = strchr(list, '\n') + 1; n < 39 && l[0] == ' ' &&
         l[1] == ' '; l = strchr(l, '\n') + 1)
        ck_assert_int_eq(sscanf(l, " %31s", names[n++]), 1);
    snprintf(names[n++], sizeof names[0], "help");
    free(out);
    free(err);
    char *sock = (char *)tu_path(tu_tmp, "no-service");
    int remote = 0;
    for (int i = 0; i < n; i++) {
        char *argv[] = { "facesearch", names[i], "--socket", sock, NULL };
        char *o1, *e1, *o2, *e2;
        int s1 = tu_run(argv, &o1, &e1);
        int s2 = tu_run_program(local, argv, &o2, &e2);
        ck_assert_msg(s1 == s2 && strcmp(e1, e2) == 0, "%s: front %d '%s', "
                      "whole %d '%s'", names[i], s1, e1, s2, e2);
        remote += strstr(e1, "cannot reach the service") != NULL;
        free(o1);
        free(e1);
        free(o2);
        free(e2);
    }
    ck_assert_int_ge(remote, 8);     /* the gate's commands went to it */
    ck_assert_int_le(remote, n - 6); /* the engine tools, init, help not */
}
END_TEST

/* facesearchd's own bad input: an unknown option, a bad number, a
 * missing value, a gallery that is not there; each a clear message and
 * status 2, and no socket left behind (issue 13). */
START_TEST(test_cli_service_bad_options_refused)
{
    const char *daemon = tu_daemon();
    char *sock = (char *)tu_path(tu_tmp, "sock");
    char *gal = (char *)tu_path(tu_tmp, "no-gallery");
    static const struct { const char *what; char *args[6]; } bad[] = {
        { "unknown option '--frobnicate'", { "--frobnicate", "1" } },
        { "--max-clients must be a whole number",
          { "--max-clients", "many" } },
        { "--max-seconds must be a whole number",
          { "--max-seconds", "-1" } },
        { "no value for option", { "--socket" } },
        { "unexpected argument", { "gallery" } },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[8] = { "facesearchd" };
        for (int k = 0; k < 6 && bad[i].args[k]; k++)
            argv[k + 1] = bad[i].args[k];
        char *out, *err;
        int st = tu_run_program(daemon, argv, &out, &err);
        ck_assert_msg(st == 2 && strstr(err, bad[i].what), "%s: %d '%s'",
                      bad[i].what, st, err);
        free(out);
        free(err);
    }
    char *argv[] = { "facesearchd", "--gallery", gal, "--socket", sock,
                     NULL };
    char *out, *err;
    int st = tu_run_program(daemon, argv, &out, &err);
    ck_assert_msg(st == 2 && strstr(err, "cannot start") &&
                  strstr(err, "no-gallery"), "%d '%s'", st, err);
    ck_assert_int_ne(access(sock, F_OK), 0);
    free(out);
    free(err);
    char *help[] = { "facesearchd", "--help", NULL };
    ck_assert_int_eq(tu_run_program(daemon, help, &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: facesearchd"));
    free(out);
    free(err);
}
END_TEST

/* Every command answers --help with its usage, on stdout, status 0. */
START_TEST(test_cli_help_on_every_command)
{
    char *out, *err;
    ck_assert_int_eq(TU_RUN(&out, &err, "--help"), 0);
    /* the command list in the main help is the table: ask each one */
    const char *list = strstr(out, "commands:\n");
    ck_assert_ptr_nonnull(list);
    int seen = 0;
    for (const char *l = strchr(list, '\n') + 1; l[0] == ' ' && l[1] == ' ';
         l = strchr(l, '\n') + 1) {
        char name[32];
        ck_assert_int_eq(sscanf(l, " %31s", name), 1);
        char *o2, *e2;
        ck_assert_int_eq(TU_RUN(&o2, &e2, name, "--help"), 0);
        ck_assert_msg(strstr(o2, "usage: facesearch ") != NULL,
                      "%s --help: %s", name, o2);
        ck_assert_ptr_nonnull(strstr(o2, "--json"));
        free(o2);
        free(e2);
        seen++;
    }
    ck_assert_int_ge(seen, 2);
    free(out);
    free(err);
    ck_assert_int_eq(TU_RUN(&out, &err, "--version"), 0);
    ck_assert_ptr_nonnull(strstr(out, "facesearch " FS_VERSION));
    ck_assert_ptr_nonnull(strstr(out, "model: dlib_face_recognition"));
    free(out);
    free(err);
}
END_TEST

/* Runs facesearch with args (and --gallery gal when gal is not NULL)
 * under LD_DEBUG=files: its status, and the dynamic linker's account of
 * every object it loaded in *err. */
static int run_traced(const char *gal, const char *const args[], char **err)
{
    char *out, *argv[8] = { "facesearch" };
    for (int i = 0; args[i] && i < 6; i++)
        argv[i + 1] = (char *)args[i];
    setenv("LD_DEBUG", "files", 1);
    int st = gal ? tu_run_on(gal, NULL, &out, err, args)
                 : tu_run(argv, &out, err);
    unsetenv("LD_DEBUG");
    free(out);
    return st;
}

/* A gate command never loads the vision module (OpenCV's codecs pull in
 * some 150 libraries: most of a command's start-up), nor OpenCV or dlib;
 * a command that decodes loads them when it first does.  As the dynamic
 * linker saw it. */
START_TEST(test_cli_gate_commands_load_no_vision)
{
    const char *gal = tu_path(tu_tmp, "gal");
    tu_init_gallery(gal);
    static const char *const cmds[][3] = {
        { "user", "list", NULL }, { "request", "list", NULL },
        { "review", "list", NULL }, { "gallery", "stats", NULL },
        { "stats", "weekly", NULL }, { "audit", "verify", NULL },
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *err;
        int st = run_traced(gal, cmds[i], &err);
        ck_assert_msg(st == 0, "%s %s: status %d", cmds[i][0], cmds[i][1],
                      st);
        /* the trace is there: it names what the command does load */
        ck_assert_msg(strstr(err, "file=libcrypto"), "no trace: %s", err);
        ck_assert_msg(!strstr(err, "facesearch-vision") &&
                      !strstr(err, "libopencv") && !strstr(err, "libdlib"),
                      "%s %s loaded the vision stack", cmds[i][0],
                      cmds[i][1]);
        free(err);
    }
    const char *face = tu_face_photo();
    if (!face)
        return;
    const char *detect[] = { "detect", face, NULL };
    char *err;
    ck_assert_int_eq(run_traced(NULL, detect, &err), 0);
    /* facesearch-vision.so, or its AVX2 build; the dlib the module uses
     * is all templates compiled into it, so libdlib itself may not be
     * loaded at all */
    ck_assert_ptr_nonnull(strstr(err, "facesearch-vision"));
    ck_assert_ptr_nonnull(strstr(err, "libopencv_imgcodecs"));
    free(err);
}
END_TEST

/* A vision module missing, not a shared object, or not ours: a clear
 * internal error (3) that names the file and what is wrong with it, on
 * the first command that needs it. */
START_TEST(test_cli_vision_module_missing_or_wrong)
{
    uint8_t chip[FS_CHIP_BYTES];
    ck_assert_int_eq(tu_synthetic_chip("syn_gradient.png", chip), 0);
    char photo[4200];                 /* tu_path's buffers are reused */
    snprintf(photo, sizeof photo, "%s", tu_path(tu_tmp, "chip.bmp"));
    ck_assert_int_eq(tu_write_bmp(photo, chip, 150, 150), 0);
    const char *none = tu_path(tu_tmp, "none.so");
    setenv("FACESEARCH_VISION", none, 1);
    TU_REFUSED(3, "none.so", "detect", photo);
    TU_REFUSED(3, "vision module", "embed", photo);
    const char *junk = tu_path(tu_tmp, "junk.so");
    ck_assert_int_eq(tu_write(junk, "not an ELF object\n", 18), 0);
    setenv("FACESEARCH_VISION", junk, 1);
    TU_REFUSED(3, "cannot load the vision module", "detect", photo);
    /* a real shared object, but not a module: the C library */
    Dl_info libc;
    ck_assert_int_ne(dladdr((void *)printf, &libc), 0);
    setenv("FACESEARCH_VISION", libc.dli_fname, 1);
    TU_REFUSED(3, "exports no fs_vision_entry", "detect", photo);
    unsetenv("FACESEARCH_VISION");
    /* no override: the command looks beside itself, then where make
     * install puts it, and says both */
    char local[4200];
    snprintf(local, sizeof local, "%s", tu_bin());
    *strrchr(local, '/') = 0;
    char bin[4200], lib[4200], libfs[4200];
    snprintf(bin, sizeof bin, "%s/bin", tu_tmp);
    snprintf(lib, sizeof lib, "%s/lib", tu_tmp);
    snprintf(libfs, sizeof libfs, "%s/lib/facesearch", tu_tmp);
    ck_assert_int_eq(mkdir(bin, 0700), 0);
    char *cp[] = { "cp", "-p", (char *)tu_path(local, "facesearch-local"),
                   bin, NULL };
    char *out, *err;
    ck_assert_int_eq(tu_run_program("/bin/cp", cp, &out, &err), 0);
    free(out);
    free(err);
    char *argv[] = { "facesearch-local", "detect", photo, NULL };
    int st = tu_run_program(tu_path(bin, "facesearch-local"), argv, &out,
                            &err);
    tu_expect_refusal(st, 3, out, err, "/bin/facesearch-vision.so");
    ck_assert_ptr_nonnull(strstr(err, "/bin/../lib/facesearch/"
                                      "facesearch-vision.so"));
    free(out);
    free(err);
    /* and there, as make install lays it out, it is found */
    ck_assert_int_eq(mkdir(lib, 0700), 0);
    ck_assert_int_eq(mkdir(libfs, 0700), 0);
    char *cp2[] = { "cp", (char *)tu_path(local, "facesearch-vision.so"),
                    libfs, NULL };
    ck_assert_int_eq(tu_run_program("/bin/cp", cp2, &out, &err), 0);
    free(out);
    free(err);
    st = tu_run_program(tu_path(bin, "facesearch-local"), argv, &out, &err);
    ck_assert_msg(st == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(out, "150x150"));
    free(out);
    free(err);
}
END_TEST

/* The environment the front and facesearchd set before the engine's
 * process loads (fs_engine_env): OpenBLAS on one thread and malloc on
 * huge pages when missing, added to tunables the user set, a hugetlb
 * setting of the user's kept; 0 (nothing to exec for) once all is there. */
START_TEST(test_engine_env_set_extended_and_kept)
{
    static const struct {
        const char *blas, *given, *want;
        int set;
    } cases[] = {
        { NULL, NULL, "glibc.malloc.hugetlb=1", 1 },
        { "4", "glibc.malloc.hugetlb=1", "glibc.malloc.hugetlb=1", 1 },
        { "1", "glibc.malloc.arena_max=2",
          "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", 1 },
        { "1", "glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=0", 0 },
        { "1", "", "glibc.malloc.hugetlb=1", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].blas)
            setenv("OPENBLAS_NUM_THREADS", cases[i].blas, 1);
        else
            unsetenv("OPENBLAS_NUM_THREADS");
        if (cases[i].given)
            setenv("GLIBC_TUNABLES", cases[i].given, 1);
        else
            unsetenv("GLIBC_TUNABLES");
        ck_assert_int_eq(fs_engine_env(), cases[i].set);
        ck_assert_str_eq(getenv("GLIBC_TUNABLES"), cases[i].want);
        ck_assert_str_eq(getenv("OPENBLAS_NUM_THREADS"), "1");
        ck_assert_int_eq(fs_engine_env(), 0);           /* all there now */
    }
    unsetenv("GLIBC_TUNABLES");
    unsetenv("OPENBLAS_NUM_THREADS");
}
END_TEST

Suite *suite_cli(void);
Suite *suite_cli(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("facesearch");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cli_embed_json_matches_reference);
    tcase_add_test(tc, test_engine_env_set_extended_and_kept);
    tcase_add_test(tc, test_cli_embed_golden_pngs);
    tcase_add_test(tc, test_cli_embed_refuses_wrong_chips);
    tcase_add_test(tc, test_cli_embed_refuses_unreadable_chip);
    tcase_add_test(tc, test_G8_cli_refuses_stream_and_video);
    tcase_add_test(tc, test_cli_usage_errors);
    tcase_add_test(tc, test_cli_bench_rank_json);
    tcase_add_test(tc, test_cli_missing_model_is_internal_error);
    tcase_add_test(tc, test_cli_help_on_every_command);
    tcase_add_test(tc, test_cli_front_routes_as_the_whole_command);
    tcase_add_test(tc, test_cli_service_bad_options_refused);
    tcase_add_test(tc, test_cli_gallery_of_another_user_points_to_the_service);
    tcase_add_test(tc, test_cli_gate_commands_load_no_vision);
    tcase_add_test(tc, test_cli_vision_module_missing_or_wrong);
    suite_add_tcase(s, tc);
    /* five landmark-model loads (the bench's, the reference's, a cold
     * open, the service's, an in-process command's) and HOG upsampled on
     * a 640x480 probe: ~15 s, but minutes under the sanitizers */
    TCase *slow = tcase_create("bench search");
    tcase_set_tags(slow, "bench");
    tcase_add_checked_fixture(slow, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(slow, 300);
    tcase_add_test(slow, test_cli_bench_search_json);
    suite_add_tcase(s, slow);
    /* a network, three landmark-model loads and 2 rounds of 6 images:
     * ~15 s */
    TCase *enrol = tcase_create("bench enroll");
    tcase_set_tags(enrol, "bench");
    tcase_add_checked_fixture(enrol, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(enrol, 300);
    tcase_add_test(enrol, test_cli_bench_enroll_json);
    suite_add_tcase(s, enrol);
    /* both products for 1 s on 1 and on every core, then the network a
     * moment in each of its four configurations: ~5 s */
    TCase *embed = tcase_create("bench embed");
    tcase_set_tags(embed, "bench");
    tcase_set_timeout(embed, 120);
    tcase_add_test(embed, test_cli_bench_embed_json);
    suite_add_tcase(s, embed);
    return s;
}
