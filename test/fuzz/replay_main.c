/* replay_main.c - a plain main that feeds every file of the given corpus directories to
 * LLVMFuzzerTestOneInput, so that `make test` replays fuzz corpora without libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file at path into a fresh buffer; returns 0 or -1. */
static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t len = 0, cap = 4096;
    uint8_t *buf = xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int main(int argc, char **argv)
{
    size_t files = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir(argv[i]);
        if (dir == NULL) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            size_t plen = strlen(argv[i]) + strlen(e->d_name) + 2;
            char *path = xmalloc(plen);
            snprintf(path, plen, "%s/%s", argv[i], e->d_name);
            struct stat st;
            uint8_t *data;
            size_t len;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (read_file(path, &data, &len) != 0) {
                    perror(path);
                    free(path);
                    closedir(dir);
                    return 1;
                }
                LLVMFuzzerTestOneInput(data, len);
                free(data);
                files++;
            }
            free(path);
        }
        closedir(dir);
    }
    printf("replayed %zu inputs\n", files);
    return 0;
}
