/*
 * fs_rank_int.h - the ranking kernels behind fs_rank_topk.  Private to
 * index/: fs_rank.c drives them, fs_rank_kern.c holds them, one table of
 * function pointers per instruction-set level.
 *
 * Every kernel has a plain-C reference at FS_ISA_GENERIC, which the SIMD
 * levels must match: the float dot products to rounding (and exactly to
 * each other and to themselves: a row scores the same bits wherever it
 * lies in a block and at either SIMD level, so equal rows tie exactly),
 * the int8 dot products and the filter exactly.
 *
 * The compressed copy of the templates is laid out for the int8 kernels:
 * blocks of FS_Q8_ROWS rows; inside a block, for each group of four
 * dimensions, the four bytes of row 0, then of row 1, ... (the operand
 * order of vpdpbusd), so a block is FS_Q8_ROWS * FS_DESC_DIM bytes.
 * Bytes are the quantised value + 128 (unsigned); the probe is signed, so
 * every row's integer dot product carries the same offset
 * 128 * sum(probe), which changes no ranking.
 *
 * Thread-safe: the kernels only read their inputs and write their output.
 */
#ifndef FS_RANK_INT_H
#define FS_RANK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/base/fs_types.h"

#define FS_Q8_ROWS   16                      /* rows per int8 block */
#define FS_Q8_BLOCK  (FS_Q8_ROWS * FS_DESC_DIM)  /* bytes per int8 block */

/* The int8 scan reads several far-apart parts of the copy at once, a
 * block from each in turn (the VNNI kernel works on them together).  Read
 * as consecutive blocks instead, the pass took 1.3-2.1x as long on 1M
 * rows and 2 threads (interleaved A/B, 2026-12-05).  The float scan reads
 * its rows in order: see scan_f32. */
#define FS_Q8_STREAMS  4

typedef struct fs_rank_kernels {
    /* out[i] = rows[i] . q for n rows anywhere (the scan passes them in
     * order, the re-scoring passes candidates). */
    void   (*dot_f32_rows)(const float *const *rows, size_t n,
                           const float *q, float *out);
    /* out[(FS_Q8_STREAMS * b + s) * FS_Q8_ROWS + r] = the integer dot
     * product of q with row r of block b of stream s (base[s] + b *
     * FS_Q8_BLOCK), as a float (exact: it stays below 2^24). */
    void   (*dot_u8_streams)(const uint8_t *const *base, size_t nblk,
                             const int8_t *q, float *out);
    /* Writes the indices i < n with s[i] >= thr to idx, in order, and
     * returns how many. */
    size_t (*filter_ge)(const float *s, size_t n, float thr, uint32_t *idx);
    const char *dot_u8_name;                 /* which int8 instruction */
} fs_rank_kernels;

/* A row and a block of zeros, read in place of the missing rows of a
 * short group; their scores are never used. */
extern const float   fs_rank_zero_row[FS_DESC_DIM];
extern const uint8_t fs_rank_zero_block[FS_Q8_BLOCK];

/* The kernels of one level (FS_ISA_*); the caller checked the CPU. */
const fs_rank_kernels *fs_rank_kernels_for(int isa);

/* Whether this CPU runs vpdpbusd on 512-bit registers. */
int fs_rank_has_vnni(void);

#endif /* FS_RANK_INT_H */
