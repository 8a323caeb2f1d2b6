/* alloc.h - allocation that never returns NULL.
 *
 * raft_kv treats running out of memory as fatal: every allocation goes through these helpers,
 * which print "raft_kv: out of memory (N bytes)" to stderr and abort() on failure. Callers
 * therefore never check for NULL. Pure modules may use them: the message is written here, not
 * by the caller.
 */
#ifndef RAFT_KV_COMMON_ALLOC_H
#define RAFT_KV_COMMON_ALLOC_H

#include <stddef.h>

/* Reports "out of memory (size bytes)" and aborts: for allocators outside these helpers
 * (open_memstream, ...) that can fail only for lack of memory. */
__attribute__((noreturn)) void xalloc_failed(size_t size);

/* Makes every allocation below call count() first (the runtime counts them for the benchmarks,
 * runtime/counters.h). Set once before any thread starts; NULL (the default) counts nothing. */
void xalloc_set_counter(void (*count)(void));

/* malloc(size); never NULL. size 0 allocates 1 byte. */
void *xmalloc(size_t size);
/* calloc(count, size); never NULL; aborts on count * size overflow. */
void *xcalloc(size_t count, size_t size);
/* realloc(ptr, size); never NULL. */
void *xrealloc(void *ptr, size_t size);
/* realloc(ptr, count * size) with overflow check; never NULL. */
void *xreallocarray(void *ptr, size_t count, size_t size);
/* size bytes aligned to align (a power of two); never NULL. Free with free(). */
void *xaligned_alloc(size_t align, size_t size);
/* A NUL-terminated copy of the len bytes at s (s may be NULL if len is 0); never NULL. */
char *xstrndup(const char *s, size_t len);
/* A copy of the NUL-terminated string s; never NULL. */
char *xstrdup(const char *s);

#endif
