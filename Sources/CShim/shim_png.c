// PNG encoding and decoding in memory with libpng. libpng's errors longjmp back to the
// setjmp in each function, which frees what was allocated and returns an error code.
#include "shim_png.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A growable output buffer for png_set_write_fn.
typedef struct {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
    int failed;
} voxgan_png_sink;

static void voxgan_png_write(png_structp png, png_bytep data, png_size_t length) {
    voxgan_png_sink *sink = (voxgan_png_sink *)png_get_io_ptr(png);
    if (sink->failed) return;
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity * 2;
        if (capacity < sink->size + length) capacity = sink->size + length;
        uint8_t *grown = (uint8_t *)realloc(sink->bytes, capacity);
        if (grown == NULL) {
            // Reported after png_write_end returns; longjmp from here would leak nothing but
            // keeps the error path in one place.
            sink->failed = 1;
            return;
        }
        sink->bytes = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->bytes + sink->size, data, length);
    sink->size += length;
}

static void voxgan_png_flush(png_structp png) { (void)png; }

// Warnings (such as a sub-optimal zlib window) are not failures: keep them off stderr.
static void voxgan_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

int voxgan_png_encode(const uint8_t *rgba, int width, int height, int has_alpha,
                      int compression_level, uint8_t **out, size_t *out_size) {
    *out = NULL;
    *out_size = 0;
    if (rgba == NULL || width <= 0 || height <= 0) return 1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL,
                                              voxgan_png_warning);
    if (png == NULL) return 2;
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        return 2;
    }
    // Volatile: these are read after longjmp returns to the setjmp below.
    voxgan_png_sink sink = {NULL, 0, 0, 0};
    uint8_t *volatile row = NULL;
    volatile voxgan_png_sink *volatile sinkp = &sink;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(sinkp->bytes);
        free(row);
        return 3;
    }
    size_t raw = (size_t)width * (size_t)height * (has_alpha ? 4u : 3u);
    sink.capacity = raw / 4 + 1024;
    sink.bytes = (uint8_t *)malloc(sink.capacity);
    if (sink.bytes == NULL) png_error(png, "out of memory");
    png_set_write_fn(png, &sink, voxgan_png_write, voxgan_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 has_alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    // Renders are flat colour: deflate finds the repeats without a filter, and on a 512×512
    // chair no filter was both faster and smaller than Up or Sub (libpng's default tries all
    // five filters on every row).
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_set_compression_level(png, compression_level);
    png_write_info(png, info);
    if (has_alpha) {
        for (int y = 0; y < height; y++) {
            png_write_row(png, (png_const_bytep)(rgba + (size_t)y * (size_t)width * 4u));
        }
    } else {
        row = (uint8_t *)malloc((size_t)width * 3u);
        if (row == NULL) png_error(png, "out of memory");
        for (int y = 0; y < height; y++) {
            const uint8_t *source = rgba + (size_t)y * (size_t)width * 4u;
            for (int x = 0; x < width; x++) {
                row[3 * x] = source[4 * x];
                row[3 * x + 1] = source[4 * x + 1];
                row[3 * x + 2] = source[4 * x + 2];
            }
            png_write_row(png, (png_const_bytep)row);
        }
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (sink.failed) {
        free(sink.bytes);
        return 4;
    }
    *out = sink.bytes;
    *out_size = sink.size;
    return 0;
}

int voxgan_png_decode(const uint8_t *png, size_t size, uint8_t **out, int *width, int *height,
                      char *message, size_t message_size) {
    *out = NULL;
    *width = 0;
    *height = 0;
    if (message_size > 0) message[0] = 0;
    // The simplified API does its own setjmp and reports failures in image.message.
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, png, size)) {
        if (message_size > 0) snprintf(message, message_size, "%s", image.message);
        return 1;
    }
    image.format = PNG_FORMAT_RGBA;
    size_t bytes = PNG_IMAGE_SIZE(image);
    uint8_t *pixels = (uint8_t *)malloc(bytes > 0 ? bytes : 1);
    if (pixels == NULL) {
        png_image_free(&image);
        if (message_size > 0) snprintf(message, message_size, "out of memory");
        return 2;
    }
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        if (message_size > 0) snprintf(message, message_size, "%s", image.message);
        free(pixels);
        png_image_free(&image);
        return 3;
    }
    *out = pixels;
    *width = (int)image.width;
    *height = (int)image.height;
    return 0;
}

void voxgan_png_free(void *buffer) { free(buffer); }
