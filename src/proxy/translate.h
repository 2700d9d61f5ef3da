/* translate: placeholder */
#ifndef JCT_TRANSLATE_H
#define JCT_TRANSLATE_H
#endif
