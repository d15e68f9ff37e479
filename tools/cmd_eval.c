/*
 * cmd_eval.c - `facesearch eval DATASET_DIR [--json] [--svg OUT.svg]
 * [--distractors DIR]`: how well the engine identifies and verifies,
 * measured on a labelled data set DATASET_DIR/<identity>/<image>, with
 * the figures NIST's evaluations report (computed by engine/fs_eval.h;
 * this command gathers the templates and prints).
 *
 * The protocol of ../shared/datasets/README.md: each identity with two or
 * more images enrols its first image (by file name) and searches with
 * each of the others (mated probes); identities with one image search as
 * non-mated probes.  Every image under --distractors DIR is enrolled as
 * an identity of its own that is never searched: a bigger gallery, more
 * chances of a confident wrong candidate.  Probes with no face count as
 * misses; an identity whose gallery image has no face is not enrolled,
 * and its probes miss.  1:1 verification compares every pair of the data
 * set's templates (distractors left out).  A DATASET_DIR/demographics.csv
 * (a header naming `identity` and any of sex, age band, skin tone,
 * ethnicity) gives the figures per group, at the threshold set for FPIR
 * 0.01 on the whole set.  Nothing is stored: the gallery lives in memory.
 *
 * --enrol-images E enrols the first min(E, n - 1) images of an identity
 * with n > 1 (the rest are its mated probes): the figures take each
 * subject's first template with a face, as with one image enrolled, and
 * beside them the same probes scored by the best of a subject's
 * templates and by their mean (issue 17 item 3).
 *
 * --second-model also runs the second network (faceres, models/
 * faceres_v1.fsm beside the first model, on its own 224 chip) and reports
 * it alone and fused with the first (engine/fs_eval.h fs_eval_fuse: each
 * model's score standardised with the spread frozen on lfw-dev, the two
 * averaged, only the first model's top 200 re-scored), with this set's
 * own score spreads beside the frozen ones and the time the re-scoring
 * of one probe's shortlist takes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"
#include "../engine/fs_eval.h"
#include "fs_cli.h"
#include "fs_svg.h"

const fs_opt cmd_eval_opts[] = {
    { "svg", "OUT.svg", "draw the CMC and the DET curve" },
    { "distractors", "DIR", "enrol every face image under DIR as an "
      "identity never searched" },
    { "threshold", "T", "also the FPIR and FNIR at this score (one set on "
      "another gallery)" },
    { "z-threshold", "Z", "the same for the score normalised over the "
      "gallery" },
    { "top-threshold", "Z", "the same for the score normalised over the "
      "top 50 others" },
    { "face", "RULE", "face of each image: centre (default) or largest" },
    { "mirror", NULL, "templates from each face and its mirror image, "
      "averaged (twice the network's work)" },
    { "threads", "T", "threads (default: every core)" },
    { "second-model", NULL, "also faceres (faceres_v1.fsm beside the "
      "model): alone, and fused re-scoring the first's top 200" },
    { "enrol-images", "E", "enrol up to E images of each identity (one or "
      "more left to probe): its first template alone, the best of them and "
      "their mean compared on the same probes" },
    { NULL, NULL, NULL }
};

#define MAX_RANK 50
#define MAX_DEPTH 8             /* of folders under --distractors */
static const int cmc_ranks[] = { 1, 5, 10, 20, 50 };
#define NRANKS (sizeof cmc_ranks / sizeof *cmc_ranks)
static const double fpirs[] = { 0.1, 0.01, 0.003 };
#define NFPIR 3
#define GROUP_FPIR 1            /* fpirs[1]: the groups' threshold */
static const double fars[] = { 1e-3, 1e-4 };
#define NFAR 2

enum { GALLERY, MATED, NONMATED, DISTRACTOR };

typedef struct sample {
    char *path;
    int   identity;        /* index into the identity list */
    int   role;
    int   col;             /* the gallery column it stands for, or -1 */
} sample;

typedef struct sample_list {
    sample *s;
    size_t  n, cap;
} sample_list;

/* A demographic column: its values, and each identity's (or -1). */
typedef struct demo_col {
    char   name[32];
    char **value;
    size_t nvalue;
    int32_t *of;            /* per identity */
} demo_col;

#define MAX_COLS 4
#define MAX_VALUES 64

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int visible(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int add(sample_list *l, const char *path, int identity, int role)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 1024;
        sample *ns = realloc(l->s, nc * sizeof *ns);
        if (!ns)
            return EXIT_INTERNAL;
        l->s = ns;
        l->cap = nc;
    }
    l->s[l->n] = (sample){ strdup(path), identity, role, -1 };
    return l->s[l->n++].path ? EXIT_OK : EXIT_INTERNAL;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every image of the set, identities in name order, with its role: an
 * identity with nf > 1 images enrols its first min(enrol, nf - 1), so
 * that one or more are left to search with; the identities' names in
 * *names (nid of them, folders only). */
static int list_set(const char *dir, long enrol, sample_list *l,
                    char ***names, int *nid)
{
    struct dirent **ids;
    int ni = scandir(dir, &ids, visible, by_name);
    if (ni < 0) {
        fs_error_msg("cannot read data set '%s': %s", dir, strerror(errno));
        return EXIT_USAGE;
    }
    char **nm = calloc((size_t)ni + 1, sizeof *nm);
    int st = nm ? EXIT_OK : EXIT_INTERNAL, k = 0;
    for (int i = 0; i < ni; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, ids[i]->d_name);
        struct dirent **files;
        int nf = st == EXIT_OK && is_dir(sub) ?
            scandir(sub, &files, visible, by_name) : -1;
        if (nf > 0 && !(nm[k] = strdup(ids[i]->d_name)))
            st = EXIT_INTERNAL;
        for (int f = 0; f < nf; f++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, files[f]->d_name);
            if (st == EXIT_OK)
                st = add(l, path, k, nf == 1 ? NONMATED
                                    : f < enrol && f < nf - 1 ? GALLERY
                                                              : MATED);
            free(files[f]);
        }
        if (nf >= 0)
            free(files);
        k += nf > 0;
        free(ids[i]);
    }
    free(ids);
    if (st != EXIT_OK)
        fs_error_msg("out of memory");
    *names = nm;
    *nid = k;
    return st;
}

/* Every file under dir, to any depth up to MAX_DEPTH, each a distractor
 * identity of its own (numbered on from *nid). */
static int list_distractors(const char *dir, int depth, sample_list *l,
                            int *nid)
{
    struct dirent **e;
    int ne = scandir(dir, &e, visible, by_name);
    if (ne < 0) {
        fs_error_msg("cannot read distractors '%s': %s", dir,
                     strerror(errno));
        return EXIT_USAGE;
    }
    int st = EXIT_OK;
    for (int i = 0; i < ne; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e[i]->d_name);
        if (st == EXIT_OK && is_dir(path)) {
            if (depth < MAX_DEPTH)
                st = list_distractors(path, depth + 1, l, nid);
        } else if (st == EXIT_OK) {
            st = add(l, path, (*nid)++, DISTRACTOR);
            if (st != EXIT_OK)
                fs_error_msg("out of memory");
        }
        free(e[i]);
    }
    free(e);
    return st;
}

