//! A Rust guest over mapped files: CRC-32, newline counts (the crate's SIMD count and a plain
//! iterator), lookups by name, typed views, and writes through read-write regions.
//! tests/guest-languages.test.ts runs it (and the same guest in C and Zig) against independent
//! oracles. Build: docs/guest-rust.md.
#![no_std]

use vmwindow_guest::{count_byte, index_of_byte, with_regions};

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 (IEEE, as zlib) of region `id`.
#[no_mangle]
pub extern "C" fn crc32(id: u32) -> u32 {
    with_regions(|regions| {
        let region = regions.region(id);
        let mut c = 0xFFFF_FFFFu32;
        for &byte in region.bytes() {
            c = CRC_TABLE[((c ^ byte as u32) & 0xFF) as usize] ^ (c >> 8);
        }
        c ^ 0xFFFF_FFFF
    })
}

/// Newlines in region `id`, with the crate's scanning primitive.
#[no_mangle]
pub extern "C" fn newlines(id: u32) -> u32 {
    with_regions(|regions| count_byte(regions.region(id).bytes(), b'\n') as u32)
}

/// Newlines in region `id`, the plain iterator a Rust programmer writes.
#[no_mangle]
pub extern "C" fn newlines_plain(id: u32) -> u32 {
    with_regions(|regions| regions.region(id).bytes().iter().filter(|&&b| b == b'\n').count() as u32)
}

/// Index of the first `byte` in region `id`, or -1.
#[no_mangle]
pub extern "C" fn index_of(id: u32, byte: u32) -> i32 {
    with_regions(|regions| match index_of_byte(regions.region(id).bytes(), byte as u8) {
        Some(index) => index as i32,
        None => -1,
    })
}

/// The id of the region named "input", or 0.
#[no_mangle]
pub extern "C" fn find_input() -> u32 {
    with_regions(|regions| regions.find("input").map_or(0, |r| r.id()))
}

/// Sum of region `id` read as little-endian u32s (a typed view).
#[no_mangle]
pub extern "C" fn sum_u32(id: u32) -> u64 {
    with_regions(|regions| regions.region(id).as_slice::<u32>().iter().map(|&x| x as u64).sum())
}

/// Sets every byte of region `id` to `value` through the crate's writable view: the byte count,
/// or -1 when the region is not writable (nothing is written).
#[no_mangle]
pub extern "C" fn fill(id: u32, value: u32) -> i32 {
    with_regions(|regions| match regions.get_mut(id) {
        Some(mut region) => {
            for b in region.bytes_mut() {
                *b = value as u8;
            }
            region.len() as i32
        }
        None => -1,
    })
}

/// A raw store at byte `index` of region `id`, whatever its access: traps on a read-only region.
#[no_mangle]
pub extern "C" fn store(id: u32, index: u32, value: u32) {
    with_regions(|regions| {
        let ptr = regions.region(id).bytes().as_ptr() as usize + index as usize;
        unsafe { core::ptr::write_volatile(ptr as *mut u8, value as u8) }
    })
}

/// Byte `index` of region `id` through the slice: past the end, Rust's bounds check panics, and
/// the SDK's panic handler traps naming this file and line.
#[no_mangle]
pub extern "C" fn byte_at(id: u32, index: u32) -> u32 {
    with_regions(|regions| regions.region(id).bytes()[index as usize] as u32)
}

/// The byte at window address `address`: traps on a hole (null page, free slot, guard).
#[no_mangle]
pub extern "C" fn load_at(address: u32) -> u32 {
    unsafe { core::ptr::read_volatile(address as usize as *const u8) as u32 }
}

/// Recursion with 1 KiB frames, returning `n`: 256 KiB of stack holds about 250 levels. Deeper,
/// the stack runs into the read-only table and traps (static data lies above the stack).
#[no_mangle]
pub extern "C" fn depth(n: u32) -> u32 {
    let mut frame = [0u8; 1024];
    let slot = &mut frame[n as usize % 1024] as *mut u8;
    unsafe { core::ptr::write_volatile(slot, n as u8) };
    if n == 0 {
        return 0;
    }
    depth(n - 1) + 1 + unsafe { core::ptr::read_volatile(slot) }.wrapping_sub(n as u8) as u32
}

/// Live regions, counted by walking the table with `Regions::next`.
#[no_mangle]
pub extern "C" fn live_count() -> u32 {
    with_regions(|regions| {
        let mut count = 0;
        let mut id = regions.next(0);
        while id != 0 {
            count += 1;
            id = regions.next(id);
        }
        count
    })
}

/// A view cannot outlive `with_regions`, so what is kept across calls is (id, generation).
static mut REMEMBERED: (u32, u32) = (0, 0);

/// The generation of region `id` as a view saw it when it was looked up (0 if not mapped).
#[no_mangle]
pub extern "C" fn remember(id: u32) -> u32 {
    with_regions(|regions| {
        let generation = regions.get(id).map_or(0, |r| r.generation());
        unsafe { REMEMBERED = (id, generation) };
        generation
    })
}

/// Whether the region remembered last still has the generation it had (1) or not (0).
#[no_mangle]
pub extern "C" fn remembered_current() -> u32 {
    let (id, generation) = unsafe { REMEMBERED };
    with_regions(|regions| regions.get(id).map_or(0, |r| (r.generation() == generation) as u32))
}
