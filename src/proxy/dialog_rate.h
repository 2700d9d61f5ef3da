/*
 * dialog_rate: [routing] overload_dialog_rate, the node's limit on new
 * dialogs per second (the Genesys SIP Proxy's overload-ctrl-dialog-rate).
 * A generic cell rate algorithm (the virtual scheduling form of ITU-T
 * I.371) on one atomic word: admitting is a load and a compare-and-swap,
 * shared by every worker, with a burst of a tenth of a second's worth.
 */
#ifndef JCT_DIALOG_RATE_H
#define JCT_DIALOG_RATE_H

#include <stdbool.h>
#include <stdint.h>

/* rate: dialogs per second; 0 admits everything. */
void dialog_rate_init(unsigned rate);
/* May a new dialog start at now_ns (monotonic)? */
bool dialog_rate_admit(uint64_t now_ns);

#endif