/* ---- demographics.csv -------------------------------------------------- */

static int name_cmp(const void *k, const void *e)
{
    return strcmp((const char *)k, *(char *const *)e);
}

/* "Age band", "age-band", "AGE_BAND": one column, age_band. */
static void header_key(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++)
        out[n++] = *s == ' ' || *s == '-' ? '_'
                 : (char)tolower((unsigned char)*s);
    out[n] = 0;
}

static void demo_free(demo_col *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t v = 0; v < c[i].nvalue; v++)
            free(c[i].value[v]);
        free(c[i].value);
        free(c[i].of);
    }
}

/* The columns of DATASET_DIR/demographics.csv the data set has (none
 * when it has no such file). */
static int read_demographics(const fs_args *a, const char *dir,
                             char *const *names, int nid, demo_col *cols,
                             size_t *ncols)
{
    static const char *const known[] = { "sex", "age_band", "skin_tone",
                                         "ethnicity" };
    char path[4200];
    snprintf(path, sizeof path, "%s/demographics.csv", dir);
    *ncols = 0;
    uint8_t *buf;
    size_t len;
    fs_detail d = { "" };
    int rc = fs_cli_read(a, path, (size_t)64 << 20, &buf, &len, &d);
    if (rc == FS_ENOENT)
        return EXIT_OK;
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        return fs_exit_status(rc);
    }
    char *s = (char *)buf, *f[32];
    int st = memchr(buf, 0, len) ? EXIT_USAGE : EXIT_OK;
    if (st != EXIT_OK)
        fs_error_msg("'%s' is not a text file", path);
    int nh = st == EXIT_OK ? fs_cli_csv_record(&s, f, 32) : 0;
    int idcol = -1, at[MAX_COLS];
    for (int i = 0; i < nh && i < 32; i++) {
        char key[32];
        header_key(f[i], key, sizeof key);
        if (strcmp(key, "identity") == 0)
            idcol = i;
        for (size_t k = 0; k < MAX_COLS; k++)
            if (strcmp(key, known[k]) == 0 && *ncols < MAX_COLS) {
                demo_col *c = &cols[*ncols];
                memset(c, 0, sizeof *c);
                snprintf(c->name, sizeof c->name, "%s", known[k]);
                c->of = malloc(((size_t)nid + 1) * sizeof *c->of);
                c->value = calloc(MAX_VALUES, sizeof *c->value);
                if (!c->of || !c->value) {
                    st = EXIT_INTERNAL;
                    fs_error_msg("out of memory");
                }
                for (int p = 0; c->of && p < nid; p++)
                    c->of[p] = -1;
                at[(*ncols)++] = i;
            }
    }
    if (st == EXIT_OK && idcol < 0) {
        fs_error_msg("'%s' has no 'identity' column (its header names "
                     "identity and any of sex, age band, skin tone, "
                     "ethnicity)", path);
        st = EXIT_USAGE;
    }
    for (int line = 2; st == EXIT_OK && *s; line++) {
        int nf = fs_cli_csv_record(&s, f, 32);
        if (nf < 0) {
            fs_error_msg("'%s' line %d: unterminated quote", path, line);
            st = EXIT_USAGE;
            break;
        }
        if (nf <= idcol)
            continue;           /* a blank or short line names nobody */
        char **who = bsearch(f[idcol], names, (size_t)nid, sizeof *names,
                             name_cmp);
        for (size_t c = 0; who && c < *ncols; c++) {
            demo_col *col = &cols[c];
            if (at[c] >= nf || !*f[at[c]])
                continue;
            size_t v = 0;
            while (v < col->nvalue && strcmp(col->value[v], f[at[c]]) != 0)
                v++;
            if (v == col->nvalue && v == MAX_VALUES) {
                fs_error_msg("'%s': column '%s' has more than %d values",
                             path, col->name, MAX_VALUES);
                st = EXIT_USAGE;
                break;
            }
            if (v == col->nvalue &&
                !(col->value[col->nvalue++] = strdup(f[at[c]]))) {
                fs_error_msg("out of memory");
                st = EXIT_INTERNAL;
                break;
            }
            col->of[who - names] = (int32_t)v;
        }
    }
    free(buf);
    return st;
}

/* ---- the figures ------------------------------------------------------- */

/* The kinds of score the open-set figures are given for: the cosine,
 * normalised over the probe's whole row, over its top 50 others
 * (FS_EVAL_COHORT, the cohort of a search's standing). */
#define NKINDS 3
static const struct {
    const char *json, *text, *unit, *opt, *legend;
    size_t cohort;                  /* for fs_eval_normalise; raw: none */
} kinds[NKINDS] = {
    { "open_set", "open set, FNIR at FPIR:", "threshold", "threshold",
      "cosine score", 0 },
    { "open_set_normalised", "normalised over each probe's gallery "
      "scores, FNIR at FPIR:", "z", "z-threshold",
      "normalised over the gallery", 0 },
    { "open_set_top_cohort", "normalised over each probe's top 50 others, "
      "FNIR at FPIR:", "z", "top-threshold",
      "normalised over the top 50 others", FS_EVAL_COHORT },
};

/* The open-set figures of one kind of score. */
typedef struct open_figs {
    double thr[NFPIR], fnir[NFPIR];
    double fpir[NFPIR];             /* the FPIR the threshold gives */
    fs_eval_point *det;
    size_t ndet;
    int    given;                   /* 1: a threshold given (--threshold) */
    double at, at_fpir, at_fnir;    /* it, and the rates there */
} open_figs;

/* The figures of set at each FPIR, its DET, and the rates at a given
 * threshold. */
static int open_figures(const fs_eval_set *set, const uint32_t *rank,
                        open_figs *of, fs_detail *d)
{
    fs_eval_open o;
    int rc = fs_eval_open_make(set, rank, &o, d);
    if (rc != FS_OK)
        return rc;
    for (int f = 0; o.nnonmated && f < NFPIR; f++) {
        double unused;
        fs_eval_fnir_at(&o, fpirs[f], &of->thr[f], &of->fnir[f]);
        fs_eval_rates_at(&o, of->thr[f], &of->fpir[f], &unused);
    }
    if (of->given)
        fs_eval_rates_at(&o, of->at, &of->at_fpir, &of->at_fnir);
    of->det = malloc((o.nnonmated + 1) * sizeof *of->det);
    if (!of->det)
        rc = fs_fail(d, FS_ENOMEM, "out of memory");
    else
        of->ndet = fs_eval_det(&o, of->det);
    fs_eval_open_free(&o);
    return rc;
}

