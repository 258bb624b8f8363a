//! vmwindow guests in Rust (docs/guest-rust.md): the window's region table read in place, mapped
//! host files as borrowed slices, the built-in "vmw" imports and scanning primitives. `no_std`,
//! nothing allocates. Builds with Rust 1.63 or later for `wasm32-unknown-unknown`.
//!
//! Every view borrows a [`Regions`] handle, which only [`with_regions`] hands out (one at a time):
//! a `&[u8]` over a region cannot outlive the borrow it came from, a `&mut [u8]` needs `&mut
//! Regions` (so there is at most one, and no shared view alongside it), and [`Regions::request`],
//! which lets the host change the table, needs `&mut Regions` too (so no view survives it).
//! The host must not write a region's bytes while a guest call is running (it cannot, except from
//! an import the guest calls).
#![no_std]

pub mod abi;

use core::marker::PhantomData;

#[cfg(not(target_arch = "wasm32"))]
compile_error!("vmwindow-guest is for wasm32 guests: build with --target wasm32-unknown-unknown");

/// Level passed to the host's logger by [`fail`] and the panic handler.
pub const LOG_ERROR: i32 = 3;

/// Sends UTF-8 `text` to the host's logger (discarded when the host has none).
pub fn log(level: i32, text: &str) {
    unsafe { abi::host::vmw_log(level, text.as_ptr(), text.len()) }
}

/// Logs `why` and traps with it: the host sees a GuestTrap / VMW_ERR_TRAP whose reason is
/// "abort: WHY" (vmw.fail).
#[cold]
#[inline(never)]
pub fn fail(why: &str) -> ! {
    log(LOG_ERROR, why);
    unsafe { abi::host::vmw_fail(why.as_ptr(), why.len()) };
    core::arch::wasm32::unreachable() // vmw.fail never returns
}

/// Text formatted into a fixed buffer (the panic handler's message; no allocator needed). Text
/// past the buffer is dropped.
#[cfg(feature = "panic-handler")]
struct FixedText {
    bytes: [u8; 256],
    len: usize,
    /// Set once a piece was cut: nothing after it is written (no ":LINE" after a cut file name).
    cut: bool,
}

#[cfg(feature = "panic-handler")]
impl core::fmt::Write for FixedText {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        if self.cut {
            return Ok(());
        }
        let room = self.bytes.len() - self.len;
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&text.as_bytes()[..take]);
        self.len += take;
        self.cut = take < text.len();
        Ok(())
    }
}

/// "vmwindow guest panicked at FILE:LINE:COLUMN", logged and trapped with like [`fail`].
#[cfg(feature = "panic-handler")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut text = FixedText { bytes: [0; 256], len: 0, cut: false };
    let _ = text.write_str("vmwindow guest panicked");
    if let Some(location) = info.location() {
        let _ = write!(text, " at {}:{}:{}", location.file(), location.line(), location.column());
    }
    fail(core::str::from_utf8(&text.bytes[..text.len]).unwrap_or("vmwindow guest panicked"))
}

#[inline(always)]
fn header() -> &'static abi::TableHeader {
    unsafe { &*(abi::TABLE_OFFSET as *const abi::TableHeader) }
}

/// Entry `id`; `id` must be in 1..=capacity.
#[inline(always)]
fn entry(id: u32) -> &'static abi::TableEntry {
    let address = abi::TABLE_OFFSET + abi::HEADER_BYTES + (id as usize - 1) * abi::ENTRY_BYTES;
    unsafe { &*(address as *const abi::TableEntry) }
}

extern "C" {
    /// End of the linker's static data and stack.
    static __heap_base: u8;
}

/// Whether this is a vmwindow window of this ABI and the guest's stack and static data (everything
/// below `__heap_base`) fit its guest area.
pub fn valid() -> bool {
    let h = header();
    let heap_base = unsafe { &__heap_base as *const u8 as usize } as u64;
    h.magic == abi::TABLE_MAGIC
        && h.abi_version == abi::ABI_VERSION
        && h.header_bytes as usize == abi::HEADER_BYTES
        && h.entry_bytes as usize == abi::ENTRY_BYTES
        && h.guest_base == abi::GUEST_BASE as u64
        && heap_base <= h.guest_base + h.guest_bytes
}

static mut CHECKED: bool = false;
static mut LENT: bool = false;

fn check() {
    if unsafe { CHECKED } {
        return;
    }
    let h = header();
    if h.magic != abi::TABLE_MAGIC {
        fail("vmwindow: no region table at 0x10000; is this guest running in a vmwindow window?");
    }
    if h.abi_version != abi::ABI_VERSION {
        fail("vmwindow: the region table has another ABI version");
    }
    if !valid() {
        fail("vmwindow: the guest's stack and static data do not fit the window's guest area (smaller stack, or a larger guestBytes)");
    }
    unsafe { CHECKED = true };
}

