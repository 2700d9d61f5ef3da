/* cdr: placeholder */
#ifndef JCT_CDR_H
#define JCT_CDR_H
#endif
