/*
 * check_profile.c - G6 as the profiles state it: every shipped profile
 * names each prohibited purpose in other words (prohibited_terms), the
 * matcher finds those words in what a requester types and nowhere else,
 * and the parser refuses a malformed phrase list with its line.
 *
 * The phrasings below are this suite's own, not copied from the
 * profiles, and none uses its purpose's slug words: each is also checked
 * to pass once the profile's phrases are removed, so the phrases, not
 * the slugs, are what refuse it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../gate/fs_gate.h"

/* fs_profile holds the phrase tables (tens of kilobytes): kept off the
 * stack. */
static fs_profile prof, bare;

static void load(const char *name)
{
    fs_detail d = { "" };
    ck_assert_msg(fs_profile_load(name, &prof, NULL, &d) == FS_OK, "%s: %s",
                  name, d.msg);
}

typedef struct stated {
    const char *text;
    const char *purpose;       /* the slug expected, or NULL: allowed */
} stated;

/* Each text under profile name states its purpose, or none; and the
 * same profile without its phrases finds nothing in the refused ones. */
static void expect_all(const char *name, const stated *c, size_t n)
{
    load(name);
    bare = prof;
    bare.n_terms = 0;
    for (size_t i = 0; i < n; i++) {
        char why[64] = "";
        int got = fs_profile_prohibited(&prof, c[i].text, why, sizeof why);
        ck_assert_msg(got == (c[i].purpose != NULL) &&
                      (!got || strcmp(why, c[i].purpose) == 0),
                      "%s: '%s' gave %d '%s', not %s", name, c[i].text, got,
                      why, c[i].purpose ? c[i].purpose : "allowed");
        ck_assert_msg(!c[i].purpose ||
                      !fs_profile_prohibited(&bare, c[i].text, NULL, 0),
                      "%s: '%s' uses the slug's own words", name,
                      c[i].text);
    }
}

#define EXPECT_ALL(name, cases) \
    expect_all(name, cases, sizeof cases / sizeof *cases)

START_TEST(test_G6_shipped_profiles_have_terms)
{
    for (int i = 0; fs_profile_names[i]; i++) {
        load(fs_profile_names[i]);
        ck_assert_int_gt(prof.n_prohibited, 0);
        ck_assert_int_le(prof.n_terms, FS_PROFILE_TERMS_MAX);
        for (int s = 0; s < prof.n_prohibited; s++) {
            int n = 0;
            for (int t = 0; t < prof.n_terms; t++)
                n += prof.terms[t].purpose == s;
            ck_assert_msg(n > 0, "%s: no prohibited_terms for '%s'",
                          fs_profile_names[i], prof.prohibited[s]);
        }
        /* G8 and G6 agree on which profiles refuse recorded video */
        int video = 0;
        for (int s = 0; s < prof.n_prohibited; s++)
            video |= strcmp(prof.prohibited[s], "recorded-video") == 0;
        ck_assert_int_eq(video, prof.forbid_recorded_video);
    }
}
END_TEST

START_TEST(test_G6_prohibited_phrasings_detroit)
{
    static const stated c[] = {
        { "Find out whether he is in the country legally",
          "immigration-status" },
        { "Check if she overstayed her visa so we can hand her over to ICE",
          "immigration-status" },
        { "Is he a U.S. citizen or a green card holder?",
          "immigration-status" },
        { "Identify the people holding signs at Saturday's rally outside "
          "city hall", "lawful-events" },
        { "Identify the speakers at last night's city council meeting",
          "lawful-events" },
        { "Run everyone who walks into the mosque on Friday",
          "surveillance-of-public" },
        { "Keep an eye on who goes in and out of the corner store all week",
          "surveillance-of-public" },
        { "Run the faces from the gas station's live feed", "live-stream" },
        { "Probe is a frame grab from the liquor store CCTV",
          "recorded-video" },
        { "Still from the store's CCTV video", "recorded-video" },
        { "Officer wants to scan his face on the street with a phone app",
          "mobile-fr" },
        { "Tell us which of these young men are likely to commit a shooting "
          "next summer", "predictive-analysis" },
        { "Give each of the gang associates a risk score",
          "predictive-analysis" },
        { "He is an activist who keeps criticizing the chief",
          "protected-views" },
        { "Who are the members of the union organizing the auto plant",
          "noncriminal-organization" },
        { "Stopped him because he looks foreign", "protected-class" },
        { "Find out if this person is transgender", "protected-class" },
    };
    EXPECT_ALL("detroit", c);
}
END_TEST

