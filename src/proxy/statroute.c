#include "proxy/statroute.h"
