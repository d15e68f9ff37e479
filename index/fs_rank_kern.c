/*
 * fs_rank_kern.c - the ranking kernels of fs_rank_int.h at each
 * instruction-set level, and the run-time choice of the level.
 *
 * Each SIMD function carries __attribute__((target(...))), so the file
 * builds for plain x86-64 and the wide instructions run only where
 * fs_isa_best() found them in CPUID and enabled by the OS (XCR0): the
 * shipped binary never depends on the build machine.
 *
 * Float kernels score a group of rows together (16 for AVX-512, 8 for
 * AVX2), given as pointers, then a transposing reduction tree that does
 * the same additions for every row.  A short group is filled up with a
 * row of zeros and scored by the same code, so a row's score never
 * depends on where it lies or which rows share its group; equal rows tie
 * exactly.  Both SIMD levels compute one sum, the same to the bit:
 *
 *   a_c[l] = the fused multiply-add chain of x[8j+l] q[8j+l] over the
 *            blocks j = c, c+4, c+8, c+12 (c < 4, l < 8; the first term
 *            a plain product)
 *   f[l]   = (a_0[l] + a_2[l]) + (a_1[l] + a_3[l])
 *   score  = ((f0 + f4) + (f2 + f6)) + ((f1 + f5) + (f3 + f7))
 *
 * so a gallery scores the same on any machine with AVX2, and shards on
 * machines of either level agree.  The AVX-512 kernel holds the four
 * chains two to a register.  Against the one-chain kernels they replaced
 * the read rate is unchanged (0.95 of a plain read, median of 5
 * interleaved runs each, AMD EPYC), and the two levels read within
 * noise of each other.
 *
 * Everything here is pure computation: no allocation, no state; safe from
 * any number of threads.
 */
#include "fs_rank_int.h"

#include <math.h>
#include <string.h>

#include "fs_index.h"

#if defined(__x86_64__) || defined(__i386__)
#define FS_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* ---- the plain-C reference ------------------------------------------- */

const float fs_rank_zero_row[FS_DESC_DIM] __attribute__((aligned(64)));
const uint8_t fs_rank_zero_block[FS_Q8_BLOCK] __attribute__((aligned(64)));

/* Eight interleaved partial sums, combined in a fixed order: the compiler
 * may vectorise the lanes (no reassociation needed), and the result is
 * the same on every machine. */
static float dot_generic(const float *x, const float *q)
{
    float acc[8] = { 0 };
    for (int d = 0; d < FS_DESC_DIM; d += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += x[d + l] * q[d + l];
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) +
           ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

static void dot_f32_rows_generic(const float *const *rows, size_t n,
                                 const float *q, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = dot_generic(rows[i], q);
}

static void dot_u8_streams_generic(const uint8_t *const *base, size_t nblk,
                                   const int8_t *q, float *out)
{
    for (size_t b = 0; b < nblk; b++)
        for (int st = 0; st < FS_Q8_STREAMS; st++) {
            const uint8_t *blk = base[st] + b * FS_Q8_BLOCK;
            for (int r = 0; r < FS_Q8_ROWS; r++) {
                int32_t s = 0;
                for (int g = 0; g < FS_DESC_DIM / 4; g++)
                    for (int j = 0; j < 4; j++)
                        s += (int32_t)blk[g * 4 * FS_Q8_ROWS + r * 4 + j] *
                             q[4 * g + j];
                *out++ = (float)s;
            }
        }
}

static size_t filter_ge_generic(const float *s, size_t n, float thr,
                                uint32_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= thr)
            idx[m++] = (uint32_t)i;
    return m;
}

static const fs_rank_kernels kern_generic = {
    dot_f32_rows_generic, dot_u8_streams_generic,
    filter_ge_generic, "generic"
};

#ifdef FS_X86

/* ---- AVX2 + FMA -------------------------------------------------------- */

#define AVX2 __attribute__((target("avx2,fma")))

