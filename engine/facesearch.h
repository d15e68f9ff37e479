/*
 * facesearch.h - the public C API of the facesearch engine, the one
 * header the command-line tool and other front ends include.
 *
 * The layers read bottom-up, each calling only those below it, along the
 * one direction data flows: intake -> detect -> embed -> rank -> gate ->
 * report.
 *   engine/base/  errors, crypto, packing, threads, JSON, files
 *   detect/ embed/ index/   the modules (fs_detect.h, fs_embed.h,
 *                 fs_index.h)
 *   engine/fs_engine.h      the pipeline's front: images to templates
 *   engine/fs_eval.h        accuracy figures from scores (eval)
 *   gate/fs_gate.h          people, cases, the gated search, the trail:
 *                 the only door to a candidate list
 */
#ifndef FACESEARCH_H
#define FACESEARCH_H

#define FS_VERSION "0.1.0"

#include "base/fs_crypt.h"
#include "base/fs_error.h"
#include "base/fs_types.h"
#include "fs_engine.h"
#include "fs_eval.h"
#include "../gate/fs_gate.h"

#endif /* FACESEARCH_H */
