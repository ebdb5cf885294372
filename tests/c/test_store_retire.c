/* test_store_retire.c — tests/c/test_store.c built with a small generation
 * width (-DPM_STORE_GENERATION_MAX=3u, see PROGRAMS in tests/test_c_programs.py):
 * every test again, plus retire_small_width: a slot holds generations 1, 2, 3,
 * then is retired and never handed out again. */
#ifndef PM_STORE_GENERATION_MAX
#error "build test_store_retire with -DPM_STORE_GENERATION_MAX=3u"
#endif

#define TEST_STORE_PROGRAM "test_store_retire"
#include "test_store.c"