/* The float scan reads its rows in order, and the processor's own
 * prefetch alone left it short of a plain read: on an AMD EPYC (AVX-512
 * as two 256-bit halves) `bench rank` put the one-chain AVX-512 kernel's
 * 1-thread scan at 0.62-0.76 of its yardstick as it was and 0.84-0.92
 * with each row's lines asked for 1 KB (two rows) ahead (three runs of
 * each build, interleaved); 4 KB ahead was no better than none in a
 * stand-alone test.  A hint: an address past the matrix, or a scattered
 * row's neighbour, costs a wasted line at most, never a fault; the
 * integer sum keeps it so. */
#define ROW_PREFETCH_AHEAD 1024
static inline void prefetch_ahead(const float *row)
{
    uintptr_t a = (uintptr_t)row + ROW_PREFETCH_AHEAD;
    for (int l = 0; l < FS_DESC_DIM * 4 / 64; l++)
        _mm_prefetch((const char *)(a + 64 * (uintptr_t)l), _MM_HINT_T0);
}

/* 8 rows against q (16 ymm of the probe in registers) into out[0..8). */
static inline AVX2 void dot8_avx2(const float *const *x, const __m256 *qv,
                                  float *out)
{
    __m256 f[8];
    /* unrolled, as dot16_avx512: rolled, the slot arithmetic and the
     * stores of f[] held the 1-thread scan of 1M rows at 20.9-22.2 ms a
     * probe; unrolled 15.8-16.1 (a stand-alone test, 3 interleaved runs) */
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) {
        const float *row = x[r];
        prefetch_ahead(row);
        __m256 a[4];
        for (int c = 0; c < 4; c++)
            a[c] = _mm256_mul_ps(_mm256_loadu_ps(row + 8 * c), qv[c]);
        for (int j = 4; j < FS_DESC_DIM / 8; j += 4)
            for (int c = 0; c < 4; c++)
                a[c] = _mm256_fmadd_ps(_mm256_loadu_ps(row + 8 * (j + c)),
                                       qv[j + c], a[c]);
        /* the tree below leaves the rows in the order of the slots
         * 0 2 4 6 1 3 5 7 */
        f[r % 4 * 2 + r / 4] = _mm256_add_ps(_mm256_add_ps(a[0], a[2]),
                                             _mm256_add_ps(a[1], a[3]));
    }
    __m256 g[4], h[2];
    for (int i = 0; i < 4; i++)             /* f[l] + f[l+4] */
        g[i] = _mm256_add_ps(_mm256_permute2f128_ps(f[2 * i], f[2 * i + 1],
                                                    0x20),
                             _mm256_permute2f128_ps(f[2 * i], f[2 * i + 1],
                                                    0x31));
    for (int i = 0; i < 2; i++)             /* g[l] + g[l+2] */
        h[i] = _mm256_add_ps(_mm256_unpacklo_ps(g[2 * i], g[2 * i + 1]),
                             _mm256_unpackhi_ps(g[2 * i], g[2 * i + 1]));
    __m256d h0 = _mm256_castps_pd(h[0]), h1 = _mm256_castps_pd(h[1]);
    _mm256_storeu_ps(out, _mm256_add_ps(         /* h0 + h1 */
        _mm256_castpd_ps(_mm256_unpacklo_pd(h0, h1)),
        _mm256_castpd_ps(_mm256_unpackhi_pd(h0, h1))));
}

static inline AVX2 void load_q_avx2(const float *q, __m256 *qv)
{
    for (int j = 0; j < FS_DESC_DIM / 8; j++)
        qv[j] = _mm256_loadu_ps(q + 8 * j);
}

