#include "shim_mhd.h"
