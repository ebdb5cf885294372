/* Plain C types the spec (perceus.yaml) names in its fields. */
#ifndef PERCEUS_SUPPORT_H
#define PERCEUS_SUPPORT_H

#include <stdint.h>

/* deriv: the scalar payload of Val(int) and Var(string); never both. */
union deriv_atom {
    int64_t n;
    const char *name;
};

#endif
