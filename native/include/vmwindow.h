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
 *   destroys its guests. Using a handle after it was destroyed is undefined behaviour.
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
/* Extra bits in vmw_region_t.access and the table entry's access. */
#define VMW_ACCESS_ANONYMOUS 4u
#define VMW_ACCESS_DAMAGED 8u /* its file shrank after mapping: those pages trapped once, now read 0 */

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
  VMW_ERR_BUSY = 7,             /* a guest of the window is running, or the window has 64 guests */
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
  VMW_ERR_TIMEOUT = 21,         /* a guest call ran past its deadline or out of fuel */
  VMW_ERR_INTERRUPTED = 22,     /* another thread stopped the guest call (vmw_interrupt) */
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

/* Region kinds. */
#define VMW_REGION_FILE 0u
#define VMW_REGION_ANONYMOUS 1u

/* `length_bytes` meaning "from the file offset to the end of the file". */
#define VMW_LENGTH_TO_END UINT64_MAX

/* A mapped region. (id, generation) is its handle: every map, remap, resize and unmap of the id
 * bumps the generation, so an old pair is detected (VMW_ERR_STALE), never silently aliased. */
typedef struct vmw_region {
  uint64_t offset_bytes;      /* window offset of the first byte; a multiple of VMW_PAGE_BYTES */
  uint64_t length_bytes;      /* bytes mapped */
  uint64_t file_offset_bytes; /* where in the file the region starts (0 for anonymous) */
  uint64_t slot_bytes;        /* the slot: length rounded up to VMW_PAGE_BYTES */
  uint32_t id;                /* 1..capacity; the table entry index + 1 */
  uint32_t generation;
  uint32_t access; /* VMW_ACCESS_* */
  uint32_t kind;   /* VMW_REGION_* */
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

/* What a guest's memory fault hit (vmw_last_fault). */
#define VMW_FAULT_NONE 0u             /* the trap was not a memory fault in a window */
#define VMW_FAULT_NULL_PAGE 1u        /* below VMW_TABLE_OFFSET: a null (or small) pointer */
#define VMW_FAULT_TABLE 2u            /* a store into the region table (read-only to guests) */
#define VMW_FAULT_RESERVED 3u         /* between the table and the guest area */
#define VMW_FAULT_GUEST_AREA 4u       /* the guest area */
#define VMW_FAULT_READ_ONLY_REGION 5u /* a store into region region_id, mapped read-only */
#define VMW_FAULT_PAST_REGION_END 6u  /* bytes_past_end bytes past region region_id's end, in its slot */
#define VMW_FAULT_FREE_SLOT 7u        /* a slot no region maps */
#define VMW_FAULT_PAST_WINDOW 8u      /* at or past the window's size */
#define VMW_FAULT_TRUNCATED_FILE 9u   /* region region_id, whose file was truncated after mapping */

/* Where a trap's memory fault was. */
typedef struct vmw_fault {
  uint64_t address;        /* the wasm (= window) address */
  uint64_t bytes_past_end; /* VMW_FAULT_PAST_REGION_END: how far past the region's last byte */
  uint32_t kind;           /* VMW_FAULT_* */
  uint32_t region_id;      /* the region it is in or past; 0 for none */
  uint32_t reserved0;
  uint32_t reserved1;
} vmw_fault_t;

/* The ABI version this library implements (VMW_ABI_VERSION). */
uint32_t vmw_abi_version(void);

/* The calling thread's message for the last failed call: NUL-terminated UTF-8, owned by the
 * library, valid until the same thread's next vmwindow call. Read it only after a failure: after
 * a success its content is unspecified (the hot path, vmw_guest_call, does not clear it). */
const char *vmw_last_error_message(void);

/* Creates a window whose memory is `size_bytes` (a multiple of 64 KiB, at most 4 GiB) with a
 * guest area of `guest_bytes` (a multiple of 64 KiB) and a table of `capacity` entries
 * (1..VMW_TABLE_MAX_CAPACITY). Reserves 4 GiB + 32 MiB of address space (Wasmtime's reservation
 * and guard), all inaccessible except the table, the guest area and, later, mapped regions.
 * On success *out owns the window; release it with vmw_window_destroy. */
vmw_result_t vmw_window_create(uint64_t size_bytes, uint64_t guest_bytes, uint32_t capacity,
                               vmw_window_t **out);

/* Destroys the window's guests (all of them), unmaps every region and releases the reservation.
 * Views of the window held by the host become invalid. NULL is a no-op (VMW_OK).
 * VMW_ERR_BUSY, destroying nothing, while a guest of the window runs (from a host callback). */
vmw_result_t vmw_window_destroy(vmw_window_t *window);

/* The window's first byte (guest address 0). Host access is only safe inside the table, the guest
 * area and live regions: everything else is PROT_NONE and faults. */
uint8_t *vmw_window_base(const vmw_window_t *window);

/* The window memory's size in bytes (what the guest sees as memory.size * 64 KiB). */
uint64_t vmw_window_size(const vmw_window_t *window);

/* Writes the window's layout to *out. */
vmw_result_t vmw_window_layout(const vmw_window_t *window, vmw_layout_t *out);

/* Maps `length_bytes` (or VMW_LENGTH_TO_END) of the regular file at `path` (not NUL-terminated),
 * starting at `file_offset_bytes` (a multiple of the OS page size, 4 KiB on Linux x86-64), into a
 * slot: read-only (VMW_ACCESS_READ) or read-write (VMW_ACCESS_READ_WRITE, shared with the file:
 * writes reach the page cache at once and the file on vmw_window_flush, unmap or process exit).
 * `at_offset_bytes` = 0 places the region in the lowest free slot that fits (first fit, O(log n));
 * a region of 2 MiB or more goes instead, when that skips at most an eighth of its size, where its
 * address and file offset agree modulo 2 MiB (huge-page mappings; docs/abi.md). Otherwise
 * `at_offset_bytes` must be a free, 64 KiB-aligned window offset in the slot area. `name` (may be
 * NULL; at most VMW_NAME_MAX_BYTES) is published in the table. Only whole OS pages up to the
 * range's last byte are mapped; the rest of the slot traps. The file descriptor is closed before
 * returning (the mapping keeps the file alive); the path is kept to reopen the file on resize.
 * Errors: NOT_FOUND (no such file), INVALID_ARGUMENT (directory, empty file, length 0, bad access,
 * long name), UNALIGNED, OUT_OF_RANGE (offset or end past end of file, or `at` past the window),
 * OVERLAP (`at` not free or below the slot area), ACCESS_DENIED, WINDOW_FULL (no room or table
 * full), FRAGMENTED (room in total but no free range long enough). */
vmw_result_t vmw_window_map_file(vmw_window_t *window, const char *path, size_t path_len,
                                 uint64_t file_offset_bytes, uint64_t length_bytes,
                                 uint32_t access, const char *name, size_t name_len,
                                 uint64_t at_offset_bytes, vmw_region_t *out);

/* Maps `length_bytes` of zero-filled, read-write anonymous memory (scratch space shared by host
 * and guest, not backed by a file). Placement, naming and errors as vmw_window_map_file. */
vmw_result_t vmw_window_map_anonymous(vmw_window_t *window, uint64_t length_bytes,
                                      const char *name, size_t name_len,
                                      uint64_t at_offset_bytes, vmw_region_t *out);

/* Like vmw_window_map_anonymous, but the memory is a memory file that other windows can map too
 * (vmw_window_map_shared), so guests in different windows (one guest per window: no guest-area
 * swap between calls) share it. Its size is fixed: vmw_window_resize gives VMW_ERR_UNSUPPORTED.
 * The region holds one file descriptor until it is unmapped. */
vmw_result_t vmw_window_map_shareable(vmw_window_t *window, uint64_t length_bytes,
                                      const char *name, size_t name_len,
                                      uint64_t at_offset_bytes, vmw_region_t *out);

/* Maps the memory of region (source_id, source_generation) of `source` (a window of this process;
 * `window` itself works too), made with vmw_window_map_shareable, into `window` as a new region:
 * both see the same bytes, and each stays valid when the other is unmapped.
 * VMW_ERR_UNSUPPORTED for any other region (share a file by mapping the file);
 * VMW_ERR_STALE / VMW_ERR_NOT_MAPPED / VMW_ERR_NOT_FOUND for a bad handle. */
vmw_result_t vmw_window_map_shared(vmw_window_t *window, vmw_window_t *source, uint32_t source_id,
                                   uint32_t source_generation, const char *name, size_t name_len,
                                   uint64_t at_offset_bytes, vmw_region_t *out);

/* Points region (id, generation) at another file or range, keeping its id and name. It stays in
 * its slot when the new length fits (or the free space right after the slot lets it grow);
 * otherwise it moves to a new slot. Either way the generation changes; *out has the new state.
 * On error the region is unchanged. */
vmw_result_t vmw_window_remap_file(vmw_window_t *window, uint32_t id, uint32_t generation,
                                   const char *path, size_t path_len, uint64_t file_offset_bytes,
                                   uint64_t length_bytes, uint32_t access, vmw_region_t *out);

/* Changes region (id, generation)'s length. A file region stays within its file (the path is
 * reopened; VMW_ERR_STALE if it now names a different file, VMW_ERR_OUT_OF_RANGE past its end);
 * an anonymous region keeps its contents and gains zeros. It grows in place when the free space
 * after its slot allows, and otherwise moves (an anonymous region's bytes are then copied). */
vmw_result_t vmw_window_resize(vmw_window_t *window, uint32_t id, uint32_t generation,
                               uint64_t length_bytes, vmw_region_t *out);

/* Writes a read-write file region's modified pages to the file and waits for it (msync MS_SYNC).
 * A no-op for read-only and anonymous regions. */
vmw_result_t vmw_window_flush(vmw_window_t *window, uint32_t id, uint32_t generation);

/* Takes bytes [offset_bytes, offset_bytes + length_bytes) of file region (id, generation) out of
 * the process's resident memory (Linux: madvise MADV_DONTNEED; macOS: the same, as a hint; Windows:
 * VirtualUnlock, which drops unlocked pages from the working set). The bytes stay in the file and
 * read the same (unflushed writes included); the next access faults them back in from the page
 * cache or the disk. For a host or guest streaming through a region much larger than the memory it
 * wants to hold: peak RSS stays about one chunk. A file on tmpfs or other memory-backed storage
 * leaves the process's RSS but frees no memory. In a damaged region (VMW_ACCESS_DAMAGED), the pages
 * that replaced the lost part read zeros again afterwards.
 * `offset_bytes` must be a multiple of the OS page size (4096 on Linux x86-64 and Windows, 16384 on
 * macOS arm64; VMW_ERR_UNALIGNED); `length_bytes` must be positive (VMW_ERR_INVALID_ARGUMENT); the
 * range must lie inside the region (VMW_ERR_OUT_OF_RANGE) and is rounded up to whole pages.
 * Anonymous regions are refused (VMW_ERR_INVALID_ARGUMENT): their pages would be lost. */
vmw_result_t vmw_window_release_pages(vmw_window_t *window, uint32_t id, uint32_t generation,
                                      uint64_t offset_bytes, uint64_t length_bytes);

/* Unmaps region (id, generation): its slot becomes PROT_NONE again (the address range stays
 * reserved) and its table entry free. VMW_ERR_NOT_MAPPED if nothing is mapped under `id`,
 * VMW_ERR_STALE if `generation` is old, VMW_ERR_NOT_FOUND if `id` is not 1..capacity. */
vmw_result_t vmw_window_unmap(vmw_window_t *window, uint32_t id, uint32_t generation);

/* The current state of live region `id` (its generation included). VMW_ERR_NOT_MAPPED if free. */
vmw_result_t vmw_window_region(vmw_window_t *window, uint32_t id, vmw_region_t *out);

/* ---- Guests ----
 * A guest is a module instantiated over a window in its own Wasmtime store. A window holds up to
 * VMW_GUESTS_PER_WINDOW_MAX guests at once; they share the table and the regions but each has its
 * own guest area (static data, stack, heap): a call that enters a different guest than the last
 * one maps that guest's area over [VMW_GUEST_BASE, slots_base) first (one mmap per switch; pages
 * the guest touches fault in again after a switch). Guests of one window run one at a time: a call
 * made while another call into the same window is running (from a host function) fails with
 * VMW_ERR_BUSY. Guests of different windows are independent.
 *
 * Imports every guest may use (a host's own imports with the same names replace them):
 *   env.memory                         the window (required; 32-bit, not shared)
 *   env.abort(msg, file, line, column) AssemblyScript's abort: traps "abort: <msg> at <file>:<line>:<column>"
 *   env.seed() -> f64                  AssemblyScript's Math.random seed
 *   vmw.log(level, ptr, len)           UTF-8 text in guest memory; discarded unless the host defines it
 *   vmw.flush(id) -> i32               msync read-write region `id`: 0, or VMW_HOST_REFUSED unless
 *                                      VMW_POLICY_FLUSH is set, VMW_HOST_NOT_MAPPED, VMW_HOST_FAILED
 *   vmw.map(name_ptr, name_len, access) -> i32   ask the host to map something by name: a region id,
 *                                      or VMW_HOST_REFUSED unless the host defines vmw.map itself
 *   vmw.release(id, offset, length) -> i32   vmw_window_release_pages on file region `id` (allowed
 *                                      unless the host defines vmw.release itself: no byte changes):
 *                                      0, VMW_HOST_NOT_MAPPED, or VMW_HOST_REFUSED (anonymous region,
 *                                      unaligned offset, zero length, range outside the region),
 *                                      VMW_HOST_FAILED
 *   vmw.fail(ptr, len)                 the C, Zig and Rust SDKs' fail(): traps "abort: <UTF-8 text>"
 *                                      (text in the guest area; at most 1,024 bytes kept)
 * Any other import must be defined with vmw_guest_define_import or instantiation fails (VMW_ERR_LINK). */
#define VMW_GUESTS_PER_WINDOW_MAX 64u
#define VMW_IMPORTS_MAX 64u
#define VMW_POLICY_FLUSH 1u
#define VMW_HOST_REFUSED (-1)
#define VMW_HOST_NOT_MAPPED (-2)
#define VMW_HOST_FAILED (-3)

/* Runs a host-defined import on the calling thread, synchronously, inside vmw_guest_call (or
 * vmw_guest_instantiate for a start function). Arguments are in vmw_guest_host_values() slots
 * 0..param_count-1; write results to slots 0..result_count-1 and return 0, or return non-zero to
 * make the guest trap ("host function <module>.<name> failed (status N)"). Calling into, creating
 * or destroying a guest of the same window, or destroying the window, fails with VMW_ERR_BUSY
 * there; mapping, remapping, resizing and unmapping regions work (the guest sees the change when
 * the callback returns). */
typedef int32_t (*vmw_host_callback_t)(void *user_data, uint32_t import_index);

/* Compiles and instantiates a guest module over the window (vmw_guest_compile followed by
 * vmw_guest_instantiate). A start function that traps fails with VMW_ERR_TRAP. `wasm` is copied;
 * the caller keeps ownership. On success *out owns the guest. */
vmw_result_t vmw_guest_create(vmw_window_t *window, const uint8_t *wasm, size_t wasm_len,
                              vmw_guest_t **out);

/* vmw_guest_compile flags. */
#define VMW_GUEST_INTERRUPTIBLE 1u /* allow vmw_guest_set_timeout (an epoch check in every loop) */
#define VMW_GUEST_METERED 2u       /* also allow vmw_guest_set_fuel (counts every instruction) */

/* Compiles a guest module and prepares its store, without instantiating it, so imports can be
 * defined first. With VMW_GUEST_INTERRUPTIBLE the guest is compiled by an engine with epoch
 * interruption and accepts deadlines (vmw_guest_set_timeout); without it, compiled code carries
 * no epoch checks (a tight loop runs up to ~2.5x faster) and deadlines are VMW_ERR_UNSUPPORTED.
 * vmw_guest_create compiles without it. Bytes compiled before in this process with the same flags
 * are taken from the process's module cache (see vmw_module_compile) instead of being compiled
 * again. VMW_ERR_BAD_MODULE for invalid bytes; VMW_ERR_LINK if it
 * does not import env.memory as described above; VMW_ERR_BUSY if the window is running a guest
 * or is full. */
vmw_result_t vmw_guest_compile(vmw_window_t *window, const uint8_t *wasm, size_t wasm_len,
                               uint32_t flags, vmw_guest_t **out);

/* Compiled modules. A vmw_module_t is a guest module compiled once for the whole process: any
 * window (of any thread) makes guests from it without compiling again. It is reference counted:
 * the handle the caller gets, each guest made from it and the process's module cache each hold a
 * reference, so destroying the handle while guests live is fine.
 *
 * Compiling looks first in the process's module cache (the 32 most recently used modules, keyed
 * by the BLAKE3 hash of the bytes and the engine flags), then, with a cache directory, in the
 * on-disk cache (below), and only then compiles with Cranelift. The checks that do not depend on a
 * window run on every module however it was obtained (it imports env.memory as described above;
 * data segments have constant offsets; no bulk memory); whether its data segments fit a window's
 * guest area is checked when a guest is made from it (VMW_ERR_LINK). */
typedef struct vmw_module vmw_module_t;

/* Compiles `wasm` (copied; the caller keeps it) with the engine `flags` select (VMW_GUEST_*).
 * On success *out owns one reference. Errors as vmw_guest_compile, except VMW_ERR_BUSY. */
vmw_result_t vmw_module_compile(const uint8_t *wasm, size_t wasm_len, uint32_t flags,
                                vmw_module_t **out);

/* Where vmw_module_compile_cached found the module (*out_source). */
#define VMW_MODULE_COMPILED 0u      /* compiled now (and written to the cache directory, if any) */
#define VMW_MODULE_FROM_PROCESS 1u  /* the process's module cache */
#define VMW_MODULE_FROM_DISK 2u     /* the on-disk cache */

/* vmw_module_compile with an on-disk cache of compiled code in directory `cache_dir`
 * (`cache_dir_len` bytes, not NUL-terminated; created if missing; NULL: none). One file per module
 * hash, engine flags, Wasmtime version and libvmwindow code version (the sources that shape
 * compiled code: `<hash>-<engine>-wasmtime-<version>-<code>.vmwcode`, mode 0600, written to a
 * temporary name and renamed). A file is used only if it is a regular file owned by the effective
 * user and writable by no one else, its header names this module, engine, format, Wasmtime and
 * code version, and the checksum (XXH3-64) of its contents matches the header; then
 * Wasmtime checks its own header. A file failing any check is ignored: the module is compiled and
 * the file replaced. Reading or writing the cache never fails the call. Use a directory only this
 * user can write: the cache guards against corrupted, truncated and foreign files, not against
 * someone able to write files as this user. `out_source` (may be NULL) receives VMW_MODULE_*. */
vmw_result_t vmw_module_compile_cached(const uint8_t *wasm, size_t wasm_len, uint32_t flags,
                                       const char *cache_dir, size_t cache_dir_len,
                                       vmw_module_t **out, uint32_t *out_source);

/* Releases the caller's reference (guests made from the module keep theirs). NULL is a no-op. */
void vmw_module_destroy(vmw_module_t *module);

/* The module's content hash (BLAKE3 of its bytes) into `out_hash` (32 bytes, may be NULL) and
 * the engine flags it was compiled with into `out_flags` (may be NULL). */
void vmw_module_info(const vmw_module_t *module, uint8_t *out_hash, uint32_t *out_flags);

/* Empties the process's module cache (modules referenced elsewhere live on); returns how many
 * modules it held. */
uint32_t vmw_module_cache_clear(void);

/* Prepares a guest of `module` over the window without instantiating it (as vmw_guest_compile,
 * with no compilation): define imports, then vmw_guest_instantiate. VMW_ERR_LINK if the module's
 * data segments do not fit this window's guest area; VMW_ERR_BUSY as vmw_guest_compile. */
vmw_result_t vmw_guest_prepare_module(vmw_window_t *window, vmw_module_t *module,
                                      vmw_guest_t **out);

/* vmw_guest_prepare_module followed by vmw_guest_instantiate. */
vmw_result_t vmw_guest_create_from_module(vmw_window_t *window, vmw_module_t *module,
                                          vmw_guest_t **out);

/* Defines import `module.name` taking `param_count` values of kinds `params` (VMW_KIND_*) and
 * returning `result_count` of kinds `results` (each at most VMW_VALUES_MAX), run by the guest's
 * host callback with *out_index (0, 1, 2, ... in definition order). Only between compile and
 * instantiate; at most VMW_IMPORTS_MAX. Uses Wasmtime's unchecked host-function path. */
vmw_result_t vmw_guest_define_import(vmw_guest_t *guest, const char *module, size_t module_len,
                                     const char *name, size_t name_len, const uint8_t *params,
                                     uint32_t param_count, const uint8_t *results,
                                     uint32_t result_count, uint32_t *out_index);

/* Sets the callback for the guest's host-defined imports (NULL: they trap). Any time. */
void vmw_guest_set_host_callback(vmw_guest_t *guest, vmw_host_callback_t callback, void *user_data);

/* The host callback's argument/result array: VMW_VALUES_MAX 16-byte slots like vmw_guest_values.
 * Valid for the guest's life. */
uint8_t *vmw_guest_host_values(vmw_guest_t *guest);

/* Links and instantiates a compiled guest (its data segments are written to its own guest area).
 * VMW_ERR_LINK for an unsatisfied import, VMW_ERR_TRAP if the start function traps. */
vmw_result_t vmw_guest_instantiate(vmw_guest_t *guest);

/* Every later call of this guest gets a deadline of `timeout_ms` (0: none, the default; at most
 * 2^31 - 1): a call still running then is interrupted and returns VMW_ERR_TIMEOUT; the guest, its
 * neighbours and the window stay usable. Deadlines use Wasmtime's epoch interruption with a 1 ms
 * ticker thread that runs only while some guest has a deadline, so a call stops between
 * timeout_ms and timeout_ms + ~2 ms (plus scheduling delay) after it starts. */
vmw_result_t vmw_guest_set_timeout(vmw_guest_t *guest, uint32_t timeout_ms);

/* Every later call starts with `fuel` units (about one per wasm instruction executed) and stops
 * with VMW_ERR_TIMEOUT ("ran out of fuel") when they run out; the guest stays usable. Fuel makes a
 * run limit deterministic (same input, same cut-off), unlike a deadline. Only for guests compiled
 * with VMW_GUEST_METERED (VMW_ERR_UNSUPPORTED otherwise), which run slower than interruptible ones.
 * Until set, a metered guest's budget is effectively unlimited. `fuel` must be positive. */
vmw_result_t vmw_guest_set_fuel(vmw_guest_t *guest, uint64_t fuel);

/* A token that stops this guest's running call from any thread: pass it to vmw_interrupt. The
 * call returns VMW_ERR_INTERRUPTED within ~10 ms (the guest polls while it runs); the guest stays
 * usable. A request made while no call runs is dropped. Only for guests compiled with
 * VMW_GUEST_INTERRUPTIBLE or VMW_GUEST_METERED (VMW_ERR_UNSUPPORTED otherwise). The first call
 * keeps the epoch ticker thread running for the guest's life. Not from a host callback. */
vmw_result_t vmw_guest_interrupt_token(vmw_guest_t *guest, uint64_t *out_token);

/* After a call on this thread returned VMW_ERR_TRAP (vmw_guest_call, vmw_guest_instantiate):
 * where its memory fault was, the same facts the message gives in words. kind is VMW_FAULT_NONE
 * when the trap was not a memory fault in a window. VMW_ERR_INVALID_ARGUMENT for a NULL `out`. */
vmw_result_t vmw_last_fault(vmw_fault_t *out);

/* Asks the guest behind `token` (vmw_guest_interrupt_token) to stop its running call. Safe from
 * any thread, including while the guest runs. VMW_ERR_NOT_FOUND if the guest was destroyed. */
vmw_result_t vmw_interrupt(uint64_t token);

/* What the guest may ask of the host through built-in imports: VMW_POLICY_FLUSH allows vmw.flush.
 * 0 (the default) refuses everything. VMW_ERR_INVALID_ARGUMENT for unknown bits. */
vmw_result_t vmw_guest_set_policy(vmw_guest_t *guest, uint32_t policy);

/* Destroys a guest (its store, instance and guest area). The window and its other guests stay.
 * NULL is a no-op (VMW_OK). VMW_ERR_BUSY, destroying nothing, while a guest of the same window
 * runs (from a host callback). */
vmw_result_t vmw_guest_destroy(vmw_guest_t *guest);

/* Resolves exported function `name` and describes its signature. Resolve once, call many times.
 * VMW_ERR_NOT_FOUND, VMW_ERR_TYPE_MISMATCH (not a function), VMW_ERR_UNSUPPORTED (v128/refs). */
vmw_result_t vmw_guest_export(vmw_guest_t *guest, const char *name, size_t name_len,
                              vmw_export_t *out);

/* Export number `index` of an instantiated guest: copies its name (not NUL-terminated) into
 * `name_out` (`name_capacity` bytes) and writes its length and its kind (0 function, 1 global,
 * 2 table, 3 memory). VMW_ERR_NOT_FOUND past the last export; VMW_ERR_INVALID_ARGUMENT if the name
 * does not fit (*out_name_len still holds its length). */
vmw_result_t vmw_guest_export_nth(vmw_guest_t *guest, uint32_t index, char *name_out,
                                  size_t name_capacity, size_t *out_name_len, uint32_t *out_kind);

/* Resolves every exported function of an instantiated guest in export order, as vmw_guest_export
 * would one by one (skipping exports with unsupported value types; indices 0, 1, 2, ... in that
 * order), and writes how many to *out_count. For a host that knows the module's exports already
 * (from another guest of the same module). VMW_ERR_INVALID_ARGUMENT if any export was resolved
 * before. */
vmw_result_t vmw_guest_resolve_all(vmw_guest_t *guest, uint32_t *out_count);

/* The guest's argument/result array: VMW_VALUES_MAX slots of 16 bytes (wasmtime_val_raw_t:
 * i32/i64/f32/f64 stored little-endian at the slot's start). Valid for the guest's life. */
uint8_t *vmw_guest_values(vmw_guest_t *guest);

/* Calls export `index` with arguments taken from vmw_guest_values() slots 0..param_count-1 and
 * writes results to slots 0..result_count-1 (Wasmtime's unchecked fast path: the caller must have
 * written values of the declared kinds). A trap returns VMW_ERR_TRAP with its reason on the
 * message's first line; a deadline returns VMW_ERR_TIMEOUT; VMW_ERR_BUSY if a call into a guest of
 * the same window is already running. The guest and window stay usable after any of these. */
vmw_result_t vmw_guest_call(vmw_guest_t *guest, uint32_t index);

#ifdef __cplusplus
}
#endif

#endif /* VMWINDOW_H */
