#ifndef VOXGAN_SHIM_PNG_H
#define VOXGAN_SHIM_PNG_H

// Filled in by the png work.

#endif
