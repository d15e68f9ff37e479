/*
 * fs_embed_int.h - what the module's two networks (fs_net.c, dlib's
 * ResNet; fs_faceres.c, HSE's faceres) share and nobody else sees.
 */
#ifndef FS_EMBED_INT_H
#define FS_EMBED_INT_H

#include <stddef.h>

/* floats floats, 64-byte aligned (the kernels' loads), never NULL for 0
 * floats; free() it. */
void *fs_alloc64(size_t floats);

/* 16 channels at a time: one AVX-512 register, two AVX2, four SSE; the
 * ISA is picked per function by target_clones.  V16(p) reads or writes
 * the 16 floats at p, any alignment. */
typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef int v16i __attribute__((vector_size(64)));
#define V16(p) (*(v16 *)(p))

/* A network's nbuf activation buffers, each per_chip floats a chip,
 * grown to hold a batch of n chips (never shrunk: *batch_alloc is the
 * batch they hold).  FS_OK, or FS_ENOMEM with *batch_alloc 0. */
int fs_act_reserve(float **buf, int nbuf, size_t per_chip,
                   size_t *batch_alloc, size_t n);

#endif /* FS_EMBED_INT_H */
