/*
 * wire_seeds.c - writes fuzz_wire's seeds, one valid frame body of each
 * kind (fs_fuzz_wire_seeds), into a corpus directory: `wire_seeds DIR`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../tools/fs_wire.h"

void fs_fuzz_wire_seeds(void (*emit)(void *ctx, const char *name,
                                     const uint8_t *body, size_t len),
                        void *ctx);

static void write_seed(void *ctx, const char *name, const uint8_t *body,
                       size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/seed-%s", (const char *)ctx, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(body, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "wire_seeds: cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wire_seeds DIR\n");
        return 2;
    }
    fs_fuzz_wire_seeds(write_seed, argv[1]);
    return 0;
}
