/* policy_pairs.h — the twelve ordered pairs of the four policies that
 * tests/specs/all_policies.yaml and tests/specs/faults.yaml share (SingleThreaded,
 * ThreadSafe, Local, Frozen), for the conversion tests (Managed_N_P_to_Q).
 *
 * FOR_EACH_POLICY_PAIR(X) expands X(P, Q) once per pair. Included with PAIR_FILE
 * defined (a quoted file name), it includes PAIR_FILE once per pair, with FROM, TO and
 * FROM_CELL (CELL_BORROW, CELL_RWLOCK or CELL_NONE, which the includer defines) set.
 */
#ifndef PM_TEST_POLICY_PAIRS_H
#define PM_TEST_POLICY_PAIRS_H

#define FOR_EACH_POLICY_PAIR(X)                                                      \
    X(SingleThreaded, ThreadSafe) X(SingleThreaded, Local) X(SingleThreaded, Frozen) \
    X(ThreadSafe, SingleThreaded) X(ThreadSafe, Local) X(ThreadSafe, Frozen)         \
    X(Local, SingleThreaded) X(Local, ThreadSafe) X(Local, Frozen)                   \
    X(Frozen, SingleThreaded) X(Frozen, ThreadSafe) X(Frozen, Local)

#endif

#ifdef PAIR_FILE

#define FROM SingleThreaded
#define FROM_CELL CELL_BORROW
#define TO ThreadSafe
#include PAIR_FILE
#undef TO
#define TO Local
#include PAIR_FILE
#undef TO
#define TO Frozen
#include PAIR_FILE
#undef TO
#undef FROM
#undef FROM_CELL

#define FROM ThreadSafe
#define FROM_CELL CELL_RWLOCK
#define TO SingleThreaded
#include PAIR_FILE
#undef TO
#define TO Local
#include PAIR_FILE
#undef TO
#define TO Frozen
#include PAIR_FILE
#undef TO
#undef FROM
#undef FROM_CELL

#define FROM Local
#define FROM_CELL CELL_NONE
#define TO SingleThreaded
#include PAIR_FILE
#undef TO
#define TO ThreadSafe
#include PAIR_FILE
#undef TO
#define TO Frozen
#include PAIR_FILE
#undef TO
#undef FROM
#undef FROM_CELL

#define FROM Frozen
#define FROM_CELL CELL_NONE
#define TO SingleThreaded
#include PAIR_FILE
#undef TO
#define TO ThreadSafe
#include PAIR_FILE
#undef TO
#define TO Local
#include PAIR_FILE
#undef TO
#undef FROM
#undef FROM_CELL

#undef PAIR_FILE
#endif
