/* Builds the list 1 -> 2 -> 3, shares it, and updates the shared head (FBIP:
 * the update copies the head; the other owner keeps the old value). */
#include "lists.h"

#include <inttypes.h>
#include <stdio.h>

typedef Managed_Node_SingleThreaded List;

static int64_t sum(List list) {
    int64_t total = 0;
    while (list.box != NULL) {
        const Node_SingleThreaded *node;
        if (Managed_Node_SingleThreaded_read(list, &node) != PM_OK) {
            return -1;
        }
        total += node->value;
        List next = node->next;
        Managed_Node_SingleThreaded_release_read(list);
        list = next;
    }
    return total;
}

int main(void) {
    List list = {0};
    for (int64_t value = 3; value >= 1; value--) {
        List head;
        /* On success the new node owns `list`; on failure we still do. */
        if (Managed_Node_SingleThreaded_new(&head, (Node_SingleThreaded){value, list}) != PM_OK) {
            lists_drop(&list);
            return 1;
        }
        list = head;
    }
    List shared = lists_dup(list);

    Node_SingleThreaded *head;
    if (lists_write(&list, &head) != PM_OK) { /* shared: `list` gets its own head */
        lists_drop(&shared);
        lists_drop(&list);
        return 1;
    }
    head->value = 100;
    lists_release_write(list);

    printf("updated: %" PRId64 ", shared: %" PRId64 "\n", sum(list), sum(shared));
    lists_drop(&shared);
    lists_drop(&list);
    return 0;
}
