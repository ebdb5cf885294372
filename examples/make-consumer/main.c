/* A pair under each policy its contexts gave it; scoped borrows release
 * themselves when the block ends, and pairs_drop (_Generic) drops either. */
#include "pairs.h"

#include <stdio.h>

static int print_pairs(Managed_Pair_SingleThreaded local, Managed_Pair_ThreadSafe shared) {
    PM_READ_SCOPE(Managed_Pair_SingleThreaded, a, local);
    PM_READ_SCOPE_WAIT(Managed_Pair_ThreadSafe, b, shared, 1000000); /* up to 1 ms */
    if (a.status != PM_OK || b.status != PM_OK) {
        return 1; /* the guards that succeeded release here too */
    }
    printf("local: (%d, %d), shared: (%d, %d)\n", (int)a.value->left, (int)a.value->right,
           (int)b.value->left, (int)b.value->right);
    return 0;
}

int main(void) {
    Managed_Pair_SingleThreaded local = {0};
    Managed_Pair_ThreadSafe shared = {0};
    int failed = Managed_Pair_SingleThreaded_new(&local, (Pair_SingleThreaded){1, 2}) != PM_OK ||
                 Managed_Pair_ThreadSafe_new(&shared, (Pair_ThreadSafe){3, 4}) != PM_OK ||
                 print_pairs(local, shared) != 0;
    pairs_drop(&local);
    pairs_drop(&shared);
    return failed;
}
