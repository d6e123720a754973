#include "shim_hdf5.h"

hid_t voxgan_h5t_native_float(void) { H5open(); return H5T_NATIVE_FLOAT; }
hid_t voxgan_h5t_native_double(void) { H5open(); return H5T_NATIVE_DOUBLE; }
hid_t voxgan_h5t_native_uint8(void) { H5open(); return H5T_NATIVE_UINT8; }
hid_t voxgan_h5t_native_int32(void) { H5open(); return H5T_NATIVE_INT32; }
hid_t voxgan_h5t_native_int64(void) { H5open(); return H5T_NATIVE_INT64; }
hid_t voxgan_h5t_native_uint64(void) { H5open(); return H5T_NATIVE_UINT64; }
hid_t voxgan_h5t_c_s1(void) { H5open(); return H5T_C_S1; }
hid_t voxgan_h5p_dataset_create(void) { H5open(); return H5P_DATASET_CREATE; }
hid_t voxgan_h5p_file_access(void) { H5open(); return H5P_FILE_ACCESS; }
hid_t voxgan_h5p_link_create(void) { H5open(); return H5P_LINK_CREATE; }
unsigned voxgan_h5f_acc_trunc(void) { H5open(); return H5F_ACC_TRUNC; }
unsigned voxgan_h5f_acc_rdonly(void) { H5open(); return H5F_ACC_RDONLY; }
unsigned voxgan_h5f_acc_rdwr(void) { H5open(); return H5F_ACC_RDWR; }

void voxgan_h5_silence_errors(void) {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

hid_t voxgan_h5t_create_ieee_f16le(void) {
    H5open();
    hid_t type = H5Tcopy(H5T_IEEE_F32LE);
    if (type < 0) return type;
    if (H5Tset_fields(type, 15, 10, 5, 0, 10) < 0 || H5Tset_precision(type, 16) < 0 ||
        H5Tset_size(type, 2) < 0 || H5Tset_ebias(type, 15) < 0) {
        H5Tclose(type);
        return -1;
    }
    return type;
}
