/* Two owners of one thread-safe counter: a write through the shared box is
 * seen by both. A Frozen counter is shared without a lock. */
#include "counters.h"

#include <inttypes.h>
#include <stdio.h>

int main(void) {
    Managed_Counter_ThreadSafe a = {0};
    Managed_Counter_Frozen limit = {0};
    if (Managed_Counter_ThreadSafe_new(&a, 0) != PM_OK ||
        Managed_Counter_Frozen_new(&limit, 3) != PM_OK) {
        counters_drop(&a);
        return 1;
    }
    Managed_Counter_ThreadSafe b = counters_dup(a);

    const int64_t *max;
    if (counters_read(limit, &max) != PM_OK) {
        return 1;
    }
    for (int64_t i = 0; i < *max; i++) {
        int64_t *count;
        /* Wait up to 1 ms for the lock; the box is shared, so `a` sees it too. */
        if (counters_write_shared_wait(b, &count, 1000000) != PM_OK) {
            return 1;
        }
        *count += 1;
        counters_release_write(b);
    }
    counters_release_read(limit);

    const int64_t *seen;
    if (counters_read(a, &seen) != PM_OK) {
        return 1;
    }
    printf("count: %" PRId64 ", owners: %" PRIu32 "\n", *seen, counters_refcount(a));
    counters_release_read(a);
    counters_drop(&b);
    counters_drop(&a);
    counters_drop(&limit);
    return 0;
}
