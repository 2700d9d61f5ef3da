/*
 * store_bg: the database side thread: subscriber cache invalidation by
 * LISTEN/NOTIFY and the sweep of expired bindings (see store_bg.c).
 */
#ifndef JCT_STORE_BG_H
#define JCT_STORE_BG_H

#include <stdint.h>

/* What the thread tells the node's caches; called on its thread, so each
 * must be safe from any thread. */
struct store_bg_hooks {
	void (*binding_changed)(const char *aor);    /* NOTIFY junction_binding */
	void (*subscriber_changed)(const char *key); /* NOTIFY junction_subscriber */
	void (*resync)(void); /* (re)connected: notifications may have been missed */
};

/* Starts the thread; it connects (and reconnects) by itself. hooks is
 * copied. */
int store_bg_start(const char *conninfo, unsigned sweep_interval_s,
		   const struct store_bg_hooks *hooks);
/* Stops it within a poll interval and joins it. */
void store_bg_stop(void);
/* Expired bindings removed so far. */
uint64_t store_bg_swept(void);

#endif
