/* enum: placeholder */
#ifndef JCT_ENUM_H
#define JCT_ENUM_H
#endif
