#ifndef VOXGAN_SHIM_PNG_H
#define VOXGAN_SHIM_PNG_H

#include <stddef.h>
#include <stdint.h>

// libpng reports errors by longjmp, which Swift cannot catch, so both directions of the PNG
// codec live here behind plain return codes. Buffers returned through `out` are malloc'ed;
// release them with voxgan_png_free.

// Encodes an 8-bit image: `rgba` holds width × height pixels, 4 bytes each (R, G, B, A), rows
// top first. With has_alpha == 0 the alpha byte is dropped and an RGB PNG is written.
// compression_level is zlib's 0–9. Returns 0 on success, non-zero on failure (then *out is
// NULL). The output carries no time stamp, so equal pixels give equal bytes.
int voxgan_png_encode(const uint8_t *rgba, int width, int height, int has_alpha,
                      int compression_level, uint8_t **out, size_t *out_size);

// Decodes any PNG to 8-bit RGBA, rows top first. Returns 0 on success; on failure returns
// non-zero and writes a NUL-terminated reason into `message` (capacity message_size).
int voxgan_png_decode(const uint8_t *png, size_t size, uint8_t **out, int *width, int *height,
                      char *message, size_t message_size);

// Releases a buffer returned by voxgan_png_encode or voxgan_png_decode.
void voxgan_png_free(void *buffer);

#endif
