/*
 * cmd_enroll.c - `facesearch enroll DIR | --manifest FILE.csv`: an admin
 * enrols mugshots into the gallery.
 *
 * DIR holds one folder per subject, named by the subject id, with that
 * subject's images.  A manifest is a CSV file with a header naming its
 * columns: image, subject_id, name, booking_number, capture_date, source
 * (and optionally agency); image paths are relative to the manifest.
 *
 * Batches are committed one by one, and the per-image report is written
 * after each commit, so a crash or kill loses at most the batch in hand;
 * a re-run skips what is in (by image sha256) and finishes the job.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"
#include "fs_cli.h"

const fs_opt cmd_enroll_opts[] = {
    { "manifest", "FILE.csv", "enrol the images a CSV manifest lists" },
    { "report", "OUT.csv", "write the per-image report (CSV)" },
    { "source", "TAG", "DIR: lawful source of the photos: booking (default), "
                       "arrest or parole" },
    { "agency", "NAME", "DIR: the agency the photos come from" },
    { "batch", "N", "images per commit (default 64)" },
    { "threads", "T", "threads (default: every core)" },
    { NULL, NULL, NULL }
};

/* Everything the items point into lives here, freed at once. */
typedef struct plan {
    fs_enroll_item *items;
    size_t          n, cap;
    char          **strings;
    size_t          nstr, capstr;
    int             oom;
} plan;

static char *keep(plan *p, const char *s)
{
    if (p->oom)
        return NULL;
    if (p->nstr == p->capstr) {
        size_t cap = p->capstr ? p->capstr * 2 : 256;
        char **ns = realloc(p->strings, cap * sizeof *ns);
        if (!ns) {
            p->oom = 1;
            return NULL;
        }
        p->strings = ns;
        p->capstr = cap;
    }
    char *c = strdup(s ? s : "");
    if (!c) {
        p->oom = 1;
        return NULL;
    }
    return p->strings[p->nstr++] = c;
}

static fs_enroll_item *add_item(plan *p)
{
    if (p->oom)
        return NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        fs_enroll_item *ni = realloc(p->items, cap * sizeof *ni);
        if (!ni) {
            p->oom = 1;
            return NULL;
        }
        p->items = ni;
        p->cap = cap;
    }
    fs_enroll_item *it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    return it;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->nstr; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->items);
}

/* An item refused before enrolment (a bad manifest row, a stray file). */
static void add_refused(plan *p, const char *path, const char *subject,
                        const char *why)
{
    fs_enroll_item *it = add_item(p);
    if (!it)
        return;
    it->path = keep(p, path);
    it->subject = keep(p, subject);
    it->status = FS_ENROLL_REJECTED;
    it->rc = FS_EINVAL;
    snprintf(it->reason, sizeof it->reason, "%s", why);
}

/* DIR/<subject>/<image>, in name order so runs and reports repeat;
 * names starting with a dot are left alone.  Listed as the command's
 * user (fs_cli_list), in the service too. */
static int plan_dir(const fs_args *a, plan *p, const char *dir,
                    const char *source, const char *agency)
{
    fs_cli_entry *subs;
    size_t ns;
    fs_detail d = { "" };
    int rc = fs_cli_list(a, dir, &subs, &ns, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        return fs_exit_status(rc);
    }
    for (size_t i = 0; i < ns; i++) {
        if (subs[i].name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i].name);
        if (!subs[i].is_dir) {
            add_refused(p, sub, "", "not in a subject folder (DIR/<subject>/"
                        "<image>)");
            continue;
        }
        fs_cli_entry *files;
        size_t nf;
        if (fs_cli_list(a, sub, &files, &nf, &d) != FS_OK) {
            add_refused(p, sub, subs[i].name, d.msg);
            continue;
        }
        for (size_t k = 0; k < nf; k++) {
            if (files[k].name[0] == '.')
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, files[k].name);
            fs_enroll_item *it = add_item(p);
            if (it) {
                it->path = keep(p, path);
                it->subject = keep(p, subs[i].name);
                it->lawful_source = keep(p, source);
                it->source_agency = keep(p, agency);
            }
        }
        free(files);
    }
    free(subs);
    return EXIT_OK;
}

