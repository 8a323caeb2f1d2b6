/* memo.c - the set of linearized ops as a windowed bitset with a Zobrist hash, and the memo: an
 * open-addressing table of configuration groups, each a list of info-op subsets.
 */
#include "check/memo.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

uint64_t check_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The bit of op i: ok ops from bit 0, info ops from word w_ok on. */
size_t check_bit_of(const struct check_bits *b, size_t n_ok, size_t i)
{
    return i < n_ok ? i : b->w_ok * 64 + (i - n_ok);
}

void check_bits_set(struct check_bits *b, size_t i, uint64_t z)
{
    size_t w = i / 64;
    assert((b->w[w] & (UINT64_C(1) << (i % 64))) == 0);
    b->w[w] |= UINT64_C(1) << (i % 64);
    b->zobrist ^= z;
    if (w < b->w_ok) {
        if (w + 1 > b->hi)
            b->hi = w + 1;
        while (b->lo < b->w_ok && b->w[b->lo] == UINT64_MAX)
            b->lo++;
    } else if (w - b->w_ok + 1 > b->ihi) {
        b->ihi = w - b->w_ok + 1;
    }
}

void check_bits_clear(struct check_bits *b, size_t i, uint64_t z)
{
    size_t w = i / 64;
    assert((b->w[w] & (UINT64_C(1) << (i % 64))) != 0);
    b->w[w] &= ~(UINT64_C(1) << (i % 64));
    b->zobrist ^= z;
    if (w < b->w_ok) {
        if (w < b->lo)
            b->lo = w;
        while (b->hi > 0 && b->w[b->hi - 1] == 0)
            b->hi--;
    } else {
        while (b->ihi > 0 && b->w[b->w_ok + b->ihi - 1] == 0)
            b->ihi--;
    }
}

static uint64_t memo_hash(const struct check_bits *b, int32_t state)
{
    return b->zobrist ^ check_mix64((uint64_t)(int64_t)state);
}

/* Same ok part and state: the same group. */
static bool memo_same_group(const struct check_memo *m, const struct check_memo_entry *me,
                            const struct check_bits *b, int32_t state)
{
    size_t hi = b->hi > b->lo ? b->hi : b->lo;
    if (me->state != state || me->lo != b->lo || me->n_ok_words != hi - b->lo)
        return false;
    return memcmp(m->words + me->off, b->w + b->lo, (hi - b->lo) * sizeof *m->words) == 0;
}

/* The entry's info ops are a subset of b's. */
static bool memo_info_subset(const struct check_memo *m, const struct check_memo_entry *me,
                             const struct check_bits *b)
{
    if (me->n_info_words > b->ihi)
        return false;
    const uint64_t *w = m->words + me->off + me->n_ok_words;
    for (size_t i = 0; i < me->n_info_words; i++)
        if ((w[i] & ~b->w[b->w_ok + i]) != 0)
            return false;
    return true;
}

static void memo_grow_table(struct check_memo *m, size_t cap)
{
    uint32_t *t = xcalloc(cap, sizeof *t);
    for (size_t i = 0; i < m->cap_table; i++) {
        if (m->table[i] == 0)
            continue;
        size_t j = m->entries[m->table[i] - 1].hash & (cap - 1);
        while (t[j] != 0)
            j = (j + 1) & (cap - 1);
        t[j] = m->table[i];
    }
    free(m->table);
    m->table = t;
    m->cap_table = cap;
}

/* Adds (b, state) unless a visited configuration subsumes it (CHECK_MEMO_SEEN). CHECK_MEMO_FULL
 * when adding would take the memo past max_bytes. */
enum check_memo_outcome check_memo_add(struct check_memo *m, const struct check_bits *b,
                                       int32_t state, size_t max_bytes)
{
    uint64_t hash = memo_hash(b, state);
    size_t slot = SIZE_MAX;
    if (m->cap_table > 0) {
        size_t j = hash & (m->cap_table - 1);
        while (m->table[j] != 0) {
            const struct check_memo_entry *me = &m->entries[m->table[j] - 1];
            if (me->hash == hash && memo_same_group(m, me, b, state)) {
                slot = j;
                for (uint32_t k = m->table[j]; k != 0; k = m->entries[k - 1].next)
                    if (memo_info_subset(m, &m->entries[k - 1], b))
                        return CHECK_MEMO_SEEN;
                break;
            }
            j = (j + 1) & (m->cap_table - 1);
        }
    }
    size_t hi = b->hi > b->lo ? b->hi : b->lo;
    size_t need = (hi - b->lo) + b->ihi;
    /* grow geometrically, refusing growth past the budget */
    size_t cap_e = m->cap_entries, cap_w = m->cap_words, cap_t = m->cap_table;
    if (m->n_entries == cap_e)
        cap_e = cap_e ? 2 * cap_e : 1024;
    while (m->n_words + need > cap_w)
        cap_w = cap_w ? 2 * cap_w : 4096;
    if (slot == SIZE_MAX && 2 * (m->n_groups + 1) > cap_t)
        cap_t = cap_t ? 2 * cap_t : 1024;
    size_t bytes = cap_e * sizeof *m->entries + cap_w * sizeof *m->words + cap_t * sizeof *m->table;
    if (bytes > max_bytes || m->n_entries + 1 >= UINT32_MAX)
        return CHECK_MEMO_FULL;
    if (cap_e != m->cap_entries) {
        m->entries = xreallocarray(m->entries, cap_e, sizeof *m->entries);
        m->cap_entries = cap_e;
    }
    if (cap_w != m->cap_words) {
        m->words = xreallocarray(m->words, cap_w, sizeof *m->words);
        m->cap_words = cap_w;
    }
    if (cap_t != m->cap_table) {
        assert(slot == SIZE_MAX);
        memo_grow_table(m, cap_t);
    }
    struct check_memo_entry *me = &m->entries[m->n_entries];
    me->hash = hash;
    me->off = m->n_words;
    me->lo = (uint32_t)b->lo;
    me->n_ok_words = (uint32_t)(hi - b->lo);
    me->n_info_words = (uint32_t)b->ihi;
    me->state = state;
    if (hi > b->lo)
        memcpy(m->words + m->n_words, b->w + b->lo, (hi - b->lo) * sizeof *m->words);
    if (b->ihi > 0)
        memcpy(m->words + m->n_words + (hi - b->lo), b->w + b->w_ok, b->ihi * sizeof *m->words);
    m->n_words += need;
    m->n_entries++;
    if (slot == SIZE_MAX) {
        slot = hash & (m->cap_table - 1);
        while (m->table[slot] != 0)
            slot = (slot + 1) & (m->cap_table - 1);
        m->n_groups++;
        me->next = 0;
    } else {
        me->next = m->table[slot];
    }
    m->table[slot] = (uint32_t)m->n_entries;
    return CHECK_MEMO_NEW;
}

void check_memo_free(struct check_memo *m)
{
    free(m->entries);
    free(m->words);
    free(m->table);
    memset(m, 0, sizeof *m);
}
