#include "proxy/enum.h"