/* ---- the manifest (RFC 4180 CSV) ------------------------------------------ */

enum { C_IMAGE, C_SUBJECT, C_NAME, C_BOOKING, C_DATE, C_SOURCE, C_AGENCY,
       C_COUNT };
static const char *const columns[C_COUNT] = {
    "image", "subject_id", "name", "booking_number", "capture_date",
    "source", "agency"
};

static int date_ok(const char *s)
{
    if (!*s)
        return 1;
    int y, m, d;
    char tail;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d,
                                     &tail) == 3 &&
           y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int plan_manifest(const fs_args *a, plan *p, const char *path)
{
    uint8_t *buf;
    size_t len;
    fs_detail d = { "" };
    int rc = fs_cli_read(a, path, (size_t)256 << 20, &buf, &len, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        return fs_exit_status(rc);
    }
    if (memchr(buf, 0, len)) {
        free(buf);
        fs_error_msg("manifest '%s' is not a text file", path);
        return EXIT_USAGE;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = 0;
    else
        dir[0] = 0;

    char *s = (char *)buf, *f[32];
    int col[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        col[c] = -1;
    int nh = fs_cli_csv_record(&s, f, 32);
    for (int i = 0; i < nh && i < 32; i++)
        for (int c = 0; c < C_COUNT; c++)
            if (strcmp(f[i], columns[c]) == 0)
                col[c] = i;
    for (int c = 0; c < C_AGENCY; c++)
        if (col[c] < 0) {
            free(buf);
            fs_error_msg("manifest '%s' has no '%s' column (its header "
                         "must name: image,subject_id,name,booking_number,"
                         "capture_date,source)", path, columns[c]);
            return EXIT_USAGE;
        }
    for (long line = 2; *s; line++) {
        int nf = fs_cli_csv_record(&s, f, 32);
        char why[160], img[8192];
        if (nf == 1 && f[0][0] == 0)
            continue;                      /* blank line */
        if (nf < 0) {
            snprintf(why, sizeof why, "manifest line %ld: unterminated "
                     "quote", line);
            add_refused(p, path, "", why);
            break;
        }
        if (nf != nh) {
            snprintf(why, sizeof why, "manifest line %ld: %d fields, the "
                     "header has %d", line, nf, nh);
            add_refused(p, path, "", why);
            continue;
        }
        const char *image = f[col[C_IMAGE]];
        snprintf(img, sizeof img, "%s%s", image[0] == '/' ? "" : dir, image);
        if (!*image) {
            snprintf(why, sizeof why, "manifest line %ld: no image", line);
            add_refused(p, path, f[col[C_SUBJECT]], why);
            continue;
        }
        if (!date_ok(f[col[C_DATE]])) {
            snprintf(why, sizeof why, "manifest line %ld: capture_date "
                     "'%.20s' is not YYYY-MM-DD", line, f[col[C_DATE]]);
            add_refused(p, img, f[col[C_SUBJECT]], why);
            continue;
        }
        fs_enroll_item *it = add_item(p);
        if (!it)
            break;
        it->path = keep(p, img);
        it->subject = keep(p, f[col[C_SUBJECT]]);
        it->name = keep(p, f[col[C_NAME]]);
        it->booking_number = keep(p, f[col[C_BOOKING]]);
        it->capture_date = keep(p, f[col[C_DATE]]);
        it->lawful_source = keep(p, f[col[C_SOURCE]]);
        it->source_agency = keep(p, col[C_AGENCY] >= 0 ? f[col[C_AGENCY]]
                                                        : "");
    }
    free(buf);
    return EXIT_OK;
}

/* ---- the report ------------------------------------------------------------- */

static const char *status_word(int status)
{
    switch (status) {
    case FS_ENROLLED:       return "enrolled";
    case FS_ENROLL_ALREADY: return "already";
    default:                return "rejected";
    }
}

/* A cell shown as on a terminal (the report is read with cat and less
 * too), then quoted as CSV needs. */
static void csv_cell(FILE *f, const char *cell)
{
    const char *s = FS_SHOW(cell);
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void report_rows(FILE *f, const fs_enroll_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++, it++) {
        csv_cell(f, it->path);
        fputc(',', f);
        csv_cell(f, it->subject ? it->subject : "");
        fprintf(f, ",%s,", status_word(it->status));
        if (it->image_id)
            fprintf(f, "%llu", (unsigned long long)it->image_id);
        fputc(',', f);
        csv_cell(f, it->duplicate_of);
        fputc(',', f);
        if (it->duplicate_of[0])
            fprintf(f, "%.4f", it->duplicate_score);
        fputc(',', f);
        csv_cell(f, it->reason);
        fputc('\n', f);
    }
}

static void print_json(const plan *p, const size_t count[4], size_t dups,
                       long routed)
{
    if (routed >= 0)
        printf("{\"routed_to_shards\":%ld,", routed);
    else
        putchar('{');
    printf("\"images\":%zu,\"enrolled\":%zu,\"already\":%zu,"
           "\"rejected\":%zu,\"possible_duplicates\":%zu,\"items\":[",
           p->n, count[FS_ENROLLED], count[FS_ENROLL_ALREADY],
           count[FS_ENROLL_REJECTED], dups);
    for (size_t i = 0; i < p->n; i++) {
        const fs_enroll_item *it = &p->items[i];
        printf("%s{\"image\":", i ? "," : "");
        fs_json_str(stdout, it->path);
        printf(",\"subject\":");
        fs_json_str(stdout, it->subject ? it->subject : "");
        printf(",\"status\":\"%s\"", status_word(it->status));
        if (it->image_id)
            printf(",\"image_id\":%llu", (unsigned long long)it->image_id);
        if (it->status == FS_ENROLL_REJECTED) {
            printf(",\"reason\":");
            fs_json_str(stdout, it->reason);
        }
        if (it->duplicate_of[0]) {
            printf(",\"possible_duplicate_of\":");
            fs_json_str(stdout, it->duplicate_of);
            printf(",\"similarity\":%.4f", it->duplicate_score);
        }
        putchar('}');
    }
    printf("]}\n");
}

int cmd_enroll(fs_args *a)
{
    const char *manifest = fs_arg(a, "manifest");
    if ((a->npos == 1) == (manifest != NULL))
        return fs_usage_error(a, manifest ? "give DIR or --manifest, not "
                              "both" : "no DIR or --manifest given");
    long batch, threads;
    int st = fs_arg_int(a, "batch", 1, 4096, 64, &batch);
    if (st == EXIT_OK)
        st = fs_arg_int(a, "threads", 0, 1024, 0, &threads);
    if (st != EXIT_OK)
        return st;
    const char *source = fs_arg(a, "source");
    const char *agency = fs_arg(a, "agency");

    /* The gate says whether this account may enrol before any file of
     * the run is read. */
    char mbuf[4096], lbuf[4096];
    fs_engine_options eo = { .model_path = fs_model_path(a, mbuf, sizeof mbuf),
                             .landmarks_path = fs_landmarks_path(a, lbuf,
                                                                 sizeof lbuf),
                             .threads = (int)threads };
    fs_engine *e = NULL;
    fs_enroller *en = NULL;
    fs_detail d = { "" };
    int rc = fs_cli_engine(a, &eo, &e, &d);
    if (rc == FS_OK)
        rc = fs_enroller_open(e, a->gate, &en, &d);
    if (rc != FS_OK) {
        fs_cli_engine_done(a, e);
        return fs_cli_fail(rc, &d);
    }

    plan p = { 0 };
    st = manifest ? plan_manifest(a, &p, manifest)
                  : plan_dir(a, &p, a->pos[0], source ? source : "booking",
                             agency ? agency : "");
    if (st == EXIT_OK && p.oom) {
        fs_error_msg("out of memory");
        st = EXIT_INTERNAL;
    }
    if (st == EXIT_OK && p.n == 0) {
        fs_error_msg("'%s' names no images", manifest ? manifest
                                                      : a->pos[0]);
        st = EXIT_USAGE;
    }
    FILE *rep = NULL;
    const char *rpath = fs_arg(a, "report");
    if (st == EXIT_OK && rpath &&
        (st = fs_cli_create(a, rpath, "report", &rep)) == EXIT_OK)
        fprintf(rep, "image,subject,status,image_id,possible_duplicate_of,"
                "similarity,reason\n");
    if (st != EXIT_OK) {
        fs_enroller_close(en);
        fs_cli_engine_done(a, e);
        plan_free(&p);
        return st;
    }


    size_t count[4] = { 0 }, dups = 0;
    fs_progress pr;
    fs_progress_begin(&pr, "enrolling", (long)p.n);
    for (size_t done = 0; rc == FS_OK && done < p.n; ) {
        /* items refused while planning go straight to the report */
        size_t end = done;
        while (end < p.n && end - done < (size_t)batch &&
               p.items[end].status == 0)
            end++;
        if (end > done)
            rc = fs_enroller_run(en, p.items + done, end - done, &d);
        else
            end = done + 1;
        if (rc != FS_OK)
            break;
        for (size_t i = done; i < end; i++) {
            count[p.items[i].status & 3]++;
            dups += p.items[i].duplicate_of[0] != 0;
        }
        if (rep) {
            report_rows(rep, p.items + done, end - done);
            fflush(rep);
        }
        done = end;
        fs_progress_step(&pr, (long)done);
    }
    fs_progress_end(&pr);
    /* a sharded gallery's new templates go to their subjects' shards,
     * once for the run (each shard's map is rewritten whole); a failure
     * leaves the home ahead, which searches over the shards refuse */
    size_t routed = 0;
    int routing = FS_NOTFOUND;
    if (rc == FS_OK && count[FS_ENROLLED]) {
        routing = fs_gate_shard_sync(a->gate, NULL, &routed, &d);
        if (routing != FS_OK && routing != FS_NOTFOUND) {
            rc = routing;
            char why[sizeof d.msg];
            snprintf(why, sizeof why, "%s", d.msg);
            fs_fail(&d, rc, "the images are enrolled in the gallery but "
                    "not in its shards: %.300s; once that is put right, "
                    "'facesearch gallery shard --sync' routes them", why);
        }
    }
    if (rc == FS_OK) {           /* the run itself, rejections included */
        char objects[160];
        snprintf(objects, sizeof objects, "%zu images: %zu enrolled, %zu "
                 "already in, %zu rejected", p.n, count[FS_ENROLLED],
                 count[FS_ENROLL_ALREADY], count[FS_ENROLL_REJECTED]);
        rc = fs_enroller_note(en, a->npos ? a->pos[0]
                              : fs_arg(a, "manifest"), objects, &d);
    }
    if (rep && fclose(rep) != 0 && rc == FS_OK)
        rc = fs_fail(&d, FS_EIO, "cannot write report '%s'", rpath);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_exit_status(rc);
    } else if (a->json) {
        print_json(&p, count, dups, routing == FS_OK ? (long)routed : -1);
    } else {
        for (size_t i = 0; i < p.n; i++) {
            const fs_enroll_item *it = &p.items[i];
            if (it->status == FS_ENROLL_REJECTED)
                printf("rejected %s: %s\n", FS_SHOW(it->path),
                       FS_SHOW(it->reason));
            if (it->duplicate_of[0])
                printf("possible duplicate: subject '%s' (%s) resembles "
                       "subject '%s' (similarity %.3f)\n",
                       FS_SHOW(it->subject), FS_SHOW(it->path),
                       FS_SHOW(it->duplicate_of), it->duplicate_score);
        }
        printf("%zu image%s: %zu enrolled, %zu already in the gallery, "
               "%zu rejected, %zu possible duplicate record%s\n", p.n,
               p.n == 1 ? "" : "s", count[FS_ENROLLED],
               count[FS_ENROLL_ALREADY], count[FS_ENROLL_REJECTED], dups,
               dups == 1 ? "" : "s");
        if (routing == FS_OK)
            printf("%zu template%s routed to the gallery's shards\n",
                   routed, routed == 1 ? "" : "s");
    }
    fs_enroller_close(en);
    fs_cli_engine_done(a, e);
    plan_free(&p);
    return st;
}