static AVX2 void dot_f32_rows_avx2(const float *const *rows, size_t n,
                                   const float *q, float *out)
{
    __m256 qv[FS_DESC_DIM / 8];
    load_q_avx2(q, qv);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        dot8_avx2(rows + i, qv, out + i);
    if (i < n) {
        const float *x[8];
        float o[8];
        for (int r = 0; r < 8; r++)
            x[r] = i + (size_t)r < n ? rows[i + (size_t)r] : fs_rank_zero_row;
        dot8_avx2(x, qv, o);
        memcpy(out + i, o, (n - i) * sizeof *o);
    }
}

/* vpmaddwd on zero-extended bytes: exact 32-bit sums, no saturation (the
 * vpmaddubsw shortcut saturates at 16 bits). */
static AVX2 void dot_u8_streams_avx2(const uint8_t *const *base,
                                     size_t nblk, const int8_t *q,
                                     float *out)
{
    int64_t qw[FS_DESC_DIM / 4];         /* 4 probe words per group */
    for (int g = 0; g < FS_DESC_DIM / 4; g++) {
        uint64_t w = 0;
        for (int j = 0; j < 4; j++)
            w |= (uint64_t)(uint16_t)(int16_t)q[4 * g + j] << (16 * j);
        qw[g] = (int64_t)w;
    }
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    for (size_t b = 0; b < nblk; b++)
        for (int st = 0; st < FS_Q8_STREAMS; st++, out += FS_Q8_ROWS) {
            const uint8_t *blk = base[st] + b * FS_Q8_BLOCK;
            __m256i acc[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(),
                               _mm256_setzero_si256(),
                               _mm256_setzero_si256() };
            for (int g = 0; g < FS_DESC_DIM / 4; g++) {
                const uint8_t *p = blk + g * 4 * FS_Q8_ROWS;
                __m256i w = _mm256_set1_epi64x(qw[g]);
                for (int a = 0; a < 4; a++) {     /* rows 4a .. 4a+3 */
                    __m256i x = _mm256_cvtepu8_epi16(
                        _mm_loadu_si128((const __m128i *)(p + 16 * a)));
                    acc[a] = _mm256_add_epi32(acc[a],
                                              _mm256_madd_epi16(x, w));
                }
            }
            /* each row holds two partial sums in adjacent lanes */
            for (int h = 0; h < 2; h++) {
                __m256i s = _mm256_hadd_epi32(acc[2 * h], acc[2 * h + 1]);
                s = _mm256_permutevar8x32_epi32(s, order);
                _mm256_storeu_ps(out + 8 * h, _mm256_cvtepi32_ps(s));
            }
        }
}

static AVX2 size_t filter_ge_avx2(const float *s, size_t n, float thr,
                                  uint32_t *idx)
{
    __m256 t = _mm256_set1_ps(thr);
    size_t m = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        unsigned bits = (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_loadu_ps(s + i), t, _CMP_GE_OQ));
        for (; bits; bits &= bits - 1)
            idx[m++] = (uint32_t)(i + (size_t)__builtin_ctz(bits));
    }
    for (; i < n; i++)
        if (s[i] >= thr)
            idx[m++] = (uint32_t)i;
    return m;
}

static const fs_rank_kernels kern_avx2 = {
    dot_f32_rows_avx2, dot_u8_streams_avx2,
    filter_ge_avx2, "avx2 vpmaddwd"
};

/* ---- AVX-512 ----------------------------------------------------------- */

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx2,fma")))
#define AVX512VNNI \
    __attribute__((target("avx512f,avx512bw,avx512vnni,avx2,fma")))

