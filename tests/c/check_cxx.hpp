// check_cxx.hpp — the C++ test programs' counterpart of check.h (which uses C11
// atomics): EXPECT records a failure and carries on; expect_summary ends main.
#ifndef PM_TEST_CHECK_CXX_HPP
#define PM_TEST_CHECK_CXX_HPP

#include <cstdio>

static int failures;

#define EXPECT(e)                                                              \
    do {                                                                       \
        if (!(e)) {                                                            \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #e);  \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static inline int expect_summary(const char *program) {
    if (failures != 0) {
        std::fprintf(stderr, "%s: %d failed\n", program, failures);
        return 1;
    }
    std::printf("%s: ok\n", program);
    return 0;
}

#endif
