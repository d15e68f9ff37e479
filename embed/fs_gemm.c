/*
 * fs_gemm.c - the networks' matrix products (faceres's 1x1 convolutions
 * and conv1, the ResNet's im2col and Winograd products), with an
 * optional bias and clamp (fs_embed.h).
 *
 * Why not only cblas_sgemm: OpenBLAS picks its kernels by core type, and
 * the core type can be set from outside (OPENBLAS_CORETYPE).  Told
 * "Haswell" on an AMD EPYC whose FMAs are 512 bits wide (as the shell
 * this project is developed and tested in is), it runs 256-bit kernels
 * at half the core's rate: faceres took 17.5 ms a chip on one thread
 * against 8.8 ms with OpenBLAS's own pick.  Where the CPU has AVX-512
 * the weights are packed once, at create, into panels of 32 columns,
 * and a 12x32 register tile (24 zmm sums) multiplies them, so our rate
 * no longer hangs on a BLAS setting: 8.3 ms a chip.  Elsewhere the
 * product is OpenBLAS's, with the same epilogue after it.
 *
 * Each output element is summed over k in order with fused multiply-
 * adds, then the bias is added and the result clamped, as the BLAS path
 * does in two passes; the two agree to rounding, not to the bit.  On
 * the packed path an element's sum never depends on the rows or columns
 * around it, so neither the batch nor the threads' split move its bits.
 */
#include "fs_embed_int.h"

#include <assert.h>
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "fs_embed.h"

#define NR FS_GEMM_COLS              /* a panel's columns: two zmm */
#define MR 12                       /* a tile's rows: 24 sums, 2 + 1 loads */
#define CHUNK_BYTES (256 * 1024)    /* rows of A revisited per panel */

int fs_gemm_b_init(fs_gemm_b *b, const float *w, int k, int n, int level)
{
    int zmm = level != FS_GEMM_BLAS && __builtin_cpu_supports("avx512f");
    int panels = (n + NR - 1) / NR;
    size_t floats = zmm ? (size_t)panels * k * NR : (size_t)k * n;
    b->w = fs_alloc64(floats);
    if (!b->w)
        return FS_ENOMEM;
    b->k = k;
    b->n = n;
    b->packed = zmm;
    if (!zmm) {
        memcpy(b->w, w, floats * sizeof *w);
        return FS_OK;
    }
    /* panel p: k rows of its 32 columns, zeros past n */
    for (int p = 0; p < panels; p++)
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < NR; j++) {
                int col = p * NR + j;
                b->w[((size_t)p * k + kk) * NR + j] =
                    col < n ? w[(size_t)kk * n + col] : 0.0f;
            }
    return FS_OK;
}

void fs_gemm_b_free(fs_gemm_b *b)
{
    free(b->w);
    b->w = NULL;
}

/* row[i] = clamp(row[i] + bias[i], lo, hi), bias may be NULL. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void epilogue(float *restrict row, const float *restrict bias, int n,
                     float lo, float hi)
{
    for (int i = 0; i < n; i++) {
        float v = row[i] + (bias ? bias[i] : 0.0f);
        v = v < lo ? lo : v;
        row[i] = v > hi ? hi : v;
    }
}

/* mr rows of A (mr <= MR, a constant where inlined) times one packed
 * panel into mr rows of C's panel columns, then + bias and the clamp. */
__attribute__((always_inline, target("avx512f")))
static inline void tile(const int mr, int k, const float *a, long lda,
                        const float *bp, float *c, long ldc,
                        const float *bias, __mmask16 m0, __mmask16 m1,
                        float lo, float hi)
{
    /* only the sums and the panel's row live through the k loop: the
     * epilogue's vectors are made after it, or the 32 zmm overflow */
    __m512 s0[MR], s1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++)
        if (r < mr)
            s0[r] = s1[r] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++) {
        __m512 w0 = _mm512_load_ps(bp + (size_t)p * NR);
        __m512 w1 = _mm512_load_ps(bp + (size_t)p * NR + 16);
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++)
            if (r < mr) {
                __m512 x = _mm512_set1_ps(a[r * lda + p]);
                s0[r] = _mm512_fmadd_ps(x, w0, s0[r]);
                s1[r] = _mm512_fmadd_ps(x, w1, s1[r]);
            }
    }
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16)
                     : _mm512_setzero_ps();
    __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++)
        if (r < mr) {
            __m512 v0 = _mm512_add_ps(s0[r], b0);
            __m512 v1 = _mm512_add_ps(s1[r], b1);
            v0 = _mm512_min_ps(_mm512_max_ps(v0, vlo), vhi);
            v1 = _mm512_min_ps(_mm512_max_ps(v1, vlo), vhi);
            _mm512_mask_storeu_ps(c + r * ldc, m0, v0);
            _mm512_mask_storeu_ps(c + r * ldc + 16, m1, v1);
        }
}

/* Rows are taken a chunk at a time (CHUNK_BYTES of A, at least a tile),
 * every panel over the chunk: the chunk stays in L2 while the panels go
 * by, and a panel (k x 32 floats) stays in L2 while its tiles go by. */
__attribute__((target("avx512f")))
static void run_zmm(const fs_gemm_b *b, long m, const float *a, long lda,
                    float *c, long ldc, int c0, int c1, const float *bias,
                    float lo, float hi)
{
    long chunk = CHUNK_BYTES / ((long)b->k * (long)sizeof(float));
    chunk = chunk < MR ? MR : chunk / MR * MR;
    for (long r0 = 0; r0 < m; r0 += chunk) {
        long r1 = m - r0 < chunk ? m : r0 + chunk;
        for (int p = c0 / NR; p * NR < c1; p++) {
            int cols = c1 - p * NR < NR ? c1 - p * NR : NR;
            __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
            __mmask16 m1 = cols >= NR ? 0xffff :
                           cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
            const float *bias_p = bias ? bias + p * NR : NULL;
            const float *bp = b->w + (size_t)p * b->k * NR;
            for (long r = r0; r < r1; r += MR) {
                const float *ar = a + r * lda;
                float *cr = c + r * ldc + (p * NR - c0);
                switch (r1 - r < MR ? (int)(r1 - r) : MR) {
#define TILE(n) case n: tile(n, b->k, ar, lda, bp, cr, ldc, bias_p, m0, m1, \
                             lo, hi); break;
                TILE(12) TILE(11) TILE(10) TILE(9) TILE(8) TILE(7)
                TILE(6) TILE(5) TILE(4) TILE(3) TILE(2) TILE(1)
#undef TILE
                }
            }
        }
    }
}

void fs_gemm_run(const fs_gemm_b *b, long m, const float *a, long lda,
                 float *c, long ldc, int c0, int c1, const float *bias,
                 float lo, float hi)
{
    if (m <= 0 || c1 <= c0)
        return;
    assert(c0 >= 0 && c1 <= b->n && (!b->packed || c0 % NR == 0));
    if (b->packed) {
        run_zmm(b, m, a, lda, c, ldc, c0, c1, bias, lo, hi);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, c1 - c0,
                b->k, 1.0f, a, (int)lda, b->w + c0, b->n, 0.0f, c, (int)ldc);
    if (bias || lo > -INFINITY || hi < INFINITY)
        for (long r = 0; r < m; r++)
            epilogue(c + r * ldc, bias ? bias + c0 : NULL, c1 - c0, lo, hi);
}
