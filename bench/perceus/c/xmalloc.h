/* malloc, or the end of the program with a message (the C peers). */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stdio.h>
#include <stdlib.h>

static inline void *xmalloc(size_t size) {
    void *p = malloc(size);
    if (p == NULL) {
        fputs("out of memory\n", stderr);
        exit(2);
    }
    return p;
}

#endif
