/* e164: placeholder */
#ifndef JCT_E164_H
#define JCT_E164_H
#endif
