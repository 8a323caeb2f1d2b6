/* directory.c - actor table with a version counter: readers refresh private, referenced
 * copies when the version moves, so a replaced actor stays valid for whoever still holds it.
 */
#include "runtime/directory.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/alloc.h"

struct actor_dir {
    pthread_mutex_t lock;
    _Atomic uint64_t version; /* bumped after every change, under lock */
    uint32_t n;
    struct actor **slots; /* guarded by lock; each a reference owned by the directory */
};

struct actor_dir *actor_dir_new(uint32_t n)
{
    struct actor_dir *dir = xcalloc(1, sizeof *dir);
    pthread_mutex_init(&dir->lock, NULL);
    atomic_init(&dir->version, 1);
    dir->n = n;
    dir->slots = xcalloc(n ? n : 1, sizeof *dir->slots);
    return dir;
}

void actor_dir_free(struct actor_dir *dir)
{
    if (dir == NULL)
        return;
    for (uint32_t i = 0; i < dir->n; i++)
        actor_unref(dir->slots[i]);
    free(dir->slots);
    pthread_mutex_destroy(&dir->lock);
    free(dir);
}

void actor_dir_set(struct actor_dir *dir, uint32_t i, struct actor *a)
{
    pthread_mutex_lock(&dir->lock);
    struct actor *old = dir->slots[i];
    dir->slots[i] = a ? actor_ref(a) : NULL;
    /* release: a reader that sees the new version and then takes the lock sees the new slot
     * anyway; the version is only a hint that a refresh is due. */
    atomic_fetch_add_explicit(&dir->version, 1, memory_order_release);
    pthread_mutex_unlock(&dir->lock);
    actor_unref(old);
}

void actor_dir_view_init(struct actor_dir_view *view, struct actor_dir *dir)
{
    view->dir = dir;
    view->version = 0; /* never a directory version: the first get refreshes */
    view->slots = xcalloc(dir->n ? dir->n : 1, sizeof *view->slots);
}

void actor_dir_view_close(struct actor_dir_view *view)
{
    for (uint32_t i = 0; view->dir != NULL && i < view->dir->n; i++)
        actor_unref(view->slots[i]);
    free(view->slots);
    view->slots = NULL;
    view->dir = NULL;
}

static void refresh(struct actor_dir_view *view)
{
    struct actor_dir *dir = view->dir;
    pthread_mutex_lock(&dir->lock);
    for (uint32_t i = 0; i < dir->n; i++) {
        if (view->slots[i] == dir->slots[i])
            continue;
        actor_unref(view->slots[i]);
        view->slots[i] = dir->slots[i] ? actor_ref(dir->slots[i]) : NULL;
    }
    view->version = atomic_load_explicit(&dir->version, memory_order_relaxed);
    pthread_mutex_unlock(&dir->lock);
}

struct actor *actor_dir_view_get(struct actor_dir_view *view, uint32_t i)
{
    if (atomic_load_explicit(&view->dir->version, memory_order_acquire) != view->version)
        refresh(view);
    return i < view->dir->n ? view->slots[i] : NULL;
}
