/*
 * cmd_detect.c - `facesearch detect IMAGE [--json] [--annotate OUT.png]
 * [--crop OUT.png] [--face N]`: the faces of a still image, their
 * landmarks and whether each is fit for search (G13), for an examiner
 * judging a probe; and one face of a group photo cut out as an image of
 * its own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/base/fs_file.h"
#include "fs_cli.h"

const fs_opt cmd_detect_opts[] = {
    { "annotate", "OUT.png", "write the image with boxes and landmarks" },
    { "crop", "OUT.png", "write the chosen face, with the head around it, "
                         "as an image of its own" },
    { "face", "N", "the face to use (default: the one nearest the centre)" },
    { "profile", "NAME|FILE", "judge quality by this policy profile's "
                              "limits (G13; default: the engine's)" },
    { NULL, NULL, NULL }
};

static void print_reasons_json(const char *reasons)
{
    putchar('[');
    char buf[256];
    snprintf(buf, sizeof buf, "%s", reasons);
    int first = 1;
    for (char *save, *r = strtok_r(buf, ";", &save); r;
         r = strtok_r(NULL, ";", &save)) {
        while (*r == ' ')
            r++;
        printf("%s", first ? "" : ",");
        fs_json_str(stdout, r);
        first = 0;
    }
    putchar(']');
}

static void print_json(const char *path, const fs_image *img,
                       const fs_face *f, int n, int chosen)
{
    printf("{\"image\":");
    fs_json_str(stdout, path);
    printf(",\"width\":%d,\"height\":%d,\"face\":%d,\"faces\":[",
           img->width, img->height, chosen);
    for (int i = 0; i < n; i++) {
        const fs_quality *q = &f[i].quality;
        printf("%s{\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":", i ? "," : "",
               f[i].box[0], f[i].box[1], f[i].box[2], f[i].box[3]);
        fs_json_float(stdout, f[i].score);
        static const char *by[] = { "hog", "hog-x2", "cascade" };
        printf(",\"detector\":\"%s\",\"landmarks\":[", by[f[i].found_by]);
        for (int k = 0; k < 68; k++)
            printf("%s[%.1f,%.1f]", k ? "," : "", f[i].landmarks[2 * k],
                   f[i].landmarks[2 * k + 1]);
        printf("],\"quality\":{\"face_width\":%.1f,\"eye_distance\":%.1f,"
               "\"roll\":%.1f,\"yaw\":%.1f,\"sharpness\":%.1f,"
               "\"brightness\":%.1f,\"contrast\":%.1f,\"verdict\":\"%s\","
               "\"reasons\":", q->face_width, q->eye_distance, q->roll,
               q->yaw, q->sharpness, q->brightness, q->contrast,
               q->ok ? "ok" : "unsuitable");
        print_reasons_json(q->reasons);
        printf("}}");
    }
    printf("]}\n");
}

static void print_human(const char *path, const fs_image *img,
                        const fs_face *f, int n, int chosen)
{
    printf("%s: %dx%d, %d face%s\n", FS_SHOW(path), img->width, img->height, n,
           n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const fs_quality *q = &f[i].quality;
        printf("  face %d%s: box %.0f,%.0f %.0fx%.0f, score %.2f, eyes %.0f "
               "px apart, roll %.0f, yaw %.0f: %s%s%s\n", i,
               i == chosen ? " (used)" : "", f[i].box[0], f[i].box[1],
               f[i].box[2], f[i].box[3], f[i].score, q->eye_distance,
               q->roll, q->yaw, q->ok ? "ok" : "unsuitable",
               q->ok ? "" : ": ", q->reasons);
    }
    if (n == 0)
        printf("  no face found\n");
}

/* The annotated picture goes to a scratch file in a private directory
 * first (the image writer opens by name and picks the format by the
 * name's extension), then into out, the file made at path as every
 * output is (fs_cli_create: new, 0600, never through a link). */
