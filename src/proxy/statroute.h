/* statroute: placeholder */
#ifndef JCT_STATROUTE_H
#define JCT_STATROUTE_H
#endif
