/*
 * cmd_embed.c - `facesearch embed [--json] CHIP.png...`: the raw 128-D
 * descriptor of each aligned chip, as dlib computes it.
 *
 * Every chip is read and checked before any is embedded: one bad file
 * refuses the whole call with nothing printed on stdout.
 */
#include <math.h>
#include <stdlib.h>

#include "fs_cli.h"

const fs_opt cmd_embed_opts[] = {
    { "threads", "T", "threads to use (default: all cores)" },
    { NULL, NULL, NULL }
};

static void print_human(char **files, int n, const float *desc)
{
    for (int i = 0; i < n; i++) {
        const float *v = desc + (size_t)i * FS_DESC_DIM;
        double ss = 0;
        for (int k = 0; k < FS_DESC_DIM; k++)
            ss += (double)v[k] * v[k];
        printf("%s  (L2 norm %.6f)\n", FS_SHOW(files[i]), sqrt(ss));
        for (int k = 0; k < FS_DESC_DIM; k++)
            printf("%s%10.6f%s", k % 8 ? " " : "  ", v[k],
                   k % 8 == 7 ? "\n" : "");
    }
}

static void print_json(char **files, int n, const float *desc)
{
    putchar('[');
    for (int i = 0; i < n; i++) {
        printf("%s{\"file\":", i ? "," : "");
        fs_json_str(stdout, files[i]);
        printf(",\"descriptor\":[");
        for (int k = 0; k < FS_DESC_DIM; k++) {
            if (k)
                putchar(',');
            fs_json_float(stdout, desc[(size_t)i * FS_DESC_DIM + k]);
        }
        printf("]}");
    }
    printf("]\n");
}

int cmd_embed(fs_args *a)
{
    long threads;
    int st = fs_arg_int(a, "threads", 0, 1024, 0, &threads);
    if (st != EXIT_OK)
        return st;
    if (a->npos == 0)
        return fs_usage_error(a, "no chip given");
    uint8_t *chips = malloc((size_t)a->npos * FS_CHIP_BYTES);
    float *desc = malloc((size_t)a->npos * FS_DESC_DIM * sizeof *desc);
    if (!chips || !desc) {
        free(chips);
        free(desc);
        fs_error_msg("out of memory for %d chips", a->npos);
        return EXIT_INTERNAL;
    }
    fs_detail d = { "" };
    int rc = FS_OK;
    for (int i = 0; i < a->npos && rc == FS_OK; i++)
        rc = fs_chip_read(a->pos[i], chips + (size_t)i * FS_CHIP_BYTES, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_exit_status(rc);
        goto out;
    }
    char mbuf[4096], lbuf[4096];
    fs_engine_options o = { .model_path = fs_model_path(a, mbuf, sizeof mbuf),
                            .landmarks_path = fs_landmarks_path(a, lbuf,
                                                                sizeof lbuf),
                            .threads = (int)threads, .max_batch = 16 };
    fs_engine *e;
    rc = fs_engine_open(&o, &e, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = EXIT_INTERNAL;         /* an install fault, not the user's */
        goto out;
    }
    rc = fs_engine_embed(e, chips, (size_t)a->npos, desc, NULL);
    fs_engine_close(e);
    if (rc != FS_OK) {
        fs_error_msg("cannot embed: %s", fs_strerror(rc));
        st = EXIT_INTERNAL;
        goto out;
    }
    if (a->json)
        print_json(a->pos, a->npos, desc);
    else
        print_human(a->pos, a->npos, desc);
out:
    free(chips);
    free(desc);
    return st;
}
