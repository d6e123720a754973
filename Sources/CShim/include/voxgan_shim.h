// C APIs that Swift cannot call directly: HDF5's type and property macros, libpng's setjmp
// error handling, and libmicrohttpd's variadic MHD_start_daemon. One header per library.
#ifndef VOXGAN_SHIM_H
#define VOXGAN_SHIM_H

#include "shim_hdf5.h"
#include "shim_png.h"
#include "shim_mhd.h"

#endif
