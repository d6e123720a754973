#include "shim_png.h"
