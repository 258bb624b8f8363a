/*
 * libvmwindow — zero-copy host files for WebAssembly guests.
 *
 * A window is one reservation of virtual address space that Wasmtime uses as the linear memory a
 * guest imports as `env.memory`. Host files are mapped into 64 KiB-aligned slots of it
 * (MAP_SHARED | MAP_FIXED), and a region table inside it tells the guest where each file is.
 * The layout (null page, table, guest area, slots) is specified in docs/abi.md.
 *
 * Conventions
 * - Handles are opaque. A guest belongs to the window it was created in; destroying the window
 *   destroys its guest. Using a handle after it was destroyed is undefined behaviour.
 * - Every fallible function returns a vmw_result_t. VMW_OK (0) means success and the
 *   out-parameters are written; anything else means failure, out-parameters hold NULL/unchanged,
 *   and vmw_last_error_message() describes the failure.
 * - Errors are returned, never printed. Messages are per thread.
 * - A handle is used by one thread at a time; different windows may be used on different threads.
 * - Strings are passed as (pointer, length) and need no NUL terminator.
 */
#ifndef VMWINDOW_H
#define VMWINDOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI v1 constants (docs/abi.md). */
#define VMW_ABI_VERSION 1u
#define VMW_PAGE_BYTES 65536u
#define VMW_TABLE_OFFSET 0x00010000u
#define VMW_TABLE_MAX_BYTES 0x00200000u
#define VMW_GUEST_BASE 0x00210000u
#define VMW_HEADER_BYTES 64u
#define VMW_ENTRY_BYTES 64u
#define VMW_NAME_MAX_BYTES 24u
#define VMW_TABLE_MAX_CAPACITY 32767u
#define VMW_WINDOW_MAX_BYTES 4294967296ull
#define VMW_TABLE_MAGIC 0x54574D56u

/* Sensible defaults for vmw_window_create. */
#define VMW_DEFAULT_WINDOW_BYTES 2147483648ull /* 2 GiB */
#define VMW_DEFAULT_GUEST_BYTES 16777216ull    /* 16 MiB */
#define VMW_DEFAULT_CAPACITY 16384u

/* Region access. */
#define VMW_ACCESS_READ 1u
#define VMW_ACCESS_READ_WRITE 3u

/* Value kinds in vmw_export_t (wasm_valkind_t). */
#define VMW_KIND_I32 0u
#define VMW_KIND_I64 1u
#define VMW_KIND_F32 2u
#define VMW_KIND_F64 3u

/* Arguments and results of one call share this many 16-byte value slots. */
#define VMW_VALUES_MAX 16u

typedef enum vmw_result {
  VMW_OK = 0,
  VMW_ERR_INVALID_ARGUMENT = 1, /* a size, alignment, access value, path or pointer is invalid */
  VMW_ERR_NOT_FOUND = 2,        /* no such file, region id or export */
  VMW_ERR_IO = 3,               /* the OS failed to open, stat or map a file */
  VMW_ERR_ACCESS_DENIED = 4,    /* the file cannot be opened or mapped with the requested access */
  VMW_ERR_WINDOW_FULL = 5,      /* no free slot large enough, or the region table is full */
  VMW_ERR_CLOSED = 6,           /* reserved for bindings: the handle was closed */
  VMW_ERR_BUSY = 7,             /* the window already has a guest */
  VMW_ERR_OUT_OF_MEMORY = 8,    /* host memory or address space ran out */
  VMW_ERR_BAD_MODULE = 9,       /* the bytes are not a valid WebAssembly module */
  VMW_ERR_LINK = 10,            /* the module's imports cannot be satisfied (or it defines a memory) */
  VMW_ERR_TRAP = 11,            /* the guest trapped; the message has the reason and backtrace */
  VMW_ERR_WASMTIME = 12,        /* Wasmtime failed for another reason */
  VMW_ERR_STALE = 13,           /* the (id, generation) pair names a region that is no longer mapped */
  VMW_ERR_TYPE_MISMATCH = 14,   /* an export exists but is not a function */
  VMW_ERR_UNSUPPORTED = 15,     /* e.g. an export with v128/reference types or > 16 params */
  VMW_ERR_UNALIGNED = 16,       /* a file offset or window offset is not aligned as required */
  VMW_ERR_OVERLAP = 17,         /* the requested window range is not free */
  VMW_ERR_OUT_OF_RANGE = 18,    /* a file range starts or ends past the end of the file */
  VMW_ERR_NOT_MAPPED = 19,      /* the region id is valid but nothing is mapped there */
  VMW_ERR_FRAGMENTED = 20,      /* enough free bytes in total, but no free range is long enough */
} vmw_result_t;

typedef struct vmw_window vmw_window_t;
typedef struct vmw_guest vmw_guest_t;

/* Where things are inside a window (byte offsets = guest addresses). */
typedef struct vmw_layout {
  uint64_t window_bytes;
  uint64_t table_offset;
  uint64_t table_bytes; /* bytes of the table actually backed */
  uint64_t guest_base;
  uint64_t guest_bytes;
  uint64_t slots_base;
  uint32_t capacity;
  uint32_t reserved0;
} vmw_layout_t;