typedef struct figures {
    const char *set;
    size_t images, noface, gallery, mated, nonmated;
    size_t distractors, distractors_enrolled;
    int    rule;
    int    mirror;                  /* --mirror: the template recipe */
    double cmc[MAX_RANK];
    int    open;                    /* 1: there are non-mated probes */
    open_figs kind[NKINDS];         /* per kind of score */
    int    verified;                /* 1: verification ran */
    fs_eval_verify ver;
    demo_col *cols;
    size_t ncols;
    fs_eval_group *groups[MAX_COLS];
    double template_ms, search_ms, seconds;
    double figures_s;               /* all after the templates */
    /* --second-model: [0] faceres alone, [1] fused */
    int    second;
    size_t no_second;               /* images with a first template and
                                       no second */
    double cmc2[2][MAX_RANK];
    open_figs open2[2];
    double stats[2][2];             /* this set's mean, sd per model */
    double rescore_ms;              /* one probe's shortlist, median */
    /* --enrol-images E > 1: each subject's templates, [0] the best of
     * them (the highest score), [1] their mean, [2] the mean of those
     * the quality check (G13) finds fit, all when none is */
    long   enrol;
    size_t enrolled;                /* templates behind the subjects */
    size_t enrolled_unfit, probes_unfit;
    int    subj;
    double cmcs[3][MAX_RANK];
    open_figs opens[3];
} figures;

/* Best and worst of one rate over the groups that have its kind of
 * probe: the gap an evaluation of demographic differentials reads. */
static double gap(const fs_eval_group *g, size_t n, int which)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        size_t have = which == 2 ? g[i].nonmated : g[i].mated;
        double v = which == 0 ? g[i].rank1 : which == 1 ? g[i].fnir
                                                        : g[i].fpir;
        if (!have)
            continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    return hi >= lo ? hi - lo : 0;
}

static void json_open(const figures *fg, const open_figs *of)
{
    printf("{\"fnir_at_fpir\":{");
    for (int f = 0; f < NFPIR; f++)
        if (fg->open)
            printf("%s\"%g\":{\"fnir\":%.4f,\"threshold\":%.4f,"
                   "\"fpir\":%.4f}", f ? "," : "", fpirs[f], of->fnir[f],
                   of->thr[f], of->fpir[f]);
        else            /* no non-mated probe: no threshold */
            printf("%s\"%g\":{\"fnir\":null,\"threshold\":null}",
                   f ? "," : "", fpirs[f]);
    printf("},\"det\":[");
    for (size_t i = 0; i < of->ndet; i++)
        printf("%s{\"fpir\":%.6f,\"fnir\":%.6f,\"threshold\":%.6f}",
               i ? "," : "", of->det[i].fpir, of->det[i].fnir,
               of->det[i].threshold);
    printf("]");
    if (of->given) {
        printf(",\"at_threshold\":{\"threshold\":%.4f,\"fnir\":%.4f,"
               "\"fpir\":", of->at, of->at_fnir);
        fs_json_float(stdout, fg->open ? of->at_fpir : NAN);
        printf("}");
    }
    printf("}");
}

/* One way of scoring's closed- and open-set figures, as a JSON member. */
static void json_ranked(const figures *fg, const char *name,
                        const double *cmc, const open_figs *of)
{
    printf(",\"%s\":{\"cmc\":{", name);
    for (size_t i = 0; i < NRANKS; i++)
        printf("%s\"%d\":%.4f", i ? "," : "", cmc_ranks[i],
               cmc[cmc_ranks[i] - 1]);
    printf("},\"open_set\":");
    json_open(fg, of);
    printf("}");
}

static void print_json(const figures *fg)
{
    printf("{\"images\":%zu,\"no_face\":%zu,\"gallery\":%zu,"
           "\"mated_probes\":%zu,\"nonmated_probes\":%zu,"
           "\"distractors\":{\"images\":%zu,\"enrolled\":%zu},"
           "\"face_rule\":\"%s\",\"mirror\":%s,\"enrol_images\":%ld,"
           "\"closed_set\":{\"cmc\":{",
           fg->images, fg->noface, fg->gallery, fg->mated, fg->nonmated,
           fg->distractors, fg->distractors_enrolled,
           fg->rule == FS_FACE_LARGEST ? "largest" : "centre",
           fg->mirror ? "true" : "false", fg->enrol);
    for (size_t i = 0; i < NRANKS; i++)
        printf("%s\"%d\":%.4f", i ? "," : "", cmc_ranks[i],
               fg->cmc[cmc_ranks[i] - 1]);
    printf("},\"cmc_curve\":[");
    for (int r = 0; r < MAX_RANK; r++)
        printf("%s%.4f", r ? "," : "", fg->cmc[r]);
    printf("]}");
    for (int k = 0; k < NKINDS; k++) {
        printf(",\"%s\":", kinds[k].json);
        json_open(fg, &fg->kind[k]);
    }
    printf(",\"verification\":");
    if (fg->verified) {
        printf("{\"mated_pairs\":%zu,\"nonmated_pairs\":%zu,"
               "\"tar_at_far\":{", fg->ver.mated_pairs,
               fg->ver.nonmated_pairs);
        for (int f = 0; f < NFAR; f++)
            printf("%s\"%g\":{\"tar\":%.4f,\"threshold\":%.4f}",
                   f ? "," : "", fars[f], fg->ver.tar[f],
                   fg->ver.threshold[f]);
        printf("},\"best_accuracy\":{\"accuracy\":%.4f,\"threshold\":%.4f}}",
               fg->ver.accuracy, fg->ver.accuracy_threshold);
    } else {
        printf("null");
    }
    printf(",\"groups\":{");
    for (size_t c = 0; c < fg->ncols; c++) {
        const demo_col *col = &fg->cols[c];
        const fs_eval_group *g = fg->groups[c];
        printf("%s\"%s\":{\"fpir_target\":%g,\"threshold\":", c ? "," : "",
               col->name, fpirs[GROUP_FPIR]);
        fs_json_float(stdout, fg->open ? fg->kind[0].thr[GROUP_FPIR] : NAN);
        printf(",\"values\":{");
        for (size_t v = 0; v < col->nvalue; v++) {
            printf("%s", v ? "," : "");
            fs_json_str(stdout, col->value[v]);
            printf(":{\"mated_probes\":%zu,\"nonmated_probes\":%zu,"
                   "\"rank1\":%.4f,\"fnir\":%.4f,\"fpir\":%.4f}",
                   g[v].mated, g[v].nonmated, g[v].rank1, g[v].fnir,
                   g[v].fpir);
        }
        printf("},\"gap\":{\"rank1\":%.4f,\"fnir\":%.4f,\"fpir\":%.4f}}",
               gap(g, col->nvalue, 0), gap(g, col->nvalue, 1),
               gap(g, col->nvalue, 2));
    }
    printf("}");
    if (fg->second) {
        static const char *nm[2] = { "alone", "fused" };
        const fs_eval_fusion fz = FS_FUSION_FROZEN;
        printf(",\"second_model\":{\"no_second_template\":%zu,"
               "\"shortlist\":%zu,\"standardisation\":{\"frozen\":"
               "[[%.4f,%.4f],[%.4f,%.4f]],\"this_set\":[[%.4f,%.4f],"
               "[%.4f,%.4f]]},\"rescore_ms_per_probe\":%.4f", fg->no_second,
               fz.shortlist, fz.mean[0], fz.sd[0], fz.mean[1], fz.sd[1],
               fg->stats[0][0], fg->stats[0][1], fg->stats[1][0],
               fg->stats[1][1], fg->rescore_ms);
        for (int k = 0; k < 2; k++)
            json_ranked(fg, nm[k], fg->cmc2[k], &fg->open2[k]);
        printf("}");
    }
    if (fg->subj) {
        printf(",\"subject_templates\":{\"templates\":%zu,\"unfit\":%zu,"
               "\"probes_unfit\":%zu", fg->enrolled, fg->enrolled_unfit,
               fg->probes_unfit);
        json_ranked(fg, "best_of", fg->cmcs[0], &fg->opens[0]);
        json_ranked(fg, "mean", fg->cmcs[1], &fg->opens[1]);
        json_ranked(fg, "mean_of_fit", fg->cmcs[2], &fg->opens[2]);
        printf("}");
    }
    printf(",\"times\":{\"template_ms_per_image\":%.2f,"
           "\"search_ms_per_probe\":%.4f,\"figures_s\":%.2f,"
           "\"total_s\":%.1f}}\n", fg->template_ms, fg->search_ms,
           fg->figures_s, fg->seconds);
}