/* 16 rows against q (8 zmm of the probe) into out[0..16). */
static inline AVX512 void dot16_avx512(const float *const *x,
                                       const __m512 *qv, float *out)
{
    __m512 acc[16];
    /* unrolled, acc[] lives in registers: rolled, gcc kept it on the
     * stack, and the stores and reloads held the 1-thread scan of 1M rows
     * at 18.8-22.3 ms a probe; now 14.1-15.8 (interleaved runs of `bench
     * rank --threads 1`) */
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        const float *row = x[r];
        prefetch_ahead(row);
        /* the header's chains, two to a register: a_0 and a_1 in the
         * low and high halves of c01, a_2 and a_3 in those of c23 */
        __m512 c01 = _mm512_mul_ps(_mm512_loadu_ps(row), qv[0]);
        __m512 c23 = _mm512_mul_ps(_mm512_loadu_ps(row + 16), qv[1]);
        for (int j = 2; j < FS_DESC_DIM / 16; j += 2) {
            c01 = _mm512_fmadd_ps(_mm512_loadu_ps(row + 16 * j), qv[j], c01);
            c23 = _mm512_fmadd_ps(_mm512_loadu_ps(row + 16 * j + 16),
                                  qv[j + 1], c23);
        }
        acc[r % 4 * 4 + r / 4] = _mm512_add_ps(c01, c23);  /* the tree below
                                                            * transposes 4x4 */
    }
    /* transpose-and-add: 16 vectors of 16 partial sums -> 16 sums; its
     * first step adds the halves, which completes the header's f */
    __m512 b[8], c[4], e[2];
    for (int i = 0; i < 8; i++)
        b[i] = _mm512_add_ps(
            _mm512_shuffle_f32x4(acc[2 * i], acc[2 * i + 1], 0x44),
            _mm512_shuffle_f32x4(acc[2 * i], acc[2 * i + 1], 0xee));
    for (int i = 0; i < 4; i++)
        c[i] = _mm512_add_ps(
            _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
            _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xdd));
    for (int i = 0; i < 2; i++)
        e[i] = _mm512_add_ps(_mm512_unpacklo_ps(c[2 * i], c[2 * i + 1]),
                             _mm512_unpackhi_ps(c[2 * i], c[2 * i + 1]));
    __m512d e0 = _mm512_castps_pd(e[0]), e1 = _mm512_castps_pd(e[1]);
    _mm512_storeu_ps(out, _mm512_add_ps(
        _mm512_castpd_ps(_mm512_unpacklo_pd(e0, e1)),
        _mm512_castpd_ps(_mm512_unpackhi_pd(e0, e1))));
}

static inline AVX512 void load_q_avx512(const float *q, __m512 *qv)
{
    for (int j = 0; j < FS_DESC_DIM / 16; j++)
        qv[j] = _mm512_loadu_ps(q + 16 * j);
}

static AVX512 void dot_f32_rows_avx512(const float *const *rows, size_t n,
                                       const float *q, float *out)
{
    __m512 qv[FS_DESC_DIM / 16];
    load_q_avx512(q, qv);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        dot16_avx512(rows + i, qv, out + i);
    if (i < n) {
        const float *x[16];
        float o[16];
        for (int r = 0; r < 16; r++)
            x[r] = i + (size_t)r < n ? rows[i + (size_t)r] : fs_rank_zero_row;
        dot16_avx512(x, qv, o);
        memcpy(out + i, o, (n - i) * sizeof *o);
    }
}

/* One vpdpbusd per group of 4 dimensions scores 16 rows at once.  Each
 * stream's block sums its even and its odd groups apart: with one chain
 * per stream, four chains of 32 dependent vpdpbusd, the int8 pass ran
 * 1.2-1.9x slower (1M rows, 1 and 2 threads, interleaved A/B on the EPYC
 * of issue 15): it waited on the instruction's latency, not on memory.
 * Four chains per stream were no faster than two. */
