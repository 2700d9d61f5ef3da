#include "admin/admin_internal.h"
