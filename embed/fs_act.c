/*
 * fs_act.c - the activation memory both networks of embed/ run a batch
 * in (fs_embed_int.h).
 */
#include "fs_embed_int.h"

#include <stdlib.h>

#include "../engine/base/fs_error.h"

void *fs_alloc64(size_t floats)
{
    size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes ? bytes : 64);
}

int fs_act_reserve(float **buf, int nbuf, size_t per_chip,
                   size_t *batch_alloc, size_t n)
{
    if (n <= *batch_alloc)
        return FS_OK;
    for (int i = 0; i < nbuf; i++) {
        free(buf[i]);
        buf[i] = fs_alloc64(per_chip * n);
        if (!buf[i]) {
            *batch_alloc = 0;
            return FS_ENOMEM;
        }
    }
    *batch_alloc = n;
    return FS_OK;
}
