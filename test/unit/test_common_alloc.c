/* test_common_alloc.c - the allocation helpers return usable, correctly sized memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/alloc.h"

/* xstrndup copies exactly len bytes and terminates the copy. */
static void strndup_copies_prefix(void **state)
{
    (void)state;
    char *s = xstrndup("raft_kv", 4);
    assert_string_equal(s, "raft");
    free(s);
}

/* xreallocarray grows an array and keeps its contents. */
static void reallocarray_keeps_contents(void **state)
{
    (void)state;
    int *a = xreallocarray(NULL, 2, sizeof *a);
    a[0] = 7;
    a[1] = 9;
    a = xreallocarray(a, 1000, sizeof *a);
    assert_int_equal(a[0], 7);
    assert_int_equal(a[1], 9);
    free(a);
}

/* xcalloc returns zeroed memory. */
static void calloc_zeroes(void **state)
{
    (void)state;
    unsigned char *p = xcalloc(64, 4);
    for (size_t i = 0; i < 256; i++)
        assert_int_equal(p[i], 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strndup_copies_prefix),
        cmocka_unit_test(reallocarray_keeps_contents),
        cmocka_unit_test(calloc_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
