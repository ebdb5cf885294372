/* convert.c — what converting a list between policies costs (Managed_N_P_to_Q,
 * pm_box_convert), in ns per node. Prints numbers; asserts nothing about time.
 *
 * For SingleThreaded -> ThreadSafe and Local -> Frozen, a list of 1,000,000 nodes
 * (bench/convert.yaml) is converted
 *   unique — every node has one owner: each box changes policy in place (both layouts
 *            match: the header is the destroy list's link, 16 bytes in every policy);
 *   shared — the head has a second owner: every node is copied into a new box, and
 *            the other owner keeps the old list.
 * Each is run on a freshly built list RUNS times; one line per case:
 *
 *   convert  FROM->TO  unique|shared  nodes  median_ns_per_node  min  max
 *
 * plus, for scale, the same list's build (_new per node) and drop, per node.
 * Usage: bench_convert [--quick]   (--quick: 10,000 nodes, one run: proves it runs)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_convert_types.h"
#include "bench_time.h"

#define RUNS 5

static size_t nodes = 1000000;
static int runs = RUNS;

static void report(const char *pair, const char *what, double *ns, int n) {
    double mid = median(ns, n);
    qsort(ns, (size_t)n, sizeof *ns, cmp_double);
    printf("convert\t%s\t%s\t%zu\t%.2f\t%.2f\t%.2f\n", pair, what, nodes, mid, ns[0], ns[n - 1]);
    fflush(stdout);
}

/* One conversion case, written once per (FROM, TO): build, time, check, drop. */
#define CASE(FROM, TO)                                                                       \
    static bool build_##FROM(Managed_Node_##FROM *head, double *ns_per_node) {              \
        uint64_t t0 = now_ns();                                                              \
        for (size_t k = nodes; k-- > 0;) {                                                   \
            Managed_Node_##FROM node = {0};                                                  \
            Node_##FROM v = {(int64_t)k, *head};                                             \
            if (bench_convert_types_new(&node, v) != PM_OK) {                                \
                return false;                                                                \
            }                                                                                \
            *head = node;                                                                    \
        }                                                                                    \
        *ns_per_node = (double)(now_ns() - t0) / (double)nodes;                              \
        return true;                                                                         \
    }                                                                                        \
                                                                                             \
    static bool run_##FROM##_##TO(bool shared, double *ns, double *build, double *drop) {    \
        Managed_Node_##FROM h = {0}, other = {0};                                            \
        Managed_Node_##TO out = {0};                                                         \
        if (!build_##FROM(&h, build)) {                                                      \
            fprintf(stderr, "bench_convert: out of memory\n");                               \
            return false;                                                                    \
        }                                                                                    \
        if (shared) {                                                                        \
            other = bench_convert_types_dup(h);                                              \
        }                                                                                    \
        uint64_t t0 = now_ns();                                                              \
        pm_status st = Managed_Node_##FROM##_to_##TO(&h, &out);                              \
        *ns = (double)(now_ns() - t0) / (double)nodes;                                       \
        bool ok = st == PM_OK && out.box->value.value == 0;                                  \
        t0 = now_ns();                                                                       \
        bench_convert_types_drop(&out);                                                      \
        *drop = (double)(now_ns() - t0) / (double)nodes;                                     \
        bench_convert_types_drop(&h);                                                        \
        bench_convert_types_drop(&other);                                                    \
        if (!ok) {                                                                           \
            fprintf(stderr, "bench_convert: conversion failed (%d)\n", (int)st);             \
        }                                                                                    \
        return ok;                                                                           \
    }                                                                                        \
                                                                                             \
    static bool measure_##FROM##_##TO(void) {                                                \
        double unique[RUNS], shared[RUNS], build[RUNS], drop[RUNS], ignored;                 \
        for (int r = 0; r < runs; r++) {                                                     \
            if (!run_##FROM##_##TO(false, &unique[r], &build[r], &drop[r]) ||                \
                !run_##FROM##_##TO(true, &shared[r], &ignored, &ignored)) {                  \
                return false;                                                                \
            }                                                                                \
        }                                                                                    \
        report(#FROM "->" #TO, "unique", unique, runs);                                      \
        report(#FROM "->" #TO, "shared", shared, runs);                                      \
        report(#FROM "->" #TO, "build (new per node, " #FROM ")", build, runs);              \
        report(#FROM "->" #TO, "drop (" #TO ")", drop, runs);                                \
        return true;                                                                         \
    }

CASE(SingleThreaded, ThreadSafe)
CASE(Local, Frozen)

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            nodes = 10000;
            runs = 1;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    printf("# convert FROM->TO case nodes median_ns_per_node min max (%d runs)\n", runs);
    return measure_SingleThreaded_ThreadSafe() && measure_Local_Frozen() ? 0 : 1;
}