/// Called by `__vmw_reset_stack` (reset.c), which the host calls after a call that trapped or
/// timed out: no guest frame is live then, so no `Regions` is lent any more, although the trap
/// skipped the end of `with_regions`.
#[no_mangle]
pub extern "C" fn __vmw_guest_after_trap() {
    unsafe { LENT = false };
}

/// Runs `f` with the region table. Not reentrant: a nested call traps. Checks the table header
/// (magic, ABI version, the guest area) the first time.
pub fn with_regions<R>(f: impl FnOnce(&mut Regions) -> R) -> R {
    check();
    if unsafe { LENT } {
        fail("vmwindow: with_regions is already lent: called inside with_regions, or an earlier call trapped inside it and vmwindow_reset.o (guest-sdk/rust/reset.c) is not linked");
    }
    unsafe { LENT = true };
    let mut regions = Regions { _not_send: PhantomData };
    let result = f(&mut regions);
    unsafe { LENT = false };
    result
}

/// The region table of this guest's window (see [`with_regions`]).
pub struct Regions {
    _not_send: PhantomData<*mut ()>,
}

/// Plain old data: any bit pattern is a value. The element types of [`Region::as_slice`].
pub unsafe trait Pod: Copy {}
unsafe impl Pod for u8 {}
unsafe impl Pod for i8 {}
unsafe impl Pod for u16 {}
unsafe impl Pod for i16 {}
unsafe impl Pod for u32 {}
unsafe impl Pod for i32 {}
unsafe impl Pod for u64 {}
unsafe impl Pod for i64 {}
unsafe impl Pod for f32 {}
unsafe impl Pod for f64 {}

/// A live region, read-only view. The bytes are the host file's pages, in place.
pub struct Region<'t> {
    id: u32,
    generation: u32,
    access: u32,
    bytes: &'t [u8],
}

/// A live read-write region: stores reach the file.
pub struct RegionMut<'t> {
    id: u32,
    generation: u32,
    bytes: &'t mut [u8],
}

impl Regions {
    /// Valid ids are 1..=capacity.
    pub fn capacity(&self) -> u32 {
        header().capacity
    }

    /// Live regions.
    pub fn count(&self) -> u32 {
        header().count
    }

    /// The table's change counter: any map, remap, resize or unmap changes it.
    pub fn generation(&self) -> u32 {
        header().generation
    }

    fn live(&self, id: u32) -> Option<&'static abi::TableEntry> {
        if id.wrapping_sub(1) >= self.capacity() {
            return None;
        }
        let e = entry(id);
        if e.state == abi::STATE_LIVE {
            Some(e)
        } else {
            None
        }
    }

    /// Region `id` if it is live.
    pub fn get(&self, id: u32) -> Option<Region<'_>> {
        let e = self.live(id)?;
        let bytes = unsafe { core::slice::from_raw_parts(e.offset_bytes as usize as *const u8, e.length_bytes as usize) };
        Some(Region { id, generation: e.generation, access: e.access, bytes })
    }

    /// Region `id`; traps ("vmwindow: region is not mapped") unless it is live.
    pub fn region(&self, id: u32) -> Region<'_> {
        match self.get(id) {
            Some(region) => region,
            None => fail("vmwindow: region is not mapped"),
        }
    }

    /// Read-write region `id` if it is live and writable.
    pub fn get_mut(&mut self, id: u32) -> Option<RegionMut<'_>> {
        let e = self.live(id)?;
        if e.access & abi::ACCESS_WRITE == 0 {
            return None;
        }
        let bytes = unsafe { core::slice::from_raw_parts_mut(e.offset_bytes as usize as *mut u8, e.length_bytes as usize) };
        Some(RegionMut { id, generation: e.generation, bytes })
    }

    /// The live region named `name`, or None. A linear scan of the table: keep the id.
    pub fn find(&self, name: &str) -> Option<Region<'_>> {
        let name = name.as_bytes();
        if name.len() > abi::NAME_MAX_BYTES {
            return None;
        }
        for id in 1..=self.capacity() {
            let e = entry(id);
            if e.state == abi::STATE_LIVE && &e.name[..name.len()] == name && (name.len() == abi::NAME_MAX_BYTES || e.name[name.len()] == 0) {
                return self.get(id);
            }
        }
        None
    }

    /// The first live region id after `id`, or 0.
    pub fn next(&self, id: u32) -> u32 {
        let mut k = id.wrapping_add(1);
        while k != 0 && k <= self.capacity() {
            if entry(k).state == abi::STATE_LIVE {
                return k;
            }
            k += 1;
        }
        0
    }

    /// Asks the host to map `name` (the host may change the table, so no view may be alive):
    /// the new region id, or the host's negative answer (`abi::HOST_*`).
    pub fn request(&mut self, name: &str, writable: bool) -> Result<u32, i32> {
        let access = if writable { abi::ACCESS_READ | abi::ACCESS_WRITE } else { abi::ACCESS_READ };
        let answer = unsafe { abi::host::vmw_map(name.as_ptr(), name.len(), access) };
        if answer > 0 {
            Ok(answer as u32)
        } else {
            Err(answer)
        }
    }

    /// msync of read-write region `id`: `abi::HOST_OK`, or `HOST_REFUSED` / `HOST_NOT_MAPPED` / `HOST_FAILED`.
    pub fn flush(&self, id: u32) -> i32 {
        unsafe { abi::host::vmw_flush(id) }
    }

    /// Drops `[offset, offset + length)` of file region `id` from resident memory; bytes unchanged.
    pub fn release(&self, id: u32, offset: usize, length: usize) -> i32 {
        unsafe { abi::host::vmw_release(id, offset, length) }
    }
}

