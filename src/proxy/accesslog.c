#include "proxy/accesslog.h"