START_TEST(test_G6_prohibited_phrasings_miami)
{
    static const stated c[] = {
        { "Check who my ex is seeing", "personal-use" },
        { "Just curious who she is, no case", "personal-use" },
        { "Do me a favor and run this girl I met at the bar",
          "personal-use" },
        { "Send the results to a private investigator working for the "
          "family", "personal-use" },
        { "He filed a complaint against our officers; find out who he is "
          "so we can pay him a visit", "harass-or-intimidate" },
        { "Want to know who keeps filming officers at traffic stops so we "
          "can scare him", "harass-or-intimidate" },
        { "Identify the protesters blocking Biscayne Boulevard",
          "protected-views" },
        { "Identify the people praying outside the synagogue",
          "protected-views" },
        { "We need to know which of them are Muslims", "protected-views" },
        { "Identify the men at the gay bar on 5th Street",
          "protected-class" },
        { "Find out what country she is from", "protected-class" },
        { "Tell me when he shows up on camera at the mall",
          "real-time-monitoring" },
        { "Track his movements across the city cameras",
          "real-time-monitoring" },
        { "Run it but don't log this one", "violate-law-or-policy" },
        { "Use the DMV photos instead of mugshots for this one",
          "violate-law-or-policy" },
    };
    EXPECT_ALL("miami", c);
}
END_TEST

START_TEST(test_G6_prohibited_phrasings_nypd)
{
    static const stated c[] = {
        { "Check who my ex is seeing", "personal-use" },
        { "Personal reasons, just want to see who she is", "personal-use" },
        { "Can you run this for a friend, he wants to know who scratched "
          "his car", "personal-use" },
        { "She is my neighbour and keeps parking in my spot",
          "personal-use" },
        { "A guy cut me off on the FDR and I want to know who he is",
          "personal-use" },
        { "This isn't for a case, I'm curious", "personal-use" },
        { "Want to know if my daughter's boyfriend has a record",
          "personal-use" },
        { "Looking up a pretty woman from the subway so I can ask her out",
          "personal-use" },
        { "Off the record: who is this guy my sister is dating",
          "personal-use" },
        { "Bail bondsman asked us to find this skip", "personal-use" },
        { "Send the results to a private investigator working for the "
          "family", "personal-use" },
    };
    EXPECT_ALL("nypd", c);
}
END_TEST

START_TEST(test_G6_prohibited_phrasings_nys_model)
{
    static const stated c[] = {
        { "Who is my neighbor's new boyfriend", "personal-use" },
        { "Just for fun, run this photo of a celebrity lookalike",
          "personal-use" },
        { "Identify the Republicans handing out leaflets outside the "
          "library", "protected-views" },
        { "Find the men who worship at the Albany mosque",
          "protected-views" },
        { "Identify the members of the NAACP chapter",
          "noncriminal-organization" },
        { "Figure out who belongs to the tenants association on Elm Street",
          "noncriminal-organization" },
        { "Identify the demonstrators outside the Capitol",
          "lawful-events" },
        { "Run the people who showed up to the school board meeting",
          "lawful-events" },
        { "Identify attendees at the Pride parade", "lawful-events" },
        { "Is this woman married? I'd like to know", "protected-class" },
        { "Stopped him because he is Muslim", "protected-class" },
        { "Check whether he is gay", "protected-class" },
    };
    EXPECT_ALL("nys-model", c);
}
END_TEST

