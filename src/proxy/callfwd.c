#include "proxy/callfwd.h"
