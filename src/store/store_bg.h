/*
 * store_bg: the database side thread: subscriber cache invalidation by
 * LISTEN/NOTIFY and the sweep of expired bindings (see store_bg.c).
 */
#ifndef JCT_STORE_BG_H
#define JCT_STORE_BG_H

#include <stdint.h>

/* Starts the thread; it connects (and reconnects) by itself. */
int store_bg_start(const char *conninfo, unsigned sweep_interval_s);
/* Stops it within a poll interval and joins it. */
void store_bg_stop(void);
/* Expired bindings removed so far. */
uint64_t store_bg_swept(void);

#endif
