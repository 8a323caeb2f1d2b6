/* alloc.c - the one place that handles allocation failure: report and abort.
 * Out of memory in a replicated store is not recoverable locally; failing loudly beats limping.
 */
#include "common/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xalloc_failed(size_t size)
{
    fprintf(stderr, "raft_kv: out of memory (%zu bytes)\n", size);
    abort();
}

static void (*counter)(void);

void xalloc_set_counter(void (*count)(void))
{
    counter = count;
}

#define COUNT()                                                                                    \
    do {                                                                                           \
        if (counter != NULL)                                                                       \
            counter();                                                                             \
    } while (0)

void *xmalloc(size_t size)
{
    COUNT();
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        xalloc_failed(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        xalloc_failed(SIZE_MAX);
    COUNT();
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        xalloc_failed(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    COUNT();
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        xalloc_failed(size);
    return p;
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        xalloc_failed(SIZE_MAX);
    return xrealloc(ptr, count * size);
}

void *xaligned_alloc(size_t align, size_t size)
{
    COUNT();
    size_t rounded = (size + align - 1) / align * align; /* aligned_alloc wants a multiple */
    void *p = aligned_alloc(align, rounded ? rounded : align);
    if (p == NULL)
        xalloc_failed(size);
    return p;
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);
    if (len > 0) /* s may be NULL when len is 0 */
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}