START_TEST(test_G6_prohibited_phrasings_lacris)
{
    static const stated c[] = {
        { "Identify everyone in the crowd at the Dodgers game",
          "surveillance-of-public" },
        { "Monitor the park entrance and identify anyone suspicious",
          "surveillance-of-public" },
        { "Run the faces on the Metro station webcam as they walk by",
          "live-stream" },
        { "Alert us when he appears on the camera feed", "live-stream" },
        { "Predict who will join the gang next", "predictive-analysis" },
        { "Give each probationer a risk score", "predictive-analysis" },
        { "Identify the protesters at the ICE facility on Alameda",
          "protected-views" },
        { "Who are the Democrats at the county convention",
          "protected-views" },
        { "Identify the members of the block club on 54th Street",
          "noncriminal-organization" },
        { "Find out whether he is in the country legally",
          "protected-class" },
        { "Check whether the driver is undocumented", "protected-class" },
        { "Find out if this person is transgender", "protected-class" },
    };
    EXPECT_ALL("lacris", c);
}
END_TEST

/* Violent-crime requests worded as officers write them, with the words
 * that sit close to a prohibited purpose: a month, a date, a party, a
 * race, a Visa card, a church, a crowd, an ex, the Real Time Crime
 * Center, a phone, "police" around "ice". */
static const stated legitimate[] = {
    { "Suspect robbed the Shell station on 7 March 2026 at gunpoint; "
      "witness description matches", NULL },
    { "Victim was stabbed outside a birthday party on Date Street after a "
      "street race; suspect fled on foot", NULL },
    { "Suspect used the victim's stolen Visa card at a gas station an hour "
      "after the carjacking at gunpoint", NULL },
    { "Homicide on 12 March: victim shot twice in the parking lot of the "
      "church on Main Street; probe is a photo from the victim's phone",
      NULL },
    { "Home invasion: armed suspect forced entry while the family was home "
      "and disabled the alarm; a neighbour photographed him leaving", NULL },
    { "Submitted via the Real Time Crime Center; carjacking at gunpoint of "
      "an elderly driver; suspect is a Black male in his twenties", NULL },
    { "Suspect shot the victim after an argument at a March 3 barbecue; he "
      "is armed and may commit further assaults", NULL },
    { "Police responded to a robbery at an ice cream shop; the clerk was "
      "pistol-whipped; suspect photo from a witness", NULL },
    { "The victim's ex-boyfriend is not the suspect; the assailant is an "
      "unknown man who punched her at the bus stop and took her purse",
      NULL },
    { "The shooter fled into a crowd of shoppers at the mall; a shopper "
      "photographed him before he ran", NULL },
    { "Robbery of a jewelry store; suspect displayed a handgun and fled in "
      "a white sedan; a witness took a photo with her phone", NULL },
    { "The suspect and victim met online; he sexually assaulted her on "
      "their first date; photo from his dating profile", NULL },
    { "Suspect pointed a gun at officers in the field office lobby and "
      "fled", NULL },
    { "Witness says the attacker predicted the victim would not survive; "
      "suspect still at large", NULL },
    { "Robbery of a cell phone store; suspect stole several phones and a "
      "tablet at gunpoint", NULL },
    { "Aggravated stalking and harassment of the victim ended in an "
      "assault; he threatened her at work", NULL },
    { "Arrested for unlawful use of a firearm after the shooting; the "
      "second suspect is unidentified", NULL },
};

START_TEST(test_G6_legitimate_justifications_pass)
{
    for (int i = 0; fs_profile_names[i]; i++)
        EXPECT_ALL(fs_profile_names[i], legitimate);
}
END_TEST

/* A still from a store's camera is an ordinary probe where stills from
 * recorded video are allowed, and refused where they are not (Detroit
 * 3.2). */