fn cast<T: Pod>(bytes: &[u8]) -> &[T] {
    // Regions start 64 KiB-aligned, so the cast is aligned.
    debug_assert!(bytes.as_ptr() as usize % core::mem::align_of::<T>() == 0);
    unsafe { core::slice::from_raw_parts(bytes.as_ptr() as *const T, bytes.len() / core::mem::size_of::<T>()) }
}

impl<'t> Region<'t> {
    pub fn id(&self) -> u32 {
        self.id
    }
    /// The entry's generation when it was looked up.
    pub fn generation(&self) -> u32 {
        self.generation
    }
    /// `abi::ACCESS_*` bits.
    pub fn access(&self) -> u32 {
        self.access
    }
    pub fn writable(&self) -> bool {
        self.access & abi::ACCESS_WRITE != 0
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// The region's bytes, borrowed from this region.
    pub fn bytes(&self) -> &[u8] {
        self.bytes
    }
    /// The region as a slice of `T` (`len / size_of::<T>()` items).
    pub fn as_slice<T: Pod>(&self) -> &[T] {
        cast(self.bytes)
    }
}

impl<'t> RegionMut<'t> {
    pub fn id(&self) -> u32 {
        self.id
    }
    pub fn generation(&self) -> u32 {
        self.generation
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    pub fn bytes(&self) -> &[u8] {
        self.bytes
    }
    /// The region's bytes for writing, borrowed mutably from this region.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes
    }
}

/// How many bytes of `bytes` equal `byte` (SIMD with `+simd128`).
pub fn count_byte(bytes: &[u8], byte: u8) -> usize {
    let mut count = 0usize;
    let mut i = 0usize;
    #[cfg(target_feature = "simd128")]
    {
        use core::arch::wasm32::*;
        let needle = u8x16_splat(byte);
        let p = bytes.as_ptr();
        while bytes.len() - i >= 64 {
            // Per-lane counters (0..255), widened every 255 rounds.
            let rounds = core::cmp::min((bytes.len() - i) / 64, 255);
            let (mut a, mut b, mut c, mut d) = (u8x16_splat(0), u8x16_splat(0), u8x16_splat(0), u8x16_splat(0));
            for _ in 0..rounds {
                unsafe {
                    a = i8x16_sub(a, i8x16_eq(v128_load(p.add(i) as *const v128), needle));
                    b = i8x16_sub(b, i8x16_eq(v128_load(p.add(i + 16) as *const v128), needle));
                    c = i8x16_sub(c, i8x16_eq(v128_load(p.add(i + 32) as *const v128), needle));
                    d = i8x16_sub(d, i8x16_eq(v128_load(p.add(i + 48) as *const v128), needle));
                }
                i += 64;
            }
            let sum = i16x8_add(
                i16x8_add(u16x8_extadd_pairwise_u8x16(a), u16x8_extadd_pairwise_u8x16(b)),
                i16x8_add(u16x8_extadd_pairwise_u8x16(c), u16x8_extadd_pairwise_u8x16(d)),
            );
            let wide = u32x4_extadd_pairwise_u16x8(sum);
            count += (u32x4_extract_lane::<0>(wide) + u32x4_extract_lane::<1>(wide) + u32x4_extract_lane::<2>(wide) + u32x4_extract_lane::<3>(wide)) as usize;
        }
    }
    for &x in &bytes[i..] {
        count += (x == byte) as usize;
    }
    count
}

/// The index of the first byte equal to `byte`, or None (SIMD with `+simd128`).
pub fn index_of_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    let mut i = 0usize;
    #[cfg(target_feature = "simd128")]
    {
        use core::arch::wasm32::*;
        let needle = u8x16_splat(byte);
        while bytes.len() - i >= 16 {
            let mask = i8x16_bitmask(i8x16_eq(unsafe { v128_load(bytes.as_ptr().add(i) as *const v128) }, needle));
            if mask != 0 {
                return Some(i + mask.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    bytes[i..].iter().position(|&x| x == byte).map(|k| i + k)
}
