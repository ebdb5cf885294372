/* nqueens on pmgen's types: Koka's test/bench/koka/nqueens.kk, emitted the way
 * a Perceus compiler would, over the public generated API (pm_bench.h).
 *
 *   nqueens N    prints the number of solutions of the N-queens problem.
 *
 * Sum types (perceus.yaml): list<int32> { Nil; Cons(head, tail) } is Ints and
 * list<list<int32>> is Sols; Nil is a nullary variant (the shared box:
 * allocates nothing).
 *
 * Perceus: extend's matched cell is dead and no constructor of its branch
 * reuses it, so it is `take`n (_into_inner: moved out, freed when unique);
 * safe and length only inspect their list (borrowed: _get, or _read under
 * ThreadSafe). No reuse: nqueens.kk's constructors are in append-safe, which
 * matches nothing, as in Koka.
 */
#include "pm_bench.h"

PB_HANDLES(Ints, ints)
PB_NULLARY(Ints, ints, Nil)
PB_VARIANT(Ints, ints, Cons, (int32_t head, ints_h tail), tail, head)
PB_HANDLES(Sols, sols)
PB_NULLARY(Sols, sols, Nil)
PB_VARIANT(Sols, sols, Cons, (ints_h head, sols_h tail), head, tail)

/* safe(queen, diag, ^xs) */
static bool safe(int32_t queen, int32_t diag, ints_h xs) {
    /* Cons(q,qs) -> queen != q && .. && safe(queen,diag.inc,qs) */
    while (ints_tag(xs) == Ints_Cons) {
        ints_Cons_t c = ints_peek_Cons(xs);
        if (queen == c.head || queen == c.head + diag || queen == c.head - diag) {
            return false;
        }
        diag++;
        xs = c.tail;
    }
    return true; /* _ -> True */
}

static sols_h append_safe(int32_t queen, ints_h xs, sols_h xss) {
    for (; queen > 0; queen--) {
        if (safe(queen, 1, xs)) { /* append-safe(queen.dec, xs, Cons(Cons(queen,xs),xss)) */
            xss = sols_Cons(ints_Cons(queen, ints_dup(xs)), xss);
        }
    }
    ints_drop(xs);
    return xss;
}

static sols_h extend(int32_t queen, sols_h acc, sols_h xss) {
    /* Cons(xs,rest) -> extend(queen, append-safe(queen,xs,acc), rest) */
    while (sols_tag(xss) == Sols_Cons) {
        sols_Cons_t c = sols_take_Cons(xss);
        acc = append_safe(queen, c.head, acc);
        xss = c.tail;
    }
    return acc; /* Nil -> acc (xss is Nil: nothing to free) */
}

static sols_h find_solutions(int32_t n, int32_t queen) {
    if (queen == 0) { /* [[]] */
        return sols_Cons(ints_Nil(), sols_Nil());
    }
    return extend(n, sols_Nil(), find_solutions(n, queen - 1));
}

/* length(^xs) */
static long length(sols_h xs) {
    long n = 0;
    for (; sols_tag(xs) == Sols_Cons; xs = sols_peek_Cons(xs).tail) {
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
