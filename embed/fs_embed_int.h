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

/* A network's nbuf activation buffers, each per_chip floats a chip,
 * grown to hold a batch of n chips (never shrunk: *batch_alloc is the
 * batch they hold).  FS_OK, or FS_ENOMEM with *batch_alloc 0. */
int fs_act_reserve(float **buf, int nbuf, size_t per_chip,
                   size_t *batch_alloc, size_t n);

#endif /* FS_EMBED_INT_H */
