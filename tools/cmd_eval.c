/*
 * cmd_eval.c - `facesearch eval DATASET_DIR [--svg OUT.svg] [--json]`:
 * how well the engine identifies, measured on a labelled data set
 * DATASET_DIR/<identity>/<image>.
 *
 * The protocol of ../shared/datasets/README.md: each identity with two or
 * more images enrols its first image (by file name) and searches with
 * each of the others (mated probes); identities with one image search as
 * non-mated probes.  Closed set: the CMC, the share of mated probes whose
 * mate ranks at or above r.  Open set: for a false positive
 * identification rate (the share of non-mated probes whose best score
 * reaches the threshold), the threshold and the false negative rate (the
 * share of mated probes whose mate is not at rank 1 with a score at the
 * threshold or above).  Probes with no face count as misses; an identity
 * whose gallery image has no face is not enrolled, and its probes miss.
 * Nothing is stored: the gallery lives in memory.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"
#include "fs_cli.h"

const fs_opt cmd_eval_opts[] = {
    { "svg", "OUT.svg", "draw the CMC curve" },
    { "face", "RULE", "face of each image: centre (default) or largest" },
    { "threads", "T", "threads (default: every core)" },
    { NULL, NULL, NULL }
};

#define MAX_RANK 50
static const int cmc_ranks[] = { 1, 5, 10, 20, 50 };
static const double fpirs[] = { 0.1, 0.01, 0.003 };

typedef struct sample {
    char *path;
    int   identity;        /* index into the identity list */
    int   role;            /* 0 gallery, 1 mated probe, 2 non-mated */
} sample;

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int visible(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Every image of the set, identities in name order, with its role. */
static int list_set(const char *dir, sample **out, size_t *n, int *nid)
{
    struct dirent **ids;
    int ni = scandir(dir, &ids, visible, by_name);
    if (ni < 0) {
        fs_error_msg("cannot read data set '%s': %s", dir, strerror(errno));
        return EXIT_USAGE;
    }
    size_t cnt = 0, cap = 0;
    sample *s = NULL;
    int st = EXIT_OK;
    for (int i = 0; i < ni; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, ids[i]->d_name);
        struct dirent **files;
        int nf = scandir(sub, &files, visible, by_name);
        for (int k = 0; k < nf; k++) {
            if (st == EXIT_OK && cnt == cap) {
                cap = cap ? cap * 2 : 1024;
                sample *ns = realloc(s, cap * sizeof *ns);
                if (!ns)
                    st = EXIT_INTERNAL;
                else
                    s = ns;
            }
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, files[k]->d_name);
            if (st == EXIT_OK) {
                s[cnt] = (sample){ strdup(path), i,
                                   nf == 1 ? 2 : k == 0 ? 0 : 1 };
                if (!s[cnt].path)
                    st = EXIT_INTERNAL;
                else
                    cnt++;
            }
            free(files[k]);
        }
        if (nf > 0)
            free(files);
        free(ids[i]);
    }
    free(ids);
    if (st != EXIT_OK)
        fs_error_msg("out of memory");
    *out = s;
    *n = cnt;
    *nid = ni;
    return st;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void write_svg(FILE *f, const double *cmc)
{
    const int w = 480, h = 320, l = 50, b = 40, t = 20, r = 20;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            w, h);
    double lo = cmc[0] > 0.05 ? floor(cmc[0] * 10 - 0.5) / 10 : 0;
    if (lo < 0)
        lo = 0;
    const double pw = w - l - r, ph = h - t - b;
#define X(rank) (l + log(rank) / log(MAX_RANK) * pw)
#define Y(v) (t + (1 - ((v) - lo) / (1 - lo)) * ph)
    fprintf(f, "<polyline fill=\"none\" stroke=\"#246\" stroke-width=\"2\" "
            "points=\"");
    for (int k = 1; k <= MAX_RANK; k++)
        fprintf(f, "%.1f,%.1f ", X(k), Y(cmc[k - 1]));
    fprintf(f, "\"/>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
            "stroke=\"black\"/>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
            "y2=\"%d\" stroke=\"black\"/>\n", l, h - b, w - r, h - b, l, t,
            l, h - b);
    for (size_t i = 0; i < sizeof cmc_ranks / sizeof *cmc_ranks; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d"
                "</text>\n", X(cmc_ranks[i]), h - b + 15, cmc_ranks[i]);
    for (int i = 0; i <= 4; i++) {
        double v = lo + (1 - lo) * i / 4;
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3f"
                "</text>\n", l - 4, Y(v) + 4, v);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">rank "
            "(log scale)</text>\n<text x=\"%d\" y=\"%d\">identification "
            "rate (CMC)</text>\n</svg>\n", (l + w - r) / 2, h - 5, l, t - 6);
#undef X
#undef Y
}

