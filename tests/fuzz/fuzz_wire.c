/*
 * fuzz_wire.c - libFuzzer target for the service's message decoder
 * (tools/fs_wire.c; make fuzz FUZZ_TARGET=wire).  The input is one frame's
 * body, as fs_wire_recv hands it to fs_wire_decode after the length.  Any
 * input must end in FS_OK or a clean FS_EFORMAT: no crash, no leak, no
 * read outside the buffer (ASan + UBSan).  A frame that decodes must
 * encode back to the very same bytes: the encoding is canonical, so a
 * decoder that accepts what the encoder would never write, or reads a
 * field other than the encoder wrote it, shows up here as an abort.
 *
 * The seeds are one valid frame of each kind (fs_fuzz_wire_seeds, written
 * out by wire_seeds.c).  `make check` round-trips the seeds and replays
 * tests/fuzz/regress_wire/ through fs_fuzz_wire (tests/check_service.c),
 * built with FS_FUZZ_REPLAY: without the libFuzzer entry point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/fs_wire.h"

int  fs_fuzz_wire(const uint8_t *data, size_t size);
void fs_fuzz_wire_seeds(void (*emit)(void *ctx, const char *name,
                                     const uint8_t *body, size_t len),
                        void *ctx);

/* Stops the run saying what went wrong: libFuzzer keeps the input. */
static void stop(const char *what, size_t n)
{
    fprintf(stderr, "fuzz_wire: %s (%zu)\n", what, n);
    abort();
}

int fs_fuzz_wire(const uint8_t *data, size_t size)
{
    fs_wire_msg m;
    fs_detail d = { "" };
    int rc = fs_wire_decode(data, size, &m, &d);
    if (rc != FS_OK) {
        if (rc != FS_EFORMAT && rc != FS_ENOMEM)
            stop("a frame fails with a code of its own, bytes", size);
        if (m.frame || m.entries)
            stop("a refused frame keeps memory, bytes", size);
        return 0;
    }
    /* a decoded message has no descriptors of its own: those come with
     * the frame on the socket, not in it */
    if (m.nfds != 0)
        stop("a decoded frame claims descriptors, bytes", size);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fs_wire_encode(&m, &buf, &len) != FS_OK)
        stop("a decoded frame does not encode back, bytes", size);
    uint32_t n = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
                 (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
    if (len != size + 4 || n != size || memcmp(buf + 4, data, size) != 0)
        stop("a decoded frame encodes back to other bytes, bytes", size);
    free(buf);
    fs_wire_clear(&m);
    return 0;
}

/* One message of each type, and of each variant a field makes (RUN with
 * and without its token and terminal; REPLY with a descriptor's answer,
 * a refusal, a listing), each passed to emit as a frame body. */
void fs_fuzz_wire_seeds(void (*emit)(void *ctx, const char *name,
                                     const uint8_t *body, size_t len),
                        void *ctx)
{
    static fs_wire_entry listing[] = { { "subj-1", 1 }, { "a.jpg", 0 },
                                       { "b c.png", 0 } };
    fs_wire_msg m[] = {
        { .type = FS_W_HELLO, .version = FS_WIRE_VERSION,
          .text = "c04fd5c332e228ec961fdfaa2e5fb62b" },
        { .type = FS_W_RUN, .version = FS_WIRE_VERSION, .argc = 3,
          .argv = { "facesearch", "gallery", "stats" } },
        { .type = FS_W_RUN, .version = FS_WIRE_VERSION,
          .flags = FS_W_HAS_TOKEN | FS_W_HAS_TTY, .argc = 5,
          .argv = { "facesearch", "search", "--request", "R1", "p.jpg" },
          .token = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                     31, 32 } },
        { .type = FS_W_OPEN, .text = "/home/eve/probe.jpg" },
        { .type = FS_W_CREATE, .text = "report.csv" },
        { .type = FS_W_DISCARD, .text = "report.csv" },
        { .type = FS_W_LIST, .text = "mugshots/subj-1" },
        { .type = FS_W_SAVE, .token = { 0xa7, 0xa7, 0xa7, 0xa7 } },
        { .type = FS_W_DROP },
        { .type = FS_W_REPLY, .code = FS_OK, .text = "" },
        { .type = FS_W_REPLY, .code = FS_EACCESS,
          .text = "cannot open 'x': Permission denied" },
        { .type = FS_W_REPLY, .code = FS_OK, .text = "", .nentries = 3,
          .entries = listing },
        { .type = FS_W_EXIT, .code = 1 },
    };
    static const char *const names[] = {
        "hello", "run", "run-token-tty", "open", "create", "discard",
        "list", "save", "drop", "reply", "reply-refused", "reply-listing",
        "exit"
    };
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        uint8_t *buf;
        size_t len;
        if (fs_wire_encode(&m[i], &buf, &len) != FS_OK)
            stop("a seed does not encode: seed", i);
        emit(ctx, names[i], buf + 4, len - 4);
        free(buf);
    }
}

#ifndef FS_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fs_fuzz_wire(data, size);
}
#endif
