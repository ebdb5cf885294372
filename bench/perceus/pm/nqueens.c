/* nqueens on pmgen's types: Koka's test/bench/koka/nqueens.kk, emitted the way
 * a Perceus compiler would, over the public generated API (pm_bench.h).
 *
 *   nqueens N    prints the number of solutions of the N-queens problem.
 *
 * Sum types: list<int32> = Nil | Cons(head, tail) is Ints and list<list<int32>>
 * is Sols (perceus.yaml); Nil is the empty handle. With `variants:` Cons
 * becomes a variant and Nil a nullary one that allocates nothing, as here.
 *
 * Perceus: extend's matched cell is dead and no constructor of its branch
 * reuses it, so it is `take`n (_into_inner: moved out, freed when unique);
 * safe and length only inspect their list (borrowed: _get, or _read under
 * ThreadSafe). No reuse: nqueens.kk's constructors are in append-safe, which
 * matches nothing, as in Koka.
 */
#include "pm_bench.h"

PB_HANDLES(Ints, ints)
PB_HANDLES(Sols, sols)

/* safe(queen, diag, ^xs) */
static bool safe(int32_t queen, int32_t diag, ints_h xs) {
    while (!ints_is_empty(xs)) {
        ints_v c = ints_peek(xs);
        if (queen == c.head || queen == c.head + diag || queen == c.head - diag) {
            return false;
        }
        diag++;
        xs = c.tail;
    }
    return true;
}

static sols_h append_safe(int32_t queen, ints_h xs, sols_h xss) {
    for (; queen > 0; queen--) {
        if (safe(queen, 1, xs)) { /* append-safe(queen.dec, xs, Cons(Cons(queen,xs),xss)) */
            ints_h q = ints_new((ints_v){.tail = ints_dup(xs), .head = queen});
            xss = sols_new((sols_v){.head = q, .tail = xss});
        }
    }
    ints_drop(xs);
    return xss;
}

static sols_h extend(int32_t queen, sols_h acc, sols_h xss) {
    while (!sols_is_empty(xss)) { /* Cons(xs,rest) -> extend(queen, append-safe(queen,xs,acc), rest) */
        sols_v c = sols_take(xss);
        acc = append_safe(queen, c.head, acc);
        xss = c.tail;
    }
    return acc;
}

static sols_h find_solutions(int32_t n, int32_t queen) {
    if (queen == 0) { /* [[]] */
        return sols_new((sols_v){.head = ints_nil(), .tail = sols_nil()});
    }
    return extend(n, sols_nil(), find_solutions(n, queen - 1));
}

/* length(^xs) */
static long length(sols_h xs) {
    long n = 0;
    for (; !sols_is_empty(xs); xs = sols_peek(xs).tail) {
        n++;
    }
    return n;
}

int main(int argc, char **argv) {
    int32_t n = (int32_t)pb_arg(argc, argv, 13);
    sols_h s = find_solutions(n, n);
    printf("%ld\n", length(s));
    sols_drop(s);
    return 0;
}
