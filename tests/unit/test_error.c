/* test_error.c -- Matrix errors as values: the errcode table gives the
 * status, an explicit status overrides it, and the JSON has the spec's
 * shape. */
#include "unit.h"

#include "matrix/error.h"

static void test_status_follows_errcode_table(void **state) {
    (void)state;
    const struct {
        ht_errcode code;
        int status;
        const char *name;
    } cases[] = {
        {HT_M_UNKNOWN, 400, "M_UNKNOWN"},           {HT_M_UNRECOGNIZED, 404, "M_UNRECOGNIZED"},
        {HT_M_FORBIDDEN, 403, "M_FORBIDDEN"},       {HT_M_UNKNOWN_TOKEN, 401, "M_UNKNOWN_TOKEN"},
        {HT_M_MISSING_TOKEN, 401, "M_MISSING_TOKEN"}, {HT_M_NOT_JSON, 400, "M_NOT_JSON"},
        {HT_M_BAD_JSON, 400, "M_BAD_JSON"},         {HT_M_NOT_FOUND, 404, "M_NOT_FOUND"},
        {HT_M_LIMIT_EXCEEDED, 429, "M_LIMIT_EXCEEDED"}, {HT_M_TOO_LARGE, 413, "M_TOO_LARGE"},
        {HT_M_USER_IN_USE, 400, "M_USER_IN_USE"},   {HT_M_GUEST_ACCESS_FORBIDDEN, 403, "M_GUEST_ACCESS_FORBIDDEN"},
        {HT_M_NOT_YET_UPLOADED, 504, "M_NOT_YET_UPLOADED"},
        {HT_M_CANNOT_OVERWRITE_MEDIA, 409, "M_CANNOT_OVERWRITE_MEDIA"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ht_error err = {cases[i].code, 0, "x"};
        assert_int_equal(ht_error_status(err), cases[i].status);
        assert_string_equal(ht_errcode_name(cases[i].code), cases[i].name);
    }
}

static void test_explicit_status_overrides_table(void **state) {
    (void)state;
    ht_error err = {HT_M_UNRECOGNIZED, 405, "wrong method"};
    assert_int_equal(ht_error_status(err), 405);
    err.status = 0;
    assert_int_equal(ht_error_status(err), 404);
}

static void test_server_error_is_m_unknown_with_500(void **state) {
    (void)state;
    ht_error err = {HT_M_SERVER_ERROR, 0, "db"};
    assert_int_equal(ht_error_status(err), 500);
    assert_string_equal(ht_errcode_name(HT_M_SERVER_ERROR), "M_UNKNOWN");
}

static void test_out_of_range_codes_are_m_unknown_500(void **state) {
    (void)state;
    assert_string_equal(ht_errcode_name(HT_ERRCODE_COUNT), "M_UNKNOWN");
    assert_string_equal(ht_errcode_name((ht_errcode)-3), "M_UNKNOWN");
    assert_int_equal(ht_error_status((ht_error){HT_ERRCODE_COUNT, 0, NULL}), 500);
    assert_int_equal(ht_error_status((ht_error){HT_OK, 0, NULL}), 500);
}

static void test_every_errcode_has_a_name_and_an_error_status(void **state) {
    (void)state;
    for (int code = HT_OK + 1; code < HT_ERRCODE_COUNT; code++) {
        const char *name = ht_errcode_name((ht_errcode)code);
        assert_non_null(name);
        assert_int_equal(strncmp(name, "M_", 2), 0);
        assert_in_range(ht_error_status((ht_error){(ht_errcode)code, 0, NULL}), 400, 599);
    }
}

static void test_error_json_has_errcode_and_error_only(void **state) {
    (void)state;
    json_t *j = ht_error_json((ht_error){HT_M_FORBIDDEN, 0, "You may not."});
    assert_true(json_is_object(j));
    assert_int_equal(json_object_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(j, "errcode")), "M_FORBIDDEN");
    assert_string_equal(json_string_value(json_object_get(j, "error")), "You may not.");
    json_decref(j);
}

static void test_error_json_without_message_still_has_a_sentence(void **state) {
    (void)state;
    json_t *j = ht_error_json((ht_error){HT_M_UNKNOWN, 0, NULL});
    const char *text = json_string_value(json_object_get(j, "error"));
    assert_non_null(text);
    assert_true(strlen(text) > 0);
    json_decref(j);
}

int run_error_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_follows_errcode_table),
        cmocka_unit_test(test_explicit_status_overrides_table),
        cmocka_unit_test(test_server_error_is_m_unknown_with_500),
        cmocka_unit_test(test_out_of_range_codes_are_m_unknown_500),
        cmocka_unit_test(test_every_errcode_has_a_name_and_an_error_status),
        cmocka_unit_test(test_error_json_has_errcode_and_error_only),
        cmocka_unit_test(test_error_json_without_message_still_has_a_sentence),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
