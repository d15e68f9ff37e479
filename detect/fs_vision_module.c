/*
 * fs_vision_module.c - the entry of facesearch-vision.so (fs_vision.h):
 * the one symbol the module exports, which hands the loader the table of
 * detect/'s C++ adapter functions.  Built into the module only, never
 * into libfacesearch.a: the program reaches these functions through the
 * table alone, so none of OpenCV or dlib is linked into it.
 */
#include "fs_vision.h"

fs_vision_host fs_vision_host_services;

static const fs_vision table = {
    .version = FS_VISION_VERSION,
    .size = sizeof (fs_vision),
    .cv_decode = fs_cv_decode,
    .cv_write_png = fs_cv_write_png,
    .cv_encode_png = fs_cv_encode_png,
    .cv_resize = fs_cv_resize,
    .cascade_open = fs_cascade_open,
    .cascade_close = fs_cascade_close,
    .cascade_detect = fs_cascade_detect,
    .hog_create = fs_hog_create,
    .hog_free = fs_hog_free,
    .hog_begin = fs_hog_begin,
    .hog_features = fs_hog_features,
    .hog_filters = fs_hog_filters,
    .hog_end = fs_hog_end,
    .landmarker_open = fs_landmarker_open,
    .landmarker_save = fs_landmarker_save,
    .landmarker_close = fs_landmarker_close,
    .landmarker_forest = fs_landmarker_forest,
    .landmarker_sample = fs_landmarker_sample,
    .landmarker_place = fs_landmarker_place,
    .face_chip = fs_dlib_face_chip,
    .chip_points = fs_dlib_chip_points,
};

/* The module is built with hidden visibility: this is its one export. */
__attribute__((visibility("default"))) fs_vision_entry_fn fs_vision_entry;

__attribute__((visibility("default"))) const fs_vision *
fs_vision_entry(int version, const fs_vision_host *host)
{
    if (version != FS_VISION_VERSION || !host || !host->alloc ||
        !host->sha256)
        return NULL;
    fs_vision_host_services = *host;
    return &table;
}
