/* simfs.c - the simulator's disk (simfs.h): files in memory that know what is durable. */
#include "sim/simfs.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

/* A write (data != NULL) or a truncation (data == NULL: len is the new size) not yet synced. */
struct op {
    uint64_t offset;
    uint64_t len;
    uint8_t *data;
};

struct inode {
    bool used;
    uint8_t *cur, *dur; /* current and durable bytes */
    uint64_t cur_len, cur_cap, dur_len, dur_cap;
    struct op *ops; /* since the last sync, oldest first */
    size_t n_ops, cap_ops;
    uint32_t handles; /* open handles on it */
};

struct name {
    char name[STORAGE_FS_NAME_MAX + 1];
    size_t ino;
};

struct names {
    struct name *v;
    size_t n, cap;
};

enum name_op_kind { NAME_CREATE, NAME_RENAME, NAME_REMOVE };

struct name_op {
    enum name_op_kind kind;
    char a[STORAGE_FS_NAME_MAX + 1], b[STORAGE_FS_NAME_MAX + 1];
    size_t ino; /* NAME_CREATE */
};

struct simfs {
    struct inode *inodes;
    size_t n_inodes;
    struct names cur, dur;
    struct name_op *nops; /* since the last sync_dir, oldest first */
    size_t n_nops, cap_nops;
    long *handles; /* handle -> inode, -1 if free */
    size_t n_handles;
    bool fail_sync;
    struct simfs_counts counts;
};

/* --- bytes ----------------------------------------------------------------------------------- */

static void bytes_resize(uint8_t **p, uint64_t *len, uint64_t *cap, uint64_t size)
{
    if (size > *cap) {
        uint64_t c = *cap ? *cap : 256;
        while (c < size)
            c *= 2;
        *p = xrealloc(*p, (size_t)c);
        *cap = c;
    }
    if (size > *len)
        memset(*p + *len, 0, (size_t)(size - *len));
    *len = size;
}

static void bytes_write(uint8_t **p, uint64_t *len, uint64_t *cap, uint64_t off, const uint8_t *d,
                        uint64_t n)
{
    if (off + n > *len)
        bytes_resize(p, len, cap, off + n);
    if (n > 0)
        memcpy(*p + off, d, (size_t)n);
}

/* Applies op (possibly only the first keep bytes of a write) to the durable bytes. */
static void apply_durable(struct inode *in, const struct op *op, uint64_t keep)
{
    if (op->data != NULL)
        bytes_write(&in->dur, &in->dur_len, &in->dur_cap, op->offset, op->data, keep);
    else
        bytes_resize(&in->dur, &in->dur_len, &in->dur_cap, keep);
}

static void drop_ops(struct inode *in)
{
    for (size_t i = 0; i < in->n_ops; i++)
        free(in->ops[i].data);
    in->n_ops = 0;
}

/* --- names ----------------------------------------------------------------------------------- */

static long find(const struct names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i].name, name) == 0)
            return (long)i;
    return -1;
}

static void names_add(struct names *ns, const char *name, size_t ino)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->v = xreallocarray(ns->v, ns->cap, sizeof *ns->v);
    }
    snprintf(ns->v[ns->n].name, sizeof ns->v[ns->n].name, "%s", name);
    ns->v[ns->n++].ino = ino;
}

static void names_remove_at(struct names *ns, long i)
{
    ns->v[i] = ns->v[--ns->n];
}

static void names_apply(struct names *ns, const struct name_op *op)
{
    long i = find(ns, op->a), j;
    switch (op->kind) {
    case NAME_CREATE:
        if (i < 0)
            names_add(ns, op->a, op->ino);
        break;
    case NAME_RENAME:
        if (i < 0)
            break;
        j = find(ns, op->b);
        if (j >= 0) {
            names_remove_at(ns, j);
            i = find(ns, op->a);
        }
        snprintf(ns->v[i].name, sizeof ns->v[i].name, "%s", op->b);
        break;
    case NAME_REMOVE:
        if (i >= 0)
            names_remove_at(ns, i);
        break;
    }
}

static void names_copy(struct names *to, const struct names *from)
{
    to->n = 0;
    for (size_t i = 0; i < from->n; i++)
        names_add(to, from->v[i].name, from->v[i].ino);
}