static void text_open(const figures *fg, const open_figs *of,
                      const char *head, const char *unit)
{
    printf("%s", head);
    for (int f = 0; fg->open && f < NFPIR; f++)
        printf("  %g: %.4f (%s %.4f)", fpirs[f], of->fnir[f], unit,
               of->thr[f]);
    if (!fg->open)
        printf("  n/a (no non-mated probe)");
    if (of->given && fg->open)
        printf("; at %s %.4f: FPIR %.4f, FNIR %.4f", unit, of->at,
               of->at_fpir, of->at_fnir);
    else if (of->given)
        printf("; at %s %.4f: FNIR %.4f", unit, of->at, of->at_fnir);
    printf("\n");
}

static void text_ranked(const figures *fg, const char *name,
                        const double *cmc, const open_figs *of)
{
    printf("%s: rank-1 %.4f, rank-20 %.4f;", name, cmc[0], cmc[19]);
    text_open(fg, of, "  FNIR at FPIR", "score");
}

static void print_text(const figures *fg)
{
    printf("%s: %zu images (%zu without a face), %zu enrolled, %zu mated "
           "and %zu non-mated probes, face rule %s%s\n", FS_SHOW(fg->set),
           fg->images, fg->noface, fg->gallery, fg->mated, fg->nonmated,
           fg->rule == FS_FACE_LARGEST ? "largest" : "centre",
           fg->mirror ? ", templates with the mirror image" : "");
    if (fg->distractors)
        printf("distractors: %zu images, %zu enrolled (identities never "
               "searched)\n", fg->distractors, fg->distractors_enrolled);
    printf("closed set, identification rate at rank:");
    for (size_t i = 0; i < NRANKS; i++)
        printf("  %d: %.4f", cmc_ranks[i], fg->cmc[cmc_ranks[i] - 1]);
    printf("\n");
    for (int k = 0; k < NKINDS; k++)
        text_open(fg, &fg->kind[k], kinds[k].text, kinds[k].unit);
    printf("1:1 verification:");
    if (fg->verified) {
        printf(" %zu mated and %zu non-mated pairs;", fg->ver.mated_pairs,
               fg->ver.nonmated_pairs);
        for (int f = 0; f < NFAR; f++)
            printf("  TAR at FAR %g: %.4f (threshold %.4f)", fars[f],
                   fg->ver.tar[f], fg->ver.threshold[f]);
        printf("  best accuracy %.4f (threshold %.4f)\n", fg->ver.accuracy,
               fg->ver.accuracy_threshold);
    } else {
        printf("  n/a (needs two identities and one with two faces)\n");
    }
    for (size_t c = 0; c < fg->ncols; c++) {
        const demo_col *col = &fg->cols[c];
        const fs_eval_group *g = fg->groups[c];
        printf("by %s (at the FPIR %g threshold):", col->name,
               fpirs[GROUP_FPIR]);
        for (size_t v = 0; v < col->nvalue; v++) {
            printf("  ");
            fs_cli_print_text(stdout, col->value[v], 0);
            printf(" (%zu mated, %zu non-mated): rank-1 %.4f, FNIR %.4f, "
                   "FPIR %.4f;", g[v].mated, g[v].nonmated, g[v].rank1,
                   g[v].fnir, g[v].fpir);
        }
        printf("  gap between best and worst: rank-1 %.4f, FNIR %.4f, FPIR "
               "%.4f\n", gap(g, col->nvalue, 0), gap(g, col->nvalue, 1),
               gap(g, col->nvalue, 2));
    }
    if (fg->second) {
        static const char *nm[2] = { "faceres alone", "fused" };
        const fs_eval_fusion fz = FS_FUSION_FROZEN;
        for (int k = 0; k < 2; k++)
            text_ranked(fg, nm[k], fg->cmc2[k], &fg->open2[k]);
        printf("fusion: the first model's top %zu re-scored (%.4f ms per "
               "probe, median), %zu images without a second template; "
               "score mean/sd frozen %.4f/%.4f and %.4f/%.4f, this set "
               "%.4f/%.4f and %.4f/%.4f\n", fz.shortlist, fg->rescore_ms,
               fg->no_second, fz.mean[0], fz.sd[0], fz.mean[1], fz.sd[1],
               fg->stats[0][0], fg->stats[0][1], fg->stats[1][0],
               fg->stats[1][1]);
    }
    if (fg->subj) {
        printf("up to %ld images enrolled per subject (%zu templates, %zu of "
               "them unfit for search by the quality check, as are %zu "
               "probes); the figures above take its first template alone\n",
               fg->enrol, fg->enrolled, fg->enrolled_unfit, fg->probes_unfit);
        text_ranked(fg, "best of its templates", fg->cmcs[0], &fg->opens[0]);
        text_ranked(fg, "their mean template", fg->cmcs[1], &fg->opens[1]);
        text_ranked(fg, "the mean of its fit templates", fg->cmcs[2],
                    &fg->opens[2]);
    }
    printf("times: %.2f ms per template, %.4f ms per search (median), "
           "%.2f s for the figures, %.1f s in all\n", fg->template_ms,
           fg->search_ms, fg->figures_s, fg->seconds);
}

