/*
 * fuzz_intake.c - libFuzzer target for intake + decode (make fuzz).
 * Any input must end in FS_OK or a clean refusal: no crash, no hang, no
 * leak, no read outside the buffer (ASan + UBSan).
 */
#include <stdlib.h>
#include <string.h>

#include "../../detect/fs_detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);     /* decode may patch it */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    fs_image img;
    fs_detail d;
    if (fs_image_decode(copy, size, "fuzz", &img, &d) == FS_OK) {
        /* the whole decoded image is readable and upright-sized */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < (size_t)img.width * img.height * 3; i += 97)
            sink ^= img.rgb[i];
        (void)sink;
        fs_image_release(&img);
    }
    free(copy);
    return 0;
}
