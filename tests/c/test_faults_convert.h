/* test_faults_convert.h — fault injection into conversion between policies
 * (Managed_Tree_P_to_Q of tests/specs/faults.yaml): included by tests/c/test_faults.c
 * once per ordered pair of its policies, with FROM, TO and FROM_CELL defined, after its
 * per-policy part (whose build/tree_intact it uses). Every allocation of each scenario
 * fails in turn (the sweep of test_faults.c):
 *   conv_shared — a shared list of 4 Trees, each with a payload of 2 parts: everything
 *                 is copied (4 x (node, payload box, 2 parts) = 16 failure points);
 *   conv_mixed  — a list of 6: nodes 0-2 unique (kept, or moved where the layouts
 *                 differ), node 0's payload shared (copied), node 3 shared (it and all
 *                 below it copied);
 *   conv_many   — 10 unique nodes whose payloads are all shared: 10 copies, past the
 *                 copies the conversion logs on the C stack (one more allocation);
 *   conv_tree   — the shared 3-node Tree of `build` (two children: a work list);
 * plus the clone hook failing with a non-ENOMEM status (PM_ECLONE). A failed conversion
 * must leave every box where it was (address, count, contents, a free cell) and leak
 * nothing; a successful one must give the same values under the new policy.
 */

#define G(name) CAT(CAT(name, FROM), TO) /* function names: name_<FROM>_<TO> */
#define MF(N) MX(N, FROM)
#define MT(N) MX(N, TO)
#define BOXF(N) CAT(MF(N), box)
#define VF(N) CAT(N, FROM)
#define VT(N) CAT(N, TO)
#define CONV_(N, P, Q) Managed_##N##_##P##_to_##Q
#define CONVX(N, P, Q) CONV_(N, P, Q)
#define CONV(N) CONVX(N, FROM, TO)
#define DESC_(N, P) Managed_##N##_##P##__type
#define DESC(N, P) DESC_(N, P)

#if FROM_CELL == CELL_BORROW
#define FROM_CELL_FREE(h) ((h).box->cell.state == 0)
#elif FROM_CELL == CELL_RWLOCK
#define FROM_CELL_FREE(h) (atomic_load(&(h).box->cell.state) == 0)
#else
#define FROM_CELL_FREE(h) ((void)(h), true)
#endif

enum { G(nodes_max) = 10 };

/* Whether a unique box of N moves (a new box) rather than converting in place. */
#define MOVES(N) (DESC(N, FROM).box_size != DESC(N, TO).box_size)

/* A list of n Trees linked by `left`, node k keyed k with a payload of `parts` parts;
 * its nodes' and payloads' boxes in nodes[] and payloads[]. Built unarmed. */
static MF(Tree) G(list)(int n, int parts, void **nodes, void **payloads) {
    MF(Tree) head = {0};
    for (int k = n - 1; k >= 0; k--) {
        struct parts v;
        MF(Tree) node = {0};
        VF(Tree) value = {k, head, {0}, {0}};
        if (!CHECK(parts_make(&v, parts) == PM_OK) ||
            !CHECK(faults_new(&value.payload, v) == PM_OK) ||
            !CHECK(faults_new(&node, value) == PM_OK)) {
            abort(); /* unarmed: cannot happen */
        }
        nodes[k] = node.box;
        payloads[k] = value.payload.box;
        head = node;
    }
    return head;
}

/* A payload with `rc` owners and its `parts` parts. */
#define PAYLOAD_OK(payload, rc, parts) \
    (faults_refcount(payload) == (rc) && parts_intact(&(payload).box->value, parts))

/* The FROM list as it was built from node `first` on: every box where it was, with its
 * count (rc[k] for node k, payload_rc[k] for its payload), contents and a free cell. */
static bool G(list_intact)(MF(Tree) h, int first, int n, int parts, void *const *nodes,
                           void *const *payloads, const uint32_t *rc,
                           const uint32_t *payload_rc) {
    for (int k = first; k < n; k++) {
        if (h.box == NULL || (void *)h.box != nodes[k] || faults_refcount(h) != rc[k] ||
            !FROM_CELL_FREE(h)) {
            return false;
        }
        const VF(Tree) *v = &h.box->value;
        if (v->key != k || v->right.box != NULL || (void *)v->payload.box != payloads[k] ||
            !FROM_CELL_FREE(v->payload) || !PAYLOAD_OK(v->payload, payload_rc[k], parts)) {
            return false;
        }
        h = v->left;
    }
    return h.box == NULL;
}

/* The converted list: the same keys and payloads, each box owned once, and each a
 * working box of TO (a read borrow is granted). */
static bool G(list_converted)(MT(Tree) h, int n, int parts) {
    for (int k = 0; k < n; k++) {
        const VT(Tree) *v = NULL;
        if (h.box == NULL || faults_refcount(h) != 1 || faults_read(h, &v) != PM_OK) {
            return false;
        }
        faults_release_read(h);
        if (v->key != k || !PAYLOAD_OK(v->payload, 1, parts)) {
            return false;
        }
        h = v->left;
    }
    return h.box == NULL;
}

/* One armed conversion of h, then the checks: failed with `want` and everything
 * intact, or converted. Consumes h either way. */
static void G(convert_checked)(MF(Tree) *h, int n, int parts, void *const *nodes,
                               void *const *payloads, const uint32_t *rc,
                               const uint32_t *payload_rc, pm_status want) {
    MT(Tree) out = {0};
    arm();
    pm_status st = CONV(Tree)(h, &out);
    disarm();
    if (fault_hit || want != PM_OK) {
        CHECK(st == (fault_hit ? PM_ENOMEM : want));
        CHECK((void *)h->box == nodes[0] && out.box == NULL);
        CHECK(G(list_intact)(*h, 0, n, parts, nodes, payloads, rc, payload_rc));
        faults_drop(h);
    } else if (CHECK(st == PM_OK)) {
        CHECK(h->box == NULL && G(list_converted)(out, n, parts));
        faults_drop(&out);
    }
}

