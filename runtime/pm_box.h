/* pm_box.h — box storage: the allocator every box comes from, and the
 * iterative destruction that frees chains of boxes in constant C stack.
 * Part of the runtime: include "pm.h", which includes every public header.
 */
#ifndef PM_BOX_H
#define PM_BOX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

/* All boxes are allocated through these. Default: malloc/free. */
typedef void *(*pm_alloc_fn)(size_t size, void *ctx);
typedef void (*pm_free_fn)(void *ptr, size_t size, void *ctx);

/* Replace the allocator (NULL, NULL restores malloc/free). Not thread-safe
 * with respect to concurrent allocation: set it before using boxes. */
void pm_set_allocator(pm_alloc_fn alloc, pm_free_fn free_fn, void *ctx);
void *pm_alloc(size_t size);
void pm_free(void *ptr, size_t size);

/* ------------------------------------------------------------------------ */
/* Iterative destruction                                                     */
/*                                                                           */
/* Boxes whose value holds managed handles reuse their dead header as a list  */
/* link, so dropping a chain of any length runs in constant C stack: a dying  */
/* box's release function drops its fields and pushes children that reached  */
/* zero onto *list instead of recursing.                                     */
/* ------------------------------------------------------------------------ */

typedef struct pm_dead pm_dead;
struct pm_dead {
    pm_dead *next;
    void (*release)(pm_dead *self, pm_dead **list);
};

/* Run release on `first` and on every box pushed meanwhile, until none is left. */
void pm_drain(pm_dead *first);

#ifdef __cplusplus
}
#endif

#endif /* PM_BOX_H */