/* A mapped region. (id, generation) is its handle; the pair goes stale when it is unmapped. */
typedef struct vmw_region {
  uint64_t offset_bytes; /* window offset of the first byte; a multiple of VMW_PAGE_BYTES */
  uint64_t length_bytes; /* the file's size */
  uint32_t id;           /* 1..capacity; the table entry index + 1 */
  uint32_t generation;
  uint32_t access; /* VMW_ACCESS_* */
  uint32_t reserved0;
} vmw_region_t;

/* An exported function, resolved once. */
typedef struct vmw_export {
  uint32_t index; /* pass to vmw_guest_call */
  uint32_t param_count;
  uint32_t result_count;
  uint32_t reserved0;
  uint8_t params[VMW_VALUES_MAX];  /* VMW_KIND_* */
  uint8_t results[VMW_VALUES_MAX]; /* VMW_KIND_* */
} vmw_export_t;

/* The ABI version this library implements (VMW_ABI_VERSION). */
uint32_t vmw_abi_version(void);

/* The calling thread's message for the last failed call: NUL-terminated UTF-8, owned by the
 * library, valid until the same thread's next vmwindow call. Empty after a success. */
const char *vmw_last_error_message(void);

/* Creates a window whose memory is `size_bytes` (a multiple of 64 KiB, at most 4 GiB) with a
 * guest area of `guest_bytes` (a multiple of 64 KiB) and a table of `capacity` entries
 * (1..VMW_TABLE_MAX_CAPACITY). Reserves 4 GiB + 32 MiB of address space (Wasmtime's reservation
 * and guard), all inaccessible except the table, the guest area and, later, mapped regions.
 * On success *out owns the window; release it with vmw_window_destroy. */
vmw_result_t vmw_window_create(uint64_t size_bytes, uint64_t guest_bytes, uint32_t capacity,
                               vmw_window_t **out);

/* Destroys the window's guest (if any), unmaps every region and releases the reservation.
 * Views of the window held by the host become invalid. NULL is a no-op. */
void vmw_window_destroy(vmw_window_t *window);

/* The window's first byte (guest address 0). Host access is only safe inside the table, the guest
 * area and live regions: everything else is PROT_NONE and faults. */
uint8_t *vmw_window_base(const vmw_window_t *window);

/* The window memory's size in bytes (what the guest sees as memory.size * 64 KiB). */
uint64_t vmw_window_size(const vmw_window_t *window);

/* Writes the window's layout to *out. */
vmw_result_t vmw_window_layout(const vmw_window_t *window, vmw_layout_t *out);

/* Maps the regular file at `path` (not NUL-terminated) into a free slot, whole, read-only
 * (VMW_ACCESS_READ) or read-write (VMW_ACCESS_READ_WRITE, shared with the file: writes reach the
 * page cache at once and the file on msync/unmap/exit). `name` (may be NULL; at most
 * VMW_NAME_MAX_BYTES) is published in the table. Empty files, directories and files larger than
 * the slot area are refused. The file descriptor is closed before returning; the mapping keeps
 * the file alive. */
vmw_result_t vmw_window_map_file(vmw_window_t *window, const char *path, size_t path_len,
                                 uint32_t access, const char *name, size_t name_len,
                                 vmw_region_t *out);

/* Unmaps region (id, generation): its slot becomes PROT_NONE again (the address range stays
 * reserved) and its table entry free. VMW_ERR_STALE if it was already unmapped. */
vmw_result_t vmw_window_unmap(vmw_window_t *window, uint32_t id, uint32_t generation);

/* Compiles and instantiates a guest module over the window. The module must import its memory as
 * `env.memory` (32-bit, not shared) and may import `env.abort` (AssemblyScript's; it traps with
 * "abort: <message> at <file>:<line>:<column>") and `env.seed`. Any other import is a link error.
 * A start function that traps fails with VMW_ERR_TRAP. One guest per window in ABI v1
 * (VMW_ERR_BUSY otherwise). `wasm` is copied; the caller keeps ownership. */
vmw_result_t vmw_guest_create(vmw_window_t *window, const uint8_t *wasm, size_t wasm_len,
                              vmw_guest_t **out);

/* Destroys a guest (its store and instance). The window stays. NULL is a no-op. */
void vmw_guest_destroy(vmw_guest_t *guest);

/* Resolves exported function `name` and describes its signature. Resolve once, call many times. */
vmw_result_t vmw_guest_export(vmw_guest_t *guest, const char *name, size_t name_len,
                              vmw_export_t *out);

/* The guest's argument/result array: VMW_VALUES_MAX slots of 16 bytes (wasmtime_val_raw_t:
 * i32/i64/f32/f64 stored little-endian at the slot's start). Valid for the guest's life. */
uint8_t *vmw_guest_values(vmw_guest_t *guest);

/* Calls export `index` with arguments taken from vmw_guest_values() slots 0..param_count-1 and
 * writes results to slots 0..result_count-1 (Wasmtime's unchecked fast path: the caller must have
 * written values of the declared kinds). A trap returns VMW_ERR_TRAP with its reason on the
 * message's first line; the guest and window stay usable. */
vmw_result_t vmw_guest_call(vmw_guest_t *guest, uint32_t index);

#ifdef __cplusplus
}
#endif

#endif /* VMWINDOW_H */
