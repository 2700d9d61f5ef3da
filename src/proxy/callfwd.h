/* callfwd: placeholder */
#ifndef JCT_CALLFWD_H
#define JCT_CALLFWD_H
#endif
