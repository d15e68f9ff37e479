/*
 * cmd_bench.c - `facesearch bench embed|...`: runs a benchmark of
 * benchmarks/ and prints its figures, the ratios to the peers and the
 * targets they are held to.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../benchmarks/fs_bench.h"
#include "fs_cli.h"

const fs_opt cmd_bench_opts[] = {
    { "threads", "T", "only this thread count (default: 1 and all cores)" },
    { "batch", "B", "only this batch size (default: 1 and 16)" },
    { "seconds", "S", "time per measurement (default 3)" },
    { "peers", "LIST", "peers to run: dlib,tfjs (default) or none" },
    { NULL, NULL, NULL }
};

static void progress(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "bench: %s\n", msg);
}

/* Ancestor of the binary's directory that holds the source tree. */
static void tree_dir(char *buf, size_t len)
{
    char dir[4096], probe[4200];
    fs_exe_dir(dir, sizeof dir);
    for (int up = 0; up < 4; up++) {
        snprintf(probe, sizeof probe, "%s/benchmarks/fs_bench.h", dir);
        if (access(probe, F_OK) == 0)
            break;
        char *slash = strrchr(dir, '/');
        if (!slash)
            break;
        *slash = 0;
    }
    snprintf(buf, len, "%s", dir);
}

static double ratio(const fs_bench_embed_report *rep, const char *num,
                    int tn, const char *den, int td, int batch)
{
    const fs_bench_result *a = fs_bench_find(rep, num, tn, batch);
    const fs_bench_result *b = fs_bench_find(rep, den, td, batch);
    return a && b ? a->ms_per_face / b->ms_per_face : 0;
}

static void print_json(const fs_bench_embed_report *rep)
{
    printf("{\"bench\":\"embed\",\"ncpu\":%d,\"chips\":%d,\"chip_source\":",
           rep->ncpu, rep->chips);
    fs_json_str(stdout, rep->chip_source);
    printf(",\"model_sha256\":\"%s\",\"gflop_per_face\":", rep->model_sha256);
    fs_json_float(stdout, rep->flops_per_face / 1e9);
    printf(",\"sgemm_gflops\":{\"1\":");
    fs_json_float(stdout, rep->sgemm_gflops_1);
    printf(",\"%d\":", rep->ncpu);
    fs_json_float(stdout, rep->sgemm_gflops_all);
    printf("},\"results\":[");
    for (int i = 0; i < rep->n; i++) {
        const fs_bench_result *r = &rep->r[i];
        printf("%s{\"engine\":\"%s\",\"threads\":%d,\"batch\":%d,\"ok\":%s",
               i ? "," : "", r->engine, r->threads, r->batch,
               r->ok ? "true" : "false");
        if (r->ok) {
            printf(",\"ms_per_face\":");
            fs_json_float(stdout, r->ms_per_face);
            printf(",\"faces_per_s\":");
            fs_json_float(stdout, r->faces_per_s);
        }
        if (r->gflops > 0) {
            printf(",\"gflops\":");
            fs_json_float(stdout, r->gflops);
        }
        if (r->max_abs_diff >= 0) {
            printf(",\"max_abs_diff\":");
            fs_json_float(stdout, r->max_abs_diff);
        }
        if (r->note[0]) {
            printf(",\"note\":");
            fs_json_str(stdout, r->note);
        }
        putchar('}');
    }
    printf("]}\n");
}