static int write_svg(FILE *f, const figures *fg)
{
    fs_svg s;
    fs_svg_begin(&s, f, 1000, 460, "eval: CMC and DET");
    /* CMC: ranks on a log axis, rates from a round tenth below rank 1 */
    double rx[MAX_RANK];
    for (int r = 0; r < MAX_RANK; r++)
        rx[r] = r + 1;
    double lo = floor(fg->cmc[0] * 10 - 0.5) / 10;
    lo = lo < 0 ? 0 : lo > 0.9 ? 0.9 : lo;
    double yt[11];
    size_t ny = 0;
    for (double v = lo; v <= 1.0001 && ny < 11; v += (1 - lo) / 5)
        yt[ny++] = v;
    static const double xt[] = { 1, 2, 5, 10, 20, 50 };
    fs_svg_axis xa = { "rank (log scale)", 1, MAX_RANK, 1, xt, 6, "%g" };
    fs_svg_axis ya = { "identification rate", lo, 1, 0, yt, ny, "%.2f" };
    fs_svg_series cmc = { "closed set, one image enrolled", rx, fg->cmc,
                          MAX_RANK, 0, 0 };
    fs_svg_plot(&s, 0, 0, 500, 460, "Cumulative match characteristic",
                &xa, &ya, &cmc, 1, FS_SVG_LEGEND_BOTTOM_RIGHT);
    /* DET: FNIR against FPIR, both log, from one non-mated probe up */
    double *x[NKINDS], *y[NKINDS];
    int ok = 1;
    for (int k = 0; k < NKINDS; k++) {
        const open_figs *of = &fg->kind[k];
        x[k] = malloc((of->ndet + 1) * sizeof *x[k]);
        y[k] = malloc((of->ndet + 1) * sizeof *y[k]);
        ok &= x[k] && y[k];
        for (size_t i = 0; x[k] && y[k] && i < of->ndet; i++) {
            x[k][i] = of->det[i].fpir;
            y[k][i] = of->det[i].fnir;
        }
    }
    static const double ft[] = { 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1,
                                 0.3, 1 };
    static const double nt[] = { 0.01, 0.03, 0.1, 0.3, 1 };
    /* from the round tick at or below one non-mated probe's share */
    size_t first = 0;
    while (first + 1 < 8 && fg->nonmated &&
           ft[first + 1] <= 1.0 / (double)fg->nonmated)
        first++;
    double xlo = ft[first];
    double ox[NFPIR], oy[NFPIR];
    for (int i = 0; i < NFPIR; i++) {   /* where they are, on the curve */
        ox[i] = fg->kind[0].fpir[i];
        oy[i] = fg->kind[0].fnir[i];
    }
    fs_svg_axis fa = { "FPIR: non-mated searches with a candidate (log)",
                       xlo, 1, 1, ft + first, 9 - first, "%g" };
    fs_svg_axis na = { "FNIR: mates missed at rank 1 (log)", 0.01, 1, 1,
                       nt, 5, "%g" };
    fs_svg_series det[NKINDS + 1];
    for (int k = 0; k < NKINDS; k++)
        det[k] = (fs_svg_series){ kinds[k].legend, x[k], y[k],
                                  fg->kind[k].ndet, 0, 0 };
    det[NKINDS] = (fs_svg_series){ "cosine: FNIR at FPIR 0.1, 0.01, 0.003",
                                   ox, oy, fg->open ? NFPIR : 0, 1, 1 };
    fs_svg_plot(&s, 500, 0, 500, 460, "Detection error tradeoff (open set)",
                &fa, &na, det, ok ? NKINDS + 1 : 0,
                FS_SVG_LEGEND_BOTTOM_LEFT);
    for (int k = 0; k < NKINDS; k++) {
        free(x[k]);
        free(y[k]);
    }
    if (!ok)
        return FS_ENOMEM;
    return fs_svg_end(&s);
}

/* ---- the command ------------------------------------------------------- */

static double median(double *v, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 1; i < n; i++)      /* insertion: n is a few thousand */
        for (size_t j = i; j && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* Every search's time with the engine's exact ranker, top 50 as a
 * search asks: the median, in ms. */
static int time_searches(const fs_templates *t, const float *q,
                         const uint8_t *searched, size_t nq, double *ms,
                         fs_detail *d)
{
    fs_ranker *r = NULL;
    fs_rank_options ro = { .mode = FS_RANK_EXACT, .isa = -1 };
    size_t k = t->n < MAX_RANK ? t->n : MAX_RANK, ns = 0;
    fs_hit *hits = malloc((k + 1) * sizeof *hits);
    double *each = malloc((nq + 1) * sizeof *each);
    int rc = hits && each ? fs_ranker_create(t, &ro, &r, d)
                          : fs_fail(d, FS_ENOMEM, "out of memory");
    for (size_t p = 0; rc == FS_OK && p < nq; p++) {
        if (!searched[p])
            continue;
        size_t nh;
        double t0 = fs_now();
        rc = fs_rank_topk(r, q + p * FS_DESC_DIM, 1, k, hits, &nh);
        each[ns++] = (fs_now() - t0) * 1e3;
    }
    if (rc == FS_OK)
        *ms = median(each, ns);
    fs_ranker_free(r);
    free(hits);
    free(each);
    return rc;
}

/* The closed- and open-set figures of one way of scoring (rank: room
 * for a row's rank of its mate). */
static int ranked_figures(const fs_eval_set *set, uint32_t *rank,
                          double *cmc, open_figs *of, fs_detail *d)
{
    fs_eval_ranks(set, rank);
    fs_eval_cmc(set, rank, MAX_RANK, cmc);
    return open_figures(set, rank, of, d);
}

/* Each of n rows of v (dim floats) scaled to unit length. */
static void unit_rows(float *v, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++) {
        double ss = 0;
        for (size_t k = 0; k < dim; k++)
            ss += (double)v[r * dim + k] * v[r * dim + k];
        for (size_t k = 0; ss > 0 && k < dim; k++)
            v[r * dim + k] = (float)(v[r * dim + k] / sqrt(ss));
    }
}

/* --enrol-images E > 1: every probe against each subject's templates,
 * scored by the best of them, by their mean (unit length again) and by
 * the mean of those fit for search (G13's verdict as a weight of 0 or
 * 1); the columns of cmd_eval's gallery, a distractor's its one
 * template. */
