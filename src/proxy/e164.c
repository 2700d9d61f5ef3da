#include "proxy/e164.h"
