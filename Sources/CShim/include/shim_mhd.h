#ifndef VOXGAN_SHIM_MHD_H
#define VOXGAN_SHIM_MHD_H

// Filled in by the mhd work.

#endif
