/*
 * check_service.c - facesearchd, the gallery service (issue 13): the
 * gate's tests run a second time through it (check_gate.c and
 * check_accounts.c in service mode); a token copied to another OS user
 * opens nothing (G1); the files a user names are read with that user's
 * rights, never the service's; many clients at once with an enrolment and
 * a key rotation beside them; a SIGKILL mid-enrolment loses at most the
 * batch in hand; hostile and slow clients get an error and the door, and
 * stall nobody else; and the protocol's decoder on its seeds and the
 * fuzzer's finds (tests/fuzz/fuzz_wire.c).
 *
 * The tests that change OS user (setpriv, as root) skip with a note when
 * the suite does not run as root.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../engine/facesearch.h"
#include "../engine/base/fs_json.h"
#include "../tools/fs_wire.h"
#include "fs_testutil.h"

TCase *tcase_gate(int through_service);
TCase *tcase_accounts(int through_service);
int    fs_fuzz_wire(const uint8_t *data, size_t size);
void   fs_fuzz_wire_seeds(void (*emit)(void *ctx, const char *name,
                                       const uint8_t *body, size_t len),
                          void *ctx);

#define PW TU_PASSWORD

static char gal[4096];

static void svc_setup(void)
{
    tu_tmp_setup();
    snprintf(gal, sizeof gal, "%s/gallery", tu_tmp);
}

/* ---- the protocol's decoder ------------------------------------------------ */

static void seed_round_trip(void *ctx, const char *name, const uint8_t *body,
                            size_t len)
{
    fs_wire_msg m;
    fs_detail d = { "" };
    ck_assert_msg(fs_wire_decode(body, len, &m, &d) == FS_OK, "seed %s: %s",
                  name, d.msg);
    fs_wire_clear(&m);
    fs_fuzz_wire(body, len);            /* aborts when it does not encode
                                           back to the same bytes */
    (*(int *)ctx)++;
}

/* Every kind of message decodes and encodes back to its bytes; each of
 * the fuzzer's finds kept in tests/fuzz/regress_wire/ passes again. */
START_TEST(test_wire_seeds_and_regress_replayed)
{
    int seeds = 0;
    fs_fuzz_wire_seeds(seed_round_trip, &seeds);
    ck_assert_int_ge(seeds, FS_W_EXIT);
    const char *tests = getenv("FACESEARCH_TESTS");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/fuzz/regress_wire",
             tests && *tests ? tests : "tests");
    DIR *dp = opendir(dir);
    ck_assert_msg(dp != NULL, "cannot read %s", dir);
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len;
        uint8_t *b = tu_read(tu_path(dir, e->d_name), &len);
        ck_assert_msg(b != NULL, "cannot read %s", e->d_name);
        fs_fuzz_wire(b, len);
        free(b);
    }
    closedir(dp);
}
END_TEST

/* A frame body built by hand: a type byte and fields. */
typedef struct frame {
    uint8_t b[256];
    size_t  n;
} frame;

static void f_u8(frame *f, uint8_t v)
{
    f->b[f->n++] = v;
}

static void f_u32(frame *f, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        f_u8(f, (uint8_t)(v >> 8 * i));
}

static void f_str(frame *f, const char *s, size_t n)
{
    f_u32(f, (uint32_t)n);
    memcpy(f->b + f->n, s, n);
    f->n += n;
}

static void expect_malformed(const frame *f, const char *what)
{
    fs_wire_msg m;
    fs_detail d = { "" };
    ck_assert_msg(fs_wire_decode(f->b, f->n, &m, &d) == FS_EFORMAT,
                  "%s: decoded", what);
    ck_assert_ptr_null(m.frame);
    fs_fuzz_wire(f->b, f->n);
}

/* What no encoder writes is refused: a string running past the frame or
 * holding a NUL, bytes after the last field, an unknown type or flag, a
 * RUN of no or too many arguments, a listing longer than its frame or
 * with a name that is empty, holds a '/' or a bad kind, an empty path. */
START_TEST(test_wire_decoder_refuses_what_no_encoder_writes)
{
    frame f;
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_HELLO); f_u32(&f, 1); f_u32(&f, 10); f.b[f.n++] = 'x';
    expect_malformed(&f, "a string past the frame");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_HELLO); f_u32(&f, 1); f_str(&f, "a\0b", 3);
    expect_malformed(&f, "a NUL in a string");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_EXIT); f_u32(&f, 0); f_u8(&f, 0);
    expect_malformed(&f, "a byte after the last field");
    f = (frame){ .n = 0 };
    f_u8(&f, 0); f_u32(&f, 0);
    expect_malformed(&f, "type 0");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_EXIT + 1);
    expect_malformed(&f, "a type past the last");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, 4); f_u32(&f, 1);
    f_str(&f, "fs", 2);
    expect_malformed(&f, "an unknown RUN flag");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, 0); f_u32(&f, 0);
    expect_malformed(&f, "a RUN of no arguments");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, 0);
    f_u32(&f, FS_WIRE_ARGS_MAX + 1);
    for (int i = 0; i < 40; i++)
        f_u32(&f, 0);
    expect_malformed(&f, "a RUN of too many arguments");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_RUN); f_u32(&f, 1); f_u32(&f, FS_W_HAS_TOKEN);
    f_u32(&f, 1); f_str(&f, "fs", 2);
    expect_malformed(&f, "a RUN whose token is missing");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_REPLY); f_u32(&f, 0); f_str(&f, "", 0);
    f_u32(&f, 0x40000000u);
    expect_malformed(&f, "a listing longer than its frame");
    static const struct { uint8_t kind; const char *name; } bad[] = {
        { 0, "" }, { 0, "a/b" }, { 2, "a" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f = (frame){ .n = 0 };
        f_u8(&f, FS_W_REPLY); f_u32(&f, 0); f_str(&f, "", 0); f_u32(&f, 1);
        f_u8(&f, bad[i].kind); f_str(&f, bad[i].name, strlen(bad[i].name));
        expect_malformed(&f, "a bad entry");
    }
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_OPEN); f_str(&f, "", 0);
    expect_malformed(&f, "an empty path");
    f = (frame){ .n = 0 };
    f_u8(&f, FS_W_SAVE); f_u32(&f, 0);
    expect_malformed(&f, "a short token");
    fs_wire_msg m;
    ck_assert_int_eq(fs_wire_decode(f.b, 0, &m, NULL), FS_EFORMAT);
}
END_TEST

Suite *suite_service(void)
{
    Suite *s = suite_create("service");
    suite_add_tcase(s, tcase_gate(1));
    suite_add_tcase(s, tcase_accounts(1));
    TCase *tc = tcase_create("service");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, svc_setup, tu_tmp_teardown);
    suite_add_tcase(s, tc);
    TCase *wire = tcase_create("wire");
    tcase_add_test(wire, test_wire_seeds_and_regress_replayed);
    tcase_add_test(wire, test_wire_decoder_refuses_what_no_encoder_writes);
    suite_add_tcase(s, wire);
    return s;
}
