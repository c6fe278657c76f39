/* Error names and texts (src/core/err.c): every tern_err_t value has its
 * own name and text, and a value outside the enum (a positive count passed
 * by mistake, a value below TERN_ERR_LAST_) gets the fixed "unknown" answer
 * instead of indexing past the table. TERN_TEST_ONE_VARIANT (no buffers). */
#include "tern_test.h"

#include <string.h>

#include "tern/err.h"

/* Each code's errno-style name, in enum order: a table entry out of order
 * or a missing row shows up as a wrong name for its code. */
static const char *const expected_names[] = {
    "OK",         "ENOMEM",      "ENOBUFS",    "EINVAL",       "EWOULDBLOCK", "ETIMEDOUT",
    "ESTATE",     "EBADF",       "EADDRINUSE", "EHOSTUNREACH", "ENETUNREACH", "ECONNREFUSED",
    "ECONNRESET", "EPIPE",       "EMSGSIZE",   "EOPNOTSUPP",   "ECORRUPT",    "EINPROGRESS",
    "ENETDOWN",   "ENOENT",      "ECONFIG",    "EMFILE",
};

static void test_every_code_has_its_name_and_a_text(void **state)
{
    (void)state;
    assert_int_equal(sizeof expected_names / sizeof expected_names[0], 1 - TERN_ERR_LAST_);
    for (int e = 0; e >= TERN_ERR_LAST_; e--) {
        assert_string_equal(tern_errname(e), expected_names[-e]);
        const char *text = tern_strerror(e);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        assert_string_not_equal(text, "unknown error");
        /* Texts are distinct: two codes saying the same thing would make a
         * log line ambiguous. */
        for (int o = e + 1; o <= 0; o++)
            assert_string_not_equal(text, tern_strerror(o));
    }
    assert_string_equal(tern_errname(TERN_ERR_NOMEM), "ENOMEM");
    assert_string_equal(tern_strerror(TERN_ERR_MFILE), "socket table full");
}

static void test_values_outside_the_enum_are_unknown(void **state)
{
    (void)state;
    const int outside[] = {1, 42, TERN_ERR_LAST_ - 1, -1000, 0x7fffffff, -0x7fffffff - 1};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        assert_string_equal(tern_errname(outside[i]), "EUNKNOWN");
        assert_string_equal(tern_strerror(outside[i]), "unknown error");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_its_name_and_a_text),
        cmocka_unit_test(test_values_outside_the_enum_are_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
