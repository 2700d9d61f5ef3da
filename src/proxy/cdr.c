#include "proxy/cdr.h"
