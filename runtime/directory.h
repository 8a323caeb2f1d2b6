/* directory.h - a numbered table of actors that can change under its readers (a node crashes,
 * a new actor replaces it), read through cached references.
 *
 * Writers (the run's owner) set slots under a mutex and bump a version; readers keep a private
 * copy of the table with their own references and refresh it only when the version moved, so
 * the hot path (every send) costs one atomic load.
 */
#ifndef RAFT_KV_RUNTIME_DIRECTORY_H
#define RAFT_KV_RUNTIME_DIRECTORY_H

#include <stdint.h>

#include "runtime/actor.h"

struct actor_dir;

/* A directory of n slots, all empty. */
struct actor_dir *actor_dir_new(uint32_t n);
/* Frees the directory and drops its references. NULL is allowed. */
void actor_dir_free(struct actor_dir *dir);

/* Puts a (or NULL: empty) in slot i, keeping its own reference, and bumps the version. */
void actor_dir_set(struct actor_dir *dir, uint32_t i, struct actor *a);

/* A reader's cached copy of the table. */
struct actor_dir_view {
    struct actor_dir *dir;
    uint64_t version;
    struct actor **slots; /* slots[i]: a reference owned by the view, or NULL */
};

void actor_dir_view_init(struct actor_dir_view *view, struct actor_dir *dir);
void actor_dir_view_close(struct actor_dir_view *view);
/* The actor in slot i as of the latest version (refreshing the view if needed), or NULL.
 * The pointer stays valid until the view's next refresh or close. */
struct actor *actor_dir_view_get(struct actor_dir_view *view, uint32_t i);

#endif
