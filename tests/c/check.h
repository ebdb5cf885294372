/* check.h: the C test programs' CHECK: counts failures, never aborts. */
#ifndef PM_TEST_CHECK_H
#define PM_TEST_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

static _Atomic int failures; /* failed CHECKs; main returns non-zero if any */
static _Atomic long checks;  /* CHECKs evaluated */

static inline bool check_(bool ok, const char *file, int line, const char *func,
                          const char *expr) {
    checks++;
    if (!ok) {
        fprintf(stderr, "FAIL %s:%d: %s (in %s)\n", file, line, expr, func);
        failures++;
    }
    return ok;
}

/* Evaluates to the truth of `e`, so a check can guard code that depends on it. */
#define CHECK(e) check_((e) ? true : false, __FILE__, __LINE__, __func__, #e)

/* Prints the program's closing line; returns its exit status (0: every check passed). */
static inline int check_summary(const char *program) {
    if (failures != 0) {
        fprintf(stderr, "%s: %d of %ld checks failed\n", program, (int)failures, (long)checks);
        return 1;
    }
    printf("%s: all %ld checks passed\n", program, (long)checks);
    return 0;
}

#endif