START_TEST(test_G6_video_stills_refused_only_under_detroit)
{
    const char *text = "Suspect robbed the Shell station on 7 March 2026 at "
                       "gunpoint; still from the store's camera shows his "
                       "face; witness description matches";
    for (int i = 0; fs_profile_names[i]; i++) {
        load(fs_profile_names[i]);
        char why[64] = "";
        int got = fs_profile_prohibited(&prof, text, why, sizeof why);
        ck_assert_msg(got == prof.forbid_recorded_video, "%s: %d '%s'",
                      fs_profile_names[i], got, why);
        ck_assert(!got || strcmp(why, "recorded-video") == 0);
    }
}
END_TEST

/* detroit's text without its prohibited_terms lines, then extra; *line
 * receives the number of extra's first line.  The caller frees. */
static char *detroit_with(const char *extra, int *line)
{
    const char *t = fs_profile_builtin("detroit");
    char *out = malloc(strlen(t) + strlen(extra) + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    *line = 1;
    for (const char *nl; *t; t = nl + 1) {
        nl = strchr(t, '\n');
        ck_assert_ptr_nonnull(nl);
        if (strncmp(t, "prohibited_terms", 16) == 0)
            continue;
        memcpy(o, t, (size_t)(nl - t + 1));
        o += nl - t + 1;
        ++*line;
    }
    memcpy(o, extra, strlen(extra) + 1);
    return out;
}

static int parse_with(const char *extra, int *line, fs_detail *d)
{
    char *t = detroit_with(extra, line);
    int rc = fs_profile_parse(t, strlen(t), &prof, d);
    free(t);
    return rc;
}

START_TEST(test_G6_matcher_whole_words)
{
    fs_detail d = { "" };
    int line;
    ck_assert_msg(parse_with("prohibited_terms = lawful-events: rally | "
                             "Sit-In | teach*\n"
                             "prohibited_terms = immigration-status: ice | "
                             "deport* | ex's papers\n", &line, &d) == FS_OK,
                  "%s", d.msg);
    ck_assert_int_eq(prof.n_terms, 6);
    ck_assert_str_eq(prof.terms[1].phrase, "sit in");
    ck_assert_str_eq(prof.terms[5].phrase, "ex s papers");
    static const stated c[] = {
        { "a RALLY.", "lawful-events" },
        { "rallying the troops", NULL },       /* "rally" is not a stem */
        { "teachers' sit--in", "lawful-events" },
        { "police", NULL },                    /* "ice" is a whole word */
        { "call I.C.E.", NULL },
        { "notify ICE now", "immigration-status" },
        { "deportation", "immigration-status" },
        { "redeport", NULL },                  /* stems start at a word */
        { "check my ex\xe2\x80\x99s papers", "immigration-status" },
        { "Immigration-Status", "immigration-status" },   /* the slug */
        { "mobile\tFR", "mobile-fr" },
        { "", NULL },
        { "  ...  ", NULL },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char why[64] = "";
        int got = fs_profile_prohibited(&prof, c[i].text, why, sizeof why);
        ck_assert_msg(got == (c[i].purpose != NULL) &&
                      (!got || strcmp(why, c[i].purpose) == 0),
                      "'%s' gave %d '%s'", c[i].text, got, why);
    }
    /* the first purpose in the text is the one named */
    char why[8];
    ck_assert_int_eq(fs_profile_prohibited(&prof, "deport after the rally",
                                           why, sizeof why), 1);
    ck_assert_str_eq(why, "immigra");           /* truncated to cap */
    ck_assert_int_eq(fs_profile_prohibited(&prof, NULL, why, sizeof why), 0);
    ck_assert_int_eq(fs_profile_prohibited(&prof, "rally", NULL, 0), 1);
}
END_TEST

START_TEST(test_G6_terms_syntax_refused)
{
    fs_detail d = { "" };
    int line;
    /* a profile without the key still parses: old galleries keep theirs */
    ck_assert_int_eq(parse_with("", &line, &d), FS_OK);
    ck_assert_int_eq(prof.n_terms, 0);
    /* the purposes may be listed after their phrases */
    const char *late = "prohibited_terms = harassment: lean on him\n"
                       "prohibited = harassment\n";
    ck_assert_msg(parse_with(late, &line, &d) == FS_OK, "%s", d.msg);
    ck_assert_int_eq(prof.terms[0].purpose, prof.n_prohibited - 1);

    static const struct { const char *line, *why; } bad[] = {
        { "prohibited_terms = immigration: deport*", "not one of the" },
        { "prohibited_terms = personal-use: my ex", "not one of the" },
        { "prohibited_terms = deport* | visa overstay", "purpose: phrase" },
        { "prohibited_terms = : deport*", "purpose: phrase" },
        { "prohibited_terms = immigration-status: deport* | | visa",
          "1 to 47" },
        { "prohibited_terms = immigration-status: deport* |", "1 to 47" },
        { "prohibited_terms = immigration-status:", "1 to 47" },
        { "prohibited_terms = immigration-status: ' - '", "no letter" },
        { "prohibited_terms = immigration-status: visa; overstay",
          "only letters" },
        { "prohibited_terms = immigration-status: de*port", "only letters" },
        { "prohibited_terms = immigration-status: deport *", "only letters" },
        { "prohibited_terms = immigration-status: d\xc3\xa9port",
          "only letters" },
        { "prohibited_terms = immigration-status: a phrase that runs on "
          "and on well past forty-seven characters", "1 to 47" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[32];
        /* one good line first, so the error names the second */
        char text[256];
        snprintf(text, sizeof text, "prohibited_terms = mobile-fr: "
                 "phone app*\n%s\n", bad[i].line);
        ck_assert_int_eq(parse_with(text, &line, &d), FS_EINVAL);
        snprintf(want, sizeof want, "profile line %d:", line + 1);
        ck_assert_msg(strstr(d.msg, want) && strstr(d.msg, bad[i].why),
                      "'%s': %s (want '%s' and '%s')", bad[i].line, d.msg,
                      want, bad[i].why);
    }
    /* 47 characters fit; the total is bounded */
    ck_assert_int_eq(parse_with("prohibited_terms = mobile-fr: "
                                "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopq"
                                "rst\n", &line, &d), FS_OK);
    size_t cap = (FS_PROFILE_TERMS_MAX + 1) * 4 + 64;
    char *many = malloc(cap), *m = many;
    m += snprintf(m, cap, "prohibited_terms = mobile-fr: x");
    for (int i = 1; i <= FS_PROFILE_TERMS_MAX; i++)
        m += snprintf(m, cap - (size_t)(m - many), " | x");
    snprintf(m, cap - (size_t)(m - many), "\n");
    ck_assert_int_eq(parse_with(many, &line, &d), FS_EINVAL);
    ck_assert_msg(strstr(d.msg, "at most"), "%s", d.msg);
    free(many);
}
END_TEST

Suite *suite_profile(void);
Suite *suite_profile(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("G6");
    tcase_add_test(tc, test_G6_shipped_profiles_have_terms);
    tcase_add_test(tc, test_G6_prohibited_phrasings_detroit);
    tcase_add_test(tc, test_G6_prohibited_phrasings_miami);
    tcase_add_test(tc, test_G6_prohibited_phrasings_nypd);
    tcase_add_test(tc, test_G6_prohibited_phrasings_nys_model);
    tcase_add_test(tc, test_G6_prohibited_phrasings_lacris);
    tcase_add_test(tc, test_G6_legitimate_justifications_pass);
    tcase_add_test(tc, test_G6_video_stills_refused_only_under_detroit);
    tcase_add_test(tc, test_G6_matcher_whole_words);
    tcase_add_test(tc, test_G6_terms_syntax_refused);
    suite_add_tcase(s, tc);
    return s;
}
