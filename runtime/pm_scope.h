/* pm_scope.h — scoped borrows (GCC/Clang): PM_READ_SCOPE, PM_WRITE_SCOPE,
 * PM_WRITE_SHARED_SCOPE and their _WAIT forms, over the guard types and
 * functions each generated handle type has. Part of the runtime: include
 * "pm.h", which includes every public header.
 */
#ifndef PM_SCOPE_H
#define PM_SCOPE_H

#include "pm_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Scoped borrows (GCC/Clang): the borrow ends on every exit from the scope, */
/* `return` and `break` included. H is a generated handle type:               */
/*                                                                           */
/*     PM_READ_SCOPE(Managed_Point_ThreadSafe, g, handle);                    */
/*     if (g.status != PM_OK) return g.status;                                */
/*     use(g.value->x);                        // released at the closing brace */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__) || defined(__clang__)
#define PM_READ_SCOPE(H, guard, handle) \
    PM_CLEANUP(H##_read_guard_end) H##_read_guard guard = H##_read_guard_begin(handle)
#define PM_WRITE_SCOPE(H, guard, handle_ptr) \
    PM_CLEANUP(H##_write_guard_end) H##_write_guard guard = H##_write_guard_begin(handle_ptr)
#define PM_WRITE_SHARED_SCOPE(H, guard, handle)                \
    PM_CLEANUP(H##_write_shared_guard_end) H##_write_shared_guard guard = \
        H##_write_shared_guard_begin(handle)
#define PM_READ_SCOPE_WAIT(H, guard, handle, timeout_ns) \
    PM_CLEANUP(H##_read_guard_end) H##_read_guard guard = \
        H##_read_guard_begin_wait(handle, timeout_ns)
#define PM_WRITE_SCOPE_WAIT(H, guard, handle_ptr, timeout_ns) \
    PM_CLEANUP(H##_write_guard_end) H##_write_guard guard = \
        H##_write_guard_begin_wait(handle_ptr, timeout_ns)
#define PM_WRITE_SHARED_SCOPE_WAIT(H, guard, handle, timeout_ns) \
    PM_CLEANUP(H##_write_shared_guard_end) H##_write_shared_guard guard = \
        H##_write_shared_guard_begin_wait(handle, timeout_ns)
#endif

#ifdef __cplusplus
}
#endif

#endif /* PM_SCOPE_H */
