/*
 * fs_engine_int.h - the engine's insides, shared by the files of engine/
 * that compose the pipeline (facesearch.c, fs_faces.c).  No other module
 * includes it.
 */
#ifndef FS_ENGINE_INT_H
#define FS_ENGINE_INT_H

#include "fs_engine.h"
#include "base/fs_file.h"
#include "base/fs_pool.h"
#include "../embed/fs_embed.h"

struct fs_engine {
    /* The models are read and checked when the engine opens; each
     * network is built from its model on first use (fs_engine_networks),
     * and the model closed: a command refused before it embeds anything
     * (a search the gate turns away, init) never builds one. */
    fs_model     *model, *model2;   /* not yet built; NULL: built or none */
    fs_net_options net_options;
    fs_net       *net;              /* NULL: not built, or no model */
    fs_faceres   *fr;               /* the second network, or NULL */
    uint8_t      *chips2;           /* its 224 chips, as chips */
    float        *desc2;
    int           threads;          /* as asked: <= 0 one per CPU */
    /* The front of the pipeline (intake, detection, alignment) runs one
     * image per thread; dlib's detectors are not safe to share, so each
     * thread has its own.  Both are made on first use. */
    fs_pool      *front;
    fs_detector **det;              /* ndet of them: one per thread that
                                       has detected */
    int           ndet;
    uint8_t      *chips;            /* fs_engine_templates' scratch */
    float        *desc, *tmpl;
    size_t        scratch;          /* chips the scratch holds */
    char          landmarks[4096];
    int           detect_mode;
    fs_quality_limits quality;      /* G13: the profile's, or defaults */
    int           mirror;           /* fs_engine_set_mirror */
    char          model_id[FS_MODEL_ID_MAX];
    char          model_sha[65];
    char          model2_id[FS_MODEL_ID_MAX];   /* "": no second model */
    char          model2_sha[65];
    const fs_opener *opener;        /* NULL: files opened as ourselves */
};

/* fs_engine_front adds to the pool (fs_engine_pool) every
 * thread's detector (loading the landmark model takes a second or two,
 * which work that finds nothing to detect never pays). */
int fs_engine_front(fs_engine *e, fs_detail *d);

#endif /* FS_ENGINE_INT_H */
