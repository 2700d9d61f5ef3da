/* nexthop: placeholder */
#ifndef JCT_NEXTHOP_H
#define JCT_NEXTHOP_H
#endif
