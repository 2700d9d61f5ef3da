/* accesslog: placeholder */
#ifndef JCT_ACCESSLOG_H
#define JCT_ACCESSLOG_H
#endif
