#include "proxy/translate.h"
