/*
 * fs_embed.h - the embed module: the face-descriptor network in C (its
 * products on our own AVX-512 tiles, or OpenBLAS), and the model file
 * that holds its weights.
 *
 * The network is dlib's face-recognition ResNet
 * (dlib_face_recognition_resnet_model_v1: 29 conv layers, 150x150 RGB
 * chip in, 128-D descriptor out), computed exactly as dlib computes it
 * (input (p - mean)/256), with the weights face-api ships.  The forward
 * pass is NHWC; each convolution is an im2col tile fed to a matrix
 * product, fs_gemm_run (the 3x3 stride-1 ones as Winograd F(2x2,3x3)
 * tiles, 16 products) with the
 * batch-norm scale folded into the filters and bias, ReLU and the
 * residual add fused into one pass over the tile.
 *
 * Model file
 * ----------
 * A model file holds named float32 tensors, converted once by
 * `make models` from the quantised weights.  Layout, integers
 * little-endian:
 *
 *   0    header, FS_MODEL_HEADER_BYTES:
 *          magic "FSMODEL\0", u32 format version, u32 tensor count,
 *          u64 payload offset (64-byte aligned), u64 payload bytes,
 *          char model_id[96] (NUL-padded),
 *          u8 source_sha256[32]  (the quantised .bin it came from),
 *          u8 table_sha256[32]   (of the tensor table bytes),
 *          u8 payload_sha256[32] (of the payload bytes),
 *          u8 header_sha256[32]  (of the 224 header bytes before it)
 *   256  tensor table, FS_MODEL_ENTRY_BYTES per tensor:
 *          char name[88], u32 ndim, u32 dims[4], u32 reserved,
 *          u64 byte offset into the payload, u64 element count
 *   ...  payload: float32 little-endian, each tensor 64-byte aligned
 *
 * fs_model_open refuses (with a detail naming the file and the fault) a
 * missing, short, truncated, corrupt or wrong-version file before any
 * tensor is handed out: a model that opened is whole.
 *
 * Threads: a fs_model is immutable after open and may be shared.  A
 * fs_net runs one forward pass at a time (callers serialise) on its own
 * team of threads; OpenBLAS is kept single-threaded under it.
 */
#ifndef FS_EMBED_H
#define FS_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_error.h"
#include "../engine/base/fs_types.h"

#define FS_MODEL_MAGIC         "FSMODEL"   /* 7 chars + NUL = 8 bytes */
#define FS_MODEL_VERSION       1u
#define FS_MODEL_HEADER_BYTES  256u
#define FS_MODEL_ENTRY_BYTES   128u
#define FS_MODEL_NAME_MAX      88u         /* including the NUL */
#define FS_MODEL_ID_MAX        96u         /* including the NUL */
#define FS_MODEL_MAX_TENSORS   4096u

typedef struct fs_model fs_model;

typedef struct fs_tensor {
    const char  *name;
    unsigned     ndim;
    unsigned     dims[4];
    size_t       count;     /* product of dims */
    const float *data;
} fs_tensor;

int  fs_model_open(const char *path, fs_model **out, fs_detail *d);
void fs_model_close(fs_model *m);

/* FS_NOTFOUND when the model has no tensor of that name. */
int  fs_model_find(const fs_model *m, const char *name, fs_tensor *out);
size_t fs_model_tensor_count(const fs_model *m);
void fs_model_tensor_at(const fs_model *m, size_t i, fs_tensor *out);

const char *fs_model_id(const fs_model *m);
/* Identity of the weights: sha256 of the payload, as 64 hex digits. */
const char *fs_model_sha256_hex(const fs_model *m);

/* Writes a model file atomically (temporary file, fsync, rename), so a
 * crash never leaves a half-written model under `path`. */
int fs_model_write(const char *path, const char *model_id,
                   const uint8_t source_sha256[32],
                   const fs_tensor *tensors, size_t n, fs_detail *d);


/* ---- the network ------------------------------------------------------ */

typedef struct fs_net fs_net;

typedef struct fs_net_options {
    int threads;        /* <= 0: one per online CPU */
    int max_batch;      /* chips per internal batch; <= 0: 16 */
    int direct;         /* 1: im2col for every layer, no Winograd (the
                           reference the fast path is tested against) */
} fs_net_options;

/* Checks every tensor the network needs (name and shape) and prepares
 * folded weights; the model may be closed afterwards. */
int  fs_net_create(const fs_model *m, const fs_net_options *opt,
                   fs_net **out, fs_detail *d);
/* What fs_net_create would refuse in m (a tensor missing or misshapen),
 * found without building: milliseconds, where building fills some 30 MB
 * of fresh memory with folded and transformed weights. */
int  fs_net_check(const fs_model *m, fs_detail *d);
void fs_net_free(fs_net *net);

/* Descriptors of n chips: chips holds n * FS_CHIP_BYTES bytes (row-major,
 * R,G,B interleaved), desc receives n * FS_DESC_DIM raw network outputs
 * (not normalised, as dlib returns them).  Allocates only when n exceeds
 * every earlier call's batch (up to max_batch). */
int  fs_net_forward(fs_net *net, const uint8_t *chips, size_t n,
                    float *desc);

int    fs_net_threads(const fs_net *net);
/* Floating-point operations of one chip's forward pass: with batch 0 as
 * direct convolution (the network's nominal cost, the same for every
 * implementation), else what this one computes per chip at that batch. */
double fs_net_flops_per_chip(const fs_net *net, int batch);

/* The ranking template: desc scaled to unit L2 norm (tmpl may equal
 * desc).  FS_EINVAL for a zero vector. */
int  fs_template_from_descriptor(const float *desc, float *tmpl);

/* The networks' matrix product (fs_gemm.c), also bench embed's
 * yardstick beside OpenBLAS's.  B (k x n, row-major as given) is held in
 * the form fs_gemm_run multiplies fastest here (fs_gemm.c says why):
 * packed into panels of 32 columns where the CPU has AVX-512, as given
 * elsewhere.  FS_GEMM_BLAS keeps OpenBLAS's product on any CPU (the
 * tests hold the two to each other). */
typedef struct fs_gemm_b {
    float *w;
    int    k, n;
    int    packed;
} fs_gemm_b;

enum { FS_GEMM_BEST, FS_GEMM_BLAS };

/* FS_OK, or FS_ENOMEM; w may be freed afterwards. */
int  fs_gemm_b_init(fs_gemm_b *b, const float *w, int k, int n, int level);
void fs_gemm_b_free(fs_gemm_b *b);
/* Columns [c0, c1) of clamp(A B + bias, lo, hi) into C (m x (c1 - c0),
 * row stride ldc) for A (m x k, row stride lda): bias (n floats) may be
 * NULL, lo and hi infinite.  Packed weights take c0 at a multiple of
 * FS_GEMM_COLS.  One thread: callers split the rows or the columns. */
#define FS_GEMM_COLS 32
void fs_gemm_run(const fs_gemm_b *b, long m, const float *a, long lda,
                 float *c, long ldc, int c0, int c1, const float *bias,
                 float lo, float hi);

#endif /* FS_EMBED_H */