static int annotate(const fs_image *img, const fs_face *faces, int n,
                    int chosen, const char *path, FILE *out, fs_detail *d)
{
    const char *tmp = getenv("TMPDIR"), *base = strrchr(path, '/');
    const char *ext = strrchr(base ? base + 1 : path, '.');
    char dir[4096], scratch[4200];
    snprintf(dir, sizeof dir, "%s/facesearch-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return fs_fail(d, FS_EIO, "cannot make a scratch directory in "
                       "'%s': %s", tmp && *tmp ? tmp : "/tmp",
                       strerror(errno));
    snprintf(scratch, sizeof scratch, "%s/annotated%.16s", dir,
             ext ? ext : "");
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = fs_annotate(img, faces, n, chosen, scratch, d);
    if (rc != FS_OK)
        rc = fs_fail(d, rc, "cannot write '%s'", path);
    if (rc == FS_OK)
        rc = fs_read_file(scratch, SIZE_MAX / 2, &png, &len, d);
    if (rc == FS_OK && (fwrite(png, 1, len, out) != len ||
                        fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = fs_fail(d, FS_EIO, "cannot write '%s': %s", path,
                     strerror(errno));
    free(png);
    unlink(scratch);
    rmdir(dir);
    return rc;
}

/* The chosen face with room around it (half its box on every side: the
 * whole head, and what the detector needs to find it again), as PNG. */
#define CROP_MARGIN 0.5

static int crop(const fs_image *img, const fs_face *f, const char *path,
                FILE *out, fs_detail *d)
{
    fs_image part;
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = fs_image_crop(img, f->box, CROP_MARGIN, &part, d);
    if (rc == FS_OK) {
        rc = fs_image_encode_png(&part, &png, &len, d);
        fs_image_release(&part);
    }
    if (rc == FS_OK && (fwrite(png, 1, len, out) != len ||
                        fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = fs_fail(d, FS_EIO, "cannot write '%s': %s", path,
                     strerror(errno));
    free(png);
    return rc;
}

int cmd_detect(fs_args *a)
{
    if (a->npos != 1)
        return fs_usage_error(a, a->npos ? "one image at a time" :
                              "no image given");
    long want;
    int st = fs_arg_int(a, "face", 0, FS_MAX_FACES - 1, -1, &want);
    if (st != EXIT_OK)
        return st;
    const char *path = a->pos[0];
    fs_detail d = { "" };
    fs_profile prof;
    const char *pname = fs_arg(a, "profile");
    int rc = pname ? fs_profile_load(pname, &prof, NULL, &d) : FS_OK;
    if (rc == FS_NOTFOUND)
        return fs_usage_error(a, "--profile: %s", d.msg);
    if (rc != FS_OK)
        return fs_cli_fail(rc, &d);
    /* the output first: a file or a link at its path is refused before
     * the work */
    const char *ann = fs_arg(a, "annotate"), *cut = fs_arg(a, "crop");
    FILE *ann_f = NULL, *cut_f = NULL;
    if (ann && cut && strcmp(ann, cut) == 0)
        return fs_usage_error(a, "--annotate and --crop name the same "
                              "file '%s'", ann);
    if (ann && (st = fs_cli_create(a, ann, "the annotated image", &ann_f))
        != EXIT_OK)
        return st;
    if (cut && (st = fs_cli_create(a, cut, "the face's image", &cut_f))
        != EXIT_OK)
        return fs_cli_finish(a, ann, ann_f, st);
    fs_image img;
    rc = fs_image_read(path, &img, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_cli_finish(a, cut, cut_f, fs_exit_status(rc));
        return fs_cli_finish(a, ann, ann_f, st);
    }
    char lbuf[4096];
    fs_engine_options o = { .model_path = NULL,
                            .landmarks_path = fs_landmarks_path(a, lbuf,
                                                                sizeof lbuf),
                            .quality = pname ? &prof.quality : NULL };
    fs_engine *e = NULL;
    fs_face *faces = calloc(FS_MAX_FACES, sizeof *faces);
    int n = 0;
    if (!faces)
        rc = fs_fail(&d, FS_ENOMEM, "out of memory");
    if (rc == FS_OK)
        rc = fs_engine_open(&o, &e, &d);
    if (rc == FS_OK)
        rc = fs_engine_detect(e, &img, faces, FS_MAX_FACES, &n, &d);
    if (rc != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = EXIT_INTERNAL;
        goto out;
    }
    int chosen = fs_default_face(faces, n, img.width, img.height);
    if (want >= 0) {
        if (want >= n) {
            st = fs_usage_error(a, "--face %ld: '%s' has %d face%s", want,
                                path, n, n == 1 ? "" : "s");
            goto out;
        }
        chosen = (int)want;
    }
    if (ann && (rc = annotate(&img, faces, n, chosen, ann, ann_f, &d))
        != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_exit_status(rc) == EXIT_USAGE ? EXIT_USAGE : EXIT_INTERNAL;
        goto out;
    }
    if (cut && chosen < 0) {
        st = fs_usage_error(a, "--crop: '%s' has no face to cut out", path);
        goto out;
    }
    if (cut && (rc = crop(&img, &faces[chosen], cut, cut_f, &d)) != FS_OK) {
        fs_error_msg("%s", d.msg);
        st = fs_exit_status(rc) == EXIT_USAGE ? EXIT_USAGE : EXIT_INTERNAL;
        goto out;
    }
    if (a->json)
        print_json(path, &img, faces, n, chosen);
    else
        print_human(path, &img, faces, n, chosen);
out:
    st = fs_cli_finish(a, cut, cut_f, st);
    st = fs_cli_finish(a, ann, ann_f, st);
    fs_engine_close(e);
    free(faces);
    fs_image_release(&img);
    return st;
}
