/*
 * main.c - the facesearch command: a sorted table of commands and the
 * dispatcher that does the common work once (unknown command, --help,
 * --version, option parsing) before a handler runs.
 */
#include <stdlib.h>
#include <string.h>

#include "fs_cli.h"

static const fs_cmd commands[] = {
    { "bench", "Measure the engine beside its peers, in one run.",
      "bench embed [--threads T] [--batch B] [--seconds S] [--rounds R]\n"
      "  [--peers LIST] [--json]\n"
      "bench rank [--gallery N] [--queries Q] [--k K] [--threads T]\n"
      "  [--seconds S] [--rounds R] [--peers LIST] [--seed S] [--dir DIR]\n"
      "  [--json]\n"
      "bench detect [--threads T] [--limit N] [--large N] [--json]",
      cmd_bench_opts, cmd_bench },
    { "detect", "Find the faces of a still image and judge each for search.",
      "detect IMAGE [--json] [--annotate OUT.png] [--face N]",
      cmd_detect_opts, cmd_detect },
    { "embed", "Compute the 128-D face descriptor of aligned 150x150 chips.",
      "embed [--json] CHIP.png...",
      cmd_embed_opts, cmd_embed },
    { "enroll", "Enrol mugshots into the gallery (admin).",
      "enroll DIR [--source booking|arrest|parole] [--agency NAME]\n"
      "  [--report OUT.csv] [--batch N] [--threads T] [--json]\n"
      "enroll --manifest FILE.csv [--report OUT.csv] [--json]\n"
      "  DIR holds DIR/<subject-id>/<image>; a manifest has the columns\n"
      "  image,subject_id,name,booking_number,capture_date,source[,agency]",
      cmd_enroll_opts, cmd_enroll },
    { "eval", "Measure identification on a labelled data set (CMC, FNIR).",
      "eval DATASET_DIR [--face centre|largest] [--svg OUT.svg] [--json]\n"
      "  DATASET_DIR/<identity>/<image>; the first image of each identity\n"
      "  with two or more is enrolled, the others search (mated), and\n"
      "  identities with one image search as non-mated probes",
      cmd_eval_opts, cmd_eval },
    { "gallery", "Look after the gallery: counts, records, removal (admin).",
      "gallery stats [--json]\n"
      "gallery show SUBJECT [--json]\n"
      "gallery remove SUBJECT --reason TEXT\n"
      "gallery verify [--json]\n"
      "gallery config --rank exact|compressed",
      cmd_gallery_opts, cmd_gallery },
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
    static const fs_cmd version_cmd = { "--version", "", "", NULL, NULL };
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        return print_version();
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        fs_args a;
        int rc = fs_parse_args(&commands[i], argc - 2, argv + 2, &a);
        if (rc == EXIT_OK)
            rc = commands[i].run(&a);
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
    fs_error_msg("unknown command '%s'", name);
    fprintf(stderr, "Try 'facesearch --help'.\n");
    return EXIT_USAGE;
}
