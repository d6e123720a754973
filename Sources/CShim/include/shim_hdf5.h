#ifndef VOXGAN_SHIM_HDF5_H
#define VOXGAN_SHIM_HDF5_H

#include <hdf5.h>

// HDF5 exposes its native types and file-access flags as macros that expand to global
// variables after H5open(); Swift imports none of them. Each accessor calls H5open() first.
hid_t voxgan_h5t_native_float(void);
hid_t voxgan_h5t_native_double(void);
hid_t voxgan_h5t_native_uint8(void);
hid_t voxgan_h5t_native_int32(void);
hid_t voxgan_h5t_native_int64(void);
hid_t voxgan_h5t_native_uint64(void);
hid_t voxgan_h5t_c_s1(void);
// A new IEEE half-precision type (1 sign, 5 exponent, 10 mantissa bits, little-endian), the
// layout h5py and numpy call float16; the caller closes it with H5Tclose.
hid_t voxgan_h5t_create_ieee_f16le(void);
hid_t voxgan_h5p_dataset_create(void);
hid_t voxgan_h5p_file_access(void);
hid_t voxgan_h5p_link_create(void);
unsigned voxgan_h5f_acc_trunc(void);
unsigned voxgan_h5f_acc_rdonly(void);
unsigned voxgan_h5f_acc_rdwr(void);

// Silences HDF5's automatic error stack printing, so a corrupt file is reported once, by us.
void voxgan_h5_silence_errors(void);

#endif
