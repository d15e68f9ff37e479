/*
 * check_main.c - the one runner of every Check suite; its summary line
 * ("N%: Checks: ..., Failures: ..., Errors: ...") is what CI reads.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

Suite *suite_json(void);
Suite *suite_model(void);
Suite *suite_embed(void);
Suite *suite_faceres(void);
Suite *suite_cli(void);
Suite *suite_intake(void);
Suite *suite_detect(void);
Suite *suite_gallery(void);
Suite *suite_rank(void);
Suite *suite_enroll(void);
Suite *suite_gate(void);
Suite *suite_profile(void);
Suite *suite_search(void);
Suite *suite_review(void);
Suite *suite_tamper(void);
Suite *suite_accounts(void);
Suite *suite_text(void);
Suite *suite_service(void);
Suite *suite_report(void);
Suite *suite_stats(void);
Suite *suite_html(void);
Suite *suite_eval(void);
Suite *suite_shard(void);

int main(void)
{
    SRunner *sr = srunner_create(suite_json());
    srunner_add_suite(sr, suite_model());
    srunner_add_suite(sr, suite_intake());
    srunner_add_suite(sr, suite_embed());
    srunner_add_suite(sr, suite_faceres());
    srunner_add_suite(sr, suite_detect());
    srunner_add_suite(sr, suite_gallery());
    srunner_add_suite(sr, suite_rank());
    srunner_add_suite(sr, suite_enroll());
    srunner_add_suite(sr, suite_gate());
    srunner_add_suite(sr, suite_profile());
    srunner_add_suite(sr, suite_search());
    srunner_add_suite(sr, suite_review());
    srunner_add_suite(sr, suite_tamper());
    srunner_add_suite(sr, suite_accounts());
    srunner_add_suite(sr, suite_cli());
    srunner_add_suite(sr, suite_text());
    srunner_add_suite(sr, suite_service());
    srunner_add_suite(sr, suite_report());
    srunner_add_suite(sr, suite_stats());
    srunner_add_suite(sr, suite_html());
    srunner_add_suite(sr, suite_eval());
    srunner_add_suite(sr, suite_shard());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