static int subject_figures(figures *fg, const sample *s,
                           const fs_face_job *jobs, size_t n, const float *q,
                           size_t np, size_t ng, const int32_t *col,
                           const int32_t *mate, const uint8_t *searched,
                           fs_detail *d)
{
    const size_t D = FS_DESC_DIM;
    size_t nt = 0;
    for (size_t i = 0; i < n; i++)
        nt += (s[i].role == GALLERY || s[i].role == DISTRACTOR) &&
              jobs[i].rc == FS_OK;
    float *tv = malloc((nt * D + 1) * sizeof *tv);
    int32_t *tc = malloc((nt + 1) * sizeof *tc);
    float *mean = calloc(ng * D + 1, sizeof *mean);
    float *fit = calloc(ng * D + 1, sizeof *fit);
    size_t *nfit = calloc(ng + 1, sizeof *nfit);
    float *ts = malloc((np * nt + 1) * sizeof *ts);
    float *sc = malloc((np * ng + 1) * sizeof *sc);
    uint32_t *rank = malloc((np + 1) * sizeof *rank);
    int rc = tv && tc && mean && fit && nfit && ts && sc && rank ? FS_OK
           : fs_fail(d, FS_ENOMEM, "out of memory");
    size_t t = 0;
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        if ((s[i].role != GALLERY && s[i].role != DISTRACTOR) ||
            jobs[i].rc != FS_OK)
            continue;
        size_t c = (size_t)col[s[i].identity];
        tc[t] = (int32_t)c;
        memcpy(tv + t * D, jobs[i].tmpl, D * sizeof *tv);
        int ok = jobs[i].quality_ok;
        fg->enrolled_unfit += !ok;
        nfit[c] += ok;
        for (size_t k = 0; k < D; k++) {
            mean[c * D + k] += jobs[i].tmpl[k];
            fit[c * D + k] += ok ? jobs[i].tmpl[k] : 0;
        }
        t++;
    }
    for (size_t c = 0; rc == FS_OK && c < ng; c++)
        if (!nfit[c])
            memcpy(fit + c * D, mean + c * D, D * sizeof *fit);
    for (size_t i = 0; i < n; i++)
        fg->probes_unfit += (s[i].role == MATED || s[i].role == NONMATED) &&
                            jobs[i].rc == FS_OK && !jobs[i].quality_ok;
    unit_rows(mean, ng, D);
    unit_rows(fit, ng, D);
    if (rc == FS_OK) {
        fs_eval_scores(q, np, tv, nt, D, ts);
        for (size_t r = 0; r < np; r++) {
            float *row = sc + r * ng;
            for (size_t c = 0; c < ng; c++)
                row[c] = -INFINITY;
            for (size_t k = 0; k < nt; k++)
                if (ts[r * nt + k] > row[tc[k]])
                    row[tc[k]] = ts[r * nt + k];
        }
        fs_eval_set set = { sc, np, ng, mate, searched };
        rc = ranked_figures(&set, rank, fg->cmcs[0], &fg->opens[0], d);
    }
    for (int k = 1; rc == FS_OK && k < 3; k++) {
        fs_eval_scores(q, np, k == 1 ? mean : fit, ng, D, sc);
        fs_eval_set set = { sc, np, ng, mate, searched };
        rc = ranked_figures(&set, rank, fg->cmcs[k], &fg->opens[k], d);
    }
    fg->enrolled = nt;
    fg->subj = rc == FS_OK;
    free(tv);
    free(tc);
    free(mean);
    free(fit);
    free(nfit);
    free(ts);
    free(sc);
    free(rank);
    return rc;
}

/* --second-model: faceres alone and the fusion, from the jobs' second
 * templates, gallery columns and probe rows in the order cmd_eval made
 * them (scores: the first model's). */
static int second_figures(figures *fg, const sample *s, const fs_face_job *jobs,
                          size_t n, const float *scores, size_t np, size_t ng,
                          const int32_t *mate, const uint8_t *searched,
                          fs_detail *d)
{
    const size_t D = FS_FR_DESC_DIM;
    const fs_eval_fusion fz = FS_FUSION_FROZEN;
    float *g2 = malloc((ng * D + 1) * sizeof *g2);
    float *q2 = calloc(np * D + 1, sizeof *q2);
    uint8_t *gh = malloc(ng + 1), *ph = malloc(np + 1), *srch2 = malloc(np + 1);
    float *s2 = malloc((np * ng + 1) * sizeof *s2);
    float *s1 = malloc((np * ng + 1) * sizeof *s1);
    float *fused = malloc((np * ng + 1) * sizeof *fused);
    float *buf = malloc((fz.shortlist * D + 1) * sizeof *buf);
    double *each = malloc((np + 1) * sizeof *each);
    uint32_t *rank = malloc((np + 1) * sizeof *rank);
    int rc = g2 && q2 && gh && ph && srch2 && s2 && s1 && fused && buf &&
             each && rank ? FS_OK : fs_fail(d, FS_ENOMEM, "out of memory");
    size_t g = 0, p = 0;
    for (size_t i = 0; rc == FS_OK && i < n; i++) {
        int ok = jobs[i].rc == FS_OK;
        fg->no_second += ok && !jobs[i].has2 && s[i].role != DISTRACTOR;
        if (s[i].col >= 0) {
            gh[g] = (uint8_t)jobs[i].has2;
            memcpy(g2 + g * D, jobs[i].tmpl2, D * sizeof *g2);
            g++;
        } else if (s[i].role == MATED || s[i].role == NONMATED) {
            ph[p] = ok && jobs[i].has2;
            if (ph[p])
                memcpy(q2 + p * D, jobs[i].tmpl2, D * sizeof *q2);
            p++;
        }
    }
    if (rc == FS_OK)
        fs_eval_scores(q2, np, g2, ng, D, s2);
    /* NaN where a template is missing: left out of the spreads, and the
     * fusion keeps the first model's score alone there */
    for (size_t r = 0; rc == FS_OK && r < np; r++)
        for (size_t c = 0; c < ng; c++) {
            s1[r * ng + c] = searched[r] ? scores[r * ng + c] : NAN;
            if (!searched[r] || !ph[r] || !gh[c])
                s2[r * ng + c] = NAN;
        }
    if (rc == FS_OK) {
        fs_eval_score_stats(s1, np * ng, &fg->stats[0][0], &fg->stats[0][1]);
        fs_eval_score_stats(s2, np * ng, &fg->stats[1][0], &fg->stats[1][1]);
        rc = fs_eval_fuse(scores, s2, np, ng, &fz, fused);
        if (rc != FS_OK)
            rc = fs_fail(d, rc, "out of memory");
    }
    /* what a search pays: its shortlist's second templates gathered and
     * compared with the probe's */
    size_t nt = 0;
    for (size_t r = 0; rc == FS_OK && r < np; r++) {
        if (!searched[r] || !ph[r])
            continue;
        double t0 = fs_now();
        size_t k = 0;
        for (size_t c = 0; c < ng; c++)
            if (fused[r * ng + c] != -INFINITY)
                memcpy(buf + k++ * D, g2 + c * D, D * sizeof *buf);
        fs_eval_scores(q2 + r * D, 1, buf, k, D, s1);   /* spent: scratch */
        each[nt] = (fs_now() - t0) * 1e3;
        nt++;
    }
    fg->rescore_ms = median(each, nt);
    /* faceres alone: a missing template is no search, or no candidate */
    for (size_t r = 0; rc == FS_OK && r < np; r++) {
        srch2[r] = searched[r] && ph[r];
        for (size_t c = 0; c < ng; c++)
            if (isnan(s2[r * ng + c]))
                s2[r * ng + c] = -INFINITY;
    }
    for (int k = 0; rc == FS_OK && k < 2; k++) {
        fs_eval_set set = { k ? fused : s2, np, ng, mate,
                            k ? searched : srch2 };
        rc = ranked_figures(&set, rank, fg->cmc2[k], &fg->open2[k], d);
    }
    fg->second = rc == FS_OK;
    free(g2);
    free(q2);
    free(gh);
    free(ph);
    free(srch2);
    free(s2);
    free(s1);
    free(fused);
    free(buf);
    free(each);
    free(rank);
    return rc;
}