static void print_human(const fs_bench_embed_report *rep)
{
    printf("bench embed: %d chips (%s), %.3f GFLOP per face, %d CPUs\n",
           rep->chips, rep->chip_source, rep->flops_per_face / 1e9,
           rep->ncpu);
    printf("OpenBLAS sgemm 1024^3: %.1f GFLOP/s on 1 thread, %.1f on %d\n\n",
           rep->sgemm_gflops_1, rep->sgemm_gflops_all, rep->ncpu);
    printf("%-12s %7s %5s %11s %10s %8s %13s\n", "engine", "threads",
           "batch", "ms/face", "faces/s", "GFLOP/s", "max|diff|");
    for (int i = 0; i < rep->n; i++) {
        const fs_bench_result *r = &rep->r[i];
        if (!r->ok) {
            printf("%-12s %7d %5d   not run: %s\n", r->engine, r->threads,
                   r->batch, r->note);
            continue;
        }
        printf("%-12s %7d %5d %11.3f %10.1f", r->engine, r->threads,
               r->batch, r->ms_per_face, r->faces_per_s);
        if (r->gflops > 0)
            printf(" %8.1f", r->gflops);
        else
            printf(" %8s", "");
        if (r->max_abs_diff >= 0)
            printf(" %13.3g", r->max_abs_diff);
        if (r->note[0])
            printf("  (%s)", r->note);
        putchar('\n');
    }
    printf("\nratios (time per face; < 1 means facesearch is faster):\n");
    for (int b = 1; b <= 16; b += 15) {
        for (int t = 1; t <= rep->ncpu; t += rep->ncpu > 1 ? rep->ncpu - 1
                                                          : 1) {
            double dl = ratio(rep, "facesearch", t, "dlib-dnn", t, b);
            double tf = ratio(rep, "facesearch", t, "tfjs-wasm", t, b);
            if (dl > 0)
                printf("  batch %2d, %d thread(s): facesearch/dlib-dnn "
                       "%.2f\n", b, t, dl);
            if (tf > 0)
                printf("  batch %2d, %d thread(s): facesearch/tfjs-wasm "
                       "%.2f\n", b, t, tf);
        }
        double sc = ratio(rep, "facesearch", 1, "facesearch", rep->ncpu, b);
        if (rep->ncpu > 1 && sc > 0)
            printf("  batch %2d: %d threads give %.2fx the 1-thread rate\n",
                   b, rep->ncpu, sc);
    }
    const fs_bench_result *best = fs_bench_find(rep, "facesearch", 1, 16);
    if (best && rep->sgemm_gflops_1 > 0)
        printf("  1 thread, batch 16: %.1f GFLOP/s = %.0f%% of sgemm's own "
               "peak\n", best->gflops,
               100.0 * best->gflops / rep->sgemm_gflops_1);
    printf("\ntargets: 1 thread at most 0.5x dlib-dnn's time per face; "
           "2 threads at least 1.8x the 1-thread rate\n");
}

int cmd_bench(fs_args *a)
{
    if (a->npos != 1 || strcmp(a->pos[0], "embed") != 0)
        return fs_usage_error(a, a->npos ? "unknown benchmark '%s'" :
                              "which benchmark? (embed)%s",
                              a->npos ? a->pos[0] : "");
    long threads, batch;
    double seconds;
    int st;
    if ((st = fs_arg_int(a, "threads", 1, 256, 0, &threads)) != EXIT_OK ||
        (st = fs_arg_int(a, "batch", 1, 256, 0, &batch)) != EXIT_OK ||
        (st = fs_arg_double(a, "seconds", 0.1, 600, 3, &seconds)) != EXIT_OK)
        return st;
    int peers = FS_PEER_DLIB | FS_PEER_TFJS;
    const char *pl = fs_arg(a, "peers");
    if (pl) {
        peers = 0;
        char list[256];
        snprintf(list, sizeof list, "%s", pl);
        for (char *save, *t = strtok_r(list, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (strcmp(t, "dlib") == 0)
                peers |= FS_PEER_DLIB;
            else if (strcmp(t, "tfjs") == 0)
                peers |= FS_PEER_TFJS;
            else if (strcmp(t, "none") != 0)
                return fs_usage_error(a, "unknown peer '%s' (dlib, tfjs, "
                                      "none)", t);
        }
    }
    char model[4096], exe[4096], tree[4096], shared[4200];
    tree_dir(tree, sizeof tree);
    const char *sh = getenv("FACESEARCH_SHARED");
    if (!sh || !*sh) {
        snprintf(shared, sizeof shared, "%s/../shared", tree);
        sh = shared;
    }
    fs_bench_embed_options o = {
        fs_model_path(a, model, sizeof model), fs_exe_dir(exe, sizeof exe),
        tree, sh, (int)threads, (int)batch, seconds, peers, progress, NULL
    };
    fs_bench_embed_report rep;
    fs_detail d = { "" };
    int rc = fs_bench_embed(&o, &rep, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg[0] ? d.msg : fs_strerror(rc));
        return EXIT_INTERNAL;
    }
    if (a->json)
        print_json(&rep);
    else
        print_human(&rep);
    return EXIT_OK;
}