static AVX512VNNI void dot_u8_streams_vnni(const uint8_t *const *base,
                                           size_t nblk, const int8_t *q,
                                           float *out)
{
    int32_t q4[FS_DESC_DIM / 4];
    memcpy(q4, q, sizeof q4);
    for (size_t b = 0; b < nblk; b++, out += FS_Q8_STREAMS * FS_Q8_ROWS) {
        __m512i even[FS_Q8_STREAMS], odd[FS_Q8_STREAMS];
        const uint8_t *p[FS_Q8_STREAMS];
        for (int s = 0; s < FS_Q8_STREAMS; s++) {
            even[s] = odd[s] = _mm512_setzero_si512();
            p[s] = base[s] + b * FS_Q8_BLOCK;
        }
        for (int g = 0; g < FS_DESC_DIM / 4; g += 2) {
            __m512i w0 = _mm512_set1_epi32(q4[g]);
            __m512i w1 = _mm512_set1_epi32(q4[g + 1]);
            for (int s = 0; s < FS_Q8_STREAMS; s++) {
                even[s] = _mm512_dpbusd_epi32(
                    even[s], _mm512_loadu_si512(p[s] + g * 64), w0);
                odd[s] = _mm512_dpbusd_epi32(
                    odd[s], _mm512_loadu_si512(p[s] + g * 64 + 64), w1);
            }
        }
        for (int s = 0; s < FS_Q8_STREAMS; s++)
            _mm512_storeu_ps(out + s * FS_Q8_ROWS, _mm512_cvtepi32_ps(
                _mm512_add_epi32(even[s], odd[s])));
    }
}

static AVX512 size_t filter_ge_avx512(const float *s, size_t n, float thr,
                                      uint32_t *idx)
{
    __m512 t = _mm512_set1_ps(thr);
    size_t m = 0;
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 live = n - i >= 16 ? (__mmask16)0xffff
                                     : (__mmask16)((1u << (n - i)) - 1);
        unsigned bits = _mm512_mask_cmp_ps_mask(
            live, _mm512_maskz_loadu_ps(live, s + i), t, _CMP_GE_OQ);
        for (; bits; bits &= bits - 1)
            idx[m++] = (uint32_t)(i + (size_t)__builtin_ctz(bits));
    }
    return m;
}

/* Without VNNI the AVX2 int8 kernel serves: the only AVX-512 int8 route
 * worth having is vpdpbusd. */
static const fs_rank_kernels kern_avx512 = {
    dot_f32_rows_avx512, dot_u8_streams_avx2,
    filter_ge_avx512, "avx2 vpmaddwd"
};
static const fs_rank_kernels kern_avx512_vnni = {
    dot_f32_rows_avx512, dot_u8_streams_vnni,
    filter_ge_avx512, "avx512 vpdpbusd"
};

/* ---- what this CPU and OS offer ---------------------------------------- */

/* XCR0: which register states the OS saves on a context switch. */
static uint64_t xcr0(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

int fs_isa_best(void)
{
    uint64_t x = xcr0();
    int ymm = (x & 0x6) == 0x6;             /* SSE + AVX state */
    int zmm = ymm && (x & 0xe0) == 0xe0;    /* opmask, ZMM_Hi256, Hi16_ZMM */
    if (zmm && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return FS_ISA_AVX512;
    if (ymm && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return FS_ISA_AVX2;
    return FS_ISA_GENERIC;
}

int fs_rank_has_vnni(void)
{
    return fs_isa_best() == FS_ISA_AVX512 &&
           __builtin_cpu_supports("avx512vnni");
}

const fs_rank_kernels *fs_rank_kernels_for(int isa)
{
    switch (isa) {
    case FS_ISA_AVX512:
        return fs_rank_has_vnni() ? &kern_avx512_vnni : &kern_avx512;
    case FS_ISA_AVX2:
        return &kern_avx2;
    default:
        return &kern_generic;
    }
}

#else /* not x86 */

int fs_isa_best(void)
{
    return FS_ISA_GENERIC;
}

int fs_rank_has_vnni(void)
{
    return 0;
}

const fs_rank_kernels *fs_rank_kernels_for(int isa)
{
    (void)isa;
    return &kern_generic;
}

#endif

const char *fs_isa_name(int isa)
{
    switch (isa) {
    case FS_ISA_GENERIC: return "generic";
    case FS_ISA_AVX2:    return "avx2";
    case FS_ISA_AVX512:  return "avx512";
    default:             return "unknown";
    }
}
