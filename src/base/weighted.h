/*
 * weighted: RFC 2782's order of items that carry a priority and a
 * weight (SRV records, a static route's next hops): lower priority first,
 * and within one priority a draw in proportion to weight among the items
 * not taken yet. Unlike the RFC, which lets a weight 0 come first now and
 * then, weight 0 items come after every weighted one of their priority
 * (uniformly among themselves): the others' shares are then exactly their
 * weights (3:1 is 75:25, not the 80:20 of the RFC's integer draw), and 0
 * means standby. Draws come from a per-thread generator: nothing shared
 * is written.
 */
#ifndef JCT_WEIGHTED_H
#define JCT_WEIGHTED_H

#include <stdint.h>

/* The most items weighted_order() takes. */
#define WEIGHTED_MAX 64

/* Writes into order[0..n) the indices of the n items (at most
 * WEIGHTED_MAX) in the order to try them; priority[] must be ascending
 * (the caller sorted by it). */
void weighted_order(const uint32_t *priority, const uint32_t *weight, unsigned n, unsigned *order)
#if defined(__GNUC__) && !defined(__clang__)
	/* only n of each: arrays sized for the most may be filled in part */
	__attribute__((access(read_only, 1, 3), access(read_only, 2, 3), access(write_only, 4, 3)))
#endif
	;

#endif
