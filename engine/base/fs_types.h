/*
 * fs_types.h - the sizes every stage agrees on.  Base layer: any module
 * may include it.
 */
#ifndef FS_TYPES_H
#define FS_TYPES_H

#define FS_CHIP_SIZE   150                            /* chip side, pixels */
#define FS_CHIP_BYTES  (FS_CHIP_SIZE * FS_CHIP_SIZE * 3)  /* 8-bit R,G,B */
#define FS_DESC_DIM    128                            /* descriptor length */
/* The second model's template (faceres, embed/fs_faceres.h), kept per
 * image in a gallery whose recipe names it (index/fs_index.h). */
#define FS_DESC2_DIM   1024

#endif /* FS_TYPES_H */
