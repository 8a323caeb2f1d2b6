/* file_fs.c - the storage port on a real directory: each call one system call (or a loop of
 * them for short reads and writes), errors returned as errno values, never printed here.
 * Design: the directory stays open so that every name is resolved against it (openat) and the
 * directory itself can be fsync'ed after creates, renames and removes.
 */
#include "host/file_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

/* mkdir -p: every missing component of path, in order. */
static int make_dirs(const char *path)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = errno;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

int file_fs_open(struct file_fs *f, const char *dir, bool create, bool read_only, char *err,
                 size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->dir_fd = -1;
    if (create) {
        int rc = make_dirs(dir);
        if (rc != 0) {
            snprintf(err, errlen, "%s: cannot create the directory: %s", dir, strerror(rc));
            return rc;
        }
    }
    f->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dir_fd < 0) {
        int rc = errno;
        snprintf(err, errlen, "%s: cannot open the directory: %s", dir, strerror(rc));
        return rc;
    }
    f->dir = xstrdup(dir);
    f->read_only = read_only;
    return 0;
}

void file_fs_close(struct file_fs *f)
{
    if (f->dir_fd >= 0)
        close(f->dir_fd);
    free(f->dir);
    memset(f, 0, sizeof *f);
    f->dir_fd = -1;
}

static int fs_list(void *ctx, int (*each)(void *arg, const char *name), void *arg)
{
    struct file_fs *f = ctx;
    int fd = openat(f->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int rc = errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            rc = errno;
            break;
        }
        struct stat sb;
        if (strlen(e->d_name) > STORAGE_FS_NAME_MAX ||
            fstatat(f->dir_fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
            continue; /* not a file the storage could have made */
        rc = each(arg, e->d_name);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

static int fs_open(void *ctx, const char *name, unsigned flags, int *handle)
{
    struct file_fs *f = ctx;
    int oflags = O_CLOEXEC | (f->read_only ? O_RDONLY : O_RDWR);
    if (flags & STORAGE_FS_CREATE) {
        if (f->read_only)
            return EROFS;
        oflags |= O_CREAT | ((flags & STORAGE_FS_EXCL) ? O_EXCL : 0);
    }
    int fd = openat(f->dir_fd, name, oflags, 0644);
    if (fd < 0)
        return errno;
    *handle = fd;
    return 0;
}

static int fs_size(void *ctx, int handle, uint64_t *size)
{
    struct stat sb;
    if (fstat(handle, &sb) != 0)
        return errno;
    *size = (uint64_t)sb.st_size;
    return 0;
}

static int fs_read(void *ctx, int handle, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(handle, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return ENODATA;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static int fs_write(void *ctx, int handle, uint64_t offset, const void *buf, size_t len)
{
    struct file_fs *f = ctx;
    if (f->read_only)
        return EROFS;
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(handle, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static int fs_truncate(void *ctx, int handle, uint64_t size)
{
    struct file_fs *f = ctx;
    if (f->read_only)
        return EROFS;
    return ftruncate(handle, (off_t)size) != 0 ? errno : 0;
}

static int fs_sync(void *ctx, int handle)
{
    struct file_fs *f = ctx;
    if (f->read_only)
        return EROFS;
    return fdatasync(handle) != 0 ? errno : 0;
}

static void fs_close(void *ctx, int handle)
{
    close(handle);
}

static int fs_rename(void *ctx, const char *from, const char *to)
{
    struct file_fs *f = ctx;
    if (f->read_only)
        return EROFS;
    return renameat(f->dir_fd, from, f->dir_fd, to) != 0 ? errno : 0;
}

static int fs_remove(void *ctx, const char *name)
{
    struct file_fs *f = ctx;
    if (f->read_only)
        return EROFS;
    return unlinkat(f->dir_fd, name, 0) != 0 ? errno : 0;
}

static int fs_sync_dir(void *ctx)
{
    struct file_fs *f = ctx;
    if (f->read_only)
        return EROFS;
    return fsync(f->dir_fd) != 0 ? errno : 0;
}

void file_fs_port(struct file_fs *f, struct storage_fs *port)
{
    *port = (struct storage_fs){
        .ctx = f,
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
        .sync_dir = fs_sync_dir,
    };
}

void file_fs_format_error(char *buf, size_t len, const char *dir, const struct storage_error *e)
{
    int n = snprintf(buf, len, "%s%s%s", dir, e->file[0] != '\0' ? "/" : "", e->file);
    if (n < 0 || (size_t)n >= len)
        return;
    if (e->has_offset)
        n += snprintf(buf + n, len - (size_t)n, ": offset %llu", (unsigned long long)e->offset);
    if (n < 0 || (size_t)n >= len)
        return;
    n += snprintf(buf + n, len - (size_t)n, ": %s",
                  e->problem != NULL ? e->problem : storage_strerror(e->code));
    if (e->sys_errno != 0 && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ": %s", strerror(e->sys_errno));
}