static void record_name_op(struct simfs *fs, enum name_op_kind kind, const char *a, const char *b,
                           size_t ino)
{
    if (fs->n_nops == fs->cap_nops) {
        fs->cap_nops = fs->cap_nops ? 2 * fs->cap_nops : 16;
        fs->nops = xreallocarray(fs->nops, fs->cap_nops, sizeof *fs->nops);
    }
    struct name_op *op = &fs->nops[fs->n_nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    snprintf(op->a, sizeof op->a, "%s", a);
    snprintf(op->b, sizeof op->b, "%s", b ? b : "");
    op->ino = ino;
    names_apply(&fs->cur, op);
}

/* Frees the bytes of every inode no name, pending name operation or handle refers to. */
static void collect_garbage(struct simfs *fs)
{
    for (size_t k = 0; k < fs->n_inodes; k++) {
        struct inode *in = &fs->inodes[k];
        if (!in->used || in->handles > 0)
            continue;
        bool referred = false;
        for (size_t i = 0; i < fs->cur.n && !referred; i++)
            referred = fs->cur.v[i].ino == k;
        for (size_t i = 0; i < fs->dur.n && !referred; i++)
            referred = fs->dur.v[i].ino == k;
        for (size_t i = 0; i < fs->n_nops && !referred; i++)
            referred = fs->nops[i].kind == NAME_CREATE && fs->nops[i].ino == k;
        if (referred)
            continue;
        drop_ops(in);
        free(in->ops);
        free(in->cur);
        free(in->dur);
        memset(in, 0, sizeof *in);
    }
}

/* --- the port -------------------------------------------------------------------------------- */

static struct inode *inode_of(struct simfs *fs, int h)
{
    assert(h >= 0 && (size_t)h < fs->n_handles && fs->handles[h] >= 0);
    return &fs->inodes[fs->handles[h]];
}

static int fs_list(void *ctx, int (*each)(void *arg, const char *name), void *arg)
{
    struct simfs *fs = ctx;
    for (size_t i = 0; i < fs->cur.n; i++) {
        int rc = each(arg, fs->cur.v[i].name);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static size_t new_inode(struct simfs *fs)
{
    for (size_t k = 0; k < fs->n_inodes; k++)
        if (!fs->inodes[k].used) {
            fs->inodes[k].used = true;
            return k;
        }
    fs->inodes = xreallocarray(fs->inodes, fs->n_inodes + 1, sizeof *fs->inodes);
    memset(&fs->inodes[fs->n_inodes], 0, sizeof *fs->inodes);
    fs->inodes[fs->n_inodes].used = true;
    return fs->n_inodes++;
}

static int fs_open(void *ctx, const char *name, unsigned flags, int *handle)
{
    struct simfs *fs = ctx;
    long i = find(&fs->cur, name);
    size_t ino;
    if (i >= 0) {
        if ((flags & STORAGE_FS_CREATE) && (flags & STORAGE_FS_EXCL))
            return EEXIST;
        ino = fs->cur.v[i].ino;
    } else {
        if (!(flags & STORAGE_FS_CREATE))
            return ENOENT;
        ino = new_inode(fs);
        record_name_op(fs, NAME_CREATE, name, NULL, ino);
    }
    size_t h = 0;
    while (h < fs->n_handles && fs->handles[h] >= 0)
        h++;
    if (h == fs->n_handles)
        fs->handles = xreallocarray(fs->handles, ++fs->n_handles, sizeof *fs->handles);
    fs->handles[h] = (long)ino;
    fs->inodes[ino].handles++;
    *handle = (int)h;
    return 0;
}

static int fs_size(void *ctx, int h, uint64_t *size)
{
    *size = inode_of(ctx, h)->cur_len;
    return 0;
}

static int fs_read(void *ctx, int h, uint64_t offset, void *buf, size_t len)
{
    struct inode *in = inode_of(ctx, h);
    if (offset > in->cur_len || len > in->cur_len - offset)
        return ENODATA;
    if (len > 0)
        memcpy(buf, in->cur + offset, len);
    return 0;
}

static void record_op(struct inode *in, uint64_t offset, const void *data, uint64_t len)
{
    if (in->n_ops == in->cap_ops) {
        in->cap_ops = in->cap_ops ? 2 * in->cap_ops : 16;
        in->ops = xreallocarray(in->ops, in->cap_ops, sizeof *in->ops);
    }
    struct op *op = &in->ops[in->n_ops++];
    op->offset = offset;
    op->len = len;
    op->data = NULL;
    if (data != NULL) {
        op->data = xmalloc(len ? (size_t)len : 1);
        if (len > 0)
            memcpy(op->data, data, (size_t)len);
    }
}

static int fs_write(void *ctx, int h, uint64_t offset, const void *buf, size_t len)
{
    struct simfs *fs = ctx;
    struct inode *in = inode_of(fs, h);
    bytes_write(&in->cur, &in->cur_len, &in->cur_cap, offset, buf, len);
    record_op(in, offset, buf, len);
    fs->counts.writes++;
    return 0;
}

static int fs_truncate(void *ctx, int h, uint64_t size)
{
    struct inode *in = inode_of(ctx, h);
    bytes_resize(&in->cur, &in->cur_len, &in->cur_cap, size);
    record_op(in, size, NULL, size);
    in->ops[in->n_ops - 1].offset = 0;
    return 0;
}

static bool sync_fails(struct simfs *fs)
{
    if (!fs->fail_sync)
        return false;
    fs->fail_sync = false;
    fs->counts.sync_errors++;
    return true;
}

static int fs_sync(void *ctx, int h)
{
    struct simfs *fs = ctx;
    if (sync_fails(fs))
        return EIO;
    struct inode *in = inode_of(fs, h);
    for (size_t i = 0; i < in->n_ops; i++)
        apply_durable(in, &in->ops[i], in->ops[i].len);
    drop_ops(in);
    fs->counts.syncs++;
    return 0;
}

static void fs_close(void *ctx, int h)
{
    struct simfs *fs = ctx;
    inode_of(fs, h)->handles--;
    fs->handles[h] = -1;
}

static int fs_rename(void *ctx, const char *from, const char *to)
{
    struct simfs *fs = ctx;
    if (find(&fs->cur, from) < 0)
        return ENOENT;
    record_name_op(fs, NAME_RENAME, from, to, 0);
    return 0;
}

static int fs_remove(void *ctx, const char *name)
{
    struct simfs *fs = ctx;
    if (find(&fs->cur, name) < 0)
        return ENOENT;
    record_name_op(fs, NAME_REMOVE, name, NULL, 0);
    return 0;
}

static int fs_sync_dir(void *ctx)
{
    struct simfs *fs = ctx;
    if (sync_fails(fs))
        return EIO;
    names_copy(&fs->dur, &fs->cur);
    fs->n_nops = 0;
    fs->counts.syncs++;
    collect_garbage(fs);
    return 0;
}

/* --- the simulator's side -------------------------------------------------------------------- */

struct simfs *simfs_new(void)
{
    return xcalloc(1, sizeof(struct simfs));
}

void simfs_free(struct simfs *fs)
{
    if (fs == NULL)
        return;
    for (size_t k = 0; k < fs->n_inodes; k++) {
        drop_ops(&fs->inodes[k]);
        free(fs->inodes[k].ops);
        free(fs->inodes[k].cur);
        free(fs->inodes[k].dur);
    }
    free(fs->inodes);
    free(fs->cur.v);
    free(fs->dur.v);
    free(fs->nops);
    free(fs->handles);
    free(fs);
}

void simfs_port(struct simfs *fs, struct storage_fs *port)
{
    *port = (struct storage_fs){.ctx = fs,
                                .list = fs_list,
                                .open = fs_open,
                                .size = fs_size,
                                .read = fs_read,
                                .write = fs_write,
                                .truncate = fs_truncate,
                                .sync = fs_sync,
                                .close = fs_close,
                                .rename = fs_rename,
                                .remove = fs_remove,
                                .sync_dir = fs_sync_dir};
}

void simfs_crash(struct simfs *fs, struct prng *rng, bool tear)
{
    fs->counts.crashes++;
    for (size_t h = 0; h < fs->n_handles; h++)
        if (fs->handles[h] >= 0)
            fs_close(fs, (int)h);
    for (size_t k = 0; k < fs->n_inodes; k++) {
        struct inode *in = &fs->inodes[k];
        if (!in->used || in->n_ops == 0)
            continue;
        size_t kept = (size_t)prng_range(rng, 0, in->n_ops);
        for (size_t i = 0; i < kept; i++)
            apply_durable(in, &in->ops[i], in->ops[i].len);
        if (tear && kept < in->n_ops && prng_range(rng, 0, 1) == 1) {
            const struct op *op = &in->ops[kept];
            uint64_t keep;
            if (op->data != NULL) /* a prefix of the write's bytes */
                keep = op->len > 0 ? prng_range(rng, 0, op->len - 1) : 0;
            else /* a size between the old and the new */
                keep = op->len < in->dur_len ? prng_range(rng, op->len, in->dur_len)
                                             : prng_range(rng, in->dur_len, op->len);
            apply_durable(in, op, keep);
            fs->counts.torn++;
        }
        fs->counts.lost_ops += in->n_ops - kept;
        drop_ops(in);
        in->cur_len = 0;
        bytes_write(&in->cur, &in->cur_len, &in->cur_cap, 0, in->dur, in->dur_len);
    }
    size_t kept = (size_t)prng_range(rng, 0, fs->n_nops);
    for (size_t i = 0; i < kept; i++)
        names_apply(&fs->dur, &fs->nops[i]);
    fs->counts.lost_ops += fs->n_nops - kept;
    fs->n_nops = 0;
    names_copy(&fs->cur, &fs->dur);
    fs->fail_sync = false;
    collect_garbage(fs);
}

void simfs_fail_next_sync(struct simfs *fs)
{
    fs->fail_sync = true;
}

/* The inode of durable name with at least end durable bytes, or NULL. */
static struct inode *durable_inode(struct simfs *fs, const char *name, uint64_t end)
{
    long i = find(&fs->dur, name);
    if (i < 0)
        return NULL;
    struct inode *in = &fs->inodes[fs->dur.v[i].ino];
    return end <= in->dur_len ? in : NULL;
}

int simfs_misplace(struct simfs *fs, const char *name, uint64_t from, uint64_t len, uint64_t to)
{
    struct inode *in = durable_inode(fs, name, (from > to ? from : to) + len);
    if (in == NULL || len == 0)
        return ENOENT;
    uint8_t *copy = xmalloc((size_t)len);
    memcpy(copy, in->dur + from, (size_t)len);
    memset(in->dur + from, 0, (size_t)len);
    memcpy(in->dur + to, copy, (size_t)len);
    free(copy);
    in->cur_len = 0;
    bytes_write(&in->cur, &in->cur_len, &in->cur_cap, 0, in->dur, in->dur_len);
    fs->counts.misdirected++;
    return 0;
}

int simfs_flip_bit(struct simfs *fs, const char *name, uint64_t offset, unsigned bit)
{
    struct inode *in = durable_inode(fs, name, offset + 1);
    if (in == NULL)
        return ENOENT;
    in->dur[offset] ^= (uint8_t)(1u << (bit & 7));
    if (offset < in->cur_len)
        in->cur[offset] ^= (uint8_t)(1u << (bit & 7));
    fs->counts.flips++;
    return 0;
}

uint64_t simfs_durable_size(const struct simfs *fs, const char *name)
{
    long i = find(&fs->dur, name);
    return i < 0 ? 0 : fs->inodes[fs->dur.v[i].ino].dur_len;
}

void simfs_counts(const struct simfs *fs, struct simfs_counts *out)
{
    *out = fs->counts;
}

void simfs_counts_add(struct simfs_counts *sum, const struct simfs_counts *c)
{
    sum->writes += c->writes;
    sum->syncs += c->syncs;
    sum->crashes += c->crashes;
    sum->torn += c->torn;
    sum->lost_ops += c->lost_ops;
    sum->misdirected += c->misdirected;
    sum->flips += c->flips;
    sum->sync_errors += c->sync_errors;
}