int cmd_eval(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, "give one DATASET_DIR");
    const char *rule_s = fs_arg(a, "face");
    int rule = FS_FACE_CENTRE;
    if (rule_s && strcmp(rule_s, "largest") == 0)
        rule = FS_FACE_LARGEST;
    else if (rule_s && strcmp(rule_s, "centre") != 0 &&
             strcmp(rule_s, "center") != 0)
        return fs_usage_error(a, "--face must be centre or largest, not "
                              "'%s'", rule_s);
    long threads;
    int st = fs_arg_int(a, "threads", 0, 1024, 0, &threads);
    if (st != EXIT_OK)
        return st;
    /* the output file first: an existing one is refused before the work */
    const char *svg = fs_arg(a, "svg");
    FILE *svg_f = NULL;
    if (svg && (st = fs_cli_create(a, svg, "the CMC curve", &svg_f)) != EXIT_OK)
        return st;
    sample *s = NULL;
    size_t n = 0;
    int nid = 0;
    st = list_set(a->pos[0], &s, &n, &nid);
    if (st == EXIT_OK && n == 0) {
        fs_error_msg("data set '%s' holds no images (DATASET_DIR/<identity>/"
                     "<image>)", a->pos[0]);
        st = EXIT_USAGE;
    }
    fs_face_job *jobs = st == EXIT_OK ? calloc(n, sizeof *jobs) : NULL;
    if (st == EXIT_OK && !jobs) {
        fs_error_msg("out of memory");
        st = EXIT_INTERNAL;
    }
    char mbuf[4096], lbuf[4096];
    fs_engine_options eo = { .model_path = fs_model_path(a, mbuf, sizeof mbuf),
                             .landmarks_path = fs_landmarks_path(a, lbuf,
                                                                 sizeof lbuf),
                             .threads = (int)threads };
    fs_engine *e = NULL;
    fs_detail d = { "" };
    int rc = FS_OK;
    if (st == EXIT_OK)
        rc = fs_engine_open(&eo, &e, &d);

    /* templates, in batches so the progress bar moves */
    fs_progress pr;
    fs_progress_begin(&pr, "eval", (long)n);
    for (size_t i = 0; st == EXIT_OK && rc == FS_OK && i < n; i += 64) {
        size_t m = n - i < 64 ? n - i : 64;
        for (size_t k = 0; k < m; k++)
            jobs[i + k].path = s[i + k].path;
        rc = fs_engine_read(e, jobs + i, m, &d);
        if (rc == FS_OK)
            rc = fs_engine_templates(e, jobs + i, m, rule, &d);
        fs_face_jobs_release(jobs + i, m);
        fs_progress_step(&pr, (long)(i + m));
    }
    fs_progress_end(&pr);

    /* the gallery: one template per identity with a face on its first */
    size_t ng = 0, nmated = 0, nnon = 0, noface = 0;
    float *gvec = NULL;
    uint32_t *gsubj = NULL;
    if (st == EXIT_OK && rc == FS_OK) {
        gvec = aligned_alloc(64, (n * FS_DESC_DIM * sizeof(float) + 63) /
                             64 * 64);
        gsubj = malloc(n * sizeof *gsubj);
        if (!gvec || !gsubj)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; st == EXIT_OK && rc == FS_OK && i < n; i++) {
        noface += jobs[i].rc != FS_OK;
        nmated += s[i].role == 1;
        nnon += s[i].role == 2;
        if (s[i].role == 0 && jobs[i].rc == FS_OK) {
            memcpy(gvec + ng * FS_DESC_DIM, jobs[i].tmpl, sizeof jobs[i].tmpl);
            gsubj[ng++] = (uint32_t)s[i].identity;
        }
    }
    /* every probe with a face, ranked in one batch */
    size_t nq = 0, k = ng < MAX_RANK ? ng : MAX_RANK;
    float *q = NULL;
    fs_hit *hits = NULL;
    size_t *nhits = NULL, *qi = NULL;
    if (st == EXIT_OK && rc == FS_OK && ng == 0)
        rc = fs_fail(&d, FS_EINVAL, "data set '%s' has no identity with two "
                     "images and a face: nothing to search", a->pos[0]);
    if (st == EXIT_OK && rc == FS_OK) {
        q = malloc(n * FS_DESC_DIM * sizeof *q);
        hits = malloc(n * k * sizeof *hits);
        nhits = malloc(n * sizeof *nhits);
        qi = malloc(n * sizeof *qi);
        if (!q || !hits || !nhits || !qi)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
        for (size_t i = 0; rc == FS_OK && i < n; i++)
            if (s[i].role != 0 && jobs[i].rc == FS_OK) {
                memcpy(q + nq * FS_DESC_DIM, jobs[i].tmpl,
                       sizeof jobs[i].tmpl);
                qi[nq++] = i;
            }
    }
    fs_ranker *r = NULL;
    if (st == EXIT_OK && rc == FS_OK) {
        fs_templates t = { gvec, gsubj, ng };
        fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1 };
        rc = fs_ranker_create(&t, &ro, &r, &d);
        if (rc == FS_OK && nq)
            rc = fs_rank_topk(r, q, nq, k, hits, nhits);
    }

    double cmc[MAX_RANK] = { 0 };
    float *non = NULL, *mate1 = NULL;    /* non-mated best; mate at rank 1 */
    size_t nnon_s = 0, nm1 = 0;
    if (st == EXIT_OK && rc == FS_OK) {
        non = malloc((nq + 1) * sizeof *non);
        mate1 = malloc((nq + 1) * sizeof *mate1);
        if (!non || !mate1)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    }
    for (size_t p = 0; st == EXIT_OK && rc == FS_OK && p < nq; p++) {
        const sample *sp = &s[qi[p]];
        const fs_hit *h = hits + p * k;
        if (sp->role == 2) {
            non[nnon_s++] = nhits[p] ? h[0].score : -1;
            continue;
        }
        for (size_t j = 0; j < nhits[p]; j++)
            if (h[j].subject == (uint32_t)sp->identity) {
                for (size_t rr = j; rr < MAX_RANK; rr++)
                    cmc[rr] += 1;
                if (j == 0)
                    mate1[nm1++] = h[0].score;
                break;
            }
    }
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_exit_status(rc);
    }
    if (st == EXIT_OK) {
        for (int rr = 0; rr < MAX_RANK; rr++)
            cmc[rr] = nmated ? cmc[rr] / (double)nmated : 0;
        qsort(non, nnon_s, sizeof *non, cmp_desc);
        double thr[3], fnir[3];
        for (int f = 0; f < 3; f++) {
            /* the lowest threshold whose false positives stay within the
             * rate: just above the non-mated score at that quantile */
            size_t allow = (size_t)floor(fpirs[f] * (double)nnon);
            thr[f] = allow < nnon_s ? nextafterf(non[allow], 2.0f) : -1.0;
            size_t hit = 0;
            for (size_t i = 0; i < nm1; i++)
                hit += mate1[i] >= thr[f];
            fnir[f] = nmated ? 1.0 - (double)hit / (double)nmated : 0;
        }
        if (a->json) {
            printf("{\"images\":%zu,\"no_face\":%zu,\"gallery\":%zu,"
                   "\"mated_probes\":%zu,\"nonmated_probes\":%zu,"
                   "\"face_rule\":\"%s\",\"closed_set\":{\"cmc\":{", n,
                   noface, ng, nmated, nnon,
                   rule == FS_FACE_LARGEST ? "largest" : "centre");
            for (size_t i = 0; i < sizeof cmc_ranks / sizeof *cmc_ranks; i++)
                printf("%s\"%d\":%.4f", i ? "," : "", cmc_ranks[i],
                       cmc[cmc_ranks[i] - 1]);
            printf("}},\"open_set\":{\"fnir_at_fpir\":{");
            for (int f = 0; f < 3; f++)
                if (nnon_s)
                    printf("%s\"%g\":{\"fnir\":%.4f,\"threshold\":%.4f}",
                           f ? "," : "", fpirs[f], fnir[f], thr[f]);
                else            /* no non-mated probe: no threshold */
                    printf("%s\"%g\":{\"fnir\":null,\"threshold\":null}",
                           f ? "," : "", fpirs[f]);
            printf("}}}\n");
        } else {
            printf("%s: %zu images (%zu without a face), %zu enrolled, %zu "
                   "mated and %zu non-mated probes, face rule %s\n",
                   FS_SHOW(a->pos[0]), n, noface, ng, nmated, nnon,
                   rule == FS_FACE_LARGEST ? "largest" : "centre");
            printf("closed set, identification rate at rank:");
            for (size_t i = 0; i < sizeof cmc_ranks / sizeof *cmc_ranks; i++)
                printf("  %d: %.4f", cmc_ranks[i], cmc[cmc_ranks[i] - 1]);
            printf("\nopen set, FNIR at FPIR:");
            for (int f = 0; f < 3; f++)
                if (nnon_s)
                    printf("  %g: %.4f (threshold %.4f)", fpirs[f], fnir[f],
                           thr[f]);
            if (!nnon_s)
                printf("  n/a (no non-mated probe)");
            printf("\n");
        }
        if (svg_f) {
            write_svg(svg_f, cmc);
            if (fflush(svg_f) != 0 || ferror(svg_f) ||
                fsync(fileno(svg_f)) != 0) {
                fs_error_msg("cannot write '%s': %s", svg, strerror(errno));
                st = EXIT_INTERNAL;
            }
        }
    }
    st = fs_cli_finish(a, svg, svg_f, st);
    fs_ranker_free(r);
    fs_engine_close(e);
    for (size_t i = 0; i < n; i++)
        free(s[i].path);
    free(s);
    free(jobs);
    free(gvec);
    free(gsubj);
    free(q);
    free(hits);
    free(nhits);
    free(qi);
    free(non);
    free(mate1);
    return st;
}
