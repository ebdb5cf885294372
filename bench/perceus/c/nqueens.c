/* nqueens in hand-written C: Koka's test/bench/koka/nqueens.kk with
 * malloc/free and plain structs.
 *
 *   nqueens N    the number of solutions of the N-queens problem.
 *
 * A partial solution shares its tail with every solution extending it, so a
 * cell of list<int32> carries a reference count; the list of solutions is
 * never shared and its cells are freed as extend consumes them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xmalloc.h"

typedef struct ints {
    uint32_t rc;
    int32_t head;
    struct ints *tail;
} ints;

typedef struct sols {
    ints *head;
    struct sols *tail;
} sols;

static void release(ints *xs) {
    while (xs != NULL && --xs->rc == 0) {
        ints *tail = xs->tail;
        free(xs);
        xs = tail;
    }
}

static bool safe(int32_t queen, int32_t diag, const ints *xs) {
    for (; xs != NULL; xs = xs->tail, diag++) {
        if (queen == xs->head || queen == xs->head + diag || queen == xs->head - diag) {
            return false;
        }
    }
    return true;
}

static sols *append_safe(int32_t queen, ints *xs, sols *xss) {
    for (; queen > 0; queen--) {
        if (safe(queen, 1, xs)) {
            ints *q = xmalloc(sizeof *q);
            *q = (ints){1, queen, xs};
            if (xs != NULL) {
                xs->rc++;
            }
            sols *c = xmalloc(sizeof *c);
            *c = (sols){q, xss};
            xss = c;
        }
    }
    release(xs);
    return xss;
}

static sols *extend(int32_t queen, sols *acc, sols *xss) {
    while (xss != NULL) {
        sols *rest = xss->tail;
        ints *xs = xss->head;
        free(xss);
        acc = append_safe(queen, xs, acc);
        xss = rest;
    }
    return acc;
}

static sols *find_solutions(int32_t n, int32_t queen) {
    if (queen == 0) {
        sols *s = xmalloc(sizeof *s);
        *s = (sols){NULL, NULL};
        return s;
    }
    return extend(n, NULL, find_solutions(n, queen - 1));
}

int main(int argc, char **argv) {
    int32_t n = argc > 1 ? (int32_t)strtol(argv[1], NULL, 10) : 13;
    sols *s = find_solutions(n, n);
    long len = 0;
    while (s != NULL) {
        sols *rest = s->tail;
        release(s->head);
        free(s);
        s = rest;
        len++;
    }
    printf("%ld\n", len);
    return 0;
}