int cmd_eval(fs_args *a)
{
    double t_start = fs_now();
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
    long threads, enrol;
    int st = fs_arg_int(a, "threads", 0, 1024, 0, &threads);
    if (st == EXIT_OK)
        st = fs_arg_int(a, "enrol-images", 1, 1000, 1, &enrol);
    if (st != EXIT_OK)
        return st;
    figures fg = { .set = a->pos[0], .rule = rule,
                   .mirror = fs_arg(a, "mirror") != NULL, .enrol = enrol };
    for (int k = 0; k < NKINDS; k++) {
        fg.kind[k].given = fs_arg(a, kinds[k].opt) != NULL;
        st = fs_arg_double(a, kinds[k].opt, k ? -1e6 : -1, k ? 1e6 : 1, 0,
                           &fg.kind[k].at);
        if (st != EXIT_OK)
            return st;
    }
    const char *dis = fs_arg(a, "distractors");
    if (dis && !*dis)
        return fs_usage_error(a, "--distractors needs a folder");
    /* the output file first: an existing one is refused before the work */
    const char *svg = fs_arg(a, "svg");
    FILE *svg_f = NULL;
    if (svg && (st = fs_cli_create(a, svg, "the CMC and DET curves",
                                   &svg_f)) != EXIT_OK)
        return st;
    sample_list l = { 0 };
    char **names = NULL;
    int nid = 0;
    st = list_set(a->pos[0], enrol, &l, &names, &nid);
    size_t nset = l.n;
    if (st == EXIT_OK && nset == 0) {
        fs_error_msg("data set '%s' holds no images in identity folders "
                     "(DATASET_DIR/<identity>/<image>)", a->pos[0]);
        st = EXIT_USAGE;
    }
    int next_id = nid;
    if (st == EXIT_OK && dis)
        st = list_distractors(dis, 0, &l, &next_id);
    if (st == EXIT_OK && dis && l.n == nset) {
        fs_error_msg("distractors '%s' hold no files", dis);
        st = EXIT_USAGE;
    }
    demo_col cols[MAX_COLS];
    size_t ncols = 0;
    if (st == EXIT_OK)
        st = read_demographics(a, a->pos[0], names, nid, cols, &ncols);
    const size_t n = l.n;
    sample *s = l.s;
    fs_face_job *jobs = st == EXIT_OK ? calloc(n, sizeof *jobs) : NULL;
    if (st == EXIT_OK && !jobs) {
        fs_error_msg("out of memory");
        st = EXIT_INTERNAL;
    }
    char mbuf[4096], lbuf[4096];
    char sbuf[4200];
    int second = fs_arg(a, "second-model") != NULL;
    float *t2 = NULL;
    if (st == EXIT_OK && second) {
        t2 = malloc((n * FS_FR_DESC_DIM + 1) * sizeof *t2);
        if (!t2) {
            fs_error_msg("out of memory");
            st = EXIT_INTERNAL;
        }
        for (size_t i = 0; t2 && i < n; i++)
            jobs[i].tmpl2 = t2 + i * FS_FR_DESC_DIM;
    }
    fs_engine_options eo = { .model_path = fs_model_path(a, mbuf, sizeof mbuf),
                             .landmarks_path = fs_landmarks_path(a, lbuf,
                                                                 sizeof lbuf),
                             .threads = (int)threads };
    if (second)
        eo.second_model_path = fs_second_model_path(a, sbuf, sizeof sbuf);
    fs_engine *e = NULL;
    fs_detail d = { "" };
    int rc = FS_OK;
    if (st == EXIT_OK)
        rc = fs_engine_open(&eo, &e, &d);
    if (rc == FS_OK && e)
        fs_engine_set_mirror(e, fg.mirror);

    /* templates, in batches so the progress bar moves */
    fg.cols = cols;
    fg.ncols = ncols;
    double t0 = fs_now();
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
    double t1 = fs_now();
    fg.template_ms = n ? (t1 - t0) * 1e3 / (double)n : 0;

    /* the gallery: the first image of each identity with two, and every
     * distractor, each with a face; col[identity] its column */
    float *gvec = NULL, *q = NULL, *scores = NULL, *zscores = NULL,
          *vt = NULL;
    uint32_t *gsubj = NULL, *rank = NULL, *zrank = NULL;
    int32_t *col = NULL, *mate = NULL, *vlab = NULL, *grp = NULL;
    uint8_t *searched = NULL;
    size_t ng = 0, np = 0, nv = 0;
    if (st == EXIT_OK && rc == FS_OK) {
        gvec = aligned_alloc(64, (n * FS_DESC_DIM * sizeof(float) + 63) /
                             64 * 64);
        gsubj = malloc(n * sizeof *gsubj);
        col = malloc(((size_t)next_id + 1) * sizeof *col);
        q = calloc(n * FS_DESC_DIM + 1, sizeof *q);
        mate = malloc((n + 1) * sizeof *mate);
        searched = malloc(n + 1);
        rank = malloc((n + 1) * sizeof *rank);
        grp = malloc((n + 1) * sizeof *grp);
        vt = malloc((n * FS_DESC_DIM + 1) * sizeof *vt);
        vlab = malloc((n + 1) * sizeof *vlab);
        if (!gvec || !gsubj || !col || !q || !mate || !searched || !rank ||
            !grp || !vt || !vlab)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    }
    for (int i = 0; rc == FS_OK && st == EXIT_OK && i < next_id; i++)
        col[i] = -1;
    for (size_t i = 0; st == EXIT_OK && rc == FS_OK && i < n; i++) {
        int ok = jobs[i].rc == FS_OK;
        if (s[i].role == DISTRACTOR) {
            fg.distractors++;
            fg.distractors_enrolled += ok;
        } else {
            fg.images++;
            fg.noface += !ok;
            fg.mated += s[i].role == MATED;
            fg.nonmated += s[i].role == NONMATED;
            if (ok) {       /* the data set's templates, for 1:1 */
                memcpy(vt + nv * FS_DESC_DIM, jobs[i].tmpl,
                       sizeof jobs[i].tmpl);
                vlab[nv++] = s[i].identity;
            }
        }
        /* a subject's column holds its first template */
        if ((s[i].role == GALLERY || s[i].role == DISTRACTOR) && ok &&
            col[s[i].identity] < 0) {
            memcpy(gvec + ng * FS_DESC_DIM, jobs[i].tmpl, sizeof jobs[i].tmpl);
            col[s[i].identity] = (int32_t)ng;
            s[i].col = (int)ng;
            gsubj[ng] = (uint32_t)ng;
            ng++;
        }
    }
    fg.gallery = ng;
    if (st == EXIT_OK && rc == FS_OK && fg.images - fg.noface == 0)
        rc = fs_fail(&d, FS_EINVAL, "data set '%s': no face found in any "
                     "of its %zu images", a->pos[0], fg.images);
    if (st == EXIT_OK && rc == FS_OK && ng - fg.distractors_enrolled == 0)
        rc = fs_fail(&d, FS_EINVAL, "data set '%s' has no identity with two "
                     "images and a face: nothing to search", a->pos[0]);
    /* every probe, mated and non-mated, against the whole gallery */
    for (size_t i = 0; st == EXIT_OK && rc == FS_OK && i < n; i++) {
        if (s[i].role != MATED && s[i].role != NONMATED)
            continue;
        searched[np] = jobs[i].rc == FS_OK;
        if (searched[np])
            memcpy(q + np * FS_DESC_DIM, jobs[i].tmpl, sizeof jobs[i].tmpl);
        mate[np] = s[i].role == NONMATED ? FS_EVAL_NONMATED
                 : col[s[i].identity] >= 0 ? col[s[i].identity]
                                           : FS_EVAL_MATE_ABSENT;
        grp[np] = s[i].identity;       /* the identity, for the groups */
        np++;
    }
    if (st == EXIT_OK && rc == FS_OK) {
        scores = malloc((np * ng + 1) * sizeof *scores);
        if (!scores)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
        else
            fs_eval_scores(q, np, gvec, ng, FS_DESC_DIM, scores);
    }
    if (st == EXIT_OK && rc == FS_OK) {
        fs_templates t = { gvec, gsubj, ng };
        rc = time_searches(&t, q, searched, np, &fg.search_ms, &d);
    }
    fs_eval_set set = { scores, np, ng, mate, searched };
    if (st == EXIT_OK && rc == FS_OK) {
        fs_eval_ranks(&set, rank);
        fs_eval_cmc(&set, rank, MAX_RANK, fg.cmc);
        fg.open = fg.nonmated > 0;
        rc = open_figures(&set, rank, &fg.kind[0], &d);
    }
    /* the same searches judged against each probe's own scores; ranked
     * again, as a cohort may reorder the top of a row */
    if (st == EXIT_OK && rc == FS_OK) {
        zscores = malloc((np * ng + 1) * sizeof *zscores);
        zrank = malloc((np + 1) * sizeof *zrank);
        if (!zscores || !zrank)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    }
    for (int k = 1; st == EXIT_OK && rc == FS_OK && k < NKINDS; k++) {
        rc = fs_eval_normalise(scores, np, ng, kinds[k].cohort, zscores);
        if (rc != FS_OK) {
            rc = fs_fail(&d, rc, "out of memory");
            break;
        }
        fs_eval_set zset = { zscores, np, ng, mate, searched };
        fs_eval_ranks(&zset, zrank);
        rc = open_figures(&zset, zrank, &fg.kind[k], &d);
    }
    if (st == EXIT_OK && rc == FS_OK) {
        fs_detail vd = { "" };
        int vrc = fs_eval_verification(vt, vlab, nv, FS_DESC_DIM, fars, NFAR,
                                       &fg.ver, &vd);
        fg.verified = vrc == FS_OK;
        if (vrc != FS_OK && vrc != FS_EINVAL)
            rc = fs_fail(&d, vrc, "%s", vd.msg);
    }
    /* per demographic column: each probe's group from its identity */
    int32_t *byid = NULL;
    if (st == EXIT_OK && rc == FS_OK && ncols) {
        byid = malloc((np + 1) * sizeof *byid);
        if (!byid)
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    }
    for (size_t c = 0; st == EXIT_OK && rc == FS_OK && c < ncols; c++) {
        for (size_t p = 0; p < np; p++)
            byid[p] = cols[c].of[grp[p]];
        fg.groups[c] = calloc(cols[c].nvalue + 1, sizeof *fg.groups[c]);
        if (!fg.groups[c])
            rc = fs_fail(&d, FS_ENOMEM, "out of memory");
        else
            fs_eval_groups(&set, rank, byid, cols[c].nvalue,
                           fg.open ? fg.kind[0].thr[GROUP_FPIR] : INFINITY,
                           fg.groups[c]);
    }
    free(byid);
    if (st == EXIT_OK && rc == FS_OK && enrol > 1)
        rc = subject_figures(&fg, s, jobs, n, q, np, ng, col, mate, searched,
                             &d);
    if (st == EXIT_OK && rc == FS_OK && second)
        rc = second_figures(&fg, s, jobs, n, scores, np, ng, mate, searched,
                            &d);
    fg.seconds = fs_now() - t_start;
    fg.figures_s = fs_now() - t1;
    if (st == EXIT_OK && rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_exit_status(rc);
    }
    if (st == EXIT_OK) {
        if (a->json)
            print_json(&fg);
        else
            print_text(&fg);
        if (svg_f && (write_svg(svg_f, &fg) != FS_OK ||
                      fsync(fileno(svg_f)) != 0)) {
            fs_error_msg("cannot write '%s': %s", svg, strerror(errno));
            st = EXIT_INTERNAL;
        }
    }
    st = fs_cli_finish(a, svg, svg_f, st);
    fs_engine_close(e);
    for (size_t i = 0; i < n; i++)
        free(s[i].path);
    for (int i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
    demo_free(cols, ncols);
    for (size_t c = 0; c < ncols; c++)
        free(fg.groups[c]);
    free(s);
    free(jobs);
    free(gvec);
    free(gsubj);
    free(col);
    free(q);
    free(mate);
    free(searched);
    free(rank);
    free(grp);
    free(vt);
    free(vlab);
    free(scores);
    for (int k = 0; k < NKINDS; k++)
        free(fg.kind[k].det);
    for (int k = 0; k < 2; k++)
        free(fg.open2[k].det);
    for (int k = 0; k < 3; k++)
        free(fg.opens[k].det);
    free(t2);
    free(zscores);
    free(zrank);
    return st;
}
