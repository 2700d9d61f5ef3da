#include "net/nexthop.h"