static void G(scenario_conv_shared)(void) {
    void *nodes[G(nodes_max)], *payloads[G(nodes_max)];
    uint32_t rc[] = {2, 1, 1, 1}, payload_rc[] = {1, 1, 1, 1};
    MF(Tree) h = G(list)(4, 2, nodes, payloads);
    MF(Tree) other = faults_dup(h);
    G(convert_checked)(&h, 4, 2, nodes, payloads, rc, payload_rc, PM_OK);
    rc[0] = 1;
    CHECK(G(list_intact)(other, 0, 4, 2, nodes, payloads, rc, payload_rc));
    faults_drop(&other);
}

static void G(scenario_conv_mixed)(void) {
    void *nodes[G(nodes_max)], *payloads[G(nodes_max)];
    uint32_t rc[] = {1, 1, 1, 2, 1, 1}, payload_rc[] = {2, 1, 1, 1, 1, 1};
    MF(Tree) h = G(list)(6, 2, nodes, payloads);
    MF(Tree) tail = {(BOXF(Tree) *)nodes[3]};
    MF(Parts) payload = {(CAT(MF(Parts), box) *)payloads[0]};
    tail = faults_dup(tail);
    payload = faults_dup(payload);
    G(convert_checked)(&h, 6, 2, nodes, payloads, rc, payload_rc, PM_OK);
    rc[3] = 1;
    CHECK(faults_refcount(payload) == 1);
    CHECK(G(list_intact)(tail, 3, 6, 2, nodes, payloads, rc, payload_rc));
    faults_drop(&tail);
    faults_drop(&payload);
}

static void G(scenario_conv_many)(void) {
    void *nodes[G(nodes_max)], *payloads[G(nodes_max)];
    uint32_t rc[G(nodes_max)], payload_rc[G(nodes_max)];
    MF(Parts) held[G(nodes_max)];
    MF(Tree) h = G(list)(10, 0, nodes, payloads);
    for (int k = 0; k < 10; k++) {
        MF(Parts) payload = {(CAT(MF(Parts), box) *)payloads[k]};
        held[k] = faults_dup(payload);
        rc[k] = 1;
        payload_rc[k] = 2;
    }
    G(convert_checked)(&h, 10, 0, nodes, payloads, rc, payload_rc, PM_OK);
    for (int k = 0; k < 10; k++) {
        CHECK(faults_refcount(held[k]) == 1);
        faults_drop(&held[k]);
    }
}

static void G(scenario_conv_tree)(void) {
    MF(Tree) t = {0};
    if (!CHECK(CAT(build, FROM)(&t) == PM_OK)) {
        return;
    }
    MF(Tree) other = faults_dup(t);
    void *box = t.box;
    MT(Tree) out = {0};
    arm();
    pm_status st = CONV(Tree)(&t, &out);
    disarm();
    if (fault_hit) {
        CHECK(st == PM_ENOMEM && t.box == box && out.box == NULL);
        CHECK(faults_refcount(t) == 2 && CAT(tree_intact, FROM)(t) && FROM_CELL_FREE(t));
        faults_drop(&t);
    } else if (CHECK(st == PM_OK)) {
        CHECK(t.box == NULL && faults_refcount(out) == 1 && CAT(tree_intact, TO)(out));
        faults_drop(&out);
    }
    CHECK(faults_refcount(other) == 1 && CAT(tree_intact, FROM)(other));
    faults_drop(&other);
}

/* The payload's clone hook fails after j of its 2 parts: PM_ECLONE, nothing changed. */
static void G(test_conv_clone_fails)(void) {
    sweep_k = 0; /* arm() injects no allocation failure */
    for (int j = 0; j < 2; j++) {
        long before = boxes_live;
        void *nodes[G(nodes_max)], *payloads[G(nodes_max)];
        uint32_t rc[] = {2, 1, 1, 1}, payload_rc[] = {1, 1, 1, 1};
        MF(Tree) h = G(list)(4, 2, nodes, payloads);
        MF(Tree) other = faults_dup(h);
        parts_fail_after = j;
        G(convert_checked)(&h, 4, 2, nodes, payloads, rc, payload_rc, PM_ECLONE);
        parts_fail_after = -1;
        faults_drop(&other);
        CHECK(boxes_live == before);
        faults_injected++;
    }
}

static void G(run_conv)(void) {
    const char *p = STR(FROM) "->" STR(TO);
    long tree = MOVES(Tree) ? 1 : 0, parts = MOVES(Parts) ? 1 : 0;
    CHECK(sweep(p, "conv_shared", G(scenario_conv_shared)) == 16);
    /* node 0's payload and nodes 3-5 copied; nodes 0-2 and two payloads kept or moved */
    CHECK(sweep(p, "conv_mixed", G(scenario_conv_mixed)) == 3 + 12 + 3 * tree + 2 * parts);
    /* 10 payload copies, a chunk of the copy log, the nodes kept or moved */
    CHECK(sweep(p, "conv_many", G(scenario_conv_many)) == 10 + 1 + 10 * tree);
    CHECK(sweep(p, "conv_tree", G(scenario_conv_tree)) == 12);
    G(test_conv_clone_fails)();
}

#undef G
#undef MF
#undef MT
#undef BOXF
#undef VF
#undef VT
#undef CONV_
#undef CONVX
#undef CONV
#undef DESC_
#undef DESC
#undef MOVES
#undef PAYLOAD_OK
#undef FROM_CELL_FREE
