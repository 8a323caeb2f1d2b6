/* memo.h - the search's set of linearized ops and its memo of visited configurations (internal
 * to check/, used by linearize.c).
 *
 * The set of linearized ops is a bitset: ok ops in words [0, w_ok), info ops in [w_ok, w_all).
 * Ok ops are numbered in invoke order, so at any point of the search the ok part is all ones up to
 * a window around the current time and all zeros after it; the memo stores only that window
 * ([lo, hi), kept up to date incrementally) plus the info words up to the last nonzero one. Info
 * ops are numbered apart because one that is never linearized would otherwise pin the window's
 * start for the rest of the history.
 *
 * The memo answers "is (L, s) subsumed by a configuration already visited?": (L', s) subsumes
 * (L, s) when both have the same ok ops and L' has a subset of L's info ops, because info ops are
 * never required: any completion of (L, s) is one of (L', s). So entries are grouped by (ok part,
 * state), hashed by Zobrist (the XOR of one random word per ok op) and the state, and a group is
 * searched for an info subset. Exact repeats, porcupine's memo, are the special case. */
#ifndef RAFT_KV_CHECK_MEMO_H
#define RAFT_KV_CHECK_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct check_memo_entry {
    uint64_t hash; /* of the ok part and the state */
    uint64_t off;  /* into memo.words: the ok window, then the info words */
    uint32_t lo;
    uint32_t n_ok_words;
    uint32_t n_info_words;
    int32_t state;
    uint32_t next; /* next entry of the same group + 1; 0 = last */
};

struct check_memo {
    struct check_memo_entry *entries;
    size_t n_entries;
    size_t cap_entries;
    uint64_t *words;
    size_t n_words;
    size_t cap_words;
    uint32_t *table; /* newest entry of a group + 1; 0 = empty */
    size_t n_groups;
    size_t cap_table; /* power of two */
};

struct check_bits {
    uint64_t *w;
    size_t w_ok;      /* words of the ok part */
    size_t w_all;     /* w_ok + words of the info part */
    size_t lo;        /* first ok word that is not all ones (w_ok if none) */
    size_t hi;        /* one past the last nonzero ok word (0 if none) */
    size_t ihi;       /* one past the last nonzero info word, relative to w_ok */
    uint64_t zobrist; /* of the ok part */
};

enum check_memo_outcome { CHECK_MEMO_NEW, CHECK_MEMO_SEEN, CHECK_MEMO_FULL };

/* splitmix64's finaliser: a bijection with good avalanche, for hashing. */
uint64_t check_mix64(uint64_t x);
/* The bit of op i of a sub-history with n_ok ok ops: ok ops from bit 0, info ops from word w_ok. */
size_t check_bit_of(const struct check_bits *b, size_t n_ok, size_t i);
/* Adds / removes bit i (which must be clear / set); z is its Zobrist word (0 for info ops). */
void check_bits_set(struct check_bits *b, size_t i, uint64_t z);
void check_bits_clear(struct check_bits *b, size_t i, uint64_t z);
/* Adds (b, state) unless a visited configuration subsumes it (CHECK_MEMO_SEEN); CHECK_MEMO_FULL
 * when adding it would take the memo past max_bytes (the memo is then unchanged). */
enum check_memo_outcome check_memo_add(struct check_memo *m, const struct check_bits *b,
                                       int32_t state, size_t max_bytes);
/* Frees the memo's arrays; leaves it empty. */
void check_memo_free(struct check_memo *m);

#endif
