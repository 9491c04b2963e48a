/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ptrvec.h — a growable array of pointers */
#pragma once

#include <errno.h>
#include <stdlib.h>

typedef struct PtrVec {
        void **items;
        size_t n, cap;
} PtrVec;

static inline int ptrvec_push(PtrVec *v, void *p) {
        if (v->n == v->cap) {
                size_t cap = v->cap ? v->cap * 2 : 8;
                void **items = realloc(v->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                v->items = items;
                v->cap = cap;
        }
        v->items[v->n++] = p;
        return 0;
}

/* Free every item with @destroy, then the array itself. */
static inline void ptrvec_clear(PtrVec *v, void (*destroy)(void *)) {
        for (size_t i = 0; destroy && i < v->n; i++)
                destroy(v->items[i]);
        free(v->items);
        *v = (PtrVec) {};
}
