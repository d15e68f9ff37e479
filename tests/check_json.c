/*
 * check_json.c - the JSON reader: what it accepts, exactly, and that it
 * refuses malformed and hostile input with FS_EFORMAT.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../engine/base/fs_json.h"

static int parse(const char *s, fs_json **j)
{
    fs_detail d = { "" };
    return fs_json_parse(s, strlen(s), j, &d);
}

START_TEST(test_json_values)
{
    fs_json *j;
    ck_assert_int_eq(parse(" {\"a\": [1, -2.5e3, true, false, null],"
                           " \"s\": \"x\\\"\\u00e9\\n\", \"o\": {}} ", &j),
                     FS_OK);
    const fs_json *a = fs_json_get(j, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->type, FS_JSON_ARRAY);
    ck_assert_uint_eq(a->n, 5);
    ck_assert(a->items[1]->number == -2500.0);
    ck_assert_int_eq(a->items[2]->type, FS_JSON_TRUE);
    ck_assert_int_eq(a->items[4]->type, FS_JSON_NULL);
    ck_assert_str_eq(fs_json_get(j, "s")->string, "x\"\xc3\xa9\n");
    ck_assert_uint_eq(fs_json_get(j, "o")->n, 0);
    ck_assert_ptr_null(fs_json_get(j, "missing"));
    fs_json_free(j);
}
END_TEST

/* Weights are dequantised from the manifest's doubles: they must read
 * back bit-identical to what JavaScript wrote. */
START_TEST(test_json_doubles_exact)
{
    fs_json *j;
    ck_assert_int_eq(parse("[0.0005260649557207145, -0.07101876902229645, "
                           "8.471445956577858e-7]", &j), FS_OK);
    ck_assert(j->items[0]->number == 0.0005260649557207145);
    ck_assert(j->items[1]->number == -0.07101876902229645);
    ck_assert(j->items[2]->number == 8.471445956577858e-7);
    fs_json_free(j);
}
END_TEST

START_TEST(test_json_refuses_malformed)
{
    static const char *bad[] = {
        "", "[", "[1,]", "{\"a\":}", "{\"a\" 1}", "\"open", "[01]",
        "[1.]", "[-]", "tru", "[1] x", "{1:2}", "\"\\q\"", "[\"\x01\"]",
        "\"\\u12\"", "[1e]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fs_json *j = NULL;
        ck_assert_msg(parse(bad[i], &j) == FS_EFORMAT, "accepted '%s'",
                      bad[i]);
        ck_assert_ptr_null(j);
    }
}
END_TEST

START_TEST(test_json_refuses_deep_nesting)
{
    char s[4096];
    memset(s, '[', sizeof s - 1);
    s[sizeof s - 1] = 0;
    fs_json *j = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_json_parse(s, strlen(s), &j, &d), FS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "deep"));
}
END_TEST

START_TEST(test_json_missing_file)
{
    fs_json *j = NULL;
    fs_detail d = { "" };
    ck_assert_int_eq(fs_json_parse_file("/nonexistent/x.json", &j, &d),
                     FS_ENOENT);
    ck_assert_ptr_nonnull(strstr(d.msg, "/nonexistent/x.json"));
}
END_TEST

Suite *suite_json(void);
Suite *suite_json(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, test_json_values);
    tcase_add_test(tc, test_json_doubles_exact);
    tcase_add_test(tc, test_json_refuses_malformed);
    tcase_add_test(tc, test_json_refuses_deep_nesting);
    tcase_add_test(tc, test_json_missing_file);
    suite_add_tcase(s, tc);
    return s;
}
